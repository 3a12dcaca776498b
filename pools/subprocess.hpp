#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace poolbench {

/// A child process started with posix_spawn (never a plain fork, which is unsafe in a
/// threaded parent). The owner reaps it; if it is still running at destruction it is
/// killed with SIGKILL and reaped, so no zombie or orphan outlives the owner.
class Subprocess {
 public:
  /// Starts `path` with `argv`; `inherited_fd` becomes fd `as_fd` in the child, and no
  /// other close-on-exec fd leaks into it. Throws ResourceError when the OS refuses.
  static Subprocess spawn(const std::string& path, const std::vector<std::string>& argv, int inherited_fd,
                          int as_fd);

  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&& other) noexcept;
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  ~Subprocess();

  pid_t pid() const noexcept { return pid_; }
  /// Waits for the child to end and returns its wait status (cached after the first call).
  int wait();
  /// Sends `signal` unless the child has already been reaped.
  void kill(int signal) noexcept;

 private:
  explicit Subprocess(pid_t pid) noexcept : pid_(pid) {}
  void reap_now() noexcept;

  pid_t pid_ = -1;
  std::optional<int> status_;
};

/// "exited with code 3", "was killed by signal 11 (SIGSEGV, Segmentation fault)".
std::string describe_wait_status(int status);

}  // namespace poolbench
