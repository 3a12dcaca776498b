#pragma once

#include <vector>

namespace poolbench::bench {

/// The median of `values` (the mean of the two middle ones for an even count); 0 when empty.
double median_of(std::vector<double> values);

/// The two-sided Mann–Whitney U test, the one Google Benchmark's compare.py uses to call
/// two sets of repetitions different: the probability of samples at least as far apart as
/// `a` and `b` if both came from one distribution. Exact for samples under 8 without ties,
/// otherwise the normal approximation with tie and continuity corrections (as SciPy's
/// `mannwhitneyu` does). Throws ConfigError when either sample has fewer than 2 values.
double mann_whitney_p(const std::vector<double>& a, const std::vector<double>& b);

/// Below this p-value two sizes are different; at or above it they tie.
inline constexpr double significance_level = 0.05;

}  // namespace poolbench::bench
