#include "bench/tuning.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "pools/core/errors.hpp"

namespace poolbench::bench {
namespace {

double median_of(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

const SweepPoint& at(const std::vector<SweepPoint>& points, std::size_t workers) {
  for (const auto& p : points)
    if (p.workers == workers) return p;
  throw Error(fmt::format("the sweep has no measurement at {} workers", workers));
}

}  // namespace

double SweepPoint::median() const { return median_of(throughputs); }

double SweepPoint::spread() const {
  const double m = median();
  if (m <= 0) return 0;
  std::vector<double> deviations;
  for (double t : throughputs) deviations.push_back(std::abs(t - m));
  return median_of(deviations) / m;
}

bool sweep_has_peaked(const std::vector<SweepPoint>& points) {
  double best = 0;
  int without_gain = 0;
  for (const auto& p : points) {
    const double m = p.median();
    if (m > best * (1 + knee_tolerance)) {
      without_gain = 0;
    } else {
      ++without_gain;
    }
    best = std::max(best, m);
  }
  return without_gain >= 2;
}

double formula_estimate(unsigned usable_cpus, double utilisation, double wait_ns, double compute_ns) {
  if (compute_ns <= 0) return std::numeric_limits<double>::infinity();
  return usable_cpus * utilisation * (1 + std::max(0.0, wait_ns) / compute_ns);
}

Tuning analyse_sweep(const std::vector<SweepPoint>& points, std::size_t default_workers, std::size_t py38_workers,
                     double formula, std::size_t formula_workers) {
  if (points.empty()) throw Error("the sweep is empty");
  std::vector<SweepPoint> sorted = points;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.workers < b.workers; });

  Tuning t;
  for (const auto& p : sorted) {
    if (p.median() > t.best_throughput) {
      t.best_throughput = p.median();
      t.best_workers = p.workers;
      t.best_spread = p.spread();
    }
    if (p.spread() > knee_tolerance)
      t.warnings.push_back(fmt::format("{} workers: unstable measurement, spread {:.1f}% > 5% across {} repetitions",
                                       p.workers, 100 * p.spread(), p.throughputs.size()));
  }
  for (const auto& p : sorted) {
    if (p.median() >= (1 - knee_tolerance) * t.best_throughput) {
      t.knee_workers = p.workers;
      break;
    }
  }
  const double best = t.best_throughput > 0 ? t.best_throughput : 1;
  t.default_workers = default_workers;
  t.default_vs_best = at(sorted, default_workers).median() / best;
  t.py38_workers = py38_workers;
  t.py38_vs_best = at(sorted, py38_workers).median() / best;
  t.formula_estimate = formula;
  t.formula_workers = formula_workers;
  t.formula_vs_best = at(sorted, formula_workers).median() / best;

  const double knee_vs_best = at(sorted, t.knee_workers).median() / best;
  const double vs_auto = static_cast<double>(t.knee_workers) / static_cast<double>(default_workers);
  std::string versus_auto;
  if (t.knee_workers == default_workers) {
    versus_auto = "the auto default itself";
  } else if (t.knee_workers < default_workers) {
    versus_auto = fmt::format("{:.0f}% fewer than auto ({})", 100 * (1 - vs_auto), default_workers);
  } else {
    versus_auto = fmt::format("{:.0f}% more than auto ({})", 100 * (vs_auto - 1), default_workers);
  }
  t.recommendation = fmt::format("use {} workers: within {:.1f}% of the best ({} workers), {}", t.knee_workers,
                                 std::max(0.0, 100 * (1 - knee_vs_best)), t.best_workers, versus_auto);
  return t;
}

}  // namespace poolbench::bench
