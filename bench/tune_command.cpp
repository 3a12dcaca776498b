#include "bench/tune_command.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "bench/interrupt.hpp"
#include "bench/machine_info.hpp"
#include "bench/metrics.hpp"
#include "bench/output_file.hpp"
#include "bench/schema.hpp"
#include "bench/tuning.hpp"
#include "pools/machine/topology.hpp"
#include "pools/registry.hpp"
#include "pools/threads/sync_executor.hpp"
#include "scenarios/task_sample.hpp"

namespace poolbench::bench {
namespace {

struct Measured {
  SweepPoint point;
  Counters counters;
};

/// What one task does with its time, measured on the sync executor in this thread.
struct TaskProfile {
  double wait_ns = 0;
  double compute_ns = 0;
};

TaskProfile profile_tasks(scenarios::Scenario& scenario) {
  SyncExecutor inline_executor;
  scenarios::set_task_profiling(true);
  const scenarios::RunRecord record = scenario.run(inline_executor);
  scenarios::set_task_profiling(false);
  if (!record.ok()) throw Error(fmt::format("profiling {} inline failed: {}", scenario.name(), record.first_error));
  const double tasks = static_cast<double>(std::max<std::uint64_t>(record.tasks, 1));
  const double busy = static_cast<double>(record.task_busy_ns) / tasks;
  const double cpu = static_cast<double>(record.task_cpu_ns) / tasks;
  return {std::max(0.0, busy - cpu), cpu};
}

class Sweeper {
 public:
  Sweeper(scenarios::Scenario& scenario, std::string pool, unsigned usable, int repetitions,
          std::chrono::nanoseconds task_timeout)
      : scenario_(scenario),
        pool_(std::move(pool)),
        usable_(usable),
        repetitions_(repetitions),
        task_timeout_(task_timeout) {}

  /// Measures `workers` (once; a repeat returns the earlier point).
  SweepPoint measure(std::size_t workers, std::size_t planned) {
    for (const auto& m : measured_)
      if (m.point.workers == workers) return m.point;
    const double elapsed = static_cast<double>(scenarios::now_ns() - start_ns_) * 1e-9;
    std::fprintf(stderr, "tune: %s on %s, %zu workers (%zu of at most %zu sizes), %.1f s elapsed\n",
                 std::string(scenario_.name()).c_str(), pool_.c_str(), workers, measured_.size() + 1, planned, elapsed);
    const Cell cell{std::string(scenario_.name()), pool_, workers};
    progress_started(cell.name());
    Metrics metrics(cell, scenario_, usable_);
    auto executor = make_executor(pool_, {workers, {}, task_timeout_});
    for (int run = 0; run <= repetitions_; ++run) {
      scenarios::RunRecord record = scenario_.run(*executor);
      if (!record.ok())
        throw Error(fmt::format("{} at {} workers failed: {}", cell.name(), workers, record.first_error));
      if (run > 0) metrics.add(record);  // the first run warms up and is not counted
    }
    metrics.before_shutdown(*executor);
    executor.reset();
    Measured m{{workers, metrics.run_throughputs()}, metrics.counters()};
    SweepPoint point = m.point;
    progress_finished(cell.name());
    measured_.insert(std::upper_bound(measured_.begin(), measured_.end(), workers,
                                      [](std::size_t w, const Measured& x) { return w < x.point.workers; }),
                     std::move(m));
    return point;
  }

  std::vector<SweepPoint> points() const {
    std::vector<SweepPoint> out;
    for (const auto& m : measured_) out.push_back(m.point);
    return out;
  }
  /// Every size measured so far, by worker count.
  const std::vector<Measured>& measured() const { return measured_; }

 private:
  scenarios::Scenario& scenario_;
  std::string pool_;
  unsigned usable_;
  int repetitions_;
  std::chrono::nanoseconds task_timeout_;
  std::uint64_t start_ns_ = scenarios::now_ns();
  std::vector<Measured> measured_;
};

std::string unit_of(std::string_view scenario) { return std::string(scenarios::scenario_traits(scenario).unit) + "/s"; }

void print_table(const TuneRequest& r, const Topology& topology, const Sweeper& sweeper, const Tuning& t,
                 const TaskProfile& profile, int repetitions) {
  const auto& measured = sweeper.measured();
  const std::string unit = unit_of(r.scenario);
  std::cout << fmt::format("tune {} on {}: {} usable CPU(s), cgroup limit {}, median of {} repetitions per size\n\n",
                           r.scenario, r.pool, topology.usable_cpus(), cgroup_limit_text(topology), repetitions);
  std::cout << fmt::format("{:>8}{:>14}{:>9}{:>9}{:>11}  {}\n", "workers", unit, "spread", "vs best", "p99 us", "");
  for (const auto& m : measured) {
    std::string marks;
    if (m.point.workers == t.best_workers) marks += " best";
    if (m.point.workers == t.knee_workers) marks += " knee";
    if (m.point.workers == t.default_workers) marks += " auto";
    if (m.point.workers == t.py38_workers) marks += " py38";
    if (m.point.workers == t.formula_workers) marks += " formula";
    std::cout << fmt::format("{:>8}{:>14.1f}{:>8.1f}%{:>9.2f}{:>11.0f} {}\n", m.point.workers, m.point.median(),
                             100 * m.point.spread(), m.point.median() / t.best_throughput,
                             counter(m.counters, counter_key("latency_p99_us")), marks);
  }
  std::cout << '\n';
  std::cout << fmt::format("best:     {} workers, {:.1f} {} (spread {:.1f}%)\n", t.best_workers, t.best_throughput,
                           unit, 100 * t.best_spread);
  std::cout << fmt::format("knee:     {} workers (the smallest size within 5% of the best)\n", t.knee_workers);
  std::cout << fmt::format("auto:     {} workers (usable CPUs x 5): {:.2f} of the best\n", t.default_workers,
                           t.default_vs_best);
  std::cout << fmt::format("py38:     {} workers (min(32, CPUs + 4)): {:.2f} of the best\n", t.py38_workers,
                           t.py38_vs_best);
  std::cout << fmt::format(
      "formula:  {} CPUs x 1.0 x (1 + {:.1f} us wait / {:.1f} us compute) = {:.1f} -> {} workers: {:.2f} of the best\n",
      topology.usable_cpus(), profile.wait_ns / 1000, profile.compute_ns / 1000, t.formula_estimate, t.formula_workers,
      t.formula_vs_best);
  std::cout << fmt::format("recommendation: {}\n", t.recommendation);
}

nlohmann::ordered_json to_json(const TuneRequest& r, const Topology& topology, const Sweeper& sweeper, const Tuning& t,
                               const TaskProfile& profile, int repetitions) {
  nlohmann::ordered_json j;
  j["context"] = machine_context(topology, parse_sizing_rule("auto"));
  auto& sweep = j["sweep"] = nlohmann::ordered_json::array();
  for (const auto& m : sweeper.measured()) {
    nlohmann::ordered_json entry;
    entry[tuning_key("name")] = Cell{r.scenario, r.pool, m.point.workers}.name();
    for (const auto& [name, value] : m.counters) entry[name] = value;
    entry[tuning_key("repetitions")] = repetitions;
    entry[tuning_key("throughput_median")] = m.point.median();
    entry[tuning_key("throughput_spread")] = m.point.spread();
    entry[tuning_key("throughput_runs")] = m.point.throughputs;
    sweep.push_back(entry);
  }
  auto& tuning = j["tuning"];
  tuning[tuning_key("scenario")] = r.scenario;
  tuning[tuning_key("pool")] = r.pool;
  tuning[tuning_key("throughput_unit")] = unit_of(r.scenario);
  tuning[tuning_key("best_workers")] = t.best_workers;
  tuning[tuning_key("best_throughput")] = t.best_throughput;
  tuning[tuning_key("best_spread")] = t.best_spread;
  tuning[tuning_key("knee_workers")] = t.knee_workers;
  tuning[tuning_key("default_workers")] = t.default_workers;
  tuning[tuning_key("default_vs_best")] = t.default_vs_best;
  tuning[tuning_key("py38_workers")] = t.py38_workers;
  tuning[tuning_key("py38_vs_best")] = t.py38_vs_best;
  tuning[tuning_key("task_wait_us")] = profile.wait_ns / 1000;
  tuning[tuning_key("task_compute_us")] = profile.compute_ns / 1000;
  tuning[tuning_key("formula_estimate")] = std::isfinite(t.formula_estimate)
                                               ? nlohmann::ordered_json(t.formula_estimate)
                                               : nlohmann::ordered_json("unbounded");
  tuning[tuning_key("formula_workers")] = t.formula_workers;
  tuning[tuning_key("formula_vs_best")] = t.formula_vs_best;
  tuning[tuning_key("recommendation")] = t.recommendation;
  tuning[tuning_key("warnings")] = t.warnings;
  return j;
}

}  // namespace

int tune_pool_size(const TuneRequest& r) {
  const Topology& topology = Topology::machine();
  std::vector<std::string> sized;
  for (const auto& name : executor_names())
    if (executor_traits(name).sized) sized.push_back(name);
  if (std::find(sized.begin(), sized.end(), r.pool) == sized.end())
    throw ConfigError(
        fmt::format("cannot tune '{}' (allowed: {}: executors with a size)", r.pool, fmt::join(sized, ", ")));
  if (r.max_workers && (*r.max_workers < 1 || *r.max_workers > static_cast<long long>(max_workers)))
    throw ConfigError(fmt::format("--max-workers {} is out of range (allowed: 1 to {})", *r.max_workers, max_workers));
  const int repetitions = r.repetitions ? static_cast<int>(*r.repetitions) : (r.quick ? 3 : 5);
  if (repetitions < 1 || repetitions > 1000)
    throw ConfigError(fmt::format("--repetitions {} is out of range (allowed: 1 to 1000)", repetitions));
  auto scenario = scenarios::make_scenario(r.scenario, resolve_knobs(r.knobs, r.quick));
  const std::chrono::nanoseconds task_timeout = resolve_task_timeout(r.knobs);
  OutputFile output(r.out);

  const MachineSize size = topology.size();
  const std::size_t cap = std::min<std::size_t>(r.max_workers ? static_cast<std::size_t>(*r.max_workers) : max_workers,
                                                std::max<std::uint64_t>(1, scenario->tasks_per_run()));
  const std::size_t auto_workers = workers_for(parse_sizing_rule("auto"), size);
  const std::size_t py38_workers = workers_for(parse_sizing_rule("py38"), size);

  std::size_t planned = 3;
  for (std::size_t n = 1; n <= cap; n *= 2) ++planned;
  progress_begin("pool sizes", planned, /*at_most=*/true);
  progress_started("profiling the tasks inline");

  const TaskProfile profile = profile_tasks(*scenario);
  const double estimate = formula_estimate(topology.usable_cpus(), 1.0, profile.wait_ns, profile.compute_ns);
  const std::size_t formula_workers =
      std::isfinite(estimate) ? std::clamp<std::size_t>(static_cast<std::size_t>(std::llround(estimate)), 1, cap) : cap;
  Sweeper sweeper(*scenario, r.pool, topology.usable_cpus(), repetitions, task_timeout);
  std::vector<SweepPoint> ladder;
  std::size_t n = 1;
  for (; n <= cap; n *= 2) {
    ladder.push_back(sweeper.measure(n, planned));
    if (sweep_has_peaked(ladder)) break;
  }
  if (n > cap && ladder.back().workers < cap) sweeper.measure(cap, planned);
  for (std::size_t extra : {auto_workers, py38_workers, formula_workers}) sweeper.measure(extra, planned);

  Tuning t = analyse_sweep(sweeper.points(), auto_workers, py38_workers, estimate, formula_workers);
  double load[1] = {0};
  if (::getloadavg(load, 1) == 1 && load[0] > topology.usable_cpus())
    t.warnings.push_back(
        fmt::format("the machine is busy: load average {:.1f} > {} usable CPU(s); figures may be noisy", load[0],
                    topology.usable_cpus()));
  for (const auto& w : t.warnings) std::fprintf(stderr, "tune: warning: %s\n", w.c_str());

  print_table(r, topology, sweeper, t, profile, repetitions);
  if (!r.out.empty()) {
    output.write(to_json(r, topology, sweeper, t, profile, repetitions).dump(2) + "\n");
    output.commit();
    std::fprintf(stderr, "tune: wrote %s\n", r.out.c_str());
  }
  return 0;
}

}  // namespace poolbench::bench
