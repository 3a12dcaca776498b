#include "scenarios/task_tracker.hpp"

#include <algorithm>
#include <bit>

#include <unistd.h>

namespace poolbench::scenarios {

TaskTracker::TaskTracker(std::size_t tasks, bool every_task)
    : stride_(every_task ? 1 : std::bit_ceil(std::max<std::size_t>(1, (tasks + timed_per_run - 1) / timed_per_run))),
      shift_(std::countr_zero(stride_)),
      submitter_tid_(static_cast<std::int32_t>(::gettid())),
      slot_count_((tasks + stride_ - 1) / stride_),
      slots_(std::make_unique<Slot[]>(slot_count_)) {}

void TaskTracker::track(std::size_t index, const Future<TaskSample>& future) {
  future.add_done_callback([this, index](const Future<TaskSample>&) {
    slots_[slot(index)].done_ns.store(now_ns(), std::memory_order_release);
  });
}

TaskTiming TaskTracker::timing(std::size_t index, const TaskSample& sample, bool has_future) const {
  const Slot& s = slots_[slot(index)];
  return {index,           s.submit_ns,   s.submitted_ns,
          sample.start_ns, sample.end_ns, has_future ? done_ns(index) : sample.end_ns,
          sample.pid,      sample.tid,    submitter_tid_};
}

void TaskTracker::settle(std::size_t submitted) const noexcept {
  for (std::size_t i = 0; i < submitted; i += stride_) done_ns(i);
}

std::uint64_t TaskTracker::done_ns(std::size_t index) const noexcept {
  std::uint64_t done;
  while ((done = slots_[slot(index)].done_ns.load(std::memory_order_acquire)) == 0) std::this_thread::yield();
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
