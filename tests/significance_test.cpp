#include "bench/significance.hpp"

#include <gtest/gtest.h>

#include <numeric>

#include "pools/core/errors.hpp"

namespace poolbench::testing {
namespace {

using bench::mann_whitney_p;

// Reference p-values from SciPy 1.10's scipy.stats.mannwhitneyu (two-sided, default method).

TEST(MannWhitney, SmallSamplesWithoutTiesGetTheExactP) {
  EXPECT_NEAR(mann_whitney_p({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}), 0.007936507936507936, 1e-12)
      << "complete separation of 5 and 5: 2 of the 252 orderings";
  EXPECT_NEAR(mann_whitney_p({1, 2, 3, 4, 5}, {3.5, 6, 7, 8, 9}), 0.031746031746031744, 1e-12);
  EXPECT_NEAR(mann_whitney_p({1, 2}, {3, 4}), 1.0 / 3, 1e-12) << "2 and 2 can never differ at 5 %";
}

TEST(MannWhitney, TiesOrLargerSamplesUseTheCorrectedNormalApproximation) {
  EXPECT_NEAR(mann_whitney_p({1, 2, 2, 3, 4}, {2, 3, 5, 6, 7}), 0.11161176829829224, 1e-9);
  std::vector<double> a(10), b(10);
  std::iota(a.begin(), a.end(), 0.0);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = a[i] + 3.5;
  EXPECT_NEAR(mann_whitney_p(a, b), 0.031209012771740218, 1e-9);
}

TEST(MannWhitney, IsSymmetricAndIdenticalSamplesTie) {
  EXPECT_DOUBLE_EQ(mann_whitney_p({6, 7, 8, 9, 10}, {1, 2, 3, 4, 5}),
                   mann_whitney_p({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}));
  EXPECT_DOUBLE_EQ(mann_whitney_p({5, 5, 5}, {5, 5, 5}), 1.0);
}

TEST(MannWhitney, FewerThanTwoRepetitionsAreRefused) { EXPECT_THROW(mann_whitney_p({1}, {2, 3}), ConfigError); }

}  // namespace
}  // namespace poolbench::testing
