#include "pools/threads/thread_pool.hpp"

#include <chrono>
#include <system_error>
#include <utility>

#include <unistd.h>

#include "pools/machine/spin_wait.hpp"

namespace poolbench {

namespace {

/// Jobs the lock-free ring holds (96 KiB of cells); a longer backlog waits in the overflow.
constexpr std::size_t ring_capacity = 1024;
/// Most jobs a worker moves from the overflow into the ring under one lock.
constexpr std::size_t refill_batch = 256;

}  // namespace

ThreadPool::ThreadPool(std::size_t workers, Placement placement)
    : ring_(ring_capacity),
      idle_(require_workers(workers, name())),
      worker_tids_(std::make_unique<std::atomic<int>[]>(workers)),
      placement_(std::move(placement)) {
  // Whether idle threads may spin is settled here, once, not on a hot path.
  detail::can_spin();
  workers_.reserve(workers);
  try {
    for (std::size_t i = 0; i < workers; ++i) workers_.emplace_back([this, i] { work(i, placement_.for_worker(i)); });
  } catch (const std::system_error& e) {
    for (std::size_t never_started = workers_.size(); never_started < workers; ++never_started) idle_.leave();
    shutdown(true, true);
    throw ResourceError("thread-pool could only start " + std::to_string(workers_.size()) + " of " +
                        std::to_string(workers) + " worker threads: " + e.what());
  }
}

ThreadPool::~ThreadPool() { shutdown(); }

void ThreadPool::enqueue(Job job) {
  if (gate_.fetch_add(one_submit, std::memory_order_acq_rel) & closed_bit) {
    gate_.fetch_sub(one_submit, std::memory_order_release);
    throw ExecutorShutdownError("cannot submit to thread-pool: it has been shut down");
  }
  {
    struct Leave {
      std::atomic<std::uint64_t>& gate;
      ~Leave() { gate.fetch_sub(one_submit, std::memory_order_release); }
    } leave{gate_};
    push(job);
  }
  idle_.notify([this] { return queued(); });
}

void ThreadPool::push(Job& job) {
  // While anything waits in the overflow, new jobs queue behind it, so the order holds.
  if (overflowed_.load(std::memory_order_acquire) == 0 && ring_.try_push(job)) return;
  oneapi::tbb::spin_mutex::scoped_lock lock(overflow_mutex_);
  overflow_.push_back(std::move(job));
  overflowed_.store(overflow_.size(), std::memory_order_seq_cst);  // paired with IdleWorkers::notify
}

bool ThreadPool::take(Job& job) {
  if (ring_.try_pop(job)) return true;
  if (overflowed_.load(std::memory_order_acquire) == 0) return false;
  {
    oneapi::tbb::spin_mutex::scoped_lock lock(overflow_mutex_);
    if (!overflow_.empty()) {
      job = std::move(overflow_.front());
      overflow_.pop_front();
      for (std::size_t moved = 0; moved < refill_batch && !overflow_.empty(); ++moved) {
        if (!ring_.try_push(overflow_.front())) break;
        overflow_.pop_front();
      }
      overflowed_.store(overflow_.size(), std::memory_order_release);
      return true;
    }
  }
  // Another worker emptied the overflow into the ring meanwhile.
  return ring_.try_pop(job);
}

std::size_t ThreadPool::queued() const noexcept { return ring_.size() + overflowed_.load(std::memory_order_seq_cst); }

bool ThreadPool::spin_for_work() {
  if (spinning_.exchange(true, std::memory_order_acquire)) return false;
  const bool arrived = detail::spin_until([this] { return queued() != 0; }, std::chrono::microseconds(20));
  spinning_.store(false, std::memory_order_release);
  return arrived;
}

std::vector<WorkerThread> ThreadPool::worker_threads() const {
  std::vector<WorkerThread> threads;
  const int pid = ::getpid();
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    // A worker not yet scheduled since the pool started publishes its id as it first runs.
    int tid;
    while ((tid = worker_tids_[i].load(std::memory_order_acquire)) == 0) std::this_thread::yield();
    threads.push_back({pid, tid});
  }
  return threads;
}

void ThreadPool::work(std::size_t index, const CpuSet* cpus) {
  worker_tids_[index].store(static_cast<int>(::gettid()), std::memory_order_release);
  if (cpus) {
    try {
      cpus->bind_this_thread();
    } catch (const Error&) {
      report_unobserved_error(std::current_exception());
    }
  }
  // A worker counts as searching from when it finds the queue empty until it takes a job
  // (or parks), so a worker working through a backlog touches no shared count per job.
  bool searching = true;
  Job job;
  for (;;) {
    if (take(job)) {
      // A searcher that finds work wakes another for what is left, so a backlog is shared
      // out by every woken worker at once, not only by the submitter.
      if (std::exchange(searching, false)) {
        idle_.stop_searching();
        if (queued() != 0) idle_.notify([this] { return queued(); });
      }
      record(job.run());
      continue;
    }
    if (!std::exchange(searching, true)) idle_.start_searching();
    // Once sealed nothing more is queued, so what queued() then misses is taken already.
    if (sealed()) {
      if (queued() != 0) continue;
      idle_.leave();
      return;
    }
    if (spin_for_work()) continue;
    idle_.park(index, [this] { return queued() != 0; });
  }
}

void ThreadPool::shutdown(bool wait, bool cancel_pending) {
  gate_.fetch_or(closed_bit, std::memory_order_acq_rel);
  // A submit that got through the gate is putting its job in the queue: a few nanoseconds.
  while (!sealed()) std::this_thread::yield();
  if (cancel_pending) {
    Job job;
    while (take(job)) record(job.cancel());
  }
  idle_.close();
  if (wait) join_workers();
}

void ThreadPool::join_workers() {
  std::lock_guard lock(join_mutex_);
  for (auto& worker : workers_) {
    if (worker.joinable() && worker.get_id() != std::this_thread::get_id()) worker.join();
  }
}

}  // namespace poolbench
