#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace poolbench::bench {

/// One key poolbench writes into its JSON. The table below is the one place the output's
/// vocabulary is defined: `poolbench schema` prints it, the code that writes a key names it
/// through counter_key / context_key / tuning_key (a name not in the table does not
/// compile), tests/schema_test.cpp checks every key in the table is written, and
/// tests/schema_names_test.py checks the scripts and README against it.
struct SchemaKey {
  std::string_view name;
  /// "counter": a benchmark entry's counter in a run file (also in each `sweep` entry of a
  /// tune file). "context": the machine facts of a run file's "context" (where every value
  /// is a string, as Google Benchmark keeps them), a tune file's "context" and `info --json`.
  /// "tuning": a tune file's "tuning" object and the keys of its `sweep` entries beside the
  /// counters. "info": what `poolbench info --json` adds to the context keys. A name is
  /// unique within its `where`, not across them (default_workers).
  std::string_view where;
  std::string_view unit;     ///< e.g. "us", "tasks/s", "MiB", "fraction", "count", "text"
  std::string_view meaning;  ///< what the value is, in one sentence
  std::string_view when;     ///< when the key is present: "every file", "socket runs", ...
};

/// Every key, grouped by `where`, each group in the order the JSON holds it.
inline constexpr std::array schema_table{
    // Counters of every scenario entry (`<scenario>/<pool>/workers:<n>`), in the order
    // Metrics::counters() writes them.
    SchemaKey{"workers", "counter", "count", "workers of the executor (thread-per-task: tasks per run, all at once)",
              "scenario, raw and paired entries"},
    SchemaKey{"tasks", "counter", "count", "tasks per run (socket: connections per run; paired: per batch)",
              "scenario, raw and paired entries"},
    SchemaKey{"tasks_per_second", "counter", "tasks/s", "tasks ended per second of the timed runs",
              "scenario and raw entries"},
    SchemaKey{"latency_mean_us", "counter", "us",
              "mean of submit -> done over the timed tasks (open loop: scheduled -> done); done is when the "
              "submitter could see the result",
              "scenario entries (0 with --instrument off)"},
    SchemaKey{"latency_p50_us", "counter", "us", "median of submit -> done over the timed tasks",
              "scenario entries (0 with --instrument off)"},
    SchemaKey{"latency_p90_us", "counter", "us", "90th percentile of submit -> done",
              "scenario entries (0 with --instrument off)"},
    SchemaKey{"latency_p99_us", "counter", "us", "99th percentile of submit -> done",
              "scenario entries (0 with --instrument off)"},
    SchemaKey{"latency_p999_us", "counter", "us", "99.9th percentile of submit -> done (open loop: scheduled -> done)",
              "scenario entries (0 with --instrument off)"},
    SchemaKey{"latency_max_us", "counter", "us", "longest submit -> done",
              "scenario entries (0 with --instrument off)"},
    SchemaKey{"queue_wait_p50_us", "counter", "us", "median of submit -> start (time spent queued)",
              "scenario entries (0 with --instrument off)"},
    SchemaKey{"queue_wait_p99_us", "counter", "us", "99th percentile of submit -> start",
              "scenario entries (0 with --instrument off)"},
    SchemaKey{"queued_mean_us", "counter", "us",
              "mean of submit -> a worker starts the task; queued + running + handback means add up to the mean "
              "latency (open loop: to uncorrected_latency_mean_us)",
              "scenario entries (0 with --instrument off)"},
    SchemaKey{"queued_p50_us", "counter", "us", "median of submit -> start",
              "scenario entries (0 with --instrument off)"},
    SchemaKey{"queued_p99_us", "counter", "us", "99th percentile of submit -> start",
              "scenario entries (0 with --instrument off)"},
    SchemaKey{"wakeup_mean_us", "counter", "us",
              "mean queued time of the tasks that found a worker idle (fewer tasks in the executor than workers): "
              "the hand-off and the wake-up, with no queueing behind other tasks; part of queued, not beside it",
              "scenario entries (0 with --instrument off)"},
    SchemaKey{"wakeup_p50_us", "counter", "us", "median queued time of the tasks that found a worker idle",
              "scenario entries (0 with --instrument off)"},
    SchemaKey{"wakeup_p99_us", "counter", "us", "99th percentile queued time of the tasks that found a worker idle",
              "scenario entries (0 with --instrument off)"},
    SchemaKey{"wakeup_share", "counter", "fraction",
              "timed tasks that found a worker idle / timed tasks (estimated from the sample in runs of over 1024 "
              "tasks)",
              "scenario entries (0 with --instrument off)"},
    SchemaKey{"running_mean_us", "counter", "us", "mean of start -> end of the task in its worker",
              "scenario entries (0 with --instrument off)"},
    SchemaKey{"running_p50_us", "counter", "us", "median of start -> end",
              "scenario entries (0 with --instrument off)"},
    SchemaKey{"running_p99_us", "counter", "us", "99th percentile of start -> end",
              "scenario entries (0 with --instrument off)"},
    SchemaKey{"handback_mean_us", "counter", "us",
              "mean of end -> the submitter could see the result (its future ended); for process-pool this includes "
              "the reply's trip back; 0 for posted tasks, which have no result",
              "scenario entries (0 with --instrument off)"},
    SchemaKey{"handback_p50_us", "counter", "us", "median of end -> done",
              "scenario entries (0 with --instrument off)"},
    SchemaKey{"handback_p99_us", "counter", "us", "99th percentile of end -> done",
              "scenario entries (0 with --instrument off)"},
    SchemaKey{"worker_busy_fraction_mean", "counter", "fraction",
              "mean over the executor's workers of (time running tasks / time of the runs); a worker that ran no "
              "task counts as 0 when every task was timed (runs of up to 1024 tasks, or --trace)",
              "executors with a fixed number of workers (not thread-per-task), --instrument on"},
    SchemaKey{"worker_busy_fraction_min", "counter", "fraction", "the least busy worker's fraction",
              "executors with a fixed number of workers (not thread-per-task), --instrument on"},
    SchemaKey{"worker_busy_fraction_max", "counter", "fraction", "the busiest worker's fraction",
              "executors with a fixed number of workers (not thread-per-task), --instrument on"},
    SchemaKey{"kernel_context_switches_per_task", "counter", "count",
              "context switches of this process and every thread and process it started (perf_event_open, "
              "inherited) per task",
              "where the kernel counts them (context kernel_counters says)"},
    SchemaKey{"kernel_cpu_migrations_per_task", "counter", "count",
              "moves of a thread of the process tree from one CPU to another, per task",
              "where the kernel counts them (context kernel_counters says)"},
    SchemaKey{"kernel_page_faults_per_task", "counter", "count", "page faults of the process tree per task",
              "where the kernel counts them (context kernel_counters says)"},
    SchemaKey{"kernel_task_clock_us_per_task", "counter", "us", "CPU time of the process tree per task (task clock)",
              "where the kernel counts them (context kernel_counters says)"},
    SchemaKey{"cycles_per_task", "counter", "count", "CPU cycles of the process tree per task",
              "machines with a hardware PMU (context kernel_counters says)"},
    SchemaKey{"instructions_per_task", "counter", "count", "instructions retired by the process tree per task",
              "machines with a hardware PMU (context kernel_counters says)"},
    SchemaKey{"cache_misses_per_task", "counter", "count", "last-level cache misses of the process tree per task",
              "machines with a hardware PMU (context kernel_counters says)"},
    SchemaKey{"cpu_utilization", "counter", "fraction",
              "user + sys CPU of the process and its reaped children / wall time / usable CPUs", "scenario entries"},
    SchemaKey{"ctx_switches_per_task", "counter", "count", "context switches of the process per task",
              "scenario entries"},
    SchemaKey{"peak_rss_mib", "counter", "MiB", "peak RSS of this process plus each worker process's peak",
              "scenario entries"},
    SchemaKey{"throttled_periods", "counter", "count",
              "CPU-quota periods in which a cgroup of this process used up its quota during the benchmark (cgroup "
              "cpu.stat nr_throttled; 0 without a quota)",
              "scenario entries"},
    SchemaKey{"throttled_ms", "counter", "ms",
              "time this process's cgroups spent throttled by their CPU quota during the benchmark (cpu.stat "
              "throttled_usec, v1 throttled_time)",
              "scenario entries"},
    SchemaKey{"threads_created", "counter", "count", "threads the executor created", "scenario entries"},
    SchemaKey{"processes_created", "counter", "count", "processes the executor created", "scenario entries"},
    SchemaKey{"efficiency", "counter", "ratio",
              "ideal time / measured time (socket and open loops: 0, they have no ideal)", "scenario entries"},
    SchemaKey{"heap_allocs_per_task", "counter", "count",
              "operator new calls in all threads per task, over the runs after the first",
              "scenario entries of more than one run"},
    SchemaKey{"idle_worker_rss_mib", "counter", "MiB", "mean VmRSS of the worker processes once the runs are over",
              "executors with worker processes"},
    SchemaKey{"idle_worker_pss_mib", "counter", "MiB", "mean Pss of the worker processes once the runs are over",
              "executors with worker processes"},
    SchemaKey{"in_flight", "counter", "count", "most tasks outstanding at once", "runs with --in-flight"},
    SchemaKey{"posted", "counter", "flag", "1: tasks were posted (fire-and-forget), not submitted",
              "runs with --submit post (scenario and paired entries)"},
    SchemaKey{"instrumented", "counter", "flag", "0: tasks were not timed one by one", "runs with --instrument off"},
    SchemaKey{"traced", "counter", "flag", "1: every task was timed for --trace, not a sample", "runs with --trace"},
    SchemaKey{"uncorrected_latency_mean_us", "counter", "us",
              "mean of actual submit -> done, which the breakdown (queued + running + handback) adds up to",
              "open-loop runs (--rate)"},
    SchemaKey{"uncorrected_latency_p50_us", "counter", "us",
              "median of actual submit -> done, which hides how late the submit was (latency_* counts from the "
              "scheduled time)",
              "open-loop runs (--rate)"},
    SchemaKey{"uncorrected_latency_p90_us", "counter", "us", "90th percentile of actual submit -> done",
              "open-loop runs (--rate)"},
    SchemaKey{"uncorrected_latency_p99_us", "counter", "us", "99th percentile of actual submit -> done",
              "open-loop runs (--rate)"},
    SchemaKey{"uncorrected_latency_p999_us", "counter", "us", "99.9th percentile of actual submit -> done",
              "open-loop runs (--rate)"},
    SchemaKey{"uncorrected_latency_max_us", "counter", "us", "longest actual submit -> done",
              "open-loop runs (--rate)"},
    SchemaKey{"offered_rate", "counter", "tasks/s", "arrivals per second the schedule asked for (socket: requests/s)",
              "open-loop runs (--rate)"},
    SchemaKey{"achieved_rate", "counter", "tasks/s", "tasks (socket: requests) done per second, first to last done",
              "open-loop runs (--rate)"},
    SchemaKey{"submit_lag_p99_us", "counter", "us",
              "99th percentile of how late the submitter itself submitted (socket: each connection's thread, "
              "after the previous reply): when high, the harness, not the executor, fell behind",
              "open-loop runs (--rate)"},
    SchemaKey{"saturated", "counter", "flag",
              "1: achieved < 0.99 x offered, or the last quarter's arrivals found over 1.5x the backlog of the "
              "second quarter's (+1)",
              "open-loop runs (--rate)"},
    SchemaKey{"littles_law_error", "counter", "ratio",
              "(mean tasks arrivals found in the system - arrival rate x mean submit -> done) / the latter: two "
              "measurements that must agree",
              "open-loop runs (--rate)"},
    SchemaKey{"compute_us", "counter", "us", "mean compute time of the tasks as drawn", "mixed runs"},
    SchemaKey{"wait_us", "counter", "us", "mean blocking time of the tasks as drawn", "mixed runs"},
    SchemaKey{"compute_cv", "counter", "ratio", "coefficient of variation of the drawn compute times (0: fixed)",
              "mixed runs"},
    SchemaKey{"wait_cv", "counter", "ratio", "coefficient of variation of the drawn blocking times (0: fixed)",
              "mixed runs"},
    SchemaKey{"seed", "counter", "count", "the --seed that drew the task times", "mixed runs"},
    SchemaKey{"connections", "counter", "count", "concurrent client connections", "socket runs"},
    SchemaKey{"requests_per_second", "counter", "requests/s", "request/reply pairs per second of the timed runs",
              "socket runs"},
    SchemaKey{"rtt_p50_us", "counter", "us", "median request -> reply round trip", "socket runs"},
    SchemaKey{"rtt_p99_us", "counter", "us", "99th percentile request -> reply round trip", "socket runs"},
    // Counters of the probe/<name> entries (also the fields of `probe --json`).
    // ns_per_op is also the counter of the raw/<library path>/workers:<n> entries of an
    // empty-task run (--iterations 0): oneTBB or Boost.Asio used directly, no poolbench code
    // per task; and of its paired/<pool>/<library path>/workers:<n> entries, ours.
    SchemaKey{"ns_per_op", "counter", "ns",
              "cost of one operation: of the probe, median over batches; of a raw library row, wall time per "
              "task; of a paired row, the executor's wall time per task, median over the rounds",
              "probe/<name>, raw and paired entries (empty-task runs)"},
    SchemaKey{"spread", "counter", "fraction", "median absolute deviation / median, across batches",
              "probe/<name> entries"},
    SchemaKey{"operations", "counter", "count", "operations timed in all", "probe/<name> entries"},
    // Counters of the paired/<pool>/<library path>/workers:<n> entries of an empty-task run:
    // the executor and the library timed in alternating rounds (paired_runs.hpp).
    SchemaKey{"library_ns_per_op", "counter", "ns", "the library's wall time per task, median over the rounds",
              "paired entries"},
    SchemaKey{"ratio", "counter", "ratio",
              "the executor's wall time per task / the library's in the same round, median over the rounds",
              "paired entries"},
    SchemaKey{"ratio_min", "counter", "ratio", "the lowest round's ratio", "paired entries"},
    SchemaKey{"ratio_max", "counter", "ratio", "the highest round's ratio", "paired entries"},
    SchemaKey{"rounds", "counter", "count", "rounds timed, each one batch of each side", "paired entries"},
    SchemaKey{"library_context_switches_per_task", "counter", "count",
              "context switches of the whole process per task while the library's batches ran, median over the "
              "rounds (kernel_context_switches_per_task is the executor's)",
              "paired entries where the kernel counts context switches"},
    // Context: machine_context(), in its order.
    SchemaKey{"poolbench_version", "context", "text", "version of poolbench that wrote the file", "every file"},
    SchemaKey{"hwloc_version", "context", "text", "version of hwloc that read the topology", "every file"},
    SchemaKey{"topology_packages", "context", "count", "CPU packages (sockets) of the machine", "every file"},
    SchemaKey{"topology_numa_nodes", "context", "count", "NUMA nodes of the machine", "every file"},
    SchemaKey{"topology_cores", "context", "count", "physical cores of the machine", "every file"},
    SchemaKey{"topology_pus", "context", "count", "processing units (hardware threads) of the machine", "every file"},
    SchemaKey{"allowed_pus", "context", "count", "PUs in the allowed cpuset (the cgroup's cpuset)", "every file"},
    SchemaKey{"cpu_binding", "context", "PU list",
              "the PUs this process is bound to, as taskset prints them (\"0-3,6\")", "every file"},
    SchemaKey{"cgroup_cpu_limit", "context", "CPUs", "the cgroup's CPU quota as a decimal (\"0.5\"), or \"none\"",
              "every file"},
    SchemaKey{"usable_cpus", "context", "count", "min(bound PUs, ceil(cgroup quota / period)), at least 1",
              "every file"},
    SchemaKey{"usable_cores", "context", "count", "physical cores among the usable CPUs", "every file"},
    SchemaKey{"l1d_bytes", "context", "bytes", "L1 data cache size (0: unknown)", "every file"},
    SchemaKey{"l2_bytes", "context", "bytes", "L2 cache size (0: unknown)", "every file"},
    SchemaKey{"l3_bytes", "context", "bytes", "L3 cache size (0: unknown)", "every file"},
    SchemaKey{"sizing_rule", "context", "text", "the default sizing rule (auto, cpus, cores, py38 or a number)",
              "every file"},
    SchemaKey{"default_workers", "context", "count", "workers the default sizing rule gives here", "every file"},
    SchemaKey{"hash_steps_per_us", "context", "steps/us",
              "hash-chain steps one CPU computes per microsecond, measured once per process: how the mixed "
              "scenario turns --compute-us into work",
              "every file"},
    SchemaKey{"kernel_counters", "context", "text",
              "which kernel events the kernel_*_per_task counters count (perf_event_open over the process tree), "
              "and why any are absent",
              "every file"},
    // Tuning: the keys of each sweep entry beside its counters, then the "tuning" object.
    SchemaKey{"name", "tuning", "text", "<scenario>/<pool>/workers:<n> of the size measured",
              "tune files: each sweep entry"},
    SchemaKey{"repetitions", "tuning", "count", "measured runs at this size (after one warm-up run)",
              "tune files: each sweep entry"},
    SchemaKey{"throughput_median", "tuning", "throughput_unit", "median throughput of the repetitions",
              "tune files: each sweep entry"},
    SchemaKey{"throughput_spread", "tuning", "fraction", "median absolute deviation / median of the repetitions",
              "tune files: each sweep entry"},
    SchemaKey{"throughput_runs", "tuning", "list of throughput_unit", "throughput of each repetition, in order",
              "tune files: each sweep entry"},
    SchemaKey{"scenario", "tuning", "text", "the scenario tuned for", "tune files: the tuning object"},
    SchemaKey{"pool", "tuning", "text", "the executor sized", "tune files: the tuning object"},
    SchemaKey{"throughput_unit", "tuning", "text", "what throughputs count: \"tasks/s\" or \"requests/s\"",
              "tune files: the tuning object"},
    SchemaKey{"best_workers", "tuning", "count", "the size with the highest median throughput",
              "tune files: the tuning object"},
    SchemaKey{"best_throughput", "tuning", "throughput_unit", "median throughput at the best size",
              "tune files: the tuning object"},
    SchemaKey{"best_spread", "tuning", "fraction", "spread of the repetitions at the best size",
              "tune files: the tuning object"},
    SchemaKey{"pick_workers", "tuning", "count",
              "the recommended size: the smallest one a Mann-Whitney U test cannot tell from the best (p >= 0.05)",
              "tune files: the tuning object"},
    SchemaKey{"tied_with_best", "tuning", "count", "the sizes statistically tied with the best, the best too (a list)",
              "tune files: the tuning object"},
    SchemaKey{"runner_up_workers", "tuning", "count", "the size with the highest median other than the pick",
              "tune files: the tuning object"},
    SchemaKey{"pick_p_value", "tuning", "probability",
              "Mann-Whitney U test of the pick's repetitions against the runner-up's", "tune files: the tuning object"},
    SchemaKey{"order_seed", "tuning", "count", "the --seed that shuffled each round of visits",
              "tune files: the tuning object"},
    SchemaKey{"measurement_order", "tuning", "count", "the sizes in the order they were measured (a list)",
              "tune files: the tuning object"},
    SchemaKey{"knee_workers", "tuning", "count", "the smallest size within 5 % of the best",
              "tune files: the tuning object"},
    SchemaKey{"usl_fit", "tuning", "text",
              "\"ok\", or why the Universal Scalability Law was not fitted (fewer than 6 sizes, R2 < 0.9)",
              "tune files: the tuning object"},
    SchemaKey{"usl_lambda", "tuning", "per second", "USL fit: throughput of one worker",
              "tune files whose USL fit is ok"},
    SchemaKey{"usl_sigma", "tuning", "ratio", "USL fit: contention (the share of the work that queues)",
              "tune files whose USL fit is ok"},
    SchemaKey{"usl_kappa", "tuning", "ratio", "USL fit: coherency (what makes throughput fall past a peak)",
              "tune files whose USL fit is ok"},
    SchemaKey{"usl_r2", "tuning", "ratio", "USL fit: R2 against the medians", "tune files whose USL fit is ok"},
    SchemaKey{"usl_peak_workers", "tuning", "count",
              "USL fit: where the fitted curve peaks, sqrt((1 - sigma) / kappa), or \"none\"",
              "tune files whose USL fit is ok"},
    SchemaKey{"default_workers", "tuning", "count", "the auto rule's size (usable CPUs x 5)",
              "tune files: the tuning object"},
    SchemaKey{"default_vs_best", "tuning", "ratio", "throughput at the auto size / the best",
              "tune files: the tuning object"},
    SchemaKey{"py38_workers", "tuning", "count", "Python 3.8's size: min(32, usable CPUs + 4)",
              "tune files: the tuning object"},
    SchemaKey{"py38_vs_best", "tuning", "ratio", "throughput at the py38 size / the best",
              "tune files: the tuning object"},
    SchemaKey{"task_wait_us", "tuning", "us", "time a task waits (busy - CPU), profiled inline",
              "tune files: the tuning object"},
    SchemaKey{"task_compute_us", "tuning", "us", "CPU time of a task, profiled inline",
              "tune files: the tuning object"},
    SchemaKey{"formula_estimate", "tuning", "workers",
              "usable CPUs x 1.0 x (1 + wait / compute), or \"unbounded\" with no compute time",
              "tune files: the tuning object"},
    SchemaKey{"formula_workers", "tuning", "count", "the formula's estimate rounded into the sweep's range",
              "tune files: the tuning object"},
    SchemaKey{"formula_vs_best", "tuning", "ratio", "throughput at the formula's size / the best",
              "tune files: the tuning object"},
    SchemaKey{"objective", "tuning", "text",
              "what tune optimised: \"throughput\", \"p99 at a rate\" (--slo-p99 with --rate) or \"frontier\" "
              "(--slo-p99 alone)",
              "tune files: the tuning object"},
    SchemaKey{"slo_p99_us", "tuning", "us", "the latency objective: p99 from each arrival's scheduled time",
              "tune --slo-p99 files"},
    SchemaKey{"slo_rate", "tuning", "throughput_unit",
              "the offered rate: the one asked for (p99 at a rate), or a probe's", "tune --slo-p99 files"},
    SchemaKey{"probes", "tuning", "list",
              "the open-loop runs made, in order: workers, slo_rate, offered_rate, latency_p99_us, saturated, meets",
              "tune --slo-p99 files"},
    SchemaKey{"meets", "tuning", "flag", "1: a probe kept up with its rate and its p99 stayed within the objective",
              "tune --slo-p99 files: each probe"},
    SchemaKey{"closest_workers", "tuning", "count",
              "when no size meets the objective: the one with the lowest p99 among those that kept up",
              "tune --slo-p99 --rate files"},
    SchemaKey{"frontier", "tuning", "list",
              "per size: workers, sustained_rate and sustained_rate_per_worker, the latency-throughput frontier",
              "tune --slo-p99 files without --rate"},
    SchemaKey{"sustained_rate", "tuning", "throughput_unit",
              "the highest offered rate a size met the objective at (0: not even the lowest tried)",
              "tune --slo-p99 files without --rate: each frontier entry"},
    SchemaKey{"sustained_rate_per_worker", "tuning", "throughput_unit", "sustained_rate / workers: headroom per worker",
              "tune --slo-p99 files without --rate: each frontier entry"},
    SchemaKey{"recommendation", "tuning", "text", "the verdict in one sentence", "tune files: the tuning object"},
    SchemaKey{"warnings", "tuning", "list of text", "unstable sizes, a busy machine; empty when none",
              "tune files: the tuning object"},
    // Info: what `poolbench info --json` adds to the context keys.
    SchemaKey{"workers_by_rule", "info", "counts by rule", "the worker count each sizing rule gives here",
              "info --json"},
    SchemaKey{"pinning", "info", "text", "the --pinning it was asked about: none, compact or scatter", "info --json"},
    SchemaKey{"placement", "info", "list of PU lists", "where each worker would run under that pinning", "info --json"},
};

/// The table as a list, for code that walks it.
inline std::span<const SchemaKey> schema_keys() { return schema_table; }

/// `name` if the table defines it in `where`. Evaluated at compile time, so writing a key
/// the table lacks (or misspelling one) is a build error that points here.
consteval std::string_view defined_key(std::string_view where, std::string_view name) {
  for (const SchemaKey& key : schema_table)
    if (key.where == where && key.name == name) return key.name;
  throw "not in bench/schema.hpp's schema_table: define the key there (name, where, unit, meaning, when) first";
}
consteval std::string_view counter_key(std::string_view name) { return defined_key("counter", name); }
consteval std::string_view context_key(std::string_view name) { return defined_key("context", name); }
consteval std::string_view tuning_key(std::string_view name) { return defined_key("tuning", name); }
consteval std::string_view info_key(std::string_view name) { return defined_key("info", name); }

/// Named counters in the order they go into the JSON. Every name is a counter of the table
/// (written through counter_key), which owns the characters.
using Counters = std::vector<std::pair<std::string_view, double>>;

/// The table for people (`poolbench schema`): one key per line, grouped by where.
std::string describe_schema();

/// The table as JSON (`poolbench schema --json`): a list of {name, where, unit, meaning, when}.
nlohmann::ordered_json schema_json();

}  // namespace poolbench::bench
