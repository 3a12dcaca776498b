#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "bench/benchmark_grid.hpp"
#include "bench/histogram.hpp"
#include "bench/resource_usage.hpp"
#include "bench/schema.hpp"
#include "bench/task_breakdown.hpp"
#include "pools/core/executor.hpp"
#include "scenarios/scenario.hpp"

namespace poolbench::bench {

/// Everything measured while one executor ran one scenario some number of times:
/// started before the executor is built, fed every run, told about the executor before it
/// shuts down, and turned into counters once it has been destroyed (so worker processes
/// have been reaped and their CPU time counts).
class Metrics {
 public:
  Metrics(Cell cell, const scenarios::Scenario& scenario, unsigned usable_cpus);

  /// Adds one run, during which `heap_allocations` allocations were made (all threads).
  void add(const scenarios::RunRecord& record, std::uint64_t heap_allocations = 0);
  /// Reads what only a live executor can tell: threads, processes, worker memory.
  void before_shutdown(const Executor& executor);
  /// The counters of every run added so far.
  Counters counters() const;
  /// Stop and restart the clocks of CPU time, wall time and peak memory, so that a size
  /// measured in visits between other sizes' (tune interleaves them) counts only its own.
  void pause();
  void resume();

  std::uint64_t runs() const noexcept { return runs_; }
  /// Throughput of each run added: tasks per second, or requests per second for socket; for
  /// an open loop, its achieved rate.
  const std::vector<double>& run_throughputs() const noexcept { return run_throughputs_; }

 private:
  void add_open_loop(const scenarios::OpenLoopRecord& open);
  void add_open_loop_counters(Counters& c) const;

  Cell cell_;
  const scenarios::Scenario& scenario_;
  const scenarios::ScenarioTraits& traits_;  ///< looked up once: requests or tasks, connections or not
  unsigned usable_cpus_;
  ResourceUsage start_usage_;  ///< of the visit under way
  std::uint64_t start_ns_;
  bool paused_ = false;
  /// Over the visits before the one under way.
  struct Visits {
    double wall_ns = 0;
    ResourceUsage used;
    std::uint64_t peak_rss = 0;
  } before_;
  LogHistogram latency_;
  TaskBreakdown breakdown_;
  LogHistogram rtt_;
  LogHistogram uncorrected_;  ///< open loop: actual submit → done
  LogHistogram submit_lag_;   ///< open loop: scheduled → actual submit
  bool open_loop_;            ///< the scenario's tasks arrive at a rate
  /// Open loop, summed over runs: the spans and sums behind the rates and Little's law.
  struct OpenLoopSums {
    double schedule_span_ns = 0;
    double done_span_ns = 0;
    double corrected_sum_ns = 0;
    double in_system_sum = 0;
    bool backlog_grew = false;
  } open_;
  std::uint64_t tasks_ = 0;
  std::uint64_t requests_ = 0;
  std::uint64_t runs_ = 0;
  std::uint64_t run_ns_ = 0;
  std::vector<double> run_throughputs_;
  std::uint64_t threads_ = 0;
  std::uint64_t processes_ = 0;
  std::uint64_t worker_rss_ = 0;
  std::uint64_t idle_worker_rss_ = 0;
  std::uint64_t idle_worker_pss_ = 0;
  std::size_t idle_workers_ = 0;
  // Allocations and tasks of the runs after the first, whose pools have warmed up.
  std::uint64_t warm_allocations_ = 0;
  std::uint64_t warm_tasks_ = 0;
};

/// The counter `name` in `counters`, or 0.
double counter(const Counters& counters, std::string_view name);

}  // namespace poolbench::bench
