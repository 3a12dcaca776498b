#include "pools/thread_pool.hpp"

#include <chrono>
#include <system_error>

#include "pools/spin_wait.hpp"

namespace poolbench {

ThreadPool::ThreadPool(std::size_t workers, Placement placement) : placement_(std::move(placement)) {
  require_workers(workers, name());
  // Whether idle threads may spin is settled here, once, not on a hot path.
  detail::can_spin();
  workers_.reserve(workers);
  try {
    for (std::size_t i = 0; i < workers; ++i)
      workers_.emplace_back([this, i] { work(i, placement_.for_worker(i)); });
  } catch (const std::system_error& e) {
    shutdown(true, true);
    throw ResourceError("thread-pool could only start " + std::to_string(workers_.size()) + " of " +
                        std::to_string(workers) + " worker threads: " + e.what());
  }
}

ThreadPool::~ThreadPool() { shutdown(); }

void ThreadPool::enqueue(Job job) {
  std::unique_lock lock(mutex_);
  if (stopping_) throw ExecutorShutdownError("cannot submit to thread-pool: it has been shut down");
  queue_.push_back(std::move(job));
  queued_.store(queue_.size(), std::memory_order_release);
  wake_one_if_needed(lock);
}

void ThreadPool::wake_one_if_needed(std::unique_lock<std::mutex>& lock) {
  // A searching or already-woken worker will find the job; one that takes a job while
  // more are queued wakes the next. So a burst of submits costs a few wake-ups, not one each.
  if (searching_ > 0 || wake_tokens_ > 0 || sleeping_ == 0) return;
  ++wake_tokens_;
  lock.unlock();
  wake_.notify_one();
  lock.lock();
}

void ThreadPool::spin_for_work(std::unique_lock<std::mutex>& lock) {
  if (spinning_) return;
  spinning_ = true;
  lock.unlock();
  detail::spin_until([this] { return queued_.load(std::memory_order_acquire) != 0; }, std::chrono::microseconds(20));
  lock.lock();
  spinning_ = false;
}

void ThreadPool::work(std::size_t, const CpuSet* cpus) {
  if (cpus) {
    try {
      cpus->bind_this_thread();
    } catch (const Error&) {
      report_unobserved_error(std::current_exception());
    }
  }
  std::unique_lock lock(mutex_);
  ++searching_;
  bool spun = false;
  for (;;) {
    if (!queue_.empty()) {
      Job job = std::move(queue_.front());
      queue_.pop_front();
      queued_.store(queue_.size(), std::memory_order_release);
      --searching_;
      if (!queue_.empty()) wake_one_if_needed(lock);
      lock.unlock();
      record(job.run());
      lock.lock();
      ++searching_;
      spun = false;
      continue;
    }
    if (stopping_) {
      --searching_;
      return;
    }
    if (!spun) {
      spin_for_work(lock);
      spun = true;
      continue;
    }
    --searching_;
    ++sleeping_;
    wake_.wait(lock, [&] { return wake_tokens_ > 0 || stopping_; });
    --sleeping_;
    if (wake_tokens_ > 0) --wake_tokens_;
    ++searching_;
    spun = false;
  }
}

void ThreadPool::shutdown(bool wait, bool cancel_pending) {
  Fifo<Job> dropped;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    if (cancel_pending) {
      dropped.swap(queue_);
      queued_.store(0, std::memory_order_release);
    }
  }
  wake_.notify_all();
  for (auto& job : dropped) record(job.cancel());
  if (wait) join_workers();
}

void ThreadPool::join_workers() {
  std::lock_guard lock(join_mutex_);
  for (auto& worker : workers_) {
    if (worker.joinable() && worker.get_id() != std::this_thread::get_id()) worker.join();
  }
}

}  // namespace poolbench
