#include "scenarios/task_tracker.hpp"

#include <algorithm>
#include <bit>

#include <unistd.h>

namespace poolbench::scenarios {

TaskTracker::TaskTracker(std::size_t tasks, bool in_process, bool every_task)
    : stride_(every_task ? 1 : std::bit_ceil(std::max<std::size_t>(1, (tasks + timed_per_run - 1) / timed_per_run))),
      shift_(std::countr_zero(stride_)),
      every_task_(every_task),
      watch_futures_(!in_process || every_task),
      submitter_tid_(static_cast<std::int32_t>(::gettid())),
      submit_ns_((tasks + stride_ - 1) / stride_, 0),
      submitted_ns_(every_task ? submit_ns_.size() : 0, 0),
      done_ns_(std::make_unique<std::atomic<std::uint64_t>[]>(submit_ns_.size())) {}

TaskTracker::~TaskTracker() {
  // The callbacks write into this tracker: none may still be coming once it is gone.
  for (std::size_t s = 0; s < watched_; ++s) await_time(done_ns_[s]);
}

void TaskTracker::submitted(std::size_t index, const Future<TaskSample>* future) {
  const std::size_t s = slot(index);
  if (every_task_) submitted_ns_[s] = now_ns();
  if (!future || !watch_futures_) return;
  future->add_done_callback(
      [this, s](const Future<TaskSample>&) { done_ns_[s].store(now_ns(), std::memory_order_release); });
  watched_ = s + 1;
}

TaskTiming TaskTracker::timing(std::size_t index, const TaskSample& sample) const {
  const std::size_t s = slot(index);
  return {index,           submit_ns_[s], every_task_ ? submitted_ns_[s] : submit_ns_[s],
          sample.start_ns, sample.end_ns, s < watched_ ? await_time(done_ns_[s]) : sample.end_ns,
          sample.pid,      sample.tid,    submitter_tid_};
}

void EndCounter::add() noexcept {
  const std::uint64_t ended = ended_.fetch_add(1, std::memory_order_seq_cst) + 1;
  // Pairs with the waiter's store of awaited_ before it re-checks ended_: one of the two
  // sees the other, so the wake-up is never lost.
  const std::uint64_t awaited = awaited_.load(std::memory_order_seq_cst);
  if (awaited != 0 && ended >= awaited) {
    std::lock_guard lock(mutex_);
    changed_.notify_all();
  }
}

bool EndCounter::wait_for(std::uint64_t count, std::chrono::milliseconds limit) {
  if (ended() >= count) return true;
  std::unique_lock lock(mutex_);
  awaited_.store(count, std::memory_order_seq_cst);
  const bool reached = changed_.wait_for(lock, limit, [&] { return ended_.load(std::memory_order_seq_cst) >= count; });
  awaited_.store(0, std::memory_order_seq_cst);
  return reached;
}

}  // namespace poolbench::scenarios
