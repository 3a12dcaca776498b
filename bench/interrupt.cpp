#include "bench/interrupt.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <set>
#include <system_error>

#include "bench/output_file.hpp"
#include "pools/core/errors.hpp"
#include "pools/process/subprocess.hpp"

namespace poolbench::bench {
namespace {

struct Progress {
  std::mutex mutex;
  std::string noun;
  std::size_t total = 0;
  bool at_most = false;
  std::set<std::string> finished;
  std::string running;
};

Progress& progress() {
  static auto* p = new Progress;  // leaked: read by the interrupt handler until the end
  return *p;
}

/// SIGINT and SIGTERM, but not one the program was started with ignored (as `nohup` and
/// shells do for background jobs): that one stays ignored, as its starter wanted.
sigset_t interrupt_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (const int signal : {SIGINT, SIGTERM}) {
    struct sigaction action {};
    if (::sigaction(signal, nullptr, &action) == 0 && action.sa_handler != SIG_IGN) sigaddset(&set, signal);
  }
  return set;
}

void write_all(int fd, const std::string& text) noexcept {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

/// Everything the guard does once a signal has come; never returns.
[[noreturn]] void end_program(int signal) noexcept {
  // What other threads print from now on (errors of benchmarks whose workers die below)
  // goes nowhere: the line below is the program's last word.
  const int err = ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
  if (const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC); null >= 0) {
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    ::close(null);
  }
  const AbandonedOutputs outputs = abandon_output_files();
  const std::size_t left = kill_and_reap_all_subprocesses(std::chrono::seconds(1));
  std::string line =
      fmt::format("poolbench: interrupted by SIG{}; {}; ", ::sigabbrev_np(signal), describe_unfinished());
  if (outputs.written.empty()) {
    line += "nothing written";
  } else {
    line += "wrote ";
    for (std::size_t i = 0; i < outputs.written.size(); ++i) line += (i ? ", " : "") + outputs.written[i];
  }
  if (left > 0) line += fmt::format("; {} child process(es) did not end within 1 s of SIGKILL", left);
  write_all(err, line + "\n");
  ::_exit(128 + signal);
}

}  // namespace

InterruptGuard::InterruptGuard() {
  const sigset_t set = interrupt_signals();
  if (const int e = ::pthread_sigmask(SIG_BLOCK, &set, nullptr); e != 0)
    throw_system_error("cannot block SIGINT and SIGTERM", e);
  signals_.reset(::signalfd(-1, &set, SFD_CLOEXEC));
  if (!signals_) throw_system_error("cannot watch for SIGINT and SIGTERM", errno);
  stop_.reset(::eventfd(0, EFD_CLOEXEC));
  if (!stop_) throw_system_error("cannot watch for SIGINT and SIGTERM", errno);
  try {
    thread_ = std::thread([this] { watch(); });
  } catch (const std::system_error& e) {
    throw ResourceError(std::string("cannot start the thread that watches for SIGINT and SIGTERM: ") + e.what());
  }
}

InterruptGuard::~InterruptGuard() {
  const std::uint64_t one = 1;
  while (::write(stop_.get(), &one, sizeof one) < 0 && errno == EINTR) {
  }
  thread_.join();
  // The signals stay blocked: one that comes now, with the work done, ends nothing.
}

void InterruptGuard::watch() {
  for (;;) {
    pollfd fds[2] = {{signals_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
    // Waits as long as the program runs: the destructor always ends this wait.
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    // A signal wins over a stop that comes with it.
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info{};
      if (::read(signals_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info))
        end_program(static_cast<int>(info.ssi_signo));
    }
    if (fds[1].revents != 0) return;
  }
}

void progress_begin(const std::string& noun, std::size_t total, bool at_most) {
  Progress& p = progress();
  std::lock_guard lock(p.mutex);
  p.noun = noun;
  p.total = total;
  p.at_most = at_most;
  p.finished.clear();
  p.running.clear();
}

void progress_started(const std::string& name) {
  Progress& p = progress();
  std::lock_guard lock(p.mutex);
  p.running = name;
}

void progress_finished(const std::string& name) {
  Progress& p = progress();
  std::lock_guard lock(p.mutex);
  p.finished.insert(name);
  if (p.running == name) p.running.clear();
}

std::string describe_unfinished() {
  Progress& p = progress();
  std::lock_guard lock(p.mutex);
  if (p.noun.empty()) return "nothing finished";
  const std::size_t done = p.finished.size();
  std::string text;
  if (p.total == 0) {
    text = fmt::format("{} {} finished, the rest not", done, p.noun);
  } else {
    const std::size_t total = std::max(p.total, done);
    text = fmt::format("{} of {}{} {} not finished", total - done, p.at_most ? "at most " : "", total, p.noun);
  }
  if (!p.running.empty()) text += fmt::format(" (was running: {})", p.running);
  return text;
}

}  // namespace poolbench::bench
