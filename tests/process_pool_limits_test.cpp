#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "pools/process/process_pool.hpp"
#include "pools/process/worker_main.hpp"
#include "tests/test_tasks.hpp"

namespace poolbench::testing {

int count_fds(UniqueFd a, UniqueFd b, UniqueFd c, UniqueFd d, UniqueFd e, UniqueFd f, UniqueFd g, UniqueFd h,
              UniqueFd i, UniqueFd j, UniqueFd k, UniqueFd l, UniqueFd m, UniqueFd n, UniqueFd o, UniqueFd p,
              UniqueFd q) {
  int open = 0;
  for (const UniqueFd* fd : {&a, &b, &c, &d, &e, &f, &g, &h, &i, &j, &k, &l, &m, &n, &o, &p, &q}) open += *fd ? 1 : 0;
  return open;
}
const RegisteredTask<&count_fds> count_fds_task{"tests.limits.count_fds"};

std::string text_of_size(std::uint64_t bytes) { return std::string(bytes, 'x'); }
const RegisteredTask<&text_of_size> text_of_size_task{"tests.limits.text_of_size"};

UniqueFd empty_fd() { return UniqueFd(); }
const RegisteredTask<&empty_fd> empty_fd_task{"tests.limits.empty_fd"};

/// Throws an exception whose message is `mib` MiB long.
int throw_long_message(std::uint64_t mib) { throw std::runtime_error(std::string(mib << 20, 'x')); }
const RegisteredTask<&throw_long_message> throw_long_message_task{"tests.throw_long_message"};

/// Reverses `text` after `ms` milliseconds: a call the worker takes a while over.
std::string slow_reverse(std::string text, int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  std::reverse(text.begin(), text.end());
  return text;
}
const RegisteredTask<&slow_reverse> slow_reverse_task{"tests.limits.slow_reverse"};

namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

UniqueFd dev_null() { return UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC)); }

std::string text_pattern(std::size_t bytes, int seed) {
  std::string text(bytes, ' ');
  for (std::size_t i = 0; i < bytes; ++i) text[i] = static_cast<char>('a' + (i * 7 + seed) % 26);
  return text;
}

TEST(ProcessPool, ABatchOfTensOfKiBEachWayNeverDeadlocks) {
  // Replies too large for the ring go on the socket: a worker blocked sending one reads
  // no more calls, so the pool must read replies while it is still sending calls. Tasks
  // this short are sent in batches of many calls, more than a socket buffer holds each
  // way (with the pool's sends made blocking and blind, this deadlocks at once).
  constexpr int tasks = 300;
  ProcessPool pool(2);
  std::vector<std::string> inputs;
  std::vector<Future<std::string>> futures;
  for (int i = 0; i < tasks; ++i) {
    inputs.push_back(text_pattern(16 * 1024, i));
    futures.push_back(pool.submit(reverse_task, inputs.back()));
  }
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  for (int i = 0; i < tasks; ++i) {
    if (!futures[i].wait_for(
            std::max(deadline - std::chrono::steady_clock::now(), std::chrono::steady_clock::duration{}))) {
      pool.shutdown(true, true, 1s);  // kills the workers, so that a failure still ends
      FAIL() << "task " << i << " never ended: the pool and its workers deadlocked";
    }
    EXPECT_EQ(futures[i].get(), std::string(inputs[i].rbegin(), inputs[i].rend())) << "task " << i;
  }
  pool.shutdown();
  expect_no_task_lost(pool);
}

TEST(ProcessPool, MoreFdsThanATaskMayPassAreRefusedAtSubmit) {
  ProcessPool pool(1);
  const pid_t worker = pool.worker_pids().at(0);
  try {
    pool.submit(count_fds_task, dev_null(), dev_null(), dev_null(), dev_null(), dev_null(), dev_null(), dev_null(),
                dev_null(), dev_null(), dev_null(), dev_null(), dev_null(), dev_null(), dev_null(), dev_null(),
                dev_null(), dev_null());
    FAIL() << "a task passing 17 fds was accepted";
  } catch (const NotTransferableError& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr("tests.limits.count_fds"), HasSubstr("17"), HasSubstr("16")));
  }
  EXPECT_EQ(pool.counts().submitted, 0u);
  EXPECT_EQ(pool.submit(square_task, 7).get(), 49);
  EXPECT_EQ(pool.worker_pids().at(0), worker) << "a refused task costs no worker";
}

TEST(ProcessPool, ArgumentsOverTheMessageLimitAreRefusedAtSubmit) {
  ProcessPool pool(1);
  try {
    pool.submit(reverse_task, std::string(max_message_bytes + 1, 'a'));
    FAIL() << "an argument over the limit was accepted";
  } catch (const NotTransferableError& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr("tests.reverse_text"), HasSubstr("64 MiB")));
  }
  EXPECT_EQ(pool.counts().submitted, 0u);
}

TEST(ProcessPool, AResultOverTheMessageLimitFailsOnlyItsTask) {
  ProcessPool pool(1);
  const pid_t worker = pool.worker_pids().at(0);
  auto big = pool.submit(text_of_size_task, std::uint64_t{max_message_bytes + 1});
  EXPECT_THAT(error_of(big), AllOf(HasSubstr("tests.limits.text_of_size"), HasSubstr("64 MiB")));
  EXPECT_EQ(pool.submit(text_of_size_task, std::uint64_t{1000}).get(), std::string(1000, 'x'));
  EXPECT_EQ(pool.worker_pids().at(0), worker);
}

TEST(ProcessPool, AnErrorMessageOverTheMessageLimitIsCutShortNotTakenForAProtocolBreak) {
  ProcessPool pool(1);
  const pid_t worker = pool.worker_pids().at(0);
  auto task = pool.submit(throw_long_message_task, std::uint64_t{65});
  try {
    task.get();
    FAIL() << "the task did not fail";
  } catch (const RemoteTaskError& e) {
    EXPECT_THAT(e.remote_type(), HasSubstr("std::runtime_error"));
    EXPECT_THAT(e.what(), HasSubstr("68157440 bytes in all"));
    EXPECT_LT(std::string_view(e.what()).size(), std::size_t{1} << 20) << "the message was cut short";
  }
  EXPECT_EQ(pool.worker_pids().at(0), worker) << "a task that threw is not the worker's fault";
  pool.shutdown();
  expect_no_task_lost(pool);
}

TEST(ProcessPool, AnEmptyFdResultFailsOnlyItsTask) {
  ProcessPool pool(1);
  const pid_t worker = pool.worker_pids().at(0);
  auto empty = pool.submit(empty_fd_task);
  EXPECT_THAT(error_of(empty), AllOf(HasSubstr("tests.limits.empty_fd"), HasSubstr("empty UniqueFd")));
  EXPECT_EQ(pool.submit(square_task, 6).get(), 36);
  EXPECT_EQ(pool.worker_pids().at(0), worker) << "the worker was not lost to it";
}

TEST(ProcessPool, ATaskOverItsTimeoutFailsWithTimeoutErrorAndItsWorkerIsReplaced) {
  ProcessPool pool(1, {}, 200ms);
  Gate never;  // never opened: the task would wait forever
  const pid_t stuck = pool.worker_pids().at(0);
  auto task = pool.submit(gate_task, never.reader());
  auto next = pool.submit(square_task, 5);
  // Bounded, so that a timeout that never fires fails the test instead of hanging it.
  ASSERT_TRUE(task.wait_for(30s)) << "the stuck task was still running 30 s after its 200 ms timeout";
  try {
    task.get();
    FAIL() << "the stuck task did not fail";
  } catch (const TimeoutError& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr("tests.wait_for_eof"), HasSubstr("task timeout")));
  }
  EXPECT_EQ(next.get(), 25) << "the task queued behind it runs on the replacement";
  EXPECT_NE(pool.worker_pids().at(0), stuck);
  pool.shutdown();
  expect_no_task_lost(pool);
}

TEST(ProcessPool, AWorkersStartUpIsNotChargedToTheTaskTimeout) {
  // Each worker, the first and the one that replaces a timed-out worker, takes longer to
  // start than the task timeout allows a task: only a task's own time may count.
  ASSERT_EQ(::setenv(slow_worker_start_variable, "600", 1), 0);
  ProcessPool pool(1, {}, 200ms);
  ::unsetenv(slow_worker_start_variable);
  EXPECT_EQ(pool.submit(square_task, 4).get(), 16) << "the first task, sent while its worker was starting";
  ASSERT_EQ(::setenv(slow_worker_start_variable, "600", 1), 0);
  Gate never;
  auto stuck = pool.submit(gate_task, never.reader());
  auto behind = pool.submit(square_task, 5);
  ASSERT_TRUE(stuck.wait_for(30s)) << "the stuck task was still running 30 s after its 200 ms timeout";
  EXPECT_THAT(error_of(stuck), HasSubstr("did not end within the task timeout of 0.2 s"));
  EXPECT_EQ(behind.get(), 25) << "the task behind it, sent while the replacement was starting";
  ::unsetenv(slow_worker_start_variable);
  pool.shutdown();
  expect_no_task_lost(pool);
  EXPECT_EQ(pool.counts().failed, 1u);
}

TEST(ProcessPool, WorkersKilledBeforeTheyAreReadyAreReplacedAndFailNoTask) {
  ASSERT_EQ(::setenv(slow_worker_start_variable, "300", 1), 0);
  ProcessPool pool(1);
  // Each worker waits 300 ms before it starts; both are killed from outside meanwhile: the
  // one the pool began with, and the one the task's send then starts.
  const pid_t first = pool.worker_pids().at(0);
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  ASSERT_TRUE(eventually([&] { return pool.worker_pids().at(0) == -1; })) << "the first worker's death was not seen";
  auto task = pool.submit(square_task, 4);
  ASSERT_TRUE(eventually([&] { return pool.worker_pids().at(0) != -1; }));
  ASSERT_EQ(::kill(pool.worker_pids().at(0), SIGKILL), 0);
  EXPECT_EQ(task.get(), 16) << "no task was theirs";
  ::unsetenv(slow_worker_start_variable);
  pool.shutdown();
  expect_no_task_lost(pool);
  EXPECT_EQ(pool.counts().failed, 0u);
}

TEST(ProcessPool, ATaskThatRunsOverWhileCallsAreSentBehindItFailsForItsTimeout) {
  ProcessPool pool(1, {}, 200ms);
  // Queued while the worker is busy with short tasks, the stuck task and the large calls
  // after it go in batches: the pool is still sending when the stuck task's time runs out.
  std::vector<Future<int>> before;
  for (int i = 0; i < 2000; ++i) before.push_back(pool.submit(square_task, i));
  Gate never;
  auto stuck = pool.submit(gate_task, never.reader());
  std::vector<std::string> inputs;
  std::vector<Future<std::string>> behind;
  for (int i = 0; i < 40; ++i) {
    inputs.push_back(text_pattern(64 * 1024, i));
    behind.push_back(pool.submit(reverse_task, inputs.back()));
  }
  ASSERT_TRUE(stuck.wait_for(30s)) << "the stuck task was still running 30 s after its 200 ms timeout";
  EXPECT_THAT(error_of(stuck),
              AllOf(HasSubstr("tests.wait_for_eof"), HasSubstr("did not end within the task timeout of 0.2 s")));
  for (int i = 0; i < 40; ++i)
    EXPECT_EQ(behind[i].get(), std::string(inputs[i].rbegin(), inputs[i].rend())) << "call " << i << " behind it";
  pool.shutdown();
  expect_no_task_lost(pool);
  EXPECT_EQ(pool.counts().failed, 1u);
}

TEST(ProcessPool, EachCallOfALongBatchHasItsOwnTimeoutNotTheBatchs) {
  // 80 calls of 64 KiB, more than the socket holds, so the pool is still sending the batch
  // while the worker answers the first calls: each takes 25 ms of a 500 ms timeout (20x, for
  // a sanitized worker on a loaded machine), the whole batch 2 s. The deadline must move on
  // with each reply, not stay the first call's.
  // Short calls first, so the pool takes its tasks for short ones and sends them in batches.
  ProcessPool pool(1, {}, 500ms);
  std::vector<Future<int>> short_calls;
  for (int i = 0; i < 2000; ++i) short_calls.push_back(pool.submit(square_task, i));
  std::vector<std::string> inputs;
  std::vector<Future<std::string>> calls;
  for (int i = 0; i < 80; ++i) {
    inputs.push_back(text_pattern(64 * 1024, i));
    calls.push_back(pool.submit(slow_reverse_task, inputs.back(), 25));
  }
  for (int i = 0; i < 2000; ++i) EXPECT_EQ(short_calls[i].get(), i * i);
  for (int i = 0; i < 80; ++i)
    EXPECT_EQ(calls[i].get(), std::string(inputs[i].rbegin(), inputs[i].rend())) << "call " << i;
  pool.shutdown();
  expect_no_task_lost(pool);
  EXPECT_EQ(pool.counts().failed, 0u);
}

TEST(ProcessPool, ShutdownWithATimeoutKillsWhatStillRunsAndEndsEveryTask) {
  ProcessPool pool(1);
  Gate never;
  auto running = pool.submit(gate_task, never.reader());
  ASSERT_TRUE(eventually([&] { return running.running(); }));
  auto queued = pool.submit(square_task, 3);
  const pid_t worker = pool.worker_pids().at(0);
  std::atomic<bool> stopped{false};
  std::jthread stopper([&] {
    pool.shutdown(/*wait=*/true, /*cancel_pending=*/false, 100ms);
    stopped.store(true);
  });
  if (!eventually([&] { return stopped.load(); }, 30)) {
    never.open();  // lets the task, and so the shutdown, end
    FAIL() << "shutdown was still waiting 30 s after its 100 ms timeout";
  }
  try {
    running.get();
    FAIL() << "the running task did not fail";
  } catch (const TimeoutError& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr("tests.wait_for_eof"), HasSubstr("shutdown timeout")));
  }
  EXPECT_TRUE(queued.done());
  EXPECT_ANY_THROW(queued.get()) << "a task that never started is cancelled or failed, never left pending";
  expect_no_task_lost(pool);
  EXPECT_EQ(::kill(worker, 0), -1) << "the worker was killed and reaped";
}

TEST(ProcessPool, WorkersDieWithTheirPoolEvenMidTask) {
  // A child process owns a pool whose worker is stuck in a task; the child is killed
  // with SIGKILL, which runs no destructor. Its worker must not outlive it for long.
  int report[2];
  ASSERT_EQ(::pipe2(report, O_CLOEXEC), 0);
  UniqueFd report_read(report[0]), report_write(report[1]);
  // CTest runs each test in a process of its own, so this one has no other thread to fork.
  const pid_t owner = ::fork();
  if (owner == 0) {
    report_read.reset();
    // The pool's worker runs this test binary again in worker mode.
    ProcessPool pool(1);
    // A task that outlives the test by far: only the lifeline can end its worker in time.
    auto stuck = pool.submit(sleep_task, 120'000);
    // Never started: the parent reads no pid and fails rather than waiting forever.
    if (!eventually([&] { return stuck.running(); })) ::_exit(4);
    const pid_t worker = pool.worker_pids().at(0);
    if (::write(report_write.get(), &worker, sizeof worker) != sizeof worker) ::_exit(3);
    ::pause();
    ::_exit(0);
  }
  report_write.reset();
  pid_t worker = -1;
  ASSERT_EQ(::read(report_read.get(), &worker, sizeof worker), static_cast<ssize_t>(sizeof worker));
  ASSERT_GT(worker, 0);
  ASSERT_EQ(::kill(owner, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(owner, &status, 0), owner);
  // The worker is reparented and reaped by init (or a subreaper) once it exits.
  EXPECT_TRUE(eventually([&] { return ::kill(worker, 0) == -1; }, 5))
      << "worker " << worker << " outlived its killed pool";
}

TEST(WorkerMain, AMalformedCommandLineIsRefusedNotReadAsZero) {
  std::vector<std::string> bad[] = {
      {"poolbench", worker_flag},
      {"poolbench", worker_flag, "three", "0"},
      {"poolbench", worker_flag, "3", "-5"},
      {"poolbench", worker_flag, "3x", "0"},
      {"poolbench", worker_flag, "3", "0", "extra"},
  };
  for (auto& args : bad) {
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    ::testing::internal::CaptureStderr();
    const std::optional<int> code = run_worker_if_requested(static_cast<int>(args.size()), argv.data());
    const std::string said = ::testing::internal::GetCapturedStderr();
    ASSERT_TRUE(code.has_value()) << args.size();
    EXPECT_EQ(*code, 2);
    EXPECT_THAT(said, HasSubstr("malformed command line"));
  }
  std::vector<std::string> not_a_worker = {"poolbench", "run"};
  std::vector<char*> argv{not_a_worker[0].data(), not_a_worker[1].data(), nullptr};
  EXPECT_FALSE(run_worker_if_requested(2, argv.data()).has_value());
}

}  // namespace
}  // namespace poolbench::testing
