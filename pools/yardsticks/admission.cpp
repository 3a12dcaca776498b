#include "pools/yardsticks/admission.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "pools/core/errors.hpp"

namespace poolbench {

void Admission::admit(std::string_view executor) const {
  // The Executor counted this task as submitted just before, sequentially consistent as
  // this look and close() are: either this look sees closed_ or shutdown's count sees the task.
  if (closed_.load(std::memory_order_seq_cst))
    throw ExecutorShutdownError("cannot submit to " + std::string(executor) + ": it has been shut down");
}

void Admission::close(bool cancel_pending) noexcept {
  if (cancel_pending) cancel_pending_.store(true, std::memory_order_release);
  closed_.store(true, std::memory_order_seq_cst);
}

void Admission::wait_idle(const std::function<std::uint64_t()>& unfinished) {
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
