#include "scenarios/task_tracker.hpp"

#include <atomic>

namespace poolbench::scenarios {

TaskTracker::TaskTracker(std::size_t tasks)
    : submit_ns_(tasks, 0), done_ns_(std::make_unique<std::atomic<std::uint64_t>[]>(tasks)) {}

void TaskTracker::track(std::size_t index, const Future<TaskSample>& future) {
  future.add_done_callback([this, index](const Future<TaskSample>&) {
    done_ns_[index].store(now_ns(), std::memory_order_release);
  });
}

std::uint64_t TaskTracker::done_ns(std::size_t index) const noexcept {
  std::uint64_t done;
  while ((done = done_ns_[index].load(std::memory_order_acquire)) == 0) std::this_thread::yield();
  return done;
}

}  // namespace poolbench::scenarios
