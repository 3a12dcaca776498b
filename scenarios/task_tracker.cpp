#include "scenarios/task_tracker.hpp"

#include <algorithm>
#include <bit>

namespace poolbench::scenarios {

TaskTracker::TaskTracker(std::size_t tasks, bool in_process)
    : stride_(std::bit_ceil(std::max<std::size_t>(1, (tasks + timed_per_run - 1) / timed_per_run))),
      shift_(std::countr_zero(stride_)),
      in_process_(in_process),
      submit_ns_((tasks + stride_ - 1) / stride_, 0),
      done_ns_(std::make_unique<std::atomic<std::uint64_t>[]>(submit_ns_.size())) {}

void TaskTracker::track(std::size_t index, const Future<TaskSample>& future) {
  future.add_done_callback(
      [this, index](const Future<TaskSample>&) { done_ns_[slot(index)].store(now_ns(), std::memory_order_release); });
}

void TaskTracker::add_times(std::size_t index, const TaskSample& sample, RunRecord& record) const {
  const std::uint64_t finished = in_process_ ? sample.end_ns : done_ns(index);
  const std::uint64_t submitted = submit_ns_[slot(index)];
  record.latency_ns.push_back(finished > submitted ? finished - submitted : 0);
  record.queue_wait_ns.push_back(sample.start_ns > submitted ? sample.start_ns - submitted : 0);
}

void TaskTracker::settle(std::size_t submitted) const noexcept {
  if (in_process_) return;
  for (std::size_t i = 0; i < submitted; i += stride_) done_ns(i);
}

std::uint64_t TaskTracker::done_ns(std::size_t index) const noexcept {
  std::uint64_t done;
  while ((done = done_ns_[slot(index)].load(std::memory_order_acquire)) == 0) std::this_thread::yield();
  return done;
}

void EndCounter::add() noexcept {
  ended_.fetch_add(1, std::memory_order_seq_cst);
  // Pairs with the waiter's increment of waiters_ before it re-checks ended_: one of the
  // two sees the other, so a wake-up is never lost.
  if (waiters_.load(std::memory_order_seq_cst) > 0) {
    std::lock_guard lock(mutex_);
    changed_.notify_all();
  }
}

bool EndCounter::wait_for(std::uint64_t count, std::chrono::milliseconds limit) {
  if (ended() >= count) return true;
  std::unique_lock lock(mutex_);
  waiters_.fetch_add(1, std::memory_order_seq_cst);
  const bool reached = changed_.wait_for(lock, limit, [&] { return ended_.load(std::memory_order_seq_cst) >= count; });
  waiters_.fetch_sub(1, std::memory_order_seq_cst);
  return reached;
}

}  // namespace poolbench::scenarios
