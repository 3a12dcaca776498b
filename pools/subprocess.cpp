#include "pools/subprocess.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "pools/errors.hpp"
#include "pools/unique_fd.hpp"

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

}  // namespace

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

  pid_t pid = -1;
  if (const int err = ::posix_spawn(&pid, path.c_str(), &setup.actions, &setup.attributes, args.data(), environ);
      err != 0)
    throw_system_error("cannot start worker process " + path, err);
  return Subprocess(pid);
}

Subprocess::Subprocess(Subprocess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), status_(std::exchange(other.status_, std::nullopt)) {}

Subprocess& Subprocess::operator=(Subprocess&& other) noexcept {
  if (this != &other) {
    reap_now();
    pid_ = std::exchange(other.pid_, -1);
    status_ = std::exchange(other.status_, std::nullopt);
  }
  return *this;
}

Subprocess::~Subprocess() { reap_now(); }

int Subprocess::wait() {
  if (!status_) {
    int status = 0;
    pid_t r;
    do {
      r = ::waitpid(pid_, &status, 0);
    } while (r < 0 && errno == EINTR);
    if (r < 0) throw_system_error("cannot wait for worker process " + std::to_string(pid_), errno);
    status_ = status;
  }
  return *status_;
}

void Subprocess::kill(int signal) noexcept {
  if (pid_ > 0 && !status_) ::kill(pid_, signal);
}

void Subprocess::reap_now() noexcept {
  if (pid_ <= 0 || status_) return;
  kill(SIGKILL);
  try {
    wait();
  } catch (...) {
  }
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

}  // namespace poolbench
