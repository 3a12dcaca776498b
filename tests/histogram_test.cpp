#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "bench/histogram.hpp"

namespace poolbench::testing {
namespace {

using bench::LogHistogram;

std::uint64_t exact_percentile(std::vector<std::uint64_t> values, double percent) {
  std::sort(values.begin(), values.end());
  const auto rank = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(percent / 100.0 * values.size())));
  return values[rank - 1];
}

void expect_close_to_reference(const std::vector<std::uint64_t>& values, const LogHistogram& h) {
  for (double p : {1.0, 10.0, 50.0, 90.0, 99.0, 99.9, 100.0}) {
    const double exact = static_cast<double>(exact_percentile(values, p));
    const double got = static_cast<double>(h.percentile(p));
    EXPECT_LE(std::abs(got - exact), exact / 64.0 + 1.0) << "p" << p << ": exact " << exact << ", got " << got;
  }
}

TEST(LogHistogram, PercentilesMatchASortedArrayOnRandomData) {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> latency(10.0, 1.5);  // ~22 us median, long tail
  std::uniform_int_distribution<std::uint64_t> uniform(0, 5'000'000);
  for (int round = 0; round < 2; ++round) {
    std::vector<std::uint64_t> values;
    LogHistogram h;
    for (int i = 0; i < 20'000; ++i) {
      const auto v = round == 0 ? static_cast<std::uint64_t>(latency(rng)) : uniform(rng);
      values.push_back(v);
      h.record(v);
    }
    EXPECT_EQ(h.count(), values.size());
    EXPECT_EQ(h.max(), *std::max_element(values.begin(), values.end()));
    EXPECT_EQ(h.min(), *std::min_element(values.begin(), values.end()));
    expect_close_to_reference(values, h);
  }
}

TEST(LogHistogram, SmallValuesAreExact) {
  LogHistogram h;
  std::vector<std::uint64_t> values;
  for (std::uint64_t v = 0; v < 60; ++v) {
    h.record(v);
    values.push_back(v);
  }
  for (double p : {1.0, 50.0, 90.0}) EXPECT_EQ(h.percentile(p), exact_percentile(values, p));
}

TEST(LogHistogram, MergeEqualsRecordingEverything) {
  std::mt19937_64 rng(7);
  std::exponential_distribution<double> d(1e-5);
  LogHistogram a, b, all;
  std::vector<std::uint64_t> values;
  for (int i = 0; i < 5000; ++i) {
    const auto v = static_cast<std::uint64_t>(d(rng));
    (i % 3 ? a : b).record(v);
    all.record(v);
    values.push_back(v);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  for (double p : {50.0, 99.0}) EXPECT_EQ(a.percentile(p), all.percentile(p));
  expect_close_to_reference(values, a);
}

TEST(LogHistogram, EmptyAndHugeValues) {
  LogHistogram h;
  EXPECT_EQ(h.percentile(50), 0u);
  h.record(UINT64_MAX);
  h.record(1ull << 63);
  EXPECT_EQ(h.max(), UINT64_MAX);
  EXPECT_GE(h.percentile(100), 1ull << 63);
}

}  // namespace
}  // namespace poolbench::testing
