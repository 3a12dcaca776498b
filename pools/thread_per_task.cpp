#include "pools/thread_per_task.hpp"

#include <system_error>

namespace poolbench {

void ThreadPerTask::enqueue(Job job) {
  std::unique_lock lock(mutex_);
  if (stopping_) throw ExecutorShutdownError("cannot submit to thread-per-task: it has been shut down");
  join_finished(lock);
  const auto slot = running_.insert(running_.end(), Slot{std::move(job), {}});
  try {
    slot->thread = std::thread([this, slot] { run(slot); });
    ++created_;
  } catch (const std::system_error& e) {
    Job refused = std::move(slot->job);
    running_.erase(slot);
    lock.unlock();
    record(refused.fail(std::make_exception_ptr(
        ResourceError(std::string("thread-per-task could not create a thread: ") + e.what()))));
  }
}

void ThreadPerTask::run(Slots::iterator slot) {
  record(slot->job.run());
  std::lock_guard lock(mutex_);
  finished_.push_back(slot);
  if (finished_.size() == running_.size()) all_ended_.notify_all();
}

void ThreadPerTask::join_finished(std::unique_lock<std::mutex>& lock) {
  if (finished_.empty()) return;
  std::vector<Slots::iterator> done;
  done.swap(finished_);
  std::list<Slot> reaped;
  for (auto slot : done) reaped.splice(reaped.end(), running_, slot);
  lock.unlock();
  for (auto& slot : reaped) slot.thread.join();
  lock.lock();
}

void ThreadPerTask::shutdown(bool wait, bool) {
  std::unique_lock lock(mutex_);
  stopping_ = true;
  if (!wait) return;
  // Tasks start the moment their thread exists, so there is nothing pending to cancel.
  all_ended_.wait(lock, [&] { return finished_.size() == running_.size(); });
  join_finished(lock);
}

std::uint64_t ThreadPerTask::threads_created() const noexcept {
  std::lock_guard lock(mutex_);
  return created_;
}

}  // namespace poolbench
