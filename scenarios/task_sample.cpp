#include "scenarios/task_sample.hpp"

#include <atomic>
#include <ctime>

#include "scenarios/scenario.hpp"

namespace poolbench::scenarios {
namespace {

std::atomic<bool> profiling{false};

std::uint64_t thread_cpu_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace

void set_task_profiling(bool on) noexcept { profiling.store(on, std::memory_order_relaxed); }

TaskClock::TaskClock() noexcept
    : start_ns_(now_ns()), start_cpu_ns_(profiling.load(std::memory_order_relaxed) ? thread_cpu_ns() : 0) {}

TaskSample TaskClock::finish(std::uint64_t value) const noexcept {
  TaskSample sample{value, start_ns_, 0, 0};
  if (start_cpu_ns_ != 0) {
    sample.cpu_ns = thread_cpu_ns() - start_cpu_ns_;
    sample.busy_ns = now_ns() - start_ns_;
  }
  return sample;
}

}  // namespace poolbench::scenarios
