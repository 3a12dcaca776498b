#pragma once

#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pools/future.hpp"
#include "pools/task_registry.hpp"

namespace poolbench {

/// The receiving end of a task that runs in another process: it starts, receives the
/// encoded result, fails or is cancelled, exactly once.
class RemoteCompletion {
 public:
  virtual ~RemoteCompletion() = default;
  /// Moves the task to running; false when it was cancelled first.
  virtual bool start() noexcept = 0;
  /// Decodes the worker's reply into the future; a malformed reply fails the task.
  virtual TaskOutcome deliver(WireReader& result) noexcept = 0;
  virtual void fail(std::exception_ptr error) noexcept = 0;
  virtual void cancel() noexcept = 0;
};

/// A registered task on its way to a worker process: `request` is the whole encoded
/// message (task id, then arguments), sent as is.
struct RemoteCall {
  const std::string* task_name = nullptr;
  std::string request;
  std::vector<UniqueFd> fds;
  std::unique_ptr<RemoteCompletion> completion;
};

namespace detail {

template <class R>
class FutureCompletion final : public RemoteCompletion {
 public:
  explicit FutureCompletion(std::shared_ptr<State<R>> state) : state_(std::move(state)) {}
  bool start() noexcept override { return state_->try_start(); }
  TaskOutcome deliver(WireReader& result) noexcept override {
    try {
      if constexpr (std::is_void_v<R>) {
        state_->set_value();
      } else {
        state_->set_value(result.get<R>());
      }
      return TaskOutcome::completed;
    } catch (...) {
      state_->set_exception(std::current_exception());
      return TaskOutcome::failed;
    }
  }
  void fail(std::exception_ptr error) noexcept override { state_->set_exception(std::move(error)); }
  void cancel() noexcept override { state_->cancel(); }

 private:
  std::shared_ptr<State<R>> state_;
};

class DetachedCompletion final : public RemoteCompletion {
 public:
  bool start() noexcept override { return true; }
  TaskOutcome deliver(WireReader&) noexcept override { return TaskOutcome::completed; }
  void fail(std::exception_ptr error) noexcept override { report_unobserved_error(std::move(error)); }
  void cancel() noexcept override {}
};

}  // namespace detail
}  // namespace poolbench
