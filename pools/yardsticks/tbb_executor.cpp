#include "pools/yardsticks/tbb_executor.hpp"

#include <oneapi/tbb/info.h>

#include "pools/core/tsan_annotations.hpp"

namespace poolbench {

// oneTBB calls the functor as const; the job inside is still run exactly once. oneTBB is
// not built with ThreadSanitizer, so the hand-off is annotated for it.
struct TbbExecutor::Task {
  TbbExecutor* executor;
  mutable Job job;

  Task(TbbExecutor* e, Job j) : executor(e), job(std::move(j)) { tsan_published(this); }
  Task(Task&& other) noexcept : executor(other.executor), job(std::move(other.job)) { tsan_published(this); }
  void operator()() const {
    tsan_received(const_cast<Task*>(this));
    executor->end(job);
  }
};

TbbExecutor::TbbExecutor(std::size_t workers)
    : workers_(require_workers(workers, "tbb")), arena_(static_cast<int>(workers), /*reserved_for_masters=*/0) {
  if (static_cast<int>(workers) + 1 > oneapi::tbb::info::default_concurrency())
    parallelism_ = std::make_unique<oneapi::tbb::global_control>(oneapi::tbb::global_control::max_allowed_parallelism,
                                                                 workers + 1);
  arena_.initialize();
}

TbbExecutor::~TbbExecutor() { shutdown(); }

void TbbExecutor::enqueue(Job job) {
  admission_.admit(name());
  arena_.enqueue(Task(this, std::move(job)));
}

void TbbExecutor::end(Job& job) {
  // The job's body is gone once it has run or been cancelled; counting its end is the
  // last touch of this executor, which shutdown may then destroy.
  record(admission_.run(job));
}

void TbbExecutor::shutdown(bool wait, bool cancel_pending) {
  admission_.close(cancel_pending);
  if (wait) Admission::wait_idle([this] { return unfinished(); });
}

}  // namespace poolbench
