#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace poolbench::bench {

/// One worker count's repeated throughput measurements (tasks/s, or requests/s for socket).
struct SweepPoint {
  std::size_t workers = 0;
  std::vector<double> throughputs;

  double median() const;
  /// Median absolute deviation from the median, as a fraction of the median — the
  /// "err%" nanobench reports; robust to one stray repetition.
  double spread() const;
};

/// What `tune` concludes from a sweep.
struct Tuning {
  std::size_t best_workers = 0;  ///< the highest median
  double best_throughput = 0;
  double best_spread = 0;
  /// The sizes a Mann–Whitney U test cannot tell from the best (p ≥ 0.05), the best too.
  std::vector<std::size_t> tied_with_best;
  std::size_t pick_workers = 0;       ///< the smallest of them: what `tune` recommends
  std::size_t runner_up_workers = 0;  ///< the highest median other than the pick's
  double pick_p_value = 1;            ///< of the pick against the runner-up
  std::size_t knee_workers = 0;       ///< the smallest size within 5 % of the best
  std::size_t default_workers = 0;
  double default_vs_best = 0;  ///< throughput at the auto size ÷ the best
  std::size_t py38_workers = 0;
  double py38_vs_best = 0;
  double formula_estimate = 0;      ///< usable CPUs × utilisation × (1 + wait ÷ compute)
  std::size_t formula_workers = 0;  ///< the estimate rounded into the sweep's range
  double formula_vs_best = 0;
  std::string recommendation;
  std::vector<std::string> warnings;
};

/// Within this fraction of the best counts as "as good" (the knee) and as noise.
inline constexpr double knee_tolerance = 0.05;

/// The sizes `tune` measures, ascending and each once. A scouting pass visits 1, 2, 4, ...
/// (and `cap`) in order, each once through `scout(workers)`, which returns one run's
/// throughput, and stops at the first size not more than 5 % better than the best before
/// it: past the knee, where more workers stop paying. Then come each of `named` (the
/// rules' and the formula's sizes, even beyond, so that their distance from the best is
/// always known).
std::vector<std::size_t> tune_sizes(std::size_t cap, const std::vector<std::size_t>& named,
                                    const std::function<double(std::size_t)>& scout);

/// The classic formula's worker count: CPUs × utilisation × (1 + wait ÷ compute). With no
/// compute time measured, wait ÷ compute is unbounded and so is the estimate.
double formula_estimate(unsigned usable_cpus, double utilisation, double wait_ns, double compute_ns);

/// Best, the pick (the smallest size statistically tied with the best), knee, the rules'
/// and the formula's distance from the best, a recommendation, and warnings for unstable
/// sizes. Every named size must be in `points`, each with at least 2 repetitions.
Tuning analyse_sweep(const std::vector<SweepPoint>& points, std::size_t default_workers, std::size_t py38_workers,
                     double formula, std::size_t formula_workers);

}  // namespace poolbench::bench
