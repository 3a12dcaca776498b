#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "pools/core/block_pool.hpp"
#include "pools/core/errors.hpp"

namespace poolbench {

/// How a task ended; every submitted task ends exactly once with one of these.
enum class TaskOutcome : std::uint8_t { completed, failed, cancelled };

/// Receives the exceptions no future can hold: those thrown by done-callbacks and by
/// posted (fire-and-forget) tasks. They are reported, never propagated to the worker.
using UnobservedErrorHandler = void (*)(std::exception_ptr) noexcept;

/// Installs the handler for unobserved exceptions and returns the previous one; the
/// default prints one line to stderr. Pass nullptr to restore the default.
UnobservedErrorHandler set_unobserved_error_handler(UnobservedErrorHandler handler) noexcept;

/// Hands an exception that no future can hold to the installed handler.
void report_unobserved_error(std::exception_ptr error) noexcept;

template <class R>
class Future;

namespace detail {

class StateBase;

/// Lets a thread that is about to wait for a task help end it, e.g. by reading a worker
/// process's reply itself rather than being woken by the pool thread that would.
class WaitHelper {
 public:
  virtual ~WaitHelper() = default;
  /// Called, before it sleeps, by a thread waiting at most `limit` for `state`; may end it.
  virtual void help(const StateBase& state, std::chrono::nanoseconds limit) = 0;
};

/// The status and callbacks that every future's shared state has, whatever its value type.
class StateBase {
 public:
  /// 32 bits wide: waiting threads sleep on the status word itself (a futex).
  enum class Status : std::uint32_t { pending, running, completed, failed, cancelled };

  StateBase() = default;
  StateBase(const StateBase&) = delete;
  StateBase& operator=(const StateBase&) = delete;

  /// Moves pending → running; false when the task was cancelled first.
  bool try_start() noexcept;
  /// Moves pending → cancelled and runs the callbacks; true also when already cancelled.
  bool cancel();
  void set_exception(std::exception_ptr error);
  /// Ends the task as completed, with the value a State<R> stored already.
  void publish_completed() { finish(Status::completed, /*only_if_pending=*/false); }

  Status status() const noexcept { return static_cast<Status>(status_.load(std::memory_order_acquire)); }
  bool finished() const noexcept { return status() >= Status::completed; }
  void wait() const;
  bool wait_for(std::chrono::nanoseconds timeout) const;
  std::exception_ptr error() const noexcept { return error_; }
  /// True while a thread sleeps in `wait` or `wait_for`: a hint, stale as soon as read.
  bool has_waiters() const noexcept { return waiters_.load(std::memory_order_relaxed) > 0; }
  void add_callback(std::function<void()> callback);
  /// Installs the helper that waits consult; set by the executor before the future is
  /// handed out, never after.
  void set_wait_helper(std::shared_ptr<WaitHelper> helper) noexcept { helper_ = std::move(helper); }

 protected:
  /// Publishes a final status (a value is already stored; an error is stored here, only if
  /// this call wins) and runs the callbacks; false when the task had already ended (or
  /// started, with only_if_pending).
  bool finish(Status final_status, bool only_if_pending, std::exception_ptr error = nullptr);

 private:
  /// Stores the status with a seq_cst operation, ordered with a waiter's count and look.
  bool exchange_status(Status& expected, Status desired) noexcept;

  mutable std::mutex mutex_;  ///< guards callbacks_ and error_, and serialises the end
  mutable std::atomic<int> waiters_{0};
  std::atomic<std::uint32_t> status_{static_cast<std::uint32_t>(Status::pending)};
  std::exception_ptr error_;
  std::vector<std::function<void()>> callbacks_;
  std::shared_ptr<WaitHelper> helper_;
};

template <class R>
class State final : public StateBase {
 public:
  using Stored = std::conditional_t<std::is_void_v<R>, std::monostate, R>;

  template <class... V>
  void set_value(V&&... value) {
    store_value(std::forward<V>(value)...);
    publish_completed();
  }
  /// Stores the value without ending the task: nobody reads it before `publish_completed`.
  template <class... V>
  void store_value(V&&... value) {
    value_.emplace(std::forward<V>(value)...);
  }

  /// The stored value; throws ResultTakenError once `take_value` moved it out.
  const Stored& value() const {
    if (taken_.load(std::memory_order_acquire)) throw_taken();
    return *value_;
  }
  /// Moves the stored value out, once; throws ResultTakenError the second time.
  Stored take_value() {
    if (taken_.exchange(true, std::memory_order_acq_rel)) throw_taken();
    return std::move(*value_);
  }

 private:
  [[noreturn]] static void throw_taken() {
    throw ResultTakenError("the task's result was already taken from its future with take()");
  }

  std::optional<Stored> value_;
  std::atomic<bool> taken_{false};
};

/// What Future<R>::get returns: a reference to the shared result, or nothing.
template <class R>
struct ResultReference {
  using type = const R&;
};
template <>
struct ResultReference<void> {
  using type = void;
};

/// A new shared state from recycled memory: submitting a task allocates nothing once
/// the pool of states has warmed up.
template <class R>
std::shared_ptr<State<R>> make_state() {
  return std::allocate_shared<State<R>>(RecyclingAllocator<State<R>>{});
}

}  // namespace detail

/// The result of a submitted task, with Python's `concurrent.futures.Future` semantics.
/// Copies share one state, so any copy may wait, read the result or cancel.
template <class R>
class Future {
 public:
  using value_type = R;
  /// What `get` returns: a reference to the one result all copies share (void for void).
  using reference = typename detail::ResultReference<R>::type;

  Future() = default;
  explicit Future(std::shared_ptr<detail::State<R>> state) : state_(std::move(state)) {}

  bool valid() const noexcept { return state_ != nullptr; }

  /// Waits for the task and returns its value — the same object on every call, as
  /// Python returns it; rethrows its exception, or throws CancelledError when it was
  /// cancelled, ResultTakenError once `take` moved the value out.
  reference get() const {
    state_->wait();
    return value_or_throw();
  }

  /// Like `get`, but throws TimeoutError when the task has not ended within `timeout`.
  reference result(std::chrono::nanoseconds timeout) const {
    if (!state_->wait_for(timeout)) throw TimeoutError("the task did not end within the timeout");
    return value_or_throw();
  }

  /// Waits, then moves the value out, for results that cannot be copied (a UniqueFd, a
  /// std::unique_ptr); a later `take` or `get` on any copy throws ResultTakenError. Meant
  /// for the one consumer of a result: it must not race a `get` on another copy.
  R take() {
    state_->wait();
    value_or_throw();
    if constexpr (!std::is_void_v<R>) return state_->take_value();
  }

  void wait() const { state_->wait(); }
  /// True when the task ended within `timeout`.
  bool wait_for(std::chrono::nanoseconds timeout) const { return state_->wait_for(timeout); }

  /// True once the task completed, failed or was cancelled.
  bool done() const noexcept { return state_->finished(); }
  bool running() const noexcept { return status() == detail::StateBase::Status::running; }
  bool cancelled() const noexcept { return status() == detail::StateBase::Status::cancelled; }

  /// Cancels the task if it has not started; true if it is (now) cancelled.
  bool cancel() { return state_->cancel(); }

  /// Waits, then returns the task's exception, or nullptr when it succeeded;
  /// throws CancelledError when it was cancelled.
  std::exception_ptr exception() const {
    state_->wait();
    if (cancelled()) throw CancelledError("the task was cancelled before it started");
    return state_->error();
  }

  /// Calls `callback(future)` once the task ends, in the thread that ends it, or at once
  /// in the caller when it has already ended. Callbacks run in the order added; one
  /// that throws is reported (see set_unobserved_error_handler) and the others still run.
  template <class F>
  requires std::invocable < F&, const Future<R>
  & > void add_done_callback(F&& callback) const {
    state_->add_callback([self = *this, cb = std::forward<F>(callback)]() mutable { cb(self); });
  }

 private:
  detail::StateBase::Status status() const noexcept { return state_->status(); }

  reference value_or_throw() const {
    switch (status()) {
      case detail::StateBase::Status::cancelled:
        throw CancelledError("the task was cancelled before it started");
      case detail::StateBase::Status::failed:
        std::rethrow_exception(state_->error());
      default:
        if constexpr (std::is_void_v<R>) {
          return;
        } else {
          return state_->value();
        }
    }
  }

  std::shared_ptr<detail::State<R>> state_;
};

/// Waits until every future in `futures` has ended.
template <class Range>
void wait_all(const Range& futures) {
  for (const auto& future : futures) future.wait();
}

/// Waits until every future has ended or `timeout` has passed; true if all ended.
template <class Range>
bool wait_all(const Range& futures, std::chrono::nanoseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (const auto& future : futures) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (!future.wait_for(std::max<std::chrono::nanoseconds>(left, std::chrono::nanoseconds{0}))) return false;
  }
  return true;
}

/// Yields futures in the order they end, like Python's `as_completed`.
template <class R>
class AsCompleted {
 public:
  explicit AsCompleted(std::vector<Future<R>> futures)
      : futures_(std::move(futures)), ready_(std::make_shared<Ready>()) {
    for (std::size_t i = 0; i < futures_.size(); ++i) {
      futures_[i].add_done_callback([ready = ready_, i](const Future<R>&) {
        std::lock_guard lock(ready->mutex);
        ready->indices.push_back(i);
        ready->changed.notify_one();
      });
    }
  }

  /// The next future to end, blocking until there is one; nullopt once all were yielded.
  std::optional<Future<R>> next() { return next_until(std::chrono::steady_clock::time_point::max()); }

  /// Like `next`, but throws TimeoutError when no future ends within `timeout`.
  std::optional<Future<R>> next_for(std::chrono::nanoseconds timeout) {
    return next_until(std::chrono::steady_clock::now() + timeout);
  }

 private:
  struct Ready {
    std::mutex mutex;
    std::condition_variable changed;
    std::deque<std::size_t> indices;
  };

  std::optional<Future<R>> next_until(std::chrono::steady_clock::time_point deadline) {
    if (yielded_ == futures_.size()) return std::nullopt;
    std::unique_lock lock(ready_->mutex);
    if (!ready_->changed.wait_until(lock, deadline, [&] { return !ready_->indices.empty(); }))
      throw TimeoutError("no task ended within the timeout");
    const std::size_t index = ready_->indices.front();
    ready_->indices.pop_front();
    ++yielded_;
    return futures_[index];
  }

  std::vector<Future<R>> futures_;
  std::shared_ptr<Ready> ready_;
  std::size_t yielded_ = 0;
};

template <class R>
AsCompleted<R> as_completed(std::vector<Future<R>> futures) {
  return AsCompleted<R>(std::move(futures));
}

}  // namespace poolbench
