#pragma once

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <memory>

#include "pools/core/executor.hpp"
#include "pools/yardsticks/admission.hpp"

namespace poolbench {

/// A yardstick: tasks enqueued into a oneTBB `task_arena` of N slots, with the same
/// future semantics as every other executor. Each task carries only this executor's
/// address and its job: no reference count, no shared count beyond the Executor's own, so
/// its cost over `task_arena::enqueue` alone (the `raw/tbb_enqueue` row) is the adapter's.
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
  /// What oneTBB runs for one task: this executor and the job.
  struct Task;
  /// Runs or cancels `job` and counts how it ended: a task's last touch of this executor.
  void end(Job& job);

  std::size_t workers_;
  // oneTBB starts one thread fewer than the machine has PUs; N workers need a higher cap.
  std::unique_ptr<oneapi::tbb::global_control> parallelism_;
  oneapi::tbb::task_arena arena_;
  Admission admission_;
};

}  // namespace poolbench
