#include "tests/test_tasks.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

namespace poolbench::testing {

int square(int x) { return x * x; }

int jitter_square(int x) {
  std::this_thread::sleep_for(std::chrono::milliseconds((x * 7) % 5));
  return x * x;
}

int throw_runtime_error(std::string message) { throw std::runtime_error(message); }

int wait_for_eof(UniqueFd read_end) {
  char buffer[64];
  int total = 0;
  for (;;) {
    const ssize_t n = ::read(read_end.get(), buffer, sizeof buffer);
    if (n > 0) {
      total += static_cast<int>(n);
    } else if (n == 0 || errno != EINTR) {
      return total;
    }
  }
}

int sleep_ms(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
}

pid_t current_pid() { return ::getpid(); }

std::uint64_t current_thread() { return std::hash<std::thread::id>{}(std::this_thread::get_id()); }

int crash_segfault() {
  // Sanitizers catch SIGSEGV to print a report and exit(1); restore the default so the
  // worker dies by the signal, as an unsanitised program would.
  std::signal(SIGSEGV, SIG_DFL);
  volatile std::uintptr_t address = 8;
  *reinterpret_cast<volatile int*>(address) = 1;
  return 0;
}

int crash_abort() { std::abort(); }

int crash_exit(int code) { std::exit(code); }

int write_text(UniqueFd fd, std::string text) { return static_cast<int>(::write(fd.get(), text.data(), text.size())); }

std::string reverse_text(std::string text) {
  std::reverse(text.begin(), text.end());
  return text;
}

UniqueFd open_dev_null() { return UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC)); }

const RegisteredTask<&square> square_task{"tests.square"};
const RegisteredTask<&jitter_square> jitter_square_task{"tests.jitter_square"};
const RegisteredTask<&throw_runtime_error> throw_task{"tests.throw_runtime_error"};
const RegisteredTask<&wait_for_eof> gate_task{"tests.wait_for_eof"};
const RegisteredTask<&sleep_ms> sleep_task{"tests.sleep_ms"};
const RegisteredTask<&current_pid> pid_task{"tests.current_pid"};
const RegisteredTask<&current_thread> thread_task{"tests.current_thread"};
const RegisteredTask<&crash_segfault> segfault_task{"tests.crash_segfault"};
const RegisteredTask<&crash_abort> abort_task{"tests.crash_abort"};
const RegisteredTask<&crash_exit> exit_task{"tests.crash_exit"};
const RegisteredTask<&write_text> write_text_task{"tests.write_text"};
const RegisteredTask<&reverse_text> reverse_task{"tests.reverse_text"};
const RegisteredTask<&open_dev_null> open_dev_null_task{"tests.open_dev_null"};

Gate::Gate() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  read_.reset(fds[0]);
  write_.reset(fds[1]);
}

void expect_no_task_lost(const Executor& executor) {
  const TaskCounts c = executor.counts();
  EXPECT_EQ(c.submitted, c.completed + c.failed + c.cancelled)
      << "submitted " << c.submitted << ", completed " << c.completed << ", failed " << c.failed << ", cancelled "
      << c.cancelled;
}

bool process_is_gone(pid_t pid) { return ::kill(pid, 0) == -1 && errno == ESRCH; }

bool asleep_in_futex_wait(pid_t tid, std::uintptr_t* word) {
  // "202 0x7f0c2a1fe0b0 0x80 0x1 ...": the call's number, then its arguments in hex; or
  // "running" while the thread is not blocked in a system call.
  std::ifstream file("/proc/self/task/" + std::to_string(tid) + "/syscall");
  std::string line;
  if (!std::getline(file, line)) return false;
  std::istringstream fields(line);
  std::string number, address, op;
  if (!(fields >> number >> address >> op) || number != std::to_string(SYS_futex)) return false;
  if ((std::stoull(op, nullptr, 16) & FUTEX_CMD_MASK) != FUTEX_WAIT) return false;
  if (word) *word = static_cast<std::uintptr_t>(std::stoull(address, nullptr, 16));
  return true;
}

bool become_a_waiter(ProcessPool& pool) {
  const auto caller = std::this_thread::get_id();
  return eventually([&] {
    const std::uint64_t lent = pool.lent_calls();
    auto call = pool.submit(square_task, 3);
    auto ended_here = std::make_shared<std::atomic<bool>>(false);
    const bool lent_and_pending = pool.lent_calls() != lent && !call.done();
    // Added while the call is pending, the callback runs in the thread that ends it.
    call.add_done_callback([ended_here, caller](const Future<int>&) {
      if (std::this_thread::get_id() == caller) ended_here->store(true);
    });
    return call.get() == 9 && lent_and_pending && ended_here->load();
  });
}

UniqueFd Gate::reader() const { return UniqueFd(::fcntl(read_.get(), F_DUPFD_CLOEXEC, 0)); }

}  // namespace poolbench::testing
