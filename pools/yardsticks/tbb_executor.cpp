#include "pools/yardsticks/tbb_executor.hpp"

#include <oneapi/tbb/info.h>

#include "pools/core/tsan_annotations.hpp"

namespace poolbench {

TbbExecutor::TbbExecutor(std::size_t workers)
    : workers_(require_workers(workers, "tbb")), arena_(static_cast<int>(workers), /*reserved_for_masters=*/0) {
  if (static_cast<int>(workers) + 1 > oneapi::tbb::info::default_concurrency())
    parallelism_ = std::make_unique<oneapi::tbb::global_control>(oneapi::tbb::global_control::max_allowed_parallelism,
                                                                 workers + 1);
  arena_.initialize();
}

TbbExecutor::~TbbExecutor() { shutdown(); }

void TbbExecutor::enqueue(Job job) {
  admission_->admit(name());
  try {
    // oneTBB calls the functor as const; the job inside is still run exactly once.
    // oneTBB is not built with ThreadSanitizer, so the hand-off is annotated for it.
    struct Run {
      TbbExecutor* self;
      std::shared_ptr<Admission> admission;
      mutable Job job;

      Run(TbbExecutor* s, std::shared_ptr<Admission> a, Job j) : self(s), admission(std::move(a)), job(std::move(j)) {
        tsan_published(this);
      }
      Run(Run&& other) noexcept : self(other.self), admission(std::move(other.admission)), job(std::move(other.job)) {
        tsan_published(this);
      }
      void operator()() const {
        tsan_received(const_cast<Run*>(this));
        self->record(admission->run(job));
        admission->release();
      }
    };
    arena_.enqueue(Run(this, admission_, std::move(job)));
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
