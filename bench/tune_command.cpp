#include "bench/tune_command.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>

#include "bench/interrupt.hpp"
#include "bench/kernel_counters.hpp"
#include "bench/machine_info.hpp"
#include "bench/metrics.hpp"
#include "bench/objective_tune.hpp"
#include "bench/output_file.hpp"
#include "bench/scalability.hpp"
#include "bench/schema.hpp"
#include "bench/tuning.hpp"
#include "pools/machine/topology.hpp"
#include "pools/registry.hpp"
#include "pools/threads/sync_executor.hpp"
#include "scenarios/task_sample.hpp"

namespace poolbench::bench {
namespace {

/// One size's visits: its throughputs so far and the metrics of all of them.
struct Measured {
  SweepPoint point;
  std::unique_ptr<Metrics> metrics;
  Counters counters;  ///< once every visit is over
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

/// Measures a set of sizes in rounds: every size once per round, in an order shuffled
/// anew each round from a seed, so that a machine drifting during the sweep spreads over
/// every size instead of being blamed on the ones measured last. Each visit builds the
/// executor, warms it up with one run, measures one run, and shuts it down.
class Sweeper {
 public:
  Sweeper(scenarios::Scenario& scenario, std::string pool, unsigned usable, std::chrono::nanoseconds task_timeout,
          TraceRecorder* trace)
      : scenario_(scenario), pool_(std::move(pool)), usable_(usable), task_timeout_(task_timeout), trace_(trace) {}

  void sweep(const std::vector<std::size_t>& sizes, int repetitions, std::uint64_t seed) {
    for (std::size_t workers : sizes) {
      Measured m{{workers, {}},
                 std::make_unique<Metrics>(Cell{std::string(scenario_.name()), pool_, workers}, scenario_, usable_),
                 {}};
      m.metrics->pause();
      measured_.push_back(std::move(m));
    }
    std::sort(measured_.begin(), measured_.end(),
              [](const Measured& a, const Measured& b) { return a.point.workers < b.point.workers; });
    std::mt19937_64 random(seed);
    std::vector<Measured*> round;
    for (auto& m : measured_) round.push_back(&m);
    const std::size_t visits = round.size() * static_cast<std::size_t>(repetitions);
    for (int repetition = 0; repetition < repetitions; ++repetition) {
      std::shuffle(round.begin(), round.end(), random);
      for (Measured* m : round) visit(*m, visits);
    }
    for (auto& m : measured_) m.counters = m.metrics->counters();
  }

  /// One visit outside the rounds, to find where throughput stops growing: its run's
  /// throughput, kept in no size's figures.
  double scout(std::size_t workers) {
    std::fprintf(stderr, "tune: %s on %s, scouting %zu workers\n", std::string(scenario_.name()).c_str(), pool_.c_str(),
                 workers);
    Metrics metrics(Cell{std::string(scenario_.name()), pool_, workers}, scenario_, usable_);
    measure_once(workers, metrics);
    return metrics.run_throughputs().front();
  }

  std::vector<SweepPoint> points() const {
    std::vector<SweepPoint> out;
    for (const auto& m : measured_) out.push_back(m.point);
    return out;
  }
  /// Every size measured, by worker count.
  const std::vector<Measured>& measured() const { return measured_; }
  /// The sizes in the order they were visited.
  const std::vector<std::size_t>& order() const { return order_; }

 private:
  void visit(Measured& m, std::size_t visits) {
    const std::size_t workers = m.point.workers;
    const double elapsed = static_cast<double>(scenarios::now_ns() - start_ns_) * 1e-9;
    std::fprintf(stderr, "tune: %s on %s, %zu workers (visit %zu of %zu), %.1f s elapsed\n",
                 std::string(scenario_.name()).c_str(), pool_.c_str(), workers, order_.size() + 1, visits, elapsed);
    m.metrics->resume();
    measure_once(workers, *m.metrics, trace_);
    m.metrics->pause();
    m.point.throughputs = m.metrics->run_throughputs();
    order_.push_back(workers);
  }

  /// Builds the executor, warms it up with one run, adds one measured run to `metrics`, and
  /// shuts it down.
  void measure_once(std::size_t workers, Metrics& metrics, TraceRecorder* trace = nullptr) {
    const Cell cell{std::string(scenario_.name()), pool_, workers};
    progress_started(cell.name());
    auto executor = make_executor(pool_, {workers, {}, task_timeout_});
    for (int run = 0; run < 2; ++run) {
      scenarios::RunRecord record = scenario_.run(*executor);
      if (!record.ok())
        throw Error(fmt::format("{} at {} workers failed: {}", cell.name(), workers, record.first_error));
      if (run == 0) continue;  // the first run warms the executor up and is not counted
      metrics.add(record);
      if (trace) trace->add_run(cell.name(), pool_, workers, record, executor->worker_threads());
    }
    metrics.before_shutdown(*executor);
    executor.reset();
    progress_finished(cell.name());
  }

  scenarios::Scenario& scenario_;
  std::string pool_;
  unsigned usable_;
  std::chrono::nanoseconds task_timeout_;
  TraceRecorder* trace_;  ///< receives each measured run, when tracing
  std::uint64_t start_ns_ = scenarios::now_ns();
  std::vector<Measured> measured_;
  std::vector<std::size_t> order_;
};

const Counters& counters_at(const Sweeper& sweeper, std::size_t workers) {
  for (const auto& m : sweeper.measured())
    if (m.point.workers == workers) return m.counters;
  throw Error(fmt::format("the sweep has no measurement at {} workers", workers));
}

/// What the sizes cost beyond throughput: the pick's memory against the knee's, and a
/// warning for each size a CPU quota throttled.
void add_costs(const Sweeper& sweeper, Tuning& t) {
  const auto mib = [&](std::size_t workers) {
    return counter(counters_at(sweeper, workers), counter_key("peak_rss_mib"));
  };
  if (t.pick_workers == t.knee_workers)
    t.recommendation += fmt::format("; peak RSS {:.1f} MiB", mib(t.pick_workers));
  else
    t.recommendation += fmt::format("; peak RSS {:.1f} MiB, against {:.1f} MiB at the knee ({} workers)",
                                    mib(t.pick_workers), mib(t.knee_workers), t.knee_workers);
  for (const auto& m : sweeper.measured()) {
    const double periods = counter(m.counters, counter_key("throttled_periods"));
    if (periods > 0)
      t.warnings.push_back(fmt::format(
          "{} workers: the CPU quota throttled the run in {:.0f} periods ({:.1f} ms): this size asks for more CPU than "
          "the cgroup allows",
          m.point.workers, periods, counter(m.counters, counter_key("throttled_ms"))));
  }
}

/// Where the fitted curve peaks, as a person reads it.
std::string peak_text(const UslFit& usl, double largest_measured) {
  if (!usl.peak_workers) return "no peak";
  if (*usl.peak_workers > 10 * largest_measured)
    return fmt::format("no peak in sight (it would be at {:.0f} workers)", *usl.peak_workers);
  return fmt::format("peaks at {:.1f} workers", *usl.peak_workers);
}

void print_table(const TuneRequest& r, const Topology& topology, const Sweeper& sweeper, const Tuning& t,
                 const UslFit& usl, const TaskProfile& profile, int repetitions, std::uint64_t seed) {
  const auto& measured = sweeper.measured();
  const std::string unit = throughput_unit(r.scenario);
  std::cout << fmt::format(
      "tune {} on {}: {} usable CPU(s), cgroup limit {}, median of {} repetitions per size, visited in rounds "
      "shuffled by seed {}\n\n",
      r.scenario, r.pool, topology.usable_cpus(), cgroup_limit_text(topology), repetitions, seed);
  std::cout << fmt::format("{:>8}{:>14}{:>9}{:>9}{:>11}  {}\n", "workers", unit, "spread", "vs best", "p99 us", "");
  for (const auto& m : measured) {
    std::string marks;
    if (m.point.workers == t.pick_workers) marks += " pick";
    if (m.point.workers == t.best_workers) marks += " best";
    if (std::count(t.tied_with_best.begin(), t.tied_with_best.end(), m.point.workers) &&
        m.point.workers != t.best_workers)
      marks += " tied";
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
  std::cout << fmt::format("tied:     {} (sizes a Mann-Whitney U test cannot tell from the best at p < 0.05)\n",
                           fmt::join(t.tied_with_best, ", "));
  if (t.runner_up_workers)
    std::cout << fmt::format("pick:     {} workers, the smallest tied; against the runner-up ({} workers) p = {:.3f}\n",
                             t.pick_workers, t.runner_up_workers, t.pick_p_value);
  std::cout << fmt::format("knee:     {} workers (the smallest size within 5% of the best)\n", t.knee_workers);
  std::cout << fmt::format("auto:     {} workers (usable CPUs x 5): {:.2f} of the best\n", t.default_workers,
                           t.default_vs_best);
  std::cout << fmt::format("py38:     {} workers (min(32, CPUs + 4)): {:.2f} of the best\n", t.py38_workers,
                           t.py38_vs_best);
  std::cout << fmt::format(
      "formula:  {} CPUs x 1.0 x (1 + {:.1f} us wait / {:.1f} us compute) = {:.1f} -> {} workers: {:.2f} of the best\n",
      topology.usable_cpus(), profile.wait_ns / 1000, profile.compute_ns / 1000, t.formula_estimate, t.formula_workers,
      t.formula_vs_best);
  if (usl.ok) {
    std::cout << fmt::format(
        "scalability: X(N) = {:.1f} N / (1 + {:.4f} (N - 1) + {:.6f} N (N - 1)), R2 = {:.3f}: {}; the sweep's best is "
        "{} workers\n",
        usl.lambda, usl.sigma, usl.kappa, usl.r2,
        peak_text(usl, static_cast<double>(sweeper.measured().back().point.workers)), t.best_workers);
  } else {
    std::cout << fmt::format("scalability: {}\n", usl.why);
  }
  std::cout << fmt::format("recommendation: {}\n", t.recommendation);
}

nlohmann::ordered_json to_json(const TuneRequest& r, const Topology& topology, const Sweeper& sweeper, const Tuning& t,
                               const UslFit& usl, const TaskProfile& profile, int repetitions, std::uint64_t seed) {
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
  tuning[tuning_key("objective")] = "throughput";
  tuning[tuning_key("scenario")] = r.scenario;
  tuning[tuning_key("pool")] = r.pool;
  tuning[tuning_key("throughput_unit")] = throughput_unit(r.scenario);
  tuning[tuning_key("best_workers")] = t.best_workers;
  tuning[tuning_key("best_throughput")] = t.best_throughput;
  tuning[tuning_key("best_spread")] = t.best_spread;
  tuning[tuning_key("pick_workers")] = t.pick_workers;
  tuning[tuning_key("tied_with_best")] = t.tied_with_best;
  tuning[tuning_key("runner_up_workers")] = t.runner_up_workers;
  tuning[tuning_key("pick_p_value")] = t.pick_p_value;
  tuning[tuning_key("order_seed")] = seed;
  tuning[tuning_key("measurement_order")] = sweeper.order();
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
  tuning[tuning_key("usl_fit")] = usl.ok ? std::string("ok") : usl.why;
  if (usl.ok) {
    tuning[tuning_key("usl_lambda")] = usl.lambda;
    tuning[tuning_key("usl_sigma")] = usl.sigma;
    tuning[tuning_key("usl_kappa")] = usl.kappa;
    tuning[tuning_key("usl_r2")] = usl.r2;
    tuning[tuning_key("usl_peak_workers")] =
        usl.peak_workers ? nlohmann::ordered_json(*usl.peak_workers) : nlohmann::ordered_json("none");
  }
  tuning[tuning_key("recommendation")] = t.recommendation;
  tuning[tuning_key("warnings")] = t.warnings;
  return j;
}

}  // namespace

std::string throughput_unit(std::string_view scenario) {
  return std::string(scenarios::scenario_traits(scenario).unit) + "/s";
}

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
  if ((r.slo_p99 || r.knobs.rate) && !r.trace.empty())
    throw ConfigError(
        "--trace follows tune's throughput sweep; to trace an objective's pick, run it: poolbench run --rate R "
        "--workers N --trace FILE");
  if (r.slo_p99 || r.knobs.rate) return tune_for_objective(r);
  const int repetitions = r.repetitions ? static_cast<int>(*r.repetitions) : 5;
  if (repetitions < 2 || repetitions > 1000)
    throw ConfigError(fmt::format(
        "--repetitions {} is out of range (allowed: 2 to 1000; the Mann-Whitney U test compares repetitions)",
        repetitions));
  scenarios::ScenarioOptions knobs = resolve_knobs(r.knobs, r.quick);
  if (!r.trace.empty()) time_every_task_for_trace(knobs.flow);
  auto scenario = scenarios::make_scenario(r.scenario, knobs);
  const std::chrono::nanoseconds task_timeout = resolve_task_timeout(r.knobs);
  OutputFile output(r.out);
  const std::unique_ptr<TraceRecorder> trace = open_trace(r.trace, r.trace_limit);

  const MachineSize size = topology.size();
  const std::size_t cap = std::min<std::size_t>(r.max_workers ? static_cast<std::size_t>(*r.max_workers) : max_workers,
                                                std::max<std::uint64_t>(1, scenario->tasks_per_run()));
  const std::size_t auto_workers = workers_for(parse_sizing_rule("auto"), size);
  const std::size_t py38_workers = workers_for(parse_sizing_rule("py38"), size);

  KernelCounters::process();  // before any executor exists, so that its workers count
  progress_begin("profiling", 1);
  progress_started("profiling the tasks inline");
  const TaskProfile profile = profile_tasks(*scenario);
  progress_finished("profiling the tasks inline");
  const double estimate = formula_estimate(topology.usable_cpus(), 1.0, profile.wait_ns, profile.compute_ns);
  const std::size_t formula_workers =
      std::isfinite(estimate) ? std::clamp<std::size_t>(static_cast<std::size_t>(std::llround(estimate)), 1, cap) : cap;
  Sweeper sweeper(*scenario, r.pool, topology.usable_cpus(), task_timeout, trace.get());
  progress_begin("scouting sizes", static_cast<std::size_t>(std::bit_width(cap)) + 1, /*at_most=*/true);
  const std::vector<std::size_t> sizes =
      tune_sizes(cap, {auto_workers, py38_workers, formula_workers}, [&](std::size_t n) { return sweeper.scout(n); });
  progress_begin("visits", sizes.size() * static_cast<std::size_t>(repetitions));
  sweeper.sweep(sizes, repetitions, knobs.seed);

  Tuning t = analyse_sweep(sweeper.points(), auto_workers, py38_workers, estimate, formula_workers);
  add_costs(sweeper, t);
  double load[1] = {0};
  if (::getloadavg(load, 1) == 1 && load[0] > topology.usable_cpus())
    t.warnings.push_back(
        fmt::format("the machine is busy: load average {:.1f} > {} usable CPU(s); figures may be noisy", load[0],
                    topology.usable_cpus()));
  for (const auto& w : t.warnings) std::fprintf(stderr, "tune: warning: %s\n", w.c_str());

  std::vector<SizeThroughput> medians;
  for (const auto& p : sweeper.points()) medians.push_back({static_cast<double>(p.workers), p.median()});
  const UslFit usl = fit_usl(medians);
  print_table(r, topology, sweeper, t, usl, profile, repetitions, knobs.seed);
  if (!r.out.empty()) {
    output.write(to_json(r, topology, sweeper, t, usl, profile, repetitions, knobs.seed).dump(2) + "\n");
    output.commit();
    std::fprintf(stderr, "tune: wrote %s\n", r.out.c_str());
  }
  if (trace) trace->commit_and_say("tune");
  return 0;
}

}  // namespace poolbench::bench
