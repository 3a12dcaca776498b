#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace poolbench {

/// Base of every error poolbench throws on purpose; the CLI prints `what()` as one line.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Bad user input (names, sizes, paths): the CLI exits with code 2.
class ConfigError : public Error {
 public:
  using Error::Error;
};

/// `submit` or `post` on an executor that has been shut down.
class ExecutorShutdownError : public Error {
 public:
  using Error::Error;
};

/// `get()` on a future whose task was cancelled before it started.
class CancelledError : public Error {
 public:
  using Error::Error;
};

/// `take()` already moved the result out of a future: it cannot be read again.
class ResultTakenError : public Error {
 public:
  using Error::Error;
};

/// `result(timeout)` ran out of time before the task ended.
class TimeoutError : public Error {
 public:
  using Error::Error;
};

/// The operating system refused a thread, process, fd or socket.
class ResourceError : public Error {
 public:
  using Error::Error;
};

/// The other end of a channel closed or reset it, in the middle of a message or while
/// this side was sending: for a process pool, the worker died.
class PeerGoneError : public ResourceError {
 public:
  using ResourceError::ResourceError;
};

/// A process-pool worker died (signal or exit) while running the task.
class WorkerDiedError : public Error {
 public:
  using Error::Error;
};

/// A worker process broke the protocol: a length, count, status or ring position it wrote
/// is out of bounds or malformed. The pool fails the affected task with it, kills and
/// replaces that worker, and carries on.
class WorkerProtocolError : public Error {
 public:
  using Error::Error;
};

/// A task failed inside a worker process; `what()` is the worker's message.
class RemoteTaskError : public Error {
 public:
  RemoteTaskError(std::string type, const std::string& message) : Error(message), type_(std::move(type)) {}
  /// The demangled type name of the exception thrown in the worker.
  const std::string& remote_type() const noexcept { return type_; }

 private:
  std::string type_;
};

/// A task or its arguments cannot cross to a worker process (closure, too large, unregistered).
class NotTransferableError : public Error {
 public:
  using Error::Error;
};

/// "a, b, c": the allowed names, for an error message.
std::string join_names(const std::vector<std::string>& names);

/// A system call failed: the message names the call and errno's text.
[[noreturn]] void throw_system_error(const std::string& what, int err);

}  // namespace poolbench
