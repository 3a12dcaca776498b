#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "pools/core/executor.hpp"
#include "pools/core/task_registry.hpp"
#include "pools/core/unique_fd.hpp"
#include "pools/process/process_pool.hpp"

namespace poolbench::testing {

/// Set in the environment, the milliseconds a worker of a test binary waits before it
/// starts: a worker as slow to start as on a loaded machine or under a sanitizer.
inline constexpr const char* slow_worker_start_variable = "POOLBENCH_TEST_WORKER_START_MS";

/// Whether this test binary runs under ThreadSanitizer or AddressSanitizer, which make
/// threads and processes several times slower to start: count-bound tests take fewer.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
inline constexpr bool sanitized = true;
#else
inline constexpr bool sanitized = false;
#endif

int square(int x);
/// Sleeps a few milliseconds that depend on `x`, so tasks end out of input order.
int jitter_square(int x);
int throw_runtime_error(std::string message);
/// Blocks until the write end of the pipe `read_end` is closed: a gate the test opens.
int wait_for_eof(UniqueFd read_end);
int sleep_ms(int ms);
pid_t current_pid();
std::uint64_t current_thread();
int crash_segfault();
int crash_abort();
int crash_exit(int code);
int write_text(UniqueFd fd, std::string text);
std::string reverse_text(std::string text);
/// Opens /dev/null: a result that can only be moved, which crosses back as an fd.
UniqueFd open_dev_null();

extern const RegisteredTask<&square> square_task;
extern const RegisteredTask<&jitter_square> jitter_square_task;
extern const RegisteredTask<&throw_runtime_error> throw_task;
extern const RegisteredTask<&wait_for_eof> gate_task;
extern const RegisteredTask<&sleep_ms> sleep_task;
extern const RegisteredTask<&current_pid> pid_task;
extern const RegisteredTask<&current_thread> thread_task;
extern const RegisteredTask<&crash_segfault> segfault_task;
extern const RegisteredTask<&crash_abort> abort_task;
extern const RegisteredTask<&crash_exit> exit_task;
extern const RegisteredTask<&write_text> write_text_task;
extern const RegisteredTask<&reverse_text> reverse_task;
extern const RegisteredTask<&open_dev_null> open_dev_null_task;

/// A pipe whose read end gates tasks (see wait_for_eof) until `open()` closes the write end.
class Gate {
 public:
  Gate();
  /// A new fd for the read end, to pass to one gated task.
  UniqueFd reader() const;
  void open() { write_.reset(); }

 private:
  UniqueFd read_;
  UniqueFd write_;
};

/// Expects every task `executor` took to have ended: completed, failed or cancelled.
void expect_no_task_lost(const Executor& executor);

/// The message of the error `future` ended with, or "no error".
template <class R>
std::string error_of(Future<R>& future) {
  try {
    future.get();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "no error";
}

/// Makes this thread's next call to `pool` certain to be lent; false when it never could.
/// It calls until a call is lent and this thread, waiting for it, read its reply and ended
/// it: that hands the worker straight back to the lease (offered again), and the I/O
/// thread leaves an offered worker alone while nothing is queued. A call the I/O thread
/// ended instead (it was not lent, or its reply came too late for the waiter) is retried.
bool become_a_waiter(ProcessPool& pool);

/// True while thread `tid` of this process sleeps in futex(FUTEX_WAIT), as
/// /proc/self/task/<tid>/syscall shows a blocked thread's system call; `word`, when given,
/// receives the address it sleeps on. Only a wake-up (or a signal) ends such a sleep: a
/// test that sees it knows the thread is not still on its way to sleeping.
bool asleep_in_futex_wait(pid_t tid, std::uintptr_t* word = nullptr);

/// True once process `pid` is gone: exited and reaped, so not even a zombie is left.
bool process_is_gone(pid_t pid);

/// Polls `condition` every millisecond for up to `seconds`; true once it holds.
template <class F>
bool eventually(F condition, int seconds = 20);

}  // namespace poolbench::testing

#include <chrono>
#include <thread>

template <class F>
bool poolbench::testing::eventually(F condition, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}
