#include "pools/yardsticks/admission.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "pools/core/errors.hpp"

namespace poolbench {

void Admission::admit(std::string_view executor) const {
  // The Executor counted this task as submitted just before; this fence and the one in
  // wait_idle make the two orders of count-then-look and close-then-look sequentially
  // consistent, so either this look sees closed_ or shutdown's look sees the count.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (closed_.load(std::memory_order_relaxed))
    throw ExecutorShutdownError("cannot submit to " + std::string(executor) + ": it has been shut down");
}

TaskOutcome Admission::run(Job& job) const {
  if (cancel_pending_.load(std::memory_order_acquire)) return job.cancel();
  return job.run();
}

void Admission::close(bool cancel_pending) noexcept {
  if (cancel_pending) cancel_pending_.store(true, std::memory_order_release);
  closed_.store(true, std::memory_order_seq_cst);
}

void Admission::wait_idle(const std::function<std::uint64_t()>& unfinished) {
  std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with admit's fence
  auto pause = std::chrono::microseconds(20);
  for (int looks = 0; unfinished() != 0; ++looks) {
    if (looks < 64) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(pause);
      pause = std::min(2 * pause, std::chrono::microseconds(1000));
    }
  }
}

}  // namespace poolbench
