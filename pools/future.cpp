#include "pools/future.hpp"

#include <atomic>
#include <cstdio>
#include <typeinfo>

namespace poolbench {
namespace {

void print_unobserved_error(std::exception_ptr error) noexcept {
  try {
    std::rethrow_exception(error);
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

void report_unobserved_error(std::exception_ptr error) noexcept {
  unobserved_error_handler.load()(std::move(error));
}

namespace detail {

bool StateBase::try_start() noexcept {
  auto expected = Status::pending;
  return status_.compare_exchange_strong(expected, Status::running, std::memory_order_acq_rel);
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
    Status now = status_.load(std::memory_order_acquire);
    // Only finish() ends a future, always under this lock, so a state found unfinished
    // here stays unfinished: the error can be stored before the status publishes it.
    if (now >= Status::completed || (only_if_pending && now != Status::pending)) return false;
    if (error) error_ = std::move(error);
    do {
      if (only_if_pending && now != Status::pending) return false;
    } while (!status_.compare_exchange_weak(now, final_status, std::memory_order_acq_rel));
    callbacks.swap(callbacks_);
    wake = waiters_.load(std::memory_order_relaxed) > 0;
  }
  if (wake) done_.notify_all();
  for (auto& callback : callbacks) {
    try {
      callback();
    } catch (...) {
      report_unobserved_error(std::current_exception());
    }
  }
  return true;
}

void StateBase::wait() const {
  if (finished()) return;
  if (helper_) {
    helper_->help(*this, std::chrono::nanoseconds::max());
    if (finished()) return;
  }
  std::unique_lock lock(mutex_);
  waiters_.fetch_add(1, std::memory_order_relaxed);
  done_.wait(lock, [&] { return finished(); });
  waiters_.fetch_sub(1, std::memory_order_relaxed);
}

bool StateBase::wait_for(std::chrono::nanoseconds timeout) const {
  if (finished()) return true;
  if (helper_) {
    const auto start = std::chrono::steady_clock::now();
    helper_->help(*this, timeout);
    if (finished()) return true;
    timeout -= std::chrono::steady_clock::now() - start;
  }
  std::unique_lock lock(mutex_);
  waiters_.fetch_add(1, std::memory_order_relaxed);
  const bool ended = done_.wait_for(lock, timeout, [&] { return finished(); });
  waiters_.fetch_sub(1, std::memory_order_relaxed);
  return ended;
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
