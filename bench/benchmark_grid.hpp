#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "bench/probes.hpp"
#include "bench/schema.hpp"
#include "bench/trace_recorder.hpp"
#include "pools/machine/sizing.hpp"
#include "pools/machine/topology.hpp"
#include "scenarios/scenario.hpp"

namespace poolbench::bench {

/// One benchmark: a scenario on one executor at one size.
struct Cell {
  std::string scenario;
  std::string pool;
  std::size_t workers;  ///< for thread-per-task: tasks per run (it runs them all at once)

  /// `<scenario>/<pool>/workers:<n>`, the name Google Benchmark reports.
  std::string name() const;
};

/// What `poolbench run` measures: which scenarios, executors and sizes, with which knobs.
struct GridOptions {
  std::vector<std::string> scenarios;
  std::vector<std::string> pools;
  std::vector<std::size_t> workers;  ///< resolved sizes, ascending, no repeats
  scenarios::ScenarioOptions knobs;
  Pinning pinning = Pinning::none;
  std::chrono::nanoseconds task_timeout = std::chrono::seconds(60);  ///< see resolve_task_timeout
  TraceRecorder* trace = nullptr;                                    ///< where traced runs go, if anywhere
};

/// Every cell of the grid: each scenario × pool × size, with `sync` at 1 worker and
/// `thread-per-task` once (its size is the task count), as they have no size to sweep.
std::vector<Cell> expand_grid(const GridOptions& options,
                              const std::vector<std::unique_ptr<scenarios::Scenario>>& scenarios);

/// The sizes `--quick` and a full run sweep: {1, usable CPUs, auto}, or powers of two up
/// to 4 × auto plus auto.
std::vector<std::size_t> quick_sizes(const MachineSize& machine);
std::vector<std::size_t> sweep_sizes(const MachineSize& machine);

/// The counters of a probe's entry: `ns_per_op`, `spread` and `operations`.
Counters probe_counters(const ProbeResult& result);

/// Registers one `probe/<name>` benchmark per machine probe (see probes.hpp), whose
/// counters `ns_per_op`, `spread` and `operations` put the cost of the primitives beside
/// the executors in every run's JSON. Returns their full names, as `--benchmark_filter`
/// sees them (`probe/<name>/iterations:1/real_time`).
std::vector<std::string> register_probes(bool& any_failed);

/// Registers one Google Benchmark per cell; `any_failed` is set when a run errors.
/// Returns their full names (`<cell>/real_time`).
std::vector<std::string> register_grid(const GridOptions& options,
                                       std::vector<std::unique_ptr<scenarios::Scenario>>& scenarios,
                                       const Topology& topology, bool& any_failed);

}  // namespace poolbench::bench
