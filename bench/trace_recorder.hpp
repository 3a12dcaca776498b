#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bench/output_file.hpp"
#include "pools/core/executor.hpp"
#include "scenarios/scenario.hpp"

namespace poolbench::bench {

/// The default of `--trace-limit`: tasks a trace holds at most.
inline constexpr std::size_t default_trace_limit = 100'000;

/// Keeps the tasks of traced runs and writes them in the Chrome trace-event format, which
/// Perfetto and chrome://tracing open: a track per worker thread and worker process (real
/// pid and tid), a slice per task, a flow from its submit to its start, and counter tracks
/// of queue depth and busy workers. Whole runs only, up to `limit` tasks; docs/profiling.md
/// describes the file.
class TraceRecorder {
 public:
  /// Checks that `path` can be written and `limit` is at least 1 (ConfigError otherwise);
  /// the file appears only when `commit` writes it.
  TraceRecorder(std::string path, std::size_t limit);

  /// Adds one run of `benchmark` on `executor`, whose worker threads are `workers` (idle
  /// ones included), when every task of it was timed and fits under the limit; false once
  /// a run did not fit: the trace then stops there.
  bool add_run(const std::string& benchmark, const std::string& executor, std::size_t workers,
               const scenarios::RunRecord& record, const std::vector<WorkerThread>& pool_threads);

  std::size_t traced_tasks() const noexcept { return traced_tasks_; }
  bool stopped() const noexcept { return stopped_; }

  /// Writes the trace file whole (a temporary file renamed into place).
  void commit();
  /// Commits, then tells stderr, as `program`, what the trace holds and where it stopped.
  void commit_and_say(const char* program);

 private:
  struct Run {
    std::string benchmark;
    std::string executor;
    std::size_t workers;
    std::size_t iteration;
    std::uint64_t start_ns;
    std::uint64_t end_ns;
    int runner_tid;  ///< the thread that ran the scenario
    std::vector<scenarios::TaskTiming> tasks;
    std::vector<std::pair<int, int>> worker_tracks;  ///< (pid, tid), in worker order
  };

  std::string events() const;

  OutputFile file_;
  std::string path_;
  std::size_t limit_;
  std::size_t traced_tasks_ = 0;
  bool stopped_ = false;
  std::vector<Run> runs_;
  std::map<std::string, std::size_t> iterations_;     ///< runs seen per benchmark
  std::map<std::pair<int, int>, std::string> names_;  ///< each track's name
  std::map<int, std::string> process_names_;          ///< worker processes' names
};

/// Makes `flow` time every task, as a trace needs; ConfigError when it times none
/// (`--instrument off`).
void time_every_task_for_trace(scenarios::TaskFlow& flow);

/// The recorder `--trace PATH --trace-limit LIMIT` ask for, or none when PATH is empty;
/// ConfigError for a limit below 1 or a path that cannot be written.
std::unique_ptr<TraceRecorder> open_trace(const std::string& path, long long limit);

}  // namespace poolbench::bench
