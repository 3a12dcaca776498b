#include "scenarios/task_sample.hpp"

#include <atomic>
#include <ctime>

#include <unistd.h>

#include "scenarios/scenario.hpp"

namespace poolbench::scenarios {
namespace {

std::atomic<bool> profiling{false};

std::uint64_t thread_cpu_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

/// This thread's ids, asked of the kernel once per thread (the process ids of a pool's
/// workers never change: they are new processes, not forks of a timed one).
struct ThreadIds {
  std::int32_t pid = static_cast<std::int32_t>(::getpid());
  std::int32_t tid = static_cast<std::int32_t>(::gettid());
};

const ThreadIds& this_thread_ids() noexcept {
  thread_local const ThreadIds ids;
  return ids;
}

}  // namespace

void set_task_profiling(bool on) noexcept { profiling.store(on, std::memory_order_relaxed); }

TaskClock::TaskClock(bool timed) noexcept : timed_(timed) {
  if (profiling.load(std::memory_order_relaxed)) start_cpu_ns_ = thread_cpu_ns();
  if (timed_ || start_cpu_ns_ != 0) start_ns_ = now_ns();
}

TaskSample TaskClock::finish(std::uint64_t value) const noexcept {
  TaskSample sample{value, 0, 0, 0, 0, 0, 0};
  if (!timed_ && start_cpu_ns_ == 0) return sample;
  const std::uint64_t end = now_ns();
  if (timed_) {
    sample.start_ns = start_ns_;
    sample.end_ns = end;
    sample.pid = this_thread_ids().pid;
    sample.tid = this_thread_ids().tid;
  }
  if (start_cpu_ns_ != 0) {
    sample.cpu_ns = thread_cpu_ns() - start_cpu_ns_;
    sample.busy_ns = end - start_ns_;
  }
  return sample;
}

}  // namespace poolbench::scenarios
