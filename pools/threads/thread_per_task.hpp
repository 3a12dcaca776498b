#pragma once

#include <condition_variable>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

#include "pools/core/executor.hpp"

namespace poolbench {

/// A new OS thread for every task, joined when it ends or at shutdown — the seed's
/// thread-per-connection server. Measures what a pool saves: the cost of creating threads.
/// When the OS refuses a thread, that task fails with ResourceError.
class ThreadPerTask final : public Executor {
 public:
  ThreadPerTask() = default;
  ~ThreadPerTask() override { shutdown(); }

  std::string_view name() const noexcept override { return "thread-per-task"; }
  std::size_t worker_count() const noexcept override { return 0; }
  void shutdown(bool wait = true, bool cancel_pending = false) override;

  std::uint64_t threads_created() const noexcept override;

 protected:
  void enqueue(Job job) override;

 private:
  struct Slot {
    Job job;
    std::thread thread;  ///< set by the creator once the thread exists
    bool ended = false;  ///< set by the thread when its task has ended
  };
  using Slots = std::list<Slot>;

  void run(Slots::iterator slot);
  /// Queues `slot` for joining once both its thread object is set and its task has ended.
  void finish_if_ready(Slots::iterator slot);
  void join_finished(std::unique_lock<std::mutex>& lock);
  bool all_ended() const { return creating_ == 0 && finished_.size() == running_.size(); }

  mutable std::mutex mutex_;
  std::condition_variable all_ended_;
  Slots running_;
  std::vector<Slots::iterator> finished_;
  std::uint64_t created_ = 0;
  std::size_t creating_ = 0;  ///< threads being created outside the lock
  bool stopping_ = false;
};

}  // namespace poolbench
