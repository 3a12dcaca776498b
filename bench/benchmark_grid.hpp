#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "bench/paired_runs.hpp"
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

/// True when the grid runs empty `cpu` tasks in a closed batch (`--iterations 0`, no
/// `--rate`): the runs that measure per-task cost, which get the raw library rows.
bool measures_empty_tasks(const GridOptions& options);

/// `raw/<name>/workers:<n>`: the row of a library used directly (see raw_libraries.hpp),
/// named like a cell so that scripts key it by path and size.
std::string raw_library_row(const std::string& name, std::size_t workers);

/// The counters of a raw library row: `workers`, `tasks` (per run), `tasks_per_second` and
/// `ns_per_op` (wall time per task) over `runs` timed runs of `tasks` tasks.
Counters raw_library_counters(std::size_t workers, std::uint64_t tasks, std::uint64_t runs, std::uint64_t wall_ns);

/// When the grid measures empty tasks, registers one `raw/<name>/workers:<n>` benchmark
/// per raw library path and grid size, with as many tasks per run as the cells; each
/// builds its pool, warms it with one run, then times whole runs as the cells do. Returns
/// their full names (`raw/<name>/workers:<n>/real_time`); none for other grids.
std::vector<std::string> register_raw_libraries(const GridOptions& options, bool& any_failed);

/// Rounds each paired row times: odd, so the median is one round's.
inline constexpr std::uint64_t paired_rounds = 9;

/// `paired/<pool>/<library path>/workers:<n>`: an executor timed against a library used
/// directly (paired_runs.hpp), named like a cell so that scripts key it by pool and size.
std::string paired_row(const LibraryPair& pair, std::size_t workers);

/// The counters of a paired row: `workers`, `tasks` (per batch), `ns_per_op` (ours),
/// `library_ns_per_op`, `ratio` (ours ÷ the library's, median of the rounds), `ratio_min`,
/// `ratio_max`, `rounds`, `posted` = 1 when tasks were posted, as a cell has it, and where
/// the kernel counts them `kernel_context_switches_per_task` (ours) and
/// `library_context_switches_per_task`.
Counters paired_counters(std::size_t workers, std::uint64_t tasks, bool posted, const PairedTiming& timing);

/// When the grid measures empty tasks, registers one `paired/...` benchmark per library
/// pair whose executor the grid runs, at each grid size, handing tasks over as the grid
/// does (`--submit`): `paired_rounds` rounds of one batch each side, with as many tasks
/// per batch as the cells. Returns their full names (`.../iterations:1/real_time`).
std::vector<std::string> register_paired_runs(const GridOptions& options, bool& any_failed);

/// Registers one Google Benchmark per cell, then the raw library rows and paired rows of an
/// empty-task grid (register_raw_libraries, register_paired_runs); `any_failed` is set when
/// a run errors. Returns their full names in that order.
std::vector<std::string> register_grid(const GridOptions& options,
                                       std::vector<std::unique_ptr<scenarios::Scenario>>& scenarios,
                                       const Topology& topology, bool& any_failed);

}  // namespace poolbench::bench
