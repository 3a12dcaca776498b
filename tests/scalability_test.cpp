#include "bench/scalability.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace poolbench::testing {
namespace {

using bench::fit_usl;
using bench::SizeThroughput;
using bench::UslFit;

std::vector<SizeThroughput> sampled(const UslFit& law, const std::vector<double>& sizes) {
  std::vector<SizeThroughput> points;
  for (double n : sizes) points.push_back({n, law.throughput(n)});
  return points;
}

TEST(Usl, RecoversTheLawThatMadeTheData) {
  UslFit law;
  law.lambda = 100;
  law.sigma = 0.05;
  law.kappa = 0.002;
  const UslFit fit = fit_usl(sampled(law, {1, 2, 4, 8, 16, 32, 64}));
  ASSERT_TRUE(fit.ok) << fit.why;
  EXPECT_NEAR(fit.lambda, 100, 0.01);
  EXPECT_NEAR(fit.sigma, 0.05, 1e-5);
  EXPECT_NEAR(fit.kappa, 0.002, 1e-6);
  EXPECT_NEAR(fit.r2, 1, 1e-9);
  ASSERT_TRUE(fit.peak_workers);
  EXPECT_NEAR(*fit.peak_workers, std::sqrt(0.95 / 0.002), 0.01) << "about 21.8 workers";
}

TEST(Usl, LinearScalingHasNoPeak) {
  std::vector<SizeThroughput> points;
  for (double n : {1, 2, 4, 8, 16, 32}) points.push_back({n, 50 * n});
  const UslFit fit = fit_usl(points);
  ASSERT_TRUE(fit.ok) << fit.why;
  EXPECT_NEAR(fit.lambda, 50, 0.01);
  EXPECT_LT(fit.sigma, 1e-6);
  EXPECT_LT(fit.kappa, 1e-8);
  EXPECT_GT(fit.peak_workers.value_or(INFINITY), 1000) << "no peak, or one far beyond anything measured";
}

TEST(Usl, NoisyMeasurementsStillFitWithAnR2BelowOne) {
  UslFit law;
  law.lambda = 200;
  law.sigma = 0.1;
  law.kappa = 0.0005;
  auto points = sampled(law, {1, 2, 4, 6, 8, 10, 16, 32, 64});
  for (std::size_t i = 0; i < points.size(); ++i) points[i].throughput *= i % 2 ? 1.02 : 0.98;
  const UslFit fit = fit_usl(points);
  ASSERT_TRUE(fit.ok) << fit.why;
  EXPECT_GT(fit.r2, 0.95);
  EXPECT_LT(fit.r2, 1);
  ASSERT_TRUE(fit.peak_workers);
  EXPECT_NEAR(*fit.peak_workers, std::sqrt(0.9 / 0.0005), 10) << "about 42 workers";
}

TEST(Usl, TooFewSizesOrAShapeTheLawCannotTakeIsNoFit) {
  std::vector<SizeThroughput> five;
  for (double n : {1, 2, 4, 8, 16}) five.push_back({n, 10 * n});
  const UslFit few = fit_usl(five);
  EXPECT_FALSE(few.ok);
  EXPECT_THAT(few.why, ::testing::HasSubstr("5 sizes measured, the fit needs 6"));
  const UslFit zigzag = fit_usl({{1, 100}, {2, 10}, {4, 100}, {8, 10}, {16, 100}, {32, 10}});
  EXPECT_FALSE(zigzag.ok);
  EXPECT_THAT(zigzag.why, ::testing::HasSubstr("R²"));
}

}  // namespace
}  // namespace poolbench::testing
