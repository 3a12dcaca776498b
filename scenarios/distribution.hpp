#pragma once

#include <cstdint>
#include <random>
#include <string_view>
#include <vector>

namespace poolbench::scenarios {

/// How the length of a task's compute or wait varies around its mean: not at all
/// (`fixed`), memorylessly (`exponential`), or with a long right tail (`lognormal`, whose
/// `sigma` is the standard deviation of the logarithm). Every kind keeps the mean.
struct Distribution {
  enum class Kind { fixed, exponential, lognormal };
  Kind kind = Kind::fixed;
  double sigma = 0;  ///< lognormal only: above 0, at most max_sigma

  static constexpr double max_sigma = 4;
};

/// Reads `text` as typed after `flag`; throws ConfigError naming the flag, the text and
/// what is allowed for an unknown kind or a sigma that is not in (0, max_sigma].
Distribution parse_distribution(std::string_view flag, std::string_view text);

/// `count` draws of `distribution` with mean `mean_ns`, in nanoseconds, each capped at
/// `cap_ns`. The same generator state gives the same draws, so a seeded run sees the same
/// tasks each time.
std::vector<std::uint64_t> draw_times(const Distribution& distribution, double mean_ns, std::size_t count,
                                      std::uint64_t cap_ns, std::mt19937_64& random);

}  // namespace poolbench::scenarios
