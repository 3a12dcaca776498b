#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "pools/cpu_set.hpp"
#include "pools/executor.hpp"
#include "pools/fifo.hpp"

namespace poolbench {

/// N long-lived worker threads sharing one task queue — `ThreadPoolExecutor(N)`. The
/// threads are created once in the constructor and reused for every task.
class ThreadPool final : public Executor {
 public:
  /// Starts `workers` threads (at least 1), each bound per `placement`; throws
  /// ResourceError when the OS refuses a thread.
  explicit ThreadPool(std::size_t workers, Placement placement = {});
  ~ThreadPool() override;

  std::string_view name() const noexcept override { return "thread-pool"; }
  std::size_t worker_count() const noexcept override { return workers_.size(); }
  std::uint64_t threads_created() const noexcept override { return workers_.size(); }
  void shutdown(bool wait = true, bool cancel_pending = false) override;

 protected:
  void enqueue(Job job) override;

 private:
  void work(std::size_t index, const CpuSet* cpus);
  void join_workers();
  /// Wakes one sleeping worker unless one is already awake to take queued work.
  void wake_one_if_needed(std::unique_lock<std::mutex>& lock);
  /// Spins briefly, unlocked, for work to arrive before the caller goes to sleep: a task
  /// submitted within that window then costs no wake-up. At most one worker spins, and
  /// none on a single CPU, where spinning would only delay the submitter.
  void spin_for_work(std::unique_lock<std::mutex>& lock);

  std::mutex mutex_;
  std::condition_variable wake_;
  /// Grows by doubling and never shrinks, so queueing costs no allocation once warm.
  Fifo<Job> queue_;
  std::atomic<std::size_t> queued_{0};  ///< queue_.size(), readable without the lock
  // Worker states, under mutex_: looking for work, asleep, or woken but not yet running.
  std::size_t searching_ = 0;
  std::size_t sleeping_ = 0;
  std::size_t wake_tokens_ = 0;
  bool spinning_ = false;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
  std::mutex join_mutex_;
  Placement placement_;
};

}  // namespace poolbench
