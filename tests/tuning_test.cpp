#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "bench/tuning.hpp"
#include "pools/core/errors.hpp"

namespace poolbench::testing {
namespace {

using bench::SweepPoint;
using ::testing::HasSubstr;

/// A sweep with five repetitions per size, spread ±0.2 % around each median: sizes whose
/// medians differ by more than 0.4 % are told apart by every repetition.
std::vector<SweepPoint> sweep(const std::vector<std::pair<std::size_t, double>>& medians) {
  std::vector<SweepPoint> points;
  for (const auto& [workers, v] : medians) points.push_back({workers, {v * 0.998, v * 1.001, v, v * 0.999, v * 1.002}});
  return points;
}

TEST(Tuning, SizesTheUTestCannotTellFromTheBestTieAndTheSmallestWins) {
  const std::vector<SweepPoint> points{{1, {100, 101, 99, 100, 102}},
                                       {2, {198, 202, 200, 199, 201}},
                                       {4, {197, 203, 200, 204, 196}},
                                       {8, {201, 199, 205, 195, 202}},
                                       {10, {150, 151, 149, 150, 152}}};
  const auto t = bench::analyse_sweep(points, 10, 4, 8, 8);
  EXPECT_EQ(t.best_workers, 8u) << "the highest median, 201";
  EXPECT_EQ(t.tied_with_best, (std::vector<std::size_t>{2, 4, 8}));
  EXPECT_EQ(t.pick_workers, 2u);
  EXPECT_EQ(t.runner_up_workers, 8u);
  EXPECT_GT(t.pick_p_value, 0.05);
  EXPECT_THAT(t.recommendation, HasSubstr("use 2 workers: 0.5% below the best (8 workers) but not told apart from it "
                                          "by 5 repetitions; 80% fewer than auto (10)"));
  EXPECT_TRUE(t.warnings.empty());
}

TEST(Tuning, ASizeBetterInEveryRepetitionWinsWithItsPValue) {
  const auto t = bench::analyse_sweep(sweep({{1, 100}, {2, 200}, {4, 300}, {8, 250}, {10, 240}}), 10, 8, 4, 4);
  EXPECT_EQ(t.best_workers, 4u);
  EXPECT_EQ(t.tied_with_best, (std::vector<std::size_t>{4}));
  EXPECT_EQ(t.pick_workers, 4u);
  EXPECT_EQ(t.runner_up_workers, 8u);
  EXPECT_NEAR(t.pick_p_value, 2.0 / 252, 1e-12) << "5 against 5, apart in every repetition";
  EXPECT_THAT(t.recommendation,
              HasSubstr("use 4 workers: the best, ahead of the runner-up (8 workers) with p = 0.008"));
}

TEST(Tuning, PeakedSweepFindsBestKneeAndTheDefaultsDistance) {
  const auto points = sweep({{1, 100}, {2, 200}, {4, 390}, {6, 395}, {8, 400}, {10, 380}, {16, 300}, {32, 200}});
  const auto t = bench::analyse_sweep(points, 10, 6, 8.0, 8);
  EXPECT_EQ(t.best_workers, 8u);
  EXPECT_DOUBLE_EQ(t.best_throughput, 400);
  EXPECT_EQ(t.pick_workers, 8u) << "6 is 1.25 % slower in every repetition";
  EXPECT_EQ(t.knee_workers, 4u) << "4 workers reach 97.5% of the best";
  EXPECT_DOUBLE_EQ(t.default_vs_best, 0.95);
  EXPECT_DOUBLE_EQ(t.py38_vs_best, 395.0 / 400);
  EXPECT_DOUBLE_EQ(t.formula_vs_best, 1.0);
  EXPECT_THAT(t.recommendation, HasSubstr("20% fewer than auto (10)"));
}

TEST(Tuning, MonotonicSweepRecommendsMoreThanAuto) {
  const auto points = sweep({{1, 10}, {2, 20}, {4, 40}, {6, 60}, {8, 80}, {10, 100}, {16, 160}, {32, 320}});
  const auto t = bench::analyse_sweep(points, 10, 6, 1e9, 32);
  EXPECT_EQ(t.best_workers, 32u);
  EXPECT_EQ(t.pick_workers, 32u);
  EXPECT_DOUBLE_EQ(t.default_vs_best, 100.0 / 320);
  EXPECT_THAT(t.recommendation, HasSubstr("220% more than auto"));
}

TEST(Tuning, NoisySizesAreWarnedAbout) {
  std::vector<SweepPoint> points{
      {1, {100, 100, 101}}, {2, {150, 200, 250, 180, 220}}, {6, {190, 191, 192}}, {10, {185, 186, 187}}};
  const auto t = bench::analyse_sweep(points, 10, 6, 2, 2);
  ASSERT_EQ(t.warnings.size(), 1u);
  EXPECT_THAT(t.warnings[0], HasSubstr("2 workers: unstable"));
  EXPECT_NEAR(points[1].spread(), 20.0 / 200, 1e-9) << "median absolute deviation 20 around median 200";
  EXPECT_EQ(t.best_workers, 2u);
}

TEST(Tuning, TooFewRepetitionsToTellSizesApartAreWarnedAbout) {
  const std::vector<SweepPoint> points{{1, {100, 101, 102}}, {2, {200, 201, 202}}};
  const auto t = bench::analyse_sweep(points, 2, 2, 2, 2);
  EXPECT_EQ(t.pick_workers, 1u) << "3 against 3 is never below p = 0.1: everything ties";
  ASSERT_EQ(t.warnings.size(), 1u);
  EXPECT_THAT(t.warnings[0], HasSubstr("3 repetitions per size cannot tell any two sizes apart"));
  EXPECT_THROW(bench::analyse_sweep({{1, {100}}, {2, {200}}}, 2, 2, 2, 2), ConfigError);
}

TEST(Tuning, ScoutingDoublesUntilASizeStopsPayingThenAddsTheNamedOnes) {
  std::vector<std::size_t> scouted;
  // Throughput rises to 16 workers and is flat after: 32 is the first size that does not pay.
  const auto knee_at_16 = [&](std::size_t n) {
    scouted.push_back(n);
    return 100.0 * static_cast<double>(std::min<std::size_t>(n, 16));
  };
  EXPECT_EQ(bench::tune_sizes(200, {10, 6, 10}, knee_at_16), (std::vector<std::size_t>{1, 2, 4, 6, 8, 10, 16, 32}));
  EXPECT_EQ(scouted, (std::vector<std::size_t>{1, 2, 4, 8, 16, 32})) << "each once, in order";
  scouted.clear();
  EXPECT_EQ(bench::tune_sizes(8, {10, 2}, knee_at_16), (std::vector<std::size_t>{1, 2, 4, 8, 10}))
      << "the cap ends the scouting; the rules' sizes are measured even above it";
  EXPECT_EQ(scouted, (std::vector<std::size_t>{1, 2, 4, 8}));
  EXPECT_EQ(bench::tune_sizes(6, {}, knee_at_16), (std::vector<std::size_t>{1, 2, 4, 6})) << "a cap off the ladder";
  EXPECT_EQ(bench::tune_sizes(1, {1}, knee_at_16), (std::vector<std::size_t>{1}));
  const auto gains_under_5_percent = [](std::size_t n) { return 100.0 + static_cast<double>(n); };
  EXPECT_EQ(bench::tune_sizes(64, {}, gains_under_5_percent), (std::vector<std::size_t>{1, 2}));
}

TEST(Tuning, FormulaFollowsWaitOverCompute) {
  EXPECT_DOUBLE_EQ(bench::formula_estimate(2, 1.0, 0, 100), 2);
  EXPECT_DOUBLE_EQ(bench::formula_estimate(2, 1.0, 900, 100), 20);
  EXPECT_DOUBLE_EQ(bench::formula_estimate(4, 0.5, 100, 100), 4);
  EXPECT_TRUE(std::isinf(bench::formula_estimate(2, 1.0, 10, 0)));
}

TEST(Tuning, MissingNamedSizeIsAnError) {
  EXPECT_THROW(bench::analyse_sweep(sweep({{1, 1}, {2, 2}}), 10, 6, 2, 2), Error);
}

}  // namespace
}  // namespace poolbench::testing
