#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string_view>

#include "pools/core/job.hpp"

namespace poolbench {

/// Admission and drain bookkeeping for executors whose queue belongs to a library
/// (oneTBB, Boost.Asio) and so cannot be inspected: it refuses work after shutdown,
/// cancels not-yet-started work when asked, and lets shutdown wait for admitted work.
/// It keeps no count of its own: the Executor already counts every task submitted and
/// ended, so a task costs it two reads of flags written only at shutdown, and no shared
/// write (see docs/design.md, "Yardsticks").
class Admission {
 public:
  /// Admits one task that the Executor has already counted as submitted; throws
  /// ExecutorShutdownError (naming `executor`) once closed, and the Executor uncounts it.
  void admit(std::string_view executor) const;
  /// Runs an admitted job, or cancels it if shutdown asked to cancel pending work.
  TaskOutcome run(Job& job) const {
    if (cancel_pending_.load(std::memory_order_acquire)) return job.cancel();
    return job.run();
  }
  /// Refuses further tasks; with `cancel_pending`, admitted tasks not yet started are cancelled.
  void close(bool cancel_pending) noexcept;
  /// After close(): blocks until `unfinished()` (the Executor's submitted - ended) is 0.
  /// A task's end signals nobody, so it looks again after a yield, then after sleeps
  /// doubling from 20 us to 1 ms: shutdown may return up to 1 ms after the last task ended.
  static void wait_idle(const std::function<std::uint64_t()>& unfinished);

 private:
  std::atomic<bool> closed_{false};
  std::atomic<bool> cancel_pending_{false};
};

}  // namespace poolbench
