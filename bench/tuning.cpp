#include "bench/tuning.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "bench/significance.hpp"
#include "pools/core/errors.hpp"

namespace poolbench::bench {
namespace {

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

std::vector<std::size_t> tune_sizes(std::size_t cap, const std::vector<std::size_t>& named,
                                    const std::function<double(std::size_t)>& scout) {
  std::vector<std::size_t> sizes;
  double best = 0;
  for (std::size_t n = 1;; n = std::min(cap, 2 * n)) {
    sizes.push_back(n);
    const double throughput = scout(n);
    const bool gained = throughput > best * (1 + knee_tolerance);
    best = std::max(best, throughput);
    if (!gained || n >= cap) break;
  }
  for (std::size_t n : named)
    if (n >= 1) sizes.push_back(n);
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  return sizes;
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
  const SweepPoint& best_point = at(sorted, t.best_workers);
  for (const auto& p : sorted) {
    if (p.workers == t.best_workers || mann_whitney_p(p.throughputs, best_point.throughputs) >= significance_level)
      t.tied_with_best.push_back(p.workers);
  }
  t.pick_workers = t.tied_with_best.front();
  const SweepPoint* runner_up = nullptr;
  for (const auto& p : sorted)
    if (p.workers != t.pick_workers && (!runner_up || p.median() > runner_up->median())) runner_up = &p;
  if (runner_up) {
    t.runner_up_workers = runner_up->workers;
    t.pick_p_value = mann_whitney_p(at(sorted, t.pick_workers).throughputs, runner_up->throughputs);
  }
  const double best = t.best_throughput > 0 ? t.best_throughput : 1;
  t.default_workers = default_workers;
  t.default_vs_best = at(sorted, default_workers).median() / best;
  t.py38_workers = py38_workers;
  t.py38_vs_best = at(sorted, py38_workers).median() / best;
  t.formula_estimate = formula;
  t.formula_workers = formula_workers;
  t.formula_vs_best = at(sorted, formula_workers).median() / best;

  const double pick_vs_best = at(sorted, t.pick_workers).median() / best;
  const double vs_auto = static_cast<double>(t.pick_workers) / static_cast<double>(default_workers);
  std::string versus_auto;
  if (t.pick_workers == default_workers) {
    versus_auto = "the auto default itself";
  } else if (t.pick_workers < default_workers) {
    versus_auto = fmt::format("{:.0f}% fewer than auto ({})", 100 * (1 - vs_auto), default_workers);
  } else {
    versus_auto = fmt::format("{:.0f}% more than auto ({})", 100 * (vs_auto - 1), default_workers);
  }
  const std::size_t repetitions = best_point.throughputs.size();
  std::string why;
  if (!runner_up) {
    why = "the only size measured";
  } else if (t.pick_workers == t.best_workers && t.tied_with_best.size() == 1) {
    why = fmt::format("the best, ahead of the runner-up ({} workers) with p = {:.3f}", t.runner_up_workers,
                      t.pick_p_value);
  } else if (t.pick_workers == t.best_workers) {
    why = fmt::format("the best, and the smallest of the {} sizes tied with it (against {} workers p = {:.3f})",
                      t.tied_with_best.size(), t.runner_up_workers, t.pick_p_value);
  } else {
    why = fmt::format("{:.1f}% below the best ({} workers) but not told apart from it by {} repetitions",
                      std::max(0.0, 100 * (1 - pick_vs_best)), t.best_workers, repetitions);
  }
  t.recommendation = fmt::format("use {} workers: {}; {}", t.pick_workers, why, versus_auto);
  if (repetitions < 4)
    t.warnings.push_back(fmt::format(
        "{} repetitions per size cannot tell any two sizes apart at p < 0.05 (4 is the fewest that can): every "
        "size ties and the smallest wins",
        repetitions));
  return t;
}

}  // namespace poolbench::bench
