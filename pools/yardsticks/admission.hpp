#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

#include "pools/core/job.hpp"

namespace poolbench {

/// Admission and drain bookkeeping for executors whose queue belongs to a library
/// (oneTBB, Boost.Asio) and so cannot be inspected: it refuses work after shutdown,
/// cancels not-yet-started work when asked, and lets shutdown wait for admitted work.
class Admission {
 public:
  /// Admits one task; throws ExecutorShutdownError (naming `executor`) once closed.
  void admit(std::string_view executor);
  /// Runs an admitted job, or cancels it if shutdown asked to cancel pending work.
  TaskOutcome run(Job& job);
  /// Marks one admitted task as ended; call after its outcome has been recorded.
  void release() noexcept;
  /// Refuses further tasks; with `cancel_pending`, admitted tasks not yet started are cancelled.
  void close(bool cancel_pending) noexcept;
  /// Blocks until every admitted task has been released.
  void wait_idle() const noexcept;

 private:
  std::atomic<std::int64_t> in_flight_{0};
  std::atomic<bool> closed_{false};
  std::atomic<bool> cancel_pending_{false};
};

}  // namespace poolbench
