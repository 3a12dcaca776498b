#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pools/core/future.hpp"
#include "pools/core/task_registry.hpp"

namespace poolbench {

/// The receiving end of a task that runs in another process: it starts, receives the
/// encoded result, fails or is cancelled, exactly once. A value: the future's shared state
/// and how to decode into it, so handing a task over allocates nothing for it.
class RemoteCompletion {
 public:
  /// Ends in `state`, decoding an `R`.
  template <class R>
  static RemoteCompletion into(std::shared_ptr<detail::State<R>> state) noexcept {
    return RemoteCompletion(std::move(state), &stage_into<R>);
  }
  /// Ends nowhere (a posted task): a failure goes to the unobserved-error handler.
  static RemoteCompletion detached() noexcept { return RemoteCompletion(nullptr, nullptr); }

  /// True when someone may wait for the result (a future), false for a posted task.
  bool waitable() const noexcept { return state_ != nullptr; }
  /// True while a thread sleeps waiting for the result.
  bool has_waiters() const noexcept { return state_ && state_->has_waiters(); }
  /// Identifies the future's state, as WaitHelper::help sees it.
  const void* tag() const noexcept { return state_.get(); }
  /// See StateBase::set_wait_helper: only before the future is handed out.
  void set_wait_helper(std::shared_ptr<detail::WaitHelper> helper) noexcept {
    if (state_) state_->set_wait_helper(std::move(helper));
  }
  /// Moves the task to running; false when it was cancelled first.
  bool start() noexcept { return !state_ || state_->try_start(); }
  /// Decodes the worker's result into the future without ending the task, so a reply is
  /// checked whole before anything is made of it. Throws WorkerProtocolError when the
  /// result is malformed (short, an invalid value, bytes left over): the worker, not the
  /// task, is at fault.
  void stage(WireReader& result) {
    if (state_) stage_(*state_, result);
  }
  /// Ends the task with the value `stage` decoded.
  TaskOutcome publish() noexcept {
    if (state_) state_->publish_completed();
    return TaskOutcome::completed;
  }
  void fail(std::exception_ptr error) noexcept {
    if (state_) {
      state_->set_exception(std::move(error));
    } else {
      report_unobserved_error(std::move(error));
    }
  }
  void cancel() noexcept {
    if (state_) state_->cancel();
  }

 private:
  using Stage = void (*)(detail::StateBase&, WireReader&);

  RemoteCompletion(std::shared_ptr<detail::StateBase> state, Stage stage) noexcept
      : state_(std::move(state)), stage_(stage) {}

  template <class R>
  static void stage_into(detail::StateBase& base, WireReader& result) {
    auto& state = static_cast<detail::State<R>&>(base);
    try {
      if constexpr (std::is_void_v<R>) {
        result.expect_end();
        state.store_value();
      } else {
        R value = result.get<R>();
        result.expect_end();
        state.store_value(std::move(value));
      }
    } catch (const std::exception& e) {
      throw WorkerProtocolError(std::string("the worker's result is malformed: ") + e.what());
    }
  }

  std::shared_ptr<detail::StateBase> state_;
  Stage stage_;
};

/// A registered task on its way to a worker process: `request` is the whole encoded
/// message (task id, then arguments), sent as is.
struct RemoteCall {
  const std::string* task_name = nullptr;
  WireBytes request;
  std::vector<UniqueFd> fds;
  RemoteCompletion completion;
  std::uintptr_t submitter = 0;     ///< the submitting thread, for executors that tell threads apart
  std::exception_ptr remote_error;  ///< what the task threw in the worker, once its reply is read
};

}  // namespace poolbench
