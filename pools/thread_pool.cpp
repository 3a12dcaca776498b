#include "pools/thread_pool.hpp"

#include <system_error>

namespace poolbench {

ThreadPool::ThreadPool(std::size_t workers, Placement placement) : placement_(std::move(placement)) {
  require_workers(workers, name());
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
  const bool wake = idle_ > 0;
  lock.unlock();
  if (wake) wake_.notify_one();
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
  for (;;) {
    if (queue_.empty()) {
      if (stopping_) return;
      ++idle_;
      wake_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      --idle_;
      continue;
    }
    Job job = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    record(job.run());
    lock.lock();
  }
}

void ThreadPool::shutdown(bool wait, bool cancel_pending) {
  std::deque<Job> dropped;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    if (cancel_pending) dropped.swap(queue_);
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
