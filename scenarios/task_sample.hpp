#pragma once

#include <cstdint>

namespace poolbench::scenarios {

/// What a scenario task returns: its value and, when timed, when it started and ended
/// (CLOCK_MONOTONIC ns) and which thread ran it, so queue wait and each worker's share
/// can be measured even when the task ran in another process; with profiling on, also
/// how long it ran and how much of that was CPU time (the rest was waiting).
struct TaskSample {
  std::uint64_t value = 0;
  std::uint64_t start_ns = 0;
  std::uint64_t end_ns = 0;
  std::uint64_t busy_ns = 0;
  std::uint64_t cpu_ns = 0;
  std::int32_t pid = 0;  ///< of the process that ran it, when timed
  std::int32_t tid = 0;  ///< of the thread that ran it, when timed
};

/// Turns per-task wall/CPU profiling on or off for tasks run in this process (`tune`
/// profiles on the sync executor). Off by default: it costs a syscall per task.
void set_task_profiling(bool on) noexcept;

/// Measures one task body: a sample with its start and end time when `timed` (the
/// harness times a sample of the tasks) and, when profiling, its busy and CPU time.
class TaskClock {
 public:
  explicit TaskClock(bool timed = true) noexcept;
  TaskSample finish(std::uint64_t value) const noexcept;

 private:
  bool timed_;
  std::uint64_t start_ns_ = 0;
  std::uint64_t start_cpu_ns_ = 0;
};

}  // namespace poolbench::scenarios
