#include "pools/threads/thread_per_task.hpp"

#include <system_error>

namespace poolbench {

void ThreadPerTask::enqueue(Job job) {
  Slots::iterator slot;
  {
    std::unique_lock lock(mutex_);
    if (stopping_) throw ExecutorShutdownError("cannot submit to thread-per-task: it has been shut down");
    join_finished(lock);
    slot = running_.insert(running_.end(), Slot{std::move(job), {}, false});
    ++creating_;
  }
  // Creating a thread takes tens of microseconds: never under the lock that every
  // finishing thread needs.
  std::thread thread;
  try {
    thread = std::thread([this, slot] { run(slot); });
  } catch (const std::system_error& e) {
    Job refused;
    {
      std::lock_guard lock(mutex_);
      refused = std::move(slot->job);
      running_.erase(slot);
      --creating_;
      if (all_ended()) all_ended_.notify_all();
    }
    record(refused.fail(
        std::make_exception_ptr(ResourceError(std::string("thread-per-task could not create a thread: ") + e.what()))));
    return;
  }
  std::lock_guard lock(mutex_);
  slot->thread = std::move(thread);
  ++created_;
  --creating_;
  finish_if_ready(slot);
}

void ThreadPerTask::run(Slots::iterator slot) {
  record(slot->job.run());
  std::lock_guard lock(mutex_);
  slot->ended = true;
  finish_if_ready(slot);
}

void ThreadPerTask::finish_if_ready(Slots::iterator slot) {
  if (slot->ended && slot->thread.joinable()) finished_.push_back(slot);
  if (all_ended()) all_ended_.notify_all();
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
  all_ended_.wait(lock, [&] { return all_ended(); });
  join_finished(lock);
}

std::uint64_t ThreadPerTask::threads_created() const noexcept {
  std::lock_guard lock(mutex_);
  return created_;
}

}  // namespace poolbench
