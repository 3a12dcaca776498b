#pragma once

#include <optional>
#include <string>
#include <vector>

namespace poolbench::bench {

/// One size's measured throughput, for a fit.
struct SizeThroughput {
  double workers = 0;
  double throughput = 0;
};

/// The Universal Scalability Law fitted to a sweep: X(N) = λN ÷ (1 + σ(N − 1) + κN(N − 1)),
/// where σ is the share of the work that contends (queues on something shared) and κ the
/// cost of keeping workers coherent with each other, which makes throughput fall past a peak.
struct UslFit {
  bool ok = false;    ///< false: too few sizes or too poor a fit to say anything
  std::string why;    ///< when not ok, one line saying why
  double lambda = 0;  ///< throughput of one worker
  double sigma = 0;   ///< contention, ≥ 0
  double kappa = 0;   ///< coherency, ≥ 0
  double r2 = 0;      ///< of the fit against the medians
  /// Where the fitted curve peaks, √((1 − σ) ÷ κ); none when κ is 0 or σ ≥ 1.
  std::optional<double> peak_workers;

  /// The fitted throughput at `workers`.
  double throughput(double workers) const;
};

/// Sizes a fit needs, and the R² below which it is not reported.
inline constexpr std::size_t usl_min_sizes = 6;
inline constexpr double usl_min_r2 = 0.9;

/// Fits the law to `points` by non-linear least squares (Levenberg–Marquardt, σ and κ kept
/// non-negative, from several starting points); not ok with fewer than 6 distinct sizes or
/// R² under 0.9.
UslFit fit_usl(const std::vector<SizeThroughput>& points);

}  // namespace poolbench::bench
