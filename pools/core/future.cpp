#include "pools/core/future.hpp"

#include <atomic>
#include <cstdio>
#include <typeinfo>

#include "pools/core/futex.hpp"

namespace poolbench {
namespace {

void print_unobserved_error(std::exception_ptr error) noexcept {
  try {
    std::rethrow_exception(std::move(error));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "poolbench: a done-callback or posted task threw: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "poolbench: a done-callback or posted task threw a non-standard exception\n");
  }
}

std::atomic<UnobservedErrorHandler> unobserved_error_handler{&print_unobserved_error};

}  // namespace

UnobservedErrorHandler set_unobserved_error_handler(UnobservedErrorHandler handler) noexcept {
  return unobserved_error_handler.exchange(handler ? handler : &print_unobserved_error);
}

void report_unobserved_error(std::exception_ptr error) noexcept { unobserved_error_handler.load()(std::move(error)); }

namespace detail {

bool StateBase::exchange_status(Status& expected, Status desired) noexcept {
  auto raw = static_cast<std::uint32_t>(expected);
  const bool done =
      status_.compare_exchange_strong(raw, static_cast<std::uint32_t>(desired), std::memory_order_seq_cst);
  expected = static_cast<Status>(raw);
  return done;
}

bool StateBase::try_start() noexcept {
  auto expected = Status::pending;
  return exchange_status(expected, Status::running);
}

bool StateBase::cancel() {
  if (finish(Status::cancelled, /*only_if_pending=*/true)) return true;
  return status() == Status::cancelled;
}

void StateBase::set_exception(std::exception_ptr error) {
  finish(Status::failed, /*only_if_pending=*/false, std::move(error));
}

bool StateBase::finish(Status final_status, bool only_if_pending, std::exception_ptr error) {
  std::vector<std::function<void()>> callbacks;
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    Status now = status();
    // Only finish() ends a future, always under this lock, so a state found unfinished
    // here stays unfinished: the error can be stored before the status publishes it.
    if (now >= Status::completed || (only_if_pending && now != Status::pending)) return false;
    if (error) error_ = std::move(error);
    while (!exchange_status(now, final_status)) {
      if (only_if_pending && now != Status::pending) return false;
    }
    callbacks.swap(callbacks_);
    // After the seq_cst store: a waiter counted later sees the new status before it sleeps.
    wake = waiters_.load(std::memory_order_seq_cst) > 0;
  }
  if (wake) futex_wake_all(status_);
  for (auto& callback : callbacks) {
    try {
      callback();
    } catch (...) {
      report_unobserved_error(std::current_exception());
    }
  }
  return true;
}

void StateBase::wait() const { wait_for(std::chrono::nanoseconds::max()); }

bool StateBase::wait_for(std::chrono::nanoseconds timeout) const {
  if (finished()) return true;
  const auto start = std::chrono::steady_clock::now();
  const bool forever = timeout >= std::chrono::steady_clock::time_point::max() - start;
  const auto deadline = forever ? std::chrono::steady_clock::time_point::max() : start + timeout;
  if (helper_) {
    helper_->help(*this, timeout);
    if (finished()) return true;
  }
  waiters_.fetch_add(1, std::memory_order_seq_cst);
  for (auto now = status_.load(std::memory_order_seq_cst); static_cast<Status>(now) < Status::completed;
       now = status_.load(std::memory_order_seq_cst)) {
    std::chrono::nanoseconds left(-1);  // no limit
    if (!forever) {
      left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - std::chrono::steady_clock::now());
      if (left <= std::chrono::nanoseconds::zero()) break;
    }
    futex_wait(status_, now, left);
  }
  waiters_.fetch_sub(1, std::memory_order_relaxed);
  return finished();
}

void StateBase::add_callback(std::function<void()> callback) {
  {
    std::unique_lock lock(mutex_);
    if (!finished()) {
      callbacks_.push_back(std::move(callback));
      return;
    }
  }
  try {
    callback();
  } catch (...) {
    report_unobserved_error(std::current_exception());
  }
}

}  // namespace detail
}  // namespace poolbench
