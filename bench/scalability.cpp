#include "bench/scalability.hpp"

#include <fmt/format.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <set>
#include <unsupported/Eigen/NonLinearOptimization>

namespace poolbench::bench {
namespace {

/// The law's residuals and their Jacobian in (λ, s, k) with σ = s² and κ = k², which keeps
/// both non-negative without bounds the solver does not have.
struct UslResiduals {
  using Scalar = double;
  const std::vector<SizeThroughput>& points;

  int values() const { return static_cast<int>(points.size()); }

  static double denominator(double n, double s, double k) { return 1 + s * s * (n - 1) + k * k * n * (n - 1); }

  int operator()(const Eigen::VectorXd& p, Eigen::VectorXd& residuals) const {
    for (std::size_t i = 0; i < points.size(); ++i) {
      const double n = points[i].workers;
      residuals(static_cast<Eigen::Index>(i)) = p(0) * n / denominator(n, p(1), p(2)) - points[i].throughput;
    }
    return 0;
  }

  int df(const Eigen::VectorXd& p, Eigen::MatrixXd& jacobian) const {
    for (std::size_t i = 0; i < points.size(); ++i) {
      const double n = points[i].workers;
      const double d = denominator(n, p(1), p(2));
      const auto row = static_cast<Eigen::Index>(i);
      jacobian(row, 0) = n / d;
      jacobian(row, 1) = -p(0) * n / (d * d) * 2 * p(1) * (n - 1);
      jacobian(row, 2) = -p(0) * n / (d * d) * 2 * p(2) * n * (n - 1);
    }
    return 0;
  }
};

double sum_of_squares(const std::vector<SizeThroughput>& points, const UslFit& fit) {
  double sse = 0;
  for (const auto& p : points) {
    const double r = fit.throughput(p.workers) - p.throughput;
    sse += r * r;
  }
  return sse;
}

}  // namespace

double UslFit::throughput(double workers) const {
  return lambda * workers / (1 + sigma * (workers - 1) + kappa * workers * (workers - 1));
}

UslFit fit_usl(const std::vector<SizeThroughput>& points) {
  UslFit best;
  std::set<double> sizes;
  for (const auto& p : points) sizes.insert(p.workers);
  if (sizes.size() < usl_min_sizes) {
    best.why = fmt::format("no fit: {} sizes measured, the fit needs {}", sizes.size(), usl_min_sizes);
    return best;
  }
  // λ starts at the best throughput per worker, which one worker reaches when nothing contends.
  double lambda = 0;
  for (const auto& p : points) lambda = std::max(lambda, p.throughput / p.workers);
  double best_sse = INFINITY;
  UslResiduals residuals{points};
  for (double sigma : {0.0001, 0.01, 0.1, 0.5}) {
    for (double kappa : {1e-6, 1e-4, 1e-2}) {
      Eigen::VectorXd p(3);
      p << lambda, std::sqrt(sigma), std::sqrt(kappa);
      Eigen::LevenbergMarquardt<UslResiduals> solver(residuals);
      solver.parameters.maxfev = 2000;
      solver.minimize(p);
      UslFit fit;
      fit.lambda = p(0);
      fit.sigma = p(1) * p(1);
      fit.kappa = p(2) * p(2);
      const double sse = sum_of_squares(points, fit);
      if (std::isfinite(sse) && sse < best_sse) {
        best_sse = sse;
        best = fit;
      }
    }
  }
  double mean = 0;
  for (const auto& p : points) mean += p.throughput;
  mean /= static_cast<double>(points.size());
  double sst = 0;
  for (const auto& p : points) sst += (p.throughput - mean) * (p.throughput - mean);
  best.r2 = sst > 0 ? 1 - best_sse / sst : (best_sse == 0 ? 1 : 0);
  if (best.kappa > 0 && best.sigma < 1) best.peak_workers = std::sqrt((1 - best.sigma) / best.kappa);
  best.ok = best.r2 >= usl_min_r2;
  if (!best.ok) best.why = fmt::format("no fit: R² {:.3f} is under {}", best.r2, usl_min_r2);
  return best;
}

}  // namespace poolbench::bench
