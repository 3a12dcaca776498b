#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pools/core/executor.hpp"
#include "scenarios/arrivals.hpp"
#include "scenarios/distribution.hpp"
#include "scenarios/task_sample.hpp"

namespace poolbench::scenarios {

/// How a scenario hands its tasks over: `future` submits each and waits on its future;
/// `post` fires and forgets, each task counting its own end (in-process executors only).
enum class Submission { future, post };

/// How the tasks of one run flow: how they are handed over, how many may be outstanding,
/// whether the harness times each one (instrumented) or only the whole run, and whether
/// they arrive at a rate (open loop) rather than all at once.
struct TaskFlow {
  Submission submission = Submission::future;
  std::uint64_t in_flight = 0;   ///< most tasks outstanding at once (0 = all; 1 = round trips)
  bool instrumented = true;      ///< per-task timestamps and latency histograms
  Arrivals arrivals;             ///< open loop when its rate is set: every task is timed
  bool time_every_task = false;  ///< instrumented: time all tasks, not a sample (a trace needs every one)
};

/// What an open-loop run adds to its record: the schedule it kept, or failed to keep, and
/// how many tasks each arrival found in the system. Times are nanoseconds.
struct OpenLoopRecord {
  std::uint64_t schedule_span_ns = 0;                 ///< first to last scheduled arrival
  std::uint64_t done_span_ns = 0;                     ///< first to last task done
  std::uint64_t corrected_sum_ns = 0;                 ///< of scheduled → done, over the tasks
  std::uint64_t in_system_sum = 0;                    ///< over the arrivals: tasks scheduled before and not yet done
  std::uint64_t early_in_system = 0;                  ///< the same, over the second quarter of the arrivals
  std::uint64_t late_in_system = 0;                   ///< and over the last quarter
  std::uint64_t quarter = 0;                          ///< arrivals in a quarter
  std::vector<std::uint64_t> uncorrected_latency_ns;  ///< actual submit → done
  std::vector<std::uint64_t> submit_lag_ns;           ///< scheduled → actual submit
};

/// The knobs of every scenario; each scenario reads the ones it uses.
struct ScenarioOptions {
  std::uint64_t tasks = 200;                     ///< cpu, sleep, mixed
  std::uint64_t iterations = 200'000;            ///< cpu: hash-chain steps per task (0 = empty tasks)
  TaskFlow flow;                                 ///< cpu, sleep, mixed; socket: its arrivals only
  std::chrono::microseconds sleep{10'000};       ///< sleep: how long each task blocks
  std::chrono::microseconds compute{1'000};      ///< mixed: mean compute time of a task
  std::chrono::microseconds wait{4'000};         ///< mixed: mean time a task then blocks
  Distribution compute_distribution;             ///< mixed: how compute times vary
  Distribution wait_distribution;                ///< mixed: how wait times vary
  std::uint64_t seed = 1;                        ///< mixed: seeds the draws, so reruns see the same tasks
  std::uint64_t connections = 8;                 ///< socket: concurrent client connections
  std::uint64_t round_trips = 200;               ///< socket: request/reply pairs per connection
  std::string message = "hello world";           ///< socket: the request; the reply is its upper case
  std::chrono::milliseconds io_timeout{10'000};  ///< socket: longest wait on one send or receive
};

/// One timed task's life in now_ns() time, and the thread that ran it: the submitter
/// begins to hand it over (submit), the hand-over returns (submitted), a worker starts
/// and ends it, and the submitter could see its result (done). For a closed loop, done −
/// submit is its latency: queued (submit → start) + running + hand-back (end → done).
struct TaskTiming {
  std::uint64_t index = 0;
  std::uint64_t submit_ns = 0;
  std::uint64_t submitted_ns = 0;
  std::uint64_t start_ns = 0;
  std::uint64_t end_ns = 0;
  std::uint64_t done_ns = 0;
  std::int32_t pid = 0;
  std::int32_t tid = 0;
  std::int32_t submitter_tid = 0;  ///< the thread that submitted it

  /// Submit → start: how long it waited for a worker.
  std::uint64_t queued_ns() const noexcept { return start_ns - submit_ns; }

  /// Whether the times are in order: submit ≤ start ≤ end ≤ done, and submit ≤ submitted
  /// (an inline executor is done before its hand-over returns). A task that ran in another
  /// process reports its own start and end, which the harness trusts no further than this.
  bool consistent() const noexcept;
};

/// What one run of a scenario measured: the timed tasks' timestamps (all tasks, or a
/// sample of big runs; see TaskTracker) turned into durations, and the first error, if
/// any task or check failed. Times are nanoseconds.
struct RunRecord {
  std::uint64_t wall_ns = 0;
  std::uint64_t tasks = 0;                ///< tasks that ended (connections, for socket)
  std::vector<std::uint64_t> latency_ns;  ///< submit → done (open loop: scheduled → done), one per timed task
  std::vector<TaskTiming> timings;        ///< every timed task's times, in submit order
  std::uint64_t timing_stride = 1;        ///< one task in this many is timed
  std::uint64_t start_ns = 0;             ///< when the run began
  std::uint64_t end_ns = 0;               ///< when its last timestamp had been taken
  std::uint64_t failures = 0;
  std::string first_error;
  std::uint64_t task_busy_ns = 0;  ///< summed over tasks, when profiling (see task_sample.hpp)
  std::uint64_t task_cpu_ns = 0;
  std::optional<OpenLoopRecord> open_loop;  ///< open-loop runs only
  // socket only
  std::uint64_t requests = 0;
  std::vector<std::uint64_t> rtt_ns;

  bool ok() const noexcept { return failures == 0; }
  /// Counts a failure, keeping the first message.
  void fail(std::string message);
  /// Adds a timed task's times, or fails the task when they are out of order; true when
  /// added.
  bool add_timing(const TaskTiming& timing);
  /// Counts a task that ended with `sample` whose check said `error` (empty: it passed):
  /// a failure, or a task done with its busy and CPU time; true for the latter.
  bool add_task(const TaskSample& sample, std::string error);
};

/// What the tasks of a scenario with drawn times are made of, as drawn: means in µs,
/// coefficients of variation, and the seed that drew them.
struct TaskShape {
  double compute_us = 0;
  double wait_us = 0;
  double compute_cv = 0;
  double wait_cv = 0;
  std::uint64_t seed = 0;
};

/// One workload: what each task does, how results are checked, and what the ideal time is.
class Scenario {
 public:
  virtual ~Scenario() = default;
  virtual std::string_view name() const noexcept = 0;

  /// Runs the whole workload once on `executor` and checks every result.
  virtual RunRecord run(Executor& executor) = 0;

  /// The best possible wall time with `workers` running at once on `usable_cpus` CPUs,
  /// in seconds; 0 when the scenario has no meaningful ideal (socket).
  virtual double ideal_seconds(std::size_t workers, unsigned usable_cpus) const = 0;

  /// How many tasks one run submits (socket: one per connection).
  virtual std::uint64_t tasks_per_run() const noexcept = 0;

  /// How its tasks are handed over and timed (socket: only whether requests arrive at a rate).
  virtual TaskFlow flow() const noexcept { return {}; }

  /// What its tasks are made of, when their times are drawn (mixed); nullopt otherwise.
  virtual std::optional<TaskShape> task_shape() const { return std::nullopt; }
};

/// What the harness needs to know of a scenario to report it, so that nothing outside
/// this file decides by a scenario's name.
struct ScenarioTraits {
  std::string_view description;  ///< one line, for `poolbench list`
  std::string_view unit;         ///< what its throughput counts: "tasks" or "requests"
  bool has_ideal;                ///< ideal_seconds is meaningful, so efficiency is reported
  bool over_connections;         ///< each task serves one connection's request round trips
};

/// Scenario names, in the order `poolbench list` prints them.
const std::vector<std::string>& scenario_names();

/// The traits of scenario `name`; throws ConfigError naming the allowed names when there
/// is none.
const ScenarioTraits& scenario_traits(std::string_view name);

/// The numeric knobs of the scenarios, each with one allowed range.
enum class Knob {
  tasks,
  iterations,
  in_flight,
  sleep_ms,
  compute_us,
  wait_us,
  seed,
  rate,
  duration_s,
  connections,
  round_trips,
  io_timeout_ms
};

/// The one check of a knob's range, for values typed on the command line and for options
/// built in code alike: returns `value`, or throws ConfigError naming the flag, the value
/// and what is allowed (`connections`: also what the open-file limit allows).
double check_knob(Knob knob, double value);

/// The highest --rate scenario `name` may be given: what one submitter can schedule, and
/// for a scenario over connections that much per connection (each keeps its own schedule).
double highest_rate(std::string_view name, const ScenarioOptions& options);

/// Checks the knobs `name` uses (ConfigError naming the bad value) and builds it. An open
/// loop (`flow.arrivals` with a rate) runs rate × duration tasks, whatever `tasks` says.
std::unique_ptr<Scenario> make_scenario(std::string_view name, const ScenarioOptions& options);

/// Nanoseconds on CLOCK_MONOTONIC: one clock for the parent and its worker processes.
std::uint64_t now_ns() noexcept;

/// The now_ns() time a future's callback stores in `time` (0 until then), once it has:
/// the future has ended, so the callback is running or about to.
std::uint64_t await_time(const std::atomic<std::uint64_t>& time) noexcept;

}  // namespace poolbench::scenarios
