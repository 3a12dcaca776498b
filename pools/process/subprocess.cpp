#include "pools/process/subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <mutex>
#include <utility>

#include "pools/core/errors.hpp"
#include "pools/core/unique_fd.hpp"

extern char** environ;

namespace poolbench {
namespace {

class SpawnSetup {
 public:
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
};

// glibc 2.36 declares pidfd_open without C linkage for C++, so the calls are made directly.
int open_pidfd(pid_t pid) noexcept { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }
int send_signal(int pidfd, int signal) noexcept {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0));
}

/// The wait status waitpid would have given, from what waitid says.
int wait_status_of(const siginfo_t& info) noexcept {
  switch (info.si_code) {
    case CLD_EXITED:
      return W_EXITCODE(info.si_status & 0xff, 0);
    case CLD_DUMPED:
      return info.si_status | WCOREFLAG;
    default:  // CLD_KILLED
      return info.si_status;
  }
}

/// Every child a Subprocess holds and has not reaped, by pidfd, so that an interrupted
/// program can end them all. A child is registered under the same lock as it is started,
/// so kill_and_reap_all_subprocesses misses none; leaked on purpose, as it is used until
/// the process ends.
struct LiveChildren {
  std::mutex mutex;
  std::vector<int> pidfds;
  bool closed = false;  ///< the program is ending: no more children
};

LiveChildren& live_children() {
  static auto* registry = new LiveChildren;
  return *registry;
}

void refuse_if_closed(const LiveChildren& live, const std::string& what) {
  if (live.closed) throw ResourceError("not starting " + what + ": the program is ending (interrupted)");
}

void unregister_child(int pidfd) noexcept {
  LiveChildren& live = live_children();
  std::lock_guard lock(live.mutex);
  std::erase(live.pidfds, pidfd);
}

}  // namespace

std::size_t kill_and_reap_all_subprocesses(std::chrono::milliseconds limit) noexcept {
  LiveChildren& live = live_children();
  std::lock_guard lock(live.mutex);
  live.closed = true;
  for (int pidfd : live.pidfds) send_signal(pidfd, SIGKILL);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::size_t left = 0;
  for (int pidfd : live.pidfds) {
    pollfd fd{pidfd, POLLIN, 0};
    int r;
    do {
      const auto wait = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      r = ::poll(&fd, 1, static_cast<int>(std::max<std::chrono::milliseconds::rep>(0, wait.count())));
    } while (r < 0 && errno == EINTR);
    if (r <= 0) {
      ++left;
      continue;
    }
    // Its owner may reap it at the same time: whichever comes second finds no child.
    siginfo_t info{};
    ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED | WNOHANG);
  }
  return left;
}

Subprocess Subprocess::spawn(const std::string& path, const std::vector<std::string>& argv, int inherited_fd,
                             int as_fd) {
  // dup2 onto the same number would keep close-on-exec set, so move the fd out of the way first.
  UniqueFd high(::fcntl(inherited_fd, F_DUPFD_CLOEXEC, as_fd + 1));
  if (!high) throw_system_error("cannot prepare a worker's channel", errno);

  SpawnSetup setup;
  posix_spawn_file_actions_adddup2(&setup.actions, high.get(), as_fd);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&setup.attributes, &none);
  posix_spawnattr_setflags(&setup.attributes, POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  LiveChildren& live = live_children();
  std::lock_guard lock(live.mutex);
  refuse_if_closed(live, "worker process " + path);
  pid_t pid = -1;
  if (const int err = ::posix_spawn(&pid, path.c_str(), &setup.actions, &setup.attributes, args.data(), environ);
      err != 0)
    throw_system_error("cannot start worker process " + path, err);
  return adopt(pid, "worker process");
}

Subprocess Subprocess::fork_calling(void (*run)(void*), void* body) {
  LiveChildren& live = live_children();
  std::lock_guard lock(live.mutex);
  refuse_if_closed(live, "a partner process");
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw_system_error("cannot fork a partner process", errno);
  if (pid == 0) {
    // Only async-signal-safe calls from here on.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);  // the forking thread ended before the line above
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    run(body);
    ::_exit(0);
  }
  return adopt(pid, "partner process");
}

Subprocess Subprocess::adopt(pid_t pid, const char* what) {
  UniqueFd pidfd(open_pidfd(pid));
  if (pidfd) {
    live_children().pidfds.push_back(pidfd.get());  // the caller holds the registry's lock
    return Subprocess(pid, std::move(pidfd));
  }
  const int err = errno;
  Subprocess child(pid, {});
  child.ended_ = true;
  // No such process: it ended at once and, SIGCHLD being ignored, the kernel reaped it.
  if (err == ESRCH) return child;
  // Out of fds: without a handle it cannot be owned, so it is ended here.
  ::kill(pid, SIGKILL);
  int status;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  throw_system_error(std::string("cannot keep a handle on ") + what + " " + std::to_string(pid), err);
}

Subprocess::Subprocess(Subprocess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      pidfd_(std::move(other.pidfd_)),
      ended_(std::exchange(other.ended_, false)),
      status_(std::exchange(other.status_, std::nullopt)) {}

Subprocess& Subprocess::operator=(Subprocess&& other) noexcept {
  if (this != &other) {
    reap_now();
    pid_ = std::exchange(other.pid_, -1);
    pidfd_ = std::move(other.pidfd_);
    ended_ = std::exchange(other.ended_, false);
    status_ = std::exchange(other.status_, std::nullopt);
  }
  return *this;
}

Subprocess::~Subprocess() { reap_now(); }

std::optional<int> Subprocess::wait() noexcept {
  if (pid_ <= 0 || ended_) return status_;
  siginfo_t info{};
  int r;
  do {
    r = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_.get()), &info, WEXITED);
  } while (r < 0 && errno == EINTR);
  // Otherwise ECHILD: the child has ended (waitid waits for that even when SIGCHLD is
  // ignored) and its status is gone to the kernel or to the host's own wait.
  if (r == 0) status_ = wait_status_of(info);
  ended_ = true;
  unregister_child(pidfd_.get());
  pidfd_.reset();
  return status_;
}

void Subprocess::kill(int signal) noexcept {
  if (pidfd_ && !ended_) send_signal(pidfd_.get(), signal);
}

bool Subprocess::ended_within(std::chrono::milliseconds limit) const noexcept {
  if (pid_ <= 0 || ended_) return true;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd fd{pidfd_.get(), POLLIN, 0};
    const int r = ::poll(&fd, 1, static_cast<int>(std::max<std::chrono::milliseconds::rep>(0, left.count())));
    if (r > 0) return true;
    if (r == 0 || errno != EINTR) return false;
  }
}

void Subprocess::reap_now() noexcept {
  if (pid_ <= 0 || ended_) return;
  kill(SIGKILL);
  wait();
}

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* abbrev = ::sigabbrev_np(sig);
    const char* text = ::sigdescr_np(sig);
    return "was killed by signal " + std::to_string(sig) + " (SIG" + (abbrev ? abbrev : "?") + ", " +
           (text ? text : "unknown") + ")";
  }
  return "ended with wait status " + std::to_string(status);
}

std::string describe_wait_status(std::optional<int> status) {
  if (status) return describe_wait_status(*status);
  return "ended, but its exit status was collected elsewhere (SIGCHLD ignored or reaped by the host)";
}

}  // namespace poolbench
