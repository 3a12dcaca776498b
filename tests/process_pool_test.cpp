#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "pools/machine/spin_wait.hpp"
#include "pools/process/process_pool.hpp"
#include "tests/test_tasks.hpp"

namespace poolbench::testing {

namespace {

using ::testing::HasSubstr;

std::string failure_of(Future<int>& future) {
  try {
    future.get();
  } catch (const WorkerDiedError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("unexpected error type: ") + e.what();
  }
  return "no error";
}

void expect_pool_still_serves(ProcessPool& pool) {
  std::vector<Future<int>> next;
  for (int i = 0; i < 20; ++i) next.push_back(pool.submit(square_task, i));
  for (int i = 0; i < 20; ++i) EXPECT_EQ(next[i].get(), i * i);
}

/// A process that has exited but not been reaped shows state 'Z' in /proc/<pid>/stat. Its
/// leader shows it as soon as it exits, while its other threads (a worker's lifeline) may
/// still hold its descriptors open: only once the leader is all that is left are they closed.
bool process_is_zombie(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid);
  std::ifstream stat(dir + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), {});
  const auto paren = text.rfind(')');
  if (paren == std::string::npos || paren + 2 >= text.size() || text[paren + 2] != 'Z') return false;
  std::error_code ec;
  const auto threads =
      std::distance(std::filesystem::directory_iterator(dir + "/task", ec), std::filesystem::directory_iterator());
  return !ec && threads <= 1;
}

TEST(ProcessPool, WorkersAreOtherProcessesWithStablePids) {
  ProcessPool pool(5);
  std::vector<Future<pid_t>> futures;
  for (int i = 0; i < 200; ++i) futures.push_back(pool.submit(pid_task));
  std::set<pid_t> seen;
  for (auto& f : futures) seen.insert(f.get());
  EXPECT_LE(seen.size(), 5u) << "5 workers serve every task: at most 5 distinct PIDs";
  EXPECT_EQ(seen.count(::getpid()), 0u);
  const auto workers = pool.worker_pids();
  for (pid_t pid : seen) EXPECT_NE(std::find(workers.begin(), workers.end(), pid), workers.end());
  EXPECT_EQ(pool.processes_created(), 5u);
}

TEST(ProcessPool, WorkerCrashFailsOnlyItsTask) {
  ProcessPool pool(2);
  auto crash = pool.submit(segfault_task);
  EXPECT_THAT(failure_of(crash), HasSubstr("SIGSEGV"));
  EXPECT_THAT(failure_of(crash), HasSubstr("tests.crash_segfault"));
  expect_pool_still_serves(pool);
  pool.shutdown();
  const TaskCounts c = pool.counts();
  EXPECT_EQ(c.failed, 1u);
  EXPECT_EQ(c.completed, 20u);
  EXPECT_EQ(pool.processes_created(), 3u) << "the dead worker was replaced once";
}

TEST(ProcessPool, ACrashFailsOnlyItsTaskNotTheCallsSentBehindIt) {
  ProcessPool pool(1);
  // Queued while the worker is busy with a batch of short tasks, the crash and the calls
  // after it are sent in batches too: some are in flight behind it when the worker dies.
  std::vector<Future<int>> before, behind;
  for (int i = 0; i < 2000; ++i) before.push_back(pool.submit(square_task, i));
  auto crash = pool.submit(segfault_task);
  for (int i = 0; i < 100; ++i) behind.push_back(pool.submit(square_task, i));
  EXPECT_THAT(failure_of(crash), HasSubstr("SIGSEGV"));
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(before[i].get(), i * i);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(behind[i].get(), i * i) << "call " << i << " behind the crash";
  pool.shutdown();
  expect_no_task_lost(pool);
  EXPECT_EQ(pool.counts().failed, 1u);
}

TEST(ProcessPool, AbortFailsOnlyItsTaskAndNamesSigabrt) {
  ProcessPool pool(2);
  auto crash = pool.submit(abort_task);
  EXPECT_THAT(failure_of(crash), HasSubstr("SIGABRT"));
  expect_pool_still_serves(pool);
}

TEST(ProcessPool, ExitFailsOnlyItsTaskAndNamesTheCode) {
  ProcessPool pool(2);
  auto crash = pool.submit(exit_task, 3);
  EXPECT_THAT(failure_of(crash), HasSubstr("exited with code 3"));
  expect_pool_still_serves(pool);
}

TEST(ProcessPool, DeadWorkerIsReplacedBeforeItsFailureIsSeen) {
  ProcessPool pool(1);
  const pid_t before = pool.worker_pids().at(0);
  auto crash = pool.submit(abort_task);
  crash.wait();
  const pid_t after = pool.worker_pids().at(0);
  EXPECT_GT(after, 0);
  EXPECT_NE(after, before);
  EXPECT_EQ(pool.processes_created(), 2u);
}

TEST(ProcessPool, KillFromOutsideFailsTheRunningTaskAndNamesSigkill) {
  ProcessPool pool(1);
  Gate gate;
  auto victim = pool.submit(gate_task, gate.reader());
  ASSERT_TRUE(eventually([&] { return victim.running(); }));
  const pid_t pid = pool.worker_pids().at(0);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  EXPECT_THAT(failure_of(victim), HasSubstr("SIGKILL"));
  expect_pool_still_serves(pool);
  EXPECT_NE(pool.worker_pids().at(0), pid);
}

TEST(ProcessPool, IdleWorkerDeathFailsNoTask) {
  ProcessPool pool(1);
  const pid_t pid = pool.worker_pids().at(0);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ASSERT_TRUE(eventually([&] { return process_is_zombie(pid) || process_is_gone(pid); }));
  expect_pool_still_serves(pool);
  pool.shutdown();
  EXPECT_EQ(pool.counts().failed, 0u);
}

TEST(ProcessPool, DestroyingLeavesNoZombieOrOrphan) {
  std::vector<pid_t> pids;
  {
    ProcessPool pool(3);
    auto crash = pool.submit(abort_task);
    crash.wait();
    for (int i = 0; i < 10; ++i) pool.submit(square_task, i).get();
    pids = pool.worker_pids();
  }
  ASSERT_EQ(pids.size(), 3u);
  for (pid_t pid : pids) {
    ASSERT_GT(pid, 0) << "every slot has a live worker, the replaced one included";
    EXPECT_TRUE(process_is_gone(pid)) << "worker " << pid << " outlived its pool";
  }
}

TEST(ProcessPool, RejectsClosuresWithAClearError) {
  ProcessPool pool(1);
  try {
    pool.submit([] { return 1; });
    FAIL() << "a closure was accepted";
  } catch (const NotTransferableError& e) {
    EXPECT_THAT(e.what(), HasSubstr("RegisteredTask"));
  }
  EXPECT_EQ(pool.counts().submitted, 0u);
}

TEST(ProcessPool, RemoteErrorKeepsTypeAndMessage) {
  ProcessPool pool(1);
  auto f = pool.submit(throw_task, std::string("disk full"));
  try {
    f.get();
    FAIL();
  } catch (const RemoteTaskError& e) {
    EXPECT_STREQ(e.what(), "disk full");
    EXPECT_EQ(e.remote_type(), "std::runtime_error");
  }
}

TEST(ProcessPool, LargeBytesCrossBothWays) {
  ProcessPool pool(2);
  std::string text(3 << 20, 'a');
  for (std::size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>('a' + i % 26);
  const std::string expected(text.rbegin(), text.rend());
  EXPECT_EQ(pool.submit(reverse_task, text).get(), expected);
}

TEST(ProcessPool, FdCrossesIntoTheWorker) {
  ProcessPool pool(1);
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]);
  EXPECT_EQ(pool.submit(write_text_task, UniqueFd(fds[1]), std::string("through SCM_RIGHTS")).get(), 18);
  char buffer[64] = {};
  EXPECT_EQ(::read(read_end.get(), buffer, sizeof buffer), 18);
  EXPECT_STREQ(buffer, "through SCM_RIGHTS");
}

/// Holds a one-worker pool busy until `open` is called, so what is submitted meanwhile
/// queues up and goes to the worker in one batch.
class HeldWorker {
 public:
  explicit HeldWorker(ProcessPool& pool) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    write_end_ = UniqueFd(fds[1]);
    held_ = pool.submit(gate_task, UniqueFd(fds[0]));
  }
  void open() {
    write_end_.reset();
    held_.get();
  }

 private:
  UniqueFd write_end_;
  Future<int> held_;
};

TEST(ProcessPool, TasksBatchedBehindACrashRunOnTheReplacement) {
  ProcessPool pool(1);
  HeldWorker held(pool);
  auto crash = pool.submit(abort_task);
  std::vector<Future<int>> behind;
  for (int i = 0; i < 30; ++i) behind.push_back(pool.submit(square_task, i));
  held.open();
  EXPECT_THAT(failure_of(crash), HasSubstr("SIGABRT"));
  for (int i = 0; i < 30; ++i) EXPECT_EQ(behind[i].get(), i * i) << "task " << i << " was queued behind the crash";
  pool.shutdown();
  const TaskCounts c = pool.counts();
  EXPECT_EQ(c.failed, 1u);
  EXPECT_EQ(c.completed, 31u);
  EXPECT_EQ(pool.processes_created(), 2u);
}

/// Runs quick tasks until the pool's I/O thread rates its worker's tasks as short, so
/// what is submitted next goes out in batches.
void warm_up(ProcessPool& pool) {
  std::vector<Future<int>> quick;
  for (int i = 0; i < 200; ++i) quick.push_back(pool.submit(square_task, i));
  for (auto& f : quick) f.get();
}

TEST(ProcessPool, RepliesWrittenBeforeACrashStillComplete) {
  ProcessPool pool(1);
  warm_up(pool);
  // Crashes among quick tasks in flight: some replies are still unread when their worker
  // dies, and those tasks finished, so they must complete, not fail.
  constexpr int rounds = 20, per_round = 40;
  std::vector<Future<int>> squares, crashes;
  for (int r = 0; r < rounds; ++r) {
    for (int i = 0; i < per_round; ++i) squares.push_back(pool.submit(square_task, i));
    crashes.push_back(pool.submit(abort_task));
  }
  for (std::size_t i = 0; i < squares.size(); ++i) {
    const int x = static_cast<int>(i % per_round);
    EXPECT_EQ(squares[i].get(), x * x) << "square " << i << " is not the task that crashed";
  }
  for (auto& crash : crashes) EXPECT_THAT(failure_of(crash), HasSubstr("SIGABRT"));
  pool.shutdown();
  const TaskCounts c = pool.counts();
  EXPECT_EQ(c.failed, static_cast<std::uint64_t>(rounds));
  EXPECT_EQ(c.completed, 200u + rounds * per_round);
  EXPECT_EQ(pool.processes_created(), 1u + rounds);
}

TEST(ProcessPool, LargeAndSmallRepliesInOneBatchKeepTheirPlaces) {
  ProcessPool pool(1);
  warm_up(pool);
  std::vector<std::string> texts;
  std::vector<Future<std::string>> replies;
  for (int i = 0; i < 150; ++i) {
    // Every third reply is too large for the ring and travels on the socket instead.
    std::string text(i % 3 == 0 ? 2000 + i : 1 + i % 40, 'a');
    for (std::size_t j = 0; j < text.size(); ++j) text[j] = static_cast<char>('a' + (i + j) % 26);
    replies.push_back(pool.submit(reverse_task, text));
    texts.push_back(std::move(text));
  }
  for (int i = 0; i < 150; ++i)
    ASSERT_EQ(replies[i].get(), std::string(texts[i].rbegin(), texts[i].rend())) << "reply " << i;
}

TEST(ProcessPool, ABatchCarryingMoreFdsThanOneMessageHoldsDeliversEveryFd) {
  ProcessPool pool(1);
  HeldWorker held(pool);
  std::vector<UniqueFd> read_ends;
  std::vector<Future<int>> writes;
  for (int i = 0; i < 80; ++i) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    read_ends.emplace_back(fds[0]);
    writes.push_back(pool.submit(write_text_task, UniqueFd(fds[1]), "pipe " + std::to_string(i)));
  }
  held.open();
  for (int i = 0; i < 80; ++i) {
    const std::string expected = "pipe " + std::to_string(i);
    ASSERT_EQ(writes[i].get(), static_cast<int>(expected.size()));
    char buffer[64] = {};
    ASSERT_EQ(::read(read_ends[i].get(), buffer, sizeof buffer), static_cast<ssize_t>(expected.size()));
    EXPECT_EQ(std::string(buffer), expected) << "each task got its own fd";
  }
}

TEST(ProcessPool, LongTasksGoOneAtATimeSoQueuedOnesStayCancellable) {
  ProcessPool pool(1);
  std::vector<Future<int>> quick;
  for (int i = 0; i < 50; ++i) quick.push_back(pool.submit(square_task, i));
  for (auto& f : quick) f.get();  // the pool has seen short tasks
  auto first = pool.submit(sleep_task, 150);
  ASSERT_TRUE(eventually([&] { return first.running(); }));
  auto second = pool.submit(sleep_task, 150);
  auto third = pool.submit(sleep_task, 150);
  first.get();
  // Having seen a long task, the pool sends the second alone: the third is still queued.
  EXPECT_TRUE(third.cancel()) << "a long task was batched behind another on a busy worker";
  EXPECT_EQ(second.get(), 150);
  EXPECT_TRUE(third.cancelled());
}

/// Calls are lent only where a waiter can poll while the worker runs: on more than one CPU.
class LentCalls : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!detail::can_spin()) GTEST_SKIP() << "this machine has one usable CPU, where process-pool lends no call";
  }
};

TEST_F(LentCalls, CallerThatWaitsForEachResultSendsItselfAndGetsEveryResult) {
  ProcessPool pool(2);
  ASSERT_TRUE(become_a_waiter(pool));
  const std::uint64_t lent = pool.lent_calls();
  const TaskCounts before = pool.counts();
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(pool.submit(square_task, i).get(), i * i);
  EXPECT_GE(pool.lent_calls() - lent, 1000u) << "a caller that waits for each result sends most calls itself";
  pool.shutdown();
  const TaskCounts c = pool.counts();
  EXPECT_EQ(c.submitted - before.submitted, 2000u);
  EXPECT_EQ(c.completed, c.submitted);
}

TEST_F(LentCalls, CallNobodyWaitsForStillEnds) {
  ProcessPool pool(1);
  ASSERT_TRUE(become_a_waiter(pool));
  const std::uint64_t lent = pool.lent_calls();
  std::atomic<int> result{-1};
  pool.submit(square_task, 7).add_done_callback([&](const Future<int>& f) { result = f.get(); });
  EXPECT_EQ(pool.lent_calls(), lent + 1);
  EXPECT_TRUE(eventually([&] { return result.load() == 49; })) << "the I/O thread takes back a lent call";
  EXPECT_EQ(pool.submit(square_task, 8).get(), 64);
}

TEST_F(LentCalls, CrashDuringOneFailsOnlyIt) {
  ProcessPool pool(1);
  ASSERT_TRUE(become_a_waiter(pool));
  const std::uint64_t lent = pool.lent_calls();
  const TaskCounts before = pool.counts();
  auto crash = pool.submit(segfault_task);
  EXPECT_EQ(pool.lent_calls(), lent + 1);
  EXPECT_THAT(failure_of(crash), HasSubstr("SIGSEGV"));
  for (int i = 0; i < 20; ++i) EXPECT_EQ(pool.submit(square_task, i).get(), i * i);
  pool.shutdown();
  EXPECT_EQ(pool.counts().failed, 1u);
  EXPECT_EQ(pool.counts().completed - before.completed, 20u);
}

/// Makes this thread's next call to `pool` (of one worker) a lent one, then kills the idle
/// worker it will be lent to and waits until it has died: that call's send must fail.
bool lend_next_call_to_a_dead_worker(ProcessPool& pool) {
  if (!become_a_waiter(pool)) return false;
  const pid_t pid = pool.worker_pids().at(0);
  return ::kill(pid, SIGKILL) == 0 && eventually([&] { return process_is_zombie(pid) || process_is_gone(pid); });
}

TEST_F(LentCalls, IdleWorkerDeathFailsNone) {
  ProcessPool pool(1);
  ASSERT_TRUE(lend_next_call_to_a_dead_worker(pool));
  EXPECT_EQ(pool.submit(square_task, 5).get(), 25)
      << "a call that never reached the dead worker goes to its replacement";
  pool.shutdown();
  EXPECT_EQ(pool.counts().failed, 0u);
}

TEST_F(LentCalls, IdleWorkerDeathKeepsTheFdsOfTheCallItCouldNotTake) {
  ProcessPool pool(1);
  ASSERT_TRUE(lend_next_call_to_a_dead_worker(pool));
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]);
  EXPECT_EQ(pool.submit(write_text_task, UniqueFd(fds[1]), std::string("still mine")).get(), 10)
      << "the replacement got the call with the fd it passes";
  char buffer[16] = {};
  EXPECT_EQ(::read(read_end.get(), buffer, sizeof buffer), 10);
  EXPECT_STREQ(buffer, "still mine");
  pool.shutdown();
  EXPECT_EQ(pool.counts().failed, 0u);
}

TEST_F(LentCalls, LongOneIsLeftToTheIoThreadAndEnds) {
  ProcessPool pool(1);
  ASSERT_TRUE(become_a_waiter(pool));
  const std::uint64_t lent = pool.lent_calls();
  auto slow = pool.submit(sleep_task, 30);
  EXPECT_EQ(pool.lent_calls(), lent + 1);
  EXPECT_FALSE(slow.wait_for(std::chrono::microseconds(50))) << "a 30 ms task cannot have ended";
  EXPECT_EQ(slow.get(), 30);
  EXPECT_EQ(pool.submit(square_task, 4).get(), 16);
}

TEST_F(LentCalls, ShutdownEndsOne) {
  ProcessPool pool(1);
  ASSERT_TRUE(become_a_waiter(pool));
  const std::uint64_t lent = pool.lent_calls();
  auto slow = pool.submit(sleep_task, 20);
  EXPECT_EQ(pool.lent_calls(), lent + 1);
  pool.shutdown();
  EXPECT_TRUE(slow.done());
  EXPECT_EQ(slow.get(), 20);
  EXPECT_THROW(pool.submit(square_task, 1), ExecutorShutdownError);
  const TaskCounts c = pool.counts();
  EXPECT_EQ(c.submitted, c.completed);
}

TEST(ProcessPool, ThreadsWaitingForEachResultShareWorkersWithoutLosingOne) {
  ProcessPool pool(2);
  constexpr int threads = 4;
  constexpr int calls = 300;
  std::atomic<int> wrong{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < threads; ++t) {
    callers.emplace_back([&, t] {
      for (int i = 0; i < calls; ++i) {
        const int x = t * calls + i;
        if (pool.submit(square_task, x).get() != x * x) ++wrong;
      }
    });
  }
  for (auto& caller : callers) caller.join();
  EXPECT_EQ(wrong.load(), 0);
  pool.shutdown();
  const TaskCounts c = pool.counts();
  EXPECT_EQ(c.submitted, std::uint64_t{threads * calls});
  EXPECT_EQ(c.completed, c.submitted);
}

}  // namespace
}  // namespace poolbench::testing
