#pragma once

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <memory>

#include "pools/core/executor.hpp"
#include "pools/yardsticks/admission.hpp"

namespace poolbench {

/// A yardstick: tasks enqueued into a oneTBB `task_arena` of N slots, with the same
/// future semantics as every other executor.
class TbbExecutor final : public Executor {
 public:
  explicit TbbExecutor(std::size_t workers);
  ~TbbExecutor() override;

  std::string_view name() const noexcept override { return "tbb"; }
  std::size_t worker_count() const noexcept override { return workers_; }
  std::uint64_t threads_created() const noexcept override { return workers_; }
  void shutdown(bool wait = true, bool cancel_pending = false) override;

 protected:
  void enqueue(Job job) override;

 private:
  std::size_t workers_;
  // oneTBB starts one thread fewer than the machine has PUs; N workers need a higher cap.
  std::unique_ptr<oneapi::tbb::global_control> parallelism_;
  oneapi::tbb::task_arena arena_;
  // Shared with queued tasks: the last one may release it after shutdown has returned.
  std::shared_ptr<Admission> admission_ = std::make_shared<Admission>();
};

}  // namespace poolbench
