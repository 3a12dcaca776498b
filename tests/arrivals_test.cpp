#include "scenarios/arrivals.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "pools/core/errors.hpp"

namespace poolbench::scenarios {
namespace {

Arrivals arrivals(double rate, Arrivals::Kind kind, std::uint64_t seed = 1) {
  Arrivals a;
  a.rate = rate;
  a.kind = kind;
  a.duration = std::chrono::seconds(10);
  a.seed = seed;
  return a;
}

TEST(Arrivals, RateTimesDurationTasksFromZeroInOrder) {
  for (auto kind : {Arrivals::Kind::uniform, Arrivals::Kind::poisson}) {
    const auto schedule = arrivals(1000, kind).schedule();
    ASSERT_EQ(schedule.size(), 10'000u);
    EXPECT_EQ(schedule.front(), 0u);
    EXPECT_TRUE(std::is_sorted(schedule.begin(), schedule.end()));
  }
  Arrivals tiny = arrivals(0.01, Arrivals::Kind::uniform);
  EXPECT_EQ(tiny.count(), 1u) << "an open loop runs at least one task";
}

TEST(Arrivals, UniformArrivalsAreEvenlySpaced) {
  const auto schedule = arrivals(4000, Arrivals::Kind::uniform).schedule();
  for (std::size_t i = 1; i < schedule.size(); ++i) ASSERT_EQ(schedule[i] - schedule[i - 1], 250'000u) << i;
}

TEST(Arrivals, PoissonArrivalsKeepTheRateAndVaryLikeAnExponential) {
  const auto schedule = arrivals(1000, Arrivals::Kind::poisson).schedule();
  const double mean_gap = static_cast<double>(schedule.back()) / static_cast<double>(schedule.size() - 1);
  EXPECT_NEAR(mean_gap, 1e6, 0.05e6) << "within 5 % of 1 ms";
  double squares = 0;
  for (std::size_t i = 1; i < schedule.size(); ++i) {
    const double gap = static_cast<double>(schedule[i] - schedule[i - 1]) - mean_gap;
    squares += gap * gap;
  }
  EXPECT_NEAR(std::sqrt(squares / static_cast<double>(schedule.size() - 1)) / mean_gap, 1.0, 0.05)
      << "exponential gaps: the standard deviation equals the mean";
}

TEST(Arrivals, TheSameSeedGivesTheSameScheduleAndAnotherSeedAnother) {
  EXPECT_EQ(arrivals(500, Arrivals::Kind::poisson, 9).schedule(), arrivals(500, Arrivals::Kind::poisson, 9).schedule());
  EXPECT_NE(arrivals(500, Arrivals::Kind::poisson, 9).schedule(),
            arrivals(500, Arrivals::Kind::poisson, 10).schedule());
}

std::vector<std::uint64_t> merged(const std::vector<std::vector<std::uint64_t>>& schedules) {
  std::vector<std::uint64_t> all;
  for (const auto& s : schedules) all.insert(all.end(), s.begin(), s.end());
  std::sort(all.begin(), all.end());
  return all;
}

TEST(Arrivals, UniformSharesInterleaveIntoOneEvenSchedule) {
  const auto shares = split_schedule(arrivals(4000, Arrivals::Kind::uniform), 4);
  ASSERT_EQ(shares.size(), 4u);
  for (const auto& share : shares) {
    ASSERT_EQ(share.size(), 10'000u) << "each share runs at a quarter of the rate for the whole duration";
    EXPECT_EQ(share[1] - share[0], 1'000'000u);
  }
  const auto all = merged(shares);
  for (std::size_t i = 1; i < all.size(); ++i) ASSERT_EQ(all[i] - all[i - 1], 250'000u) << i;
}

TEST(Arrivals, PoissonSharesDifferAndTogetherKeepTheWholeRate) {
  const auto shares = split_schedule(arrivals(2000, Arrivals::Kind::poisson), 8);
  ASSERT_EQ(shares.size(), 8u);
  EXPECT_NE(shares[0], shares[1]) << "each share draws from a stream of its own";
  EXPECT_EQ(shares, split_schedule(arrivals(2000, Arrivals::Kind::poisson), 8)) << "and the same ones again";
  const auto all = merged(shares);
  EXPECT_EQ(all.size(), 20'000u);
  // Each share ends at its own count's last draw; through the first 9 s all of them run.
  const auto by_9s = std::lower_bound(all.begin(), all.end(), 9'000'000'000u) - all.begin();
  EXPECT_NEAR(static_cast<double>(by_9s), 18'000, 900) << "2,000 a second, within 5 %";
}

TEST(Arrivals, EveryShareHasAtLeastOneArrival) {
  Arrivals few = arrivals(1, Arrivals::Kind::uniform);
  few.duration = std::chrono::seconds(2);
  for (const auto& share : split_schedule(few, 5)) EXPECT_EQ(share.size(), 1u);
}

TEST(Arrivals, AnUnknownKindNamesWhatIsAllowed) {
  EXPECT_EQ(parse_arrival_kind("uniform"), Arrivals::Kind::uniform);
  try {
    parse_arrival_kind("bursty");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("--arrivals bursty"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("poisson, uniform"));
  }
}

}  // namespace
}  // namespace poolbench::scenarios
