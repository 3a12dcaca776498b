#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "pools/core/unique_fd.hpp"

namespace poolbench {

/// A child process, started with posix_spawn (a plain fork is unsafe in a threaded parent,
/// but for `fork`'s narrow use: a partner process that makes only async-signal-safe
/// calls). The owner reaps it; if it is still running at destruction it is
/// killed with SIGKILL and reaped, so no zombie or orphan outlives the owner. It is held
/// by a pidfd, so a signal or a wait never reaches another process that took its PID
/// after someone else reaped it, and registered until reaped, so that an interrupted
/// program can end every child it has (kill_and_reap_all_subprocesses).
class Subprocess {
 public:
  /// Starts `path` with `argv`; `inherited_fd` becomes fd `as_fd` in the child, and no
  /// other close-on-exec fd leaks into it. Throws ResourceError when the OS refuses.
  static Subprocess spawn(const std::string& path, const std::vector<std::string>& argv, int inherited_fd, int as_fd);
  /// Forks a child that runs `body()` and then `_exit(0)`s. The child of a threaded parent
  /// may make only async-signal-safe calls (read, write, futex, _exit): `body` must keep
  /// to them. The child starts with no signal blocked, and is killed (SIGKILL) should the
  /// thread that forked it end first. For measurement partners (bench/probes.cpp); start
  /// programs with `spawn`. Throws ResourceError when the OS refuses.
  template <class Body>
  static Subprocess fork(Body& body) {
    return fork_calling([](void* b) { (*static_cast<Body*>(b))(); }, &body);
  }

  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&& other) noexcept;
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  ~Subprocess();

  pid_t pid() const noexcept { return pid_; }
  /// Waits for the child to end and returns its wait status (for describe_wait_status),
  /// or std::nullopt when the child has ended but its status went elsewhere: the host
  /// program ignores SIGCHLD (the kernel then reaps children itself) or reaped the child
  /// with a wait of its own. Kept after the first call, which alone waits. Never throws:
  /// a process-pool I/O thread calls it, and must not end the program.
  std::optional<int> wait() noexcept;
  /// Sends `signal` unless the child has already been reaped.
  void kill(int signal) noexcept;
  /// Whether the child ends within `limit` (at once if it already has); does not reap it.
  bool ended_within(std::chrono::milliseconds limit) const noexcept;
  /// The pidfd, -1 once reaped: it polls readable (POLLIN) once the child has ended. To
  /// watch the child from another thread, dup it.
  int pidfd() const noexcept { return pidfd_.get(); }

 private:
  Subprocess(pid_t pid, UniqueFd pidfd) noexcept : pid_(pid), pidfd_(std::move(pidfd)) {}
  /// Takes ownership of the child `pid`, just started by `what`, and registers it; the
  /// caller holds the registry's lock.
  static Subprocess adopt(pid_t pid, const char* what);
  static Subprocess fork_calling(void (*run)(void*), void* body);
  void reap_now() noexcept;

  pid_t pid_ = -1;
  UniqueFd pidfd_;      ///< until reaped
  bool ended_ = false;  ///< reaped, by us or (status_ empty) by someone else
  std::optional<int> status_;
};

/// "exited with code 3", "was killed by signal 11 (SIGSEGV, Segmentation fault)".
std::string describe_wait_status(int status);
/// As above; std::nullopt (from Subprocess::wait) is "ended, but its exit status was
/// collected elsewhere (SIGCHLD ignored or reaped by the host)".
std::string describe_wait_status(std::optional<int> status);

/// For a program that is about to end (an interrupted one): SIGKILLs every child a
/// Subprocess holds, then reaps each, waiting at most `limit` in all, and refuses to start
/// any more (spawn and fork throw ResourceError from then on). Returns how many children
/// were still not ended when the limit ran out (0 normally). From any thread.
std::size_t kill_and_reap_all_subprocesses(std::chrono::milliseconds limit = std::chrono::seconds(1)) noexcept;

}  // namespace poolbench
