#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include <oneapi/tbb/spin_mutex.h>

#include "pools/core/executor.hpp"
#include "pools/core/fifo.hpp"
#include "pools/machine/cpu_set.hpp"
#include "pools/threads/bounded_queue.hpp"
#include "pools/threads/idle_workers.hpp"

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
  /// Every worker thread, in worker order; waits for any not yet started.
  std::vector<WorkerThread> worker_threads() const override;
  void shutdown(bool wait = true, bool cancel_pending = false) override;

 protected:
  void enqueue(Job job) override;

 private:
  void work(std::size_t index, const CpuSet* cpus);
  /// Queues `job`: in the ring while it has room and nothing waits in the overflow.
  void push(Job& job);
  /// Takes the oldest queued job into `job`; false when none is queued.
  bool take(Job& job);
  /// How many jobs are queued (claimed by a submitter and not yet taken): a snapshot, read
  /// with seq_cst loads as IdleWorkers::park asks.
  std::size_t queued() const noexcept;
  /// True once shut down with no submit still under way: nothing more can be queued.
  bool sealed() const noexcept { return gate_.load(std::memory_order_acquire) == closed_bit; }
  void join_workers();
  /// Spins briefly for work to arrive before the caller parks: a task submitted within
  /// that window then costs no wake-up. At most one worker spins, and none on a single
  /// CPU, where spinning would only delay the submitter. True when work arrived.
  bool spin_for_work();

  static constexpr std::uint64_t closed_bit = 1;
  static constexpr std::uint64_t one_submit = 2;

  /// Submits under way (in units of `one_submit`) and whether shutdown closed the pool:
  /// one word, so a submit and a shutdown agree on whether the submit got in.
  alignas(64) std::atomic<std::uint64_t> gate_{0};
  /// Where jobs wait while the backlog is small: producers and workers never block each other.
  BoundedQueue<Job> ring_;
  /// Where jobs wait once the ring is full, in order, until a worker moves a batch of them
  /// into the ring: so a large backlog costs the workers one lock per batch, not per job.
  /// Grows by doubling and never shrinks, so queueing costs no allocation once warm.
  oneapi::tbb::spin_mutex overflow_mutex_;
  Fifo<Job> overflow_;
  std::atomic<std::size_t> overflowed_{0};  ///< overflow_.size(), readable without the lock
  std::atomic<bool> spinning_{false};
  IdleWorkers idle_;
  std::vector<std::thread> workers_;
  /// Each worker's thread id, written once as it starts (0 until then).
  std::unique_ptr<std::atomic<int>[]> worker_tids_;
  std::mutex join_mutex_;
  Placement placement_;
};

}  // namespace poolbench
