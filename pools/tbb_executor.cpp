#include "pools/tbb_executor.hpp"

#include <oneapi/tbb/info.h>

namespace poolbench {

TbbExecutor::TbbExecutor(std::size_t workers)
    : workers_(require_workers(workers, "tbb")),
      arena_(static_cast<int>(workers), /*reserved_for_masters=*/0) {
  if (static_cast<int>(workers) > oneapi::tbb::info::default_concurrency())
    parallelism_ = std::make_unique<oneapi::tbb::global_control>(
        oneapi::tbb::global_control::max_allowed_parallelism, workers + 1);
  arena_.initialize();
}

TbbExecutor::~TbbExecutor() { shutdown(); }

void TbbExecutor::enqueue(Job job) {
  admission_->admit(name());
  try {
    // oneTBB calls the functor as const; the job inside is still run exactly once.
    struct Run {
      TbbExecutor* self;
      std::shared_ptr<Admission> admission;
      mutable Job job;
      void operator()() const {
        self->record(admission->run(job));
        admission->release();
      }
    };
    arena_.enqueue(Run{this, admission_, std::move(job)});
  } catch (...) {
    admission_->release();
    throw;
  }
}

void TbbExecutor::shutdown(bool wait, bool cancel_pending) {
  admission_->close(cancel_pending);
  if (wait) admission_->wait_idle();
}

}  // namespace poolbench
