#include "bench/significance.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>

#include "pools/core/errors.hpp"

namespace poolbench::bench {
namespace {

/// U of `a` (how often a value of `a` exceeds one of `b`, ties counting half) and the tie
/// term Σ(t³ − t) over groups of equal values in both samples together.
struct Ranks {
  double u_a = 0;
  double ties = 0;
};

Ranks rank(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<std::pair<double, bool>> all;  // value, from a
  for (double v : a) all.emplace_back(v, true);
  for (double v : b) all.emplace_back(v, false);
  std::sort(all.begin(), all.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  Ranks r;
  double rank_sum_a = 0;
  for (std::size_t i = 0; i < all.size();) {
    std::size_t j = i;
    while (j < all.size() && all[j].first == all[i].first) ++j;
    const double mid_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    const auto t = static_cast<double>(j - i);
    r.ties += t * t * t - t;
    for (std::size_t k = i; k < j; ++k)
      if (all[k].second) rank_sum_a += mid_rank;
    i = j;
  }
  const auto n_a = static_cast<double>(a.size());
  r.u_a = rank_sum_a - n_a * (n_a + 1) / 2;
  return r;
}

/// P(U ≤ u) for samples of m and n values without ties: the share of the C(m + n, m)
/// orderings whose U is at most u, counted by the recurrence on the largest value.
double exact_cdf(std::size_t m, std::size_t n, std::size_t u) {
  // ways[i][j][k]: orderings of i values against j with U = k; built up over i + j.
  const std::size_t most = m * n;
  std::vector<std::vector<std::vector<double>>> ways(
      m + 1, std::vector<std::vector<double>>(n + 1, std::vector<double>(most + 1, 0)));
  for (std::size_t i = 0; i <= m; ++i) {
    for (std::size_t j = 0; j <= n; ++j) {
      if (i == 0 || j == 0) {
        ways[i][j][0] = 1;
        continue;
      }
      for (std::size_t k = 0; k <= i * j; ++k) {
        // The largest value is from the first sample (it exceeds all j) or the second.
        ways[i][j][k] = (k >= j ? ways[i - 1][j][k - j] : 0) + ways[i][j - 1][k];
      }
    }
  }
  const double total = std::accumulate(ways[m][n].begin(), ways[m][n].end(), 0.0);
  const double below =
      std::accumulate(ways[m][n].begin(), ways[m][n].begin() + static_cast<std::ptrdiff_t>(u) + 1, 0.0);
  return below / total;
}

}  // namespace

double median_of(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

double mann_whitney_p(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() < 2 || b.size() < 2)
    throw ConfigError(fmt::format("the Mann-Whitney U test needs at least 2 repetitions of each size, not {} and {}",
                                  a.size(), b.size()));
  const Ranks r = rank(a, b);
  const auto m = static_cast<double>(a.size());
  const auto n = static_cast<double>(b.size());
  const double mean = m * n / 2;
  if ((a.size() < 8 || b.size() < 8) && r.ties == 0) {
    // U is a whole number without ties; the distribution is symmetric about its mean.
    const auto u = static_cast<std::size_t>(std::llround(std::max(r.u_a, m * n - r.u_a)));
    const double upper = 1 - exact_cdf(a.size(), b.size(), u - 1);  // P(U >= u)
    return std::min(1.0, 2 * upper);
  }
  const double total = m + n;
  const double variance = m * n / 12 * ((total + 1) - r.ties / (total * (total - 1)));
  if (variance <= 0) return 1;  // every value equal: nothing tells the samples apart
  const double z = std::max(0.0, std::abs(r.u_a - mean) - 0.5) / std::sqrt(variance);
  return std::min(1.0, std::erfc(z / std::sqrt(2.0)));
}

}  // namespace poolbench::bench
