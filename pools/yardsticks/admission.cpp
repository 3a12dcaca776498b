#include "pools/yardsticks/admission.hpp"

#include <string>

namespace poolbench {

void Admission::admit(std::string_view executor) {
  in_flight_.fetch_add(1, std::memory_order_seq_cst);
  if (closed_.load(std::memory_order_seq_cst)) {
    release();
    throw ExecutorShutdownError("cannot submit to " + std::string(executor) + ": it has been shut down");
  }
}

TaskOutcome Admission::run(Job& job) {
  if (cancel_pending_.load(std::memory_order_acquire)) return job.cancel();
  return job.run();
}

void Admission::release() noexcept {
  if (in_flight_.fetch_sub(1, std::memory_order_acq_rel) == 1) in_flight_.notify_all();
}

void Admission::close(bool cancel_pending) noexcept {
  if (cancel_pending) cancel_pending_.store(true, std::memory_order_release);
  closed_.store(true, std::memory_order_seq_cst);
}

void Admission::wait_idle() const noexcept {
  for (auto n = in_flight_.load(std::memory_order_acquire); n != 0; n = in_flight_.load(std::memory_order_acquire))
    in_flight_.wait(n, std::memory_order_acquire);
}

}  // namespace poolbench
