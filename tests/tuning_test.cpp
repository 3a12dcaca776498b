#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "bench/tuning.hpp"
#include "pools/core/errors.hpp"

namespace poolbench::testing {
namespace {

using bench::SweepPoint;
using ::testing::HasSubstr;

/// A sweep over 1, 2, 4, ... with three identical repetitions per size.
std::vector<SweepPoint> sweep(const std::vector<std::pair<std::size_t, double>>& medians) {
  std::vector<SweepPoint> points;
  for (const auto& [workers, value] : medians) points.push_back({workers, {value, value, value}});
  return points;
}

TEST(Tuning, FlatSweepRecommendsTheSmallestSize) {
  const auto points = sweep({{1, 1000}, {2, 1010}, {4, 990}, {6, 1000}, {10, 1005}});
  EXPECT_TRUE(bench::sweep_has_peaked(points));
  const auto t = bench::analyse_sweep(points, 10, 6, 2, 2);
  EXPECT_EQ(t.best_workers, 2u);
  EXPECT_EQ(t.knee_workers, 1u);
  EXPECT_NEAR(t.default_vs_best, 1005.0 / 1010, 1e-9);
  EXPECT_THAT(t.recommendation, HasSubstr("use 1 workers"));
  EXPECT_THAT(t.recommendation, HasSubstr("90% fewer than auto (10)"));
  EXPECT_TRUE(t.warnings.empty());
}

TEST(Tuning, PeakedSweepFindsBestKneeAndTheDefaultsDistance) {
  const auto points = sweep({{1, 100}, {2, 200}, {4, 390}, {6, 395}, {8, 400}, {10, 380}, {16, 300}, {32, 200}});
  const auto t = bench::analyse_sweep(points, 10, 6, 8.0, 8);
  EXPECT_EQ(t.best_workers, 8u);
  EXPECT_DOUBLE_EQ(t.best_throughput, 400);
  EXPECT_EQ(t.knee_workers, 4u) << "4 workers reach 97.5% of the best";
  EXPECT_DOUBLE_EQ(t.default_vs_best, 0.95);
  EXPECT_DOUBLE_EQ(t.py38_vs_best, 395.0 / 400);
  EXPECT_DOUBLE_EQ(t.formula_vs_best, 1.0);
  EXPECT_THAT(t.recommendation, HasSubstr("use 4 workers: within 2.5% of the best (8 workers), 60% fewer than auto"));
}

TEST(Tuning, MonotonicSweepHasNotPeakedAndRecommendsMoreThanAuto) {
  const auto points = sweep({{1, 10}, {2, 20}, {4, 40}, {6, 60}, {8, 80}, {10, 100}, {16, 160}, {32, 320}});
  EXPECT_FALSE(bench::sweep_has_peaked(points));
  const auto t = bench::analyse_sweep(points, 10, 6, 1e9, 32);
  EXPECT_EQ(t.best_workers, 32u);
  EXPECT_EQ(t.knee_workers, 32u);
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

TEST(Tuning, SweepStopsOnlyAfterTwoSizesWithoutAGain) {
  EXPECT_FALSE(bench::sweep_has_peaked(sweep({{1, 100}, {2, 190}})));
  EXPECT_FALSE(bench::sweep_has_peaked(sweep({{1, 100}, {2, 190}, {4, 192}})));
  EXPECT_TRUE(bench::sweep_has_peaked(sweep({{1, 100}, {2, 190}, {4, 192}, {8, 150}})));
  EXPECT_FALSE(bench::sweep_has_peaked(sweep({{1, 100}, {2, 101}, {4, 300}})));
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
