#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "bench/histogram.hpp"
#include "bench/schema.hpp"
#include "pools/core/executor.hpp"
#include "scenarios/scenario.hpp"

namespace poolbench::bench {

/// Where the timed tasks' time went, over the runs of one benchmark: each task's latency
/// (submit → done) split into queued, running and hand-back, whose means add up to the
/// mean latency; the queued time of the tasks that found a worker idle, which is their
/// wake-up; and each worker's busy share of the runs, which shows a pool that balances
/// badly.
class TaskBreakdown {
 public:
  /// `workers`: how many tasks the executor runs at once (0: every task at once).
  explicit TaskBreakdown(std::size_t workers) : workers_(workers) {}

  /// Adds one run of the executor in use.
  void add(const scenarios::RunRecord& record);
  /// Closes the runs of one executor (`tune` builds one per visit), whose worker threads are
  /// `pool_threads`: when every task was timed, one of them that ran none was idle
  /// throughout and counts with a busy fraction of 0.
  void end_executor(const std::vector<WorkerThread>& pool_threads);

  /// Submit → start of every timed task so far.
  const LogHistogram& queued() const noexcept { return queued_; }

  /// `queued_*`, `wakeup_*`, `running_*`, `handback_*`, `wakeup_share`, and, for an
  /// executor with a fixed number of workers, `worker_busy_fraction_mean|min|max`.
  void add_counters(Counters& counters) const;

 private:
  struct WorkerKey {
    int pid;
    int tid;
    auto operator<=>(const WorkerKey&) const = default;
  };

  std::size_t workers_;
  LogHistogram queued_;
  LogHistogram wakeup_;
  LogHistogram running_;
  LogHistogram handback_;
  /// Busy fractions of the workers of executors already closed.
  std::vector<double> fractions_;
  /// Of the executor in use: each worker's busy time, estimated (each timed task counts for
  /// its stride), the time of its runs, and whether every task was timed.
  std::map<WorkerKey, double> busy_ns_;
  double wall_ns_ = 0;
  bool every_task_timed_ = true;

  /// The busy fraction of each worker of the executor in use, `pool_threads` included.
  std::vector<double> executor_fractions(const std::vector<WorkerThread>& pool_threads) const;
};

/// Counts, for each timing of a run (RunRecord keeps them in submit order), the tasks
/// submitted before it that had not ended when it was submitted: what it found in the
/// executor, queued or running.
std::vector<std::size_t> tasks_found(const std::vector<scenarios::TaskTiming>& timings);

}  // namespace poolbench::bench
