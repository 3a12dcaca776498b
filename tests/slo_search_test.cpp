#include "bench/slo_search.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace poolbench::testing {
namespace {

using bench::SloProbe;

/// A pool whose p99 is 1000 ÷ workers µs, against an objective of 100 µs: 10 workers meet it.
SloProbe by_workers(std::size_t n) {
  SloProbe p;
  p.workers = n;
  p.p99_us = 1000.0 / static_cast<double>(n);
  p.meets = p.p99_us <= 100;
  return p;
}

TEST(SloSearch, FindsTheSmallestSizeThatMeetsByDoublingThenBisecting) {
  const auto search = bench::smallest_meeting_size(64, by_workers);
  ASSERT_TRUE(search.pick);
  EXPECT_EQ(*search.pick, 10u);
  std::vector<std::size_t> tried;
  for (const auto& p : search.probes) tried.push_back(p.workers);
  EXPECT_EQ(tried, (std::vector<std::size_t>{1, 2, 4, 8, 16, 12, 10, 9})) << "log2 of the cap or so";
}

TEST(SloSearch, NoSizeUpToTheCapMeetingItSaysSoAndNamesTheClosest) {
  const auto search = bench::smallest_meeting_size(6, [](std::size_t n) {
    SloProbe p = by_workers(n);
    p.meets = false;
    p.saturated = n < 6;
    p.p99_us = n == 4 ? 1 : p.p99_us;  // lowest, but it did not keep up
    return p;
  });
  EXPECT_FALSE(search.pick);
  ASSERT_EQ(search.probes.size(), 4u) << "1, 2, 4, and the cap";
  EXPECT_EQ(search.probes.back().workers, 6u);
  ASSERT_NE(search.closest(), nullptr);
  EXPECT_EQ(search.closest()->workers, 6u) << "the closest is one that kept up";
}

TEST(SloSearch, OneWorkerMeetingItNeedsNoBisection) {
  const auto search = bench::smallest_meeting_size(64, [](std::size_t n) {
    SloProbe p;
    p.workers = n;
    p.meets = true;
    return p;
  });
  EXPECT_EQ(search.pick, 1u);
  EXPECT_EQ(search.probes.size(), 1u);
}

/// A size that keeps up with anything below 3,000 per second.
SloProbe by_rate(double rate) {
  SloProbe p;
  p.rate = rate;
  p.meets = rate < 3000;
  p.saturated = !p.meets;
  return p;
}

TEST(SloSearch, TheSustainedRateIsBracketedWithinFivePercent) {
  const auto up = bench::highest_sustained_rate(100, 50'000, by_rate);
  EXPECT_LT(up.sustained, 3000);
  EXPECT_GT(up.sustained, 3000 / 1.05);
  const auto down = bench::highest_sustained_rate(40'000, 50'000, by_rate);
  EXPECT_LT(down.sustained, 3000);
  EXPECT_GT(down.sustained, 3000 / 1.05);
  EXPECT_LT(up.probes.size(), 15u);
}

TEST(SloSearch, TheRateStopsAtTheBoundAndAtTenHalvings) {
  const auto capped = bench::highest_sustained_rate(100, 1000, by_rate);
  EXPECT_EQ(capped.sustained, 1000) << "met at the most a run may offer";
  const auto never = bench::highest_sustained_rate(100, 1000, [](double rate) {
    SloProbe p;
    p.rate = rate;
    return p;
  });
  EXPECT_EQ(never.sustained, 0);
  EXPECT_EQ(never.probes.size(), 11u);
}

}  // namespace
}  // namespace poolbench::testing
