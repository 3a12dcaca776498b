#include "scenarios/distribution.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "pools/core/errors.hpp"

namespace poolbench::scenarios {
namespace {

using ::testing::HasSubstr;

/// The coefficient of variation a kind promises: 0, 1, or sqrt(exp(sigma²) − 1).
double promised_cv(const Distribution& d) {
  switch (d.kind) {
    case Distribution::Kind::fixed:
      return 0;
    case Distribution::Kind::exponential:
      return 1;
    case Distribution::Kind::lognormal:
      return std::sqrt(std::expm1(d.sigma * d.sigma));
  }
  return 0;
}

double mean_of(const std::vector<std::uint64_t>& draws) {
  return std::accumulate(draws.begin(), draws.end(), 0.0) / static_cast<double>(draws.size());
}

double cv_of(const std::vector<std::uint64_t>& draws) {
  const double mean = mean_of(draws);
  double squares = 0;
  for (auto d : draws) squares += (static_cast<double>(d) - mean) * (static_cast<double>(d) - mean);
  return std::sqrt(squares / static_cast<double>(draws.size())) / mean;
}

std::vector<std::uint64_t> draw(std::string_view text, std::uint64_t seed, std::size_t count = 200'000) {
  std::mt19937_64 random(seed);
  return draw_times(parse_distribution("--wait-dist", text), 1'000'000.0, count, 60'000'000'000, random);
}

TEST(Distribution, TheSameSeedGivesTheSameDrawsAndAnotherSeedOthers) {
  for (const char* text : {"exponential", "lognormal:0.5", "lognormal:2"}) {
    SCOPED_TRACE(text);
    EXPECT_EQ(draw(text, 7, 1000), draw(text, 7, 1000));
    EXPECT_NE(draw(text, 7, 1000), draw(text, 8, 1000));
  }
}

TEST(Distribution, EachKindKeepsItsMeanWithinFivePercent) {
  for (const char* text : {"fixed", "exponential", "lognormal:0.25", "lognormal:1"}) {
    SCOPED_TRACE(text);
    EXPECT_NEAR(mean_of(draw(text, 1)), 1'000'000.0, 50'000.0);
  }
}

TEST(Distribution, EachKindVariesAsItPromises) {
  for (const char* text : {"fixed", "exponential", "lognormal:0.25", "lognormal:1"}) {
    SCOPED_TRACE(text);
    const double promised = promised_cv(parse_distribution("--wait-dist", text));
    EXPECT_NEAR(cv_of(draw(text, 1)), promised, 0.05 + 0.1 * promised);
  }
  EXPECT_EQ(parse_distribution("--wait-dist", "fixed").kind, Distribution::Kind::fixed);
  EXPECT_EQ(parse_distribution("--wait-dist", "lognormal:1").sigma, 1.0);
}

TEST(Distribution, DrawsAreCappedAndNeverNegative) {
  std::mt19937_64 random(3);
  const auto draws =
      draw_times(parse_distribution("--compute-dist", "lognormal:4"), 1e9, 10'000, 2'000'000'000, random);
  for (auto d : draws) EXPECT_LE(d, 2'000'000'000u);
  std::mt19937_64 again(3);
  for (auto d : draw_times(parse_distribution("--compute-dist", "exponential"), 0.0, 100, 10, again)) EXPECT_EQ(d, 0u);
}

TEST(Distribution, BadTextNamesTheFlagAndWhatIsAllowed) {
  const auto error_of = [](std::string_view text) -> std::string {
    try {
      parse_distribution("--compute-dist", text);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "accepted";
  };
  EXPECT_THAT(error_of("normal"), AllOf(HasSubstr("--compute-dist normal"), HasSubstr("fixed, exponential")));
  EXPECT_THAT(error_of("lognormal:0"), HasSubstr("sigma must be above 0"));
  EXPECT_THAT(error_of("lognormal:-1"), HasSubstr("sigma must be above 0"));
  EXPECT_THAT(error_of("lognormal:9"), HasSubstr("at most 4"));
  EXPECT_THAT(error_of("lognormal:"), HasSubstr("not a number"));
  EXPECT_THAT(error_of("lognormal:1x"), HasSubstr("not a number"));
  EXPECT_THAT(error_of("lognormal:nan"), HasSubstr("sigma must be above 0"));
}

}  // namespace
}  // namespace poolbench::scenarios
