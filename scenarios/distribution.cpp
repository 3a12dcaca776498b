#include "scenarios/distribution.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "pools/core/errors.hpp"

namespace poolbench::scenarios {

Distribution parse_distribution(std::string_view flag, std::string_view text) {
  if (text == "fixed") return {};
  if (text == "exponential") return {Distribution::Kind::exponential, 0};
  constexpr std::string_view lognormal = "lognormal:";
  if (text.starts_with(lognormal)) {
    const std::string_view number = text.substr(lognormal.size());
    double sigma = 0;
    const auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), sigma);
    if (error != std::errc{} || end != number.data() + number.size() || number.empty())
      throw ConfigError(fmt::format("{} {}: the sigma after 'lognormal:' is not a number", flag, text));
    if (!(sigma > 0 && sigma <= Distribution::max_sigma))
      throw ConfigError(
          fmt::format("{} {}: sigma must be above 0 and at most {}", flag, text, Distribution::max_sigma));
    return {Distribution::Kind::lognormal, sigma};
  }
  throw ConfigError(
      fmt::format("{} {} is not a distribution (allowed: fixed, exponential, lognormal:SIGMA)", flag, text));
}

std::vector<std::uint64_t> draw_times(const Distribution& distribution, double mean_ns, std::size_t count,
                                      std::uint64_t cap_ns, std::mt19937_64& random) {
  std::vector<std::uint64_t> times(count);
  const auto capped = [cap_ns](double ns) {
    return static_cast<std::uint64_t>(std::llround(std::clamp(ns, 0.0, static_cast<double>(cap_ns))));
  };
  switch (distribution.kind) {
    case Distribution::Kind::fixed:
      std::fill(times.begin(), times.end(), capped(mean_ns));
      break;
    case Distribution::Kind::exponential: {
      if (mean_ns <= 0) break;
      std::exponential_distribution<double> draw(1.0 / mean_ns);
      for (auto& t : times) t = capped(draw(random));
      break;
    }
    case Distribution::Kind::lognormal: {
      if (mean_ns <= 0) break;
      // E[exp(N(mu, sigma²))] = exp(mu + sigma²/2): this mu keeps the mean at mean_ns.
      const double sigma = distribution.sigma;
      std::lognormal_distribution<double> draw(std::log(mean_ns) - sigma * sigma / 2, sigma);
      for (auto& t : times) t = capped(draw(random));
      break;
    }
  }
  return times;
}

}  // namespace poolbench::scenarios
