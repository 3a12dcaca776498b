// Bugs in pools/ found by the soak (scripts/soak.sh), each reduced to the smallest test
// that failed before its fix; they stay as regression tests.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "pools/process/process_pool.hpp"
#include "tests/test_tasks.hpp"

namespace poolbench::testing {
namespace {

using namespace std::chrono_literals;

// Soak: "round 28 (process-pool x3, ..., shutdown(wait, timeout) mid-flight, cancel_pending,
// timeout 41 ms): counts() say submitted 44, completed 2, failed 1, cancelled 82; the futures
// say 44 submitted, 2 completed, 1 failed, 41 cancelled".
//
// ProcessPool::shutdown(wait, cancel_pending=true, timeout) cancels the queue into `dropped`
// and records each as cancelled; when the timeout then runs out it does
// `dropped.swap(queue_)`, which puts those already-cancelled calls back into the queue, and
// the I/O threads, which still serve, take them, find them cancelled (start_or_drop) and
// record them as cancelled a second time. The futures are right; counts() is not.
TEST(SoakFindings, ShutdownWithCancelPendingAndATimeoutThatRunsOutCountsEachCancelOnce) {
  ProcessPool pool(1);
  Gate gate;  // never opened: the running task outlasts the shutdown timeout
  auto running = pool.submit(gate_task, gate.reader());
  ASSERT_TRUE(eventually([&] { return running.running(); }));
  std::vector<Future<int>> queued;
  for (int i = 0; i < 10; ++i) queued.push_back(pool.submit(square_task, i));

  pool.shutdown(/*wait=*/true, /*cancel_pending=*/true, 50ms);

  EXPECT_THROW(running.get(), TimeoutError);
  for (auto& f : queued) EXPECT_TRUE(f.cancelled());
  const TaskCounts c = pool.counts();
  EXPECT_EQ(c.submitted, 11u);
  EXPECT_EQ(c.failed, 1u);
  EXPECT_EQ(c.cancelled, 10u) << "each queued task counted as cancelled once";
  expect_no_task_lost(pool);
}

std::atomic<int> unobserved_reports{0};
void count_unobserved(std::exception_ptr) noexcept { unobserved_reports.fetch_add(1); }

// Soak: "round 71 (process-pool x4, 98 tasks from 1 submitter(s), drain then shutdown(wait),
// cancel_pending): counts() say submitted 98, completed 68, failed 24, cancelled 13; the
// futures say 98 submitted, 68 completed, 17 failed, 13 cancelled", with 7 unobserved errors
// "message is shorter than its contents".
//
// ProcessPool::send_unsent moves each call from `unsent` into `in_flight` as it adds it to
// the batch, flushing first whenever the batch holds over 1 MiB. When such a mid-batch flush
// throws (the worker died running a task sent earlier in the batch; or the task timeout ran
// out), the catch moves *all* of `unsent` into `in_flight`, including the moved-from husks of
// the calls already moved. recover_from_death then re-sends those husks (no future, empty
// request) to the replacement, which answers each with an error; failing a husk reports that
// error as unobserved and record()s a failure for a task nobody submitted, so afterwards
// counts() has more tasks ended than submitted. When a shutdown timeout runs out, the husks
// still to be sent are failed too, reported as unobserved "task '...' had not started when
// process-pool's shutdown timeout ran out" (seen 4 times in a 10-minute soak).
TEST(SoakFindings, WorkerDeathDuringAMidBatchFlushEndsNoTaskThatWasNotSubmitted) {
  unobserved_reports.store(0);
  const UnobservedErrorHandler previous = set_unobserved_error_handler(&count_unobserved);
  const std::string big(700 * 1024, 'x');  // two of them exceed one 1 MiB batch
  std::string reversed = big;
  std::reverse(reversed.begin(), reversed.end());
  {
    ProcessPool pool(1);
    // Short replies first, from another thread (so no call of this one is lent): the pool
    // then judges tasks short and sends a backlog in batches.
    std::thread([&] {
      std::vector<Future<int>> warm;
      for (int i = 0; i < 200; ++i) warm.push_back(pool.submit(square_task, i));
      for (auto& f : warm) f.get();
    }).join();
    for (int round = 0; round < 5; ++round) {
      // Hold the worker while the backlog queues; a short hold, so that a few short tasks
      // bring the pool's estimate back under 100 us and the rest go as one batch.
      Gate gate;
      auto held = pool.submit(gate_task, gate.reader());
      std::vector<Future<int>> squares;
      for (int i = 0; i < 20; ++i) squares.push_back(pool.submit(square_task, i));
      std::vector<Future<std::string>> bigs;
      bigs.push_back(pool.submit(reverse_task, big));
      auto crash = pool.submit(segfault_task);
      for (int i = 0; i < 3; ++i) bigs.push_back(pool.submit(reverse_task, big));
      gate.open();
      held.get();
      for (auto& f : squares) f.get();
      EXPECT_THROW(crash.get(), WorkerDiedError);
      for (auto& f : bigs) EXPECT_EQ(f.get(), reversed);
    }
    pool.shutdown();
    const TaskCounts c = pool.counts();
    EXPECT_EQ(c.submitted, 200u + 5 * 26u);
    EXPECT_EQ(c.failed, 5u) << "only the 5 segfaults fail";
    expect_no_task_lost(pool);
  }
  set_unobserved_error_handler(previous);
  EXPECT_EQ(unobserved_reports.load(), 0) << "no call without a future was failed";
}

}  // namespace
}  // namespace poolbench::testing
