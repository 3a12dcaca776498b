// The yardstick adapters (oneTBB, Boost.Asio) keep no count of their own: shutdown waits on
// the Executor's submitted and ended counts. These tests check that contract where it is
// thinnest: a submit racing shutdown, and an executor destroyed the moment its last task
// has been counted.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "pools/core/errors.hpp"
#include "pools/registry.hpp"
#include "pools/yardsticks/admission.hpp"

namespace poolbench::testing {
namespace {

class Yardstick : public ::testing::TestWithParam<const char*> {
 protected:
  static std::unique_ptr<Executor> make(std::size_t workers = 2) {
    return make_executor(GetParam(), ExecutorOptions{workers, {}});
  }
};

TEST_P(Yardstick, ASubmitRacingShutdownIsRefusedOrEndsBeforeShutdownReturns) {
  for (int round = 0; round < 20; ++round) {
    auto executor = make();
    std::atomic<bool> started{false};
    std::atomic<std::uint64_t> accepted{0};
    std::atomic<std::uint64_t> ran{0};
    std::thread submitter([&] {
      for (;;) {
        try {
          executor->post([&ran] { ran.fetch_add(1, std::memory_order_relaxed); });
        } catch (const ExecutorShutdownError&) {
          return;
        }
        accepted.fetch_add(1, std::memory_order_relaxed);
        started.store(true, std::memory_order_release);
      }
    });
    while (!started.load(std::memory_order_acquire)) std::this_thread::yield();
    executor->shutdown(/*wait=*/true);
    // Every task admitted before shutdown returned has ended by then, so none ends after.
    // (Not `submitted == ended` at return: a submit being refused right then is counted
    // until the base uncounts it, as docs/design.md says.)
    const TaskCounts at_return = executor->counts();
    submitter.join();
    const TaskCounts after = executor->counts();
    EXPECT_EQ(at_return.ended(), after.ended()) << "a task ended after shutdown returned, round " << round;
    EXPECT_EQ(after.submitted, accepted.load()) << "a refused submit is not counted";
    EXPECT_EQ(after.submitted, after.ended());
    EXPECT_EQ(ran.load(), after.completed);
  }
}

TEST_P(Yardstick, DestroyedAsSoonAsItsLastTaskIsCountedLeavesNothingRunning) {
  // Under ASan or TSan a task that touched its executor after counting its end would be
  // reported here: the executor is destroyed the moment the count allows.
  for (int round = 0; round < 200; ++round) {
    auto executor = make(1 + round % 3);
    std::vector<Future<int>> futures;
    for (int i = 0; i < 8; ++i) futures.push_back(executor->submit([i] { return i; }));
    executor.reset();
    for (int i = 0; i < 8; ++i) EXPECT_EQ(futures[i].get(), i);
  }
}

TEST_P(Yardstick, CancelPendingEndsEveryQueuedTaskOnceAndCountsIt) {
  auto executor = make(1);
  std::atomic<bool> release{false};
  auto blocker = executor->submit([&release] {
    while (!release.load(std::memory_order_acquire)) std::this_thread::yield();
  });
  std::vector<Future<int>> queued;
  for (int i = 0; i < 100; ++i) queued.push_back(executor->submit([i] { return i; }));
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    release.store(true, std::memory_order_release);
  });
  executor->shutdown(/*wait=*/true, /*cancel_pending=*/true);
  releaser.join();
  const TaskCounts c = executor->counts();
  EXPECT_EQ(c.submitted, 101u);
  EXPECT_EQ(c.submitted, c.ended());
  // The blocker too may not have started before shutdown asked to cancel what had not.
  std::uint64_t cancelled = blocker.cancelled() ? 1 : 0;
  for (auto& f : queued) {
    ASSERT_TRUE(f.done());
    if (f.cancelled()) ++cancelled;
  }
  EXPECT_EQ(cancelled, c.cancelled);
}

INSTANTIATE_TEST_SUITE_P(Adapters, Yardstick, ::testing::Values("tbb", "asio"));

TEST(Admission, RefusesOnceClosedAndNamesTheExecutor) {
  Admission admission;
  EXPECT_NO_THROW(admission.admit("tbb"));
  admission.close(false);
  try {
    admission.admit("tbb");
    FAIL() << "admitted after close";
  } catch (const ExecutorShutdownError& e) {
    EXPECT_NE(std::string(e.what()).find("tbb"), std::string::npos) << e.what();
  }
}

TEST(Admission, WaitIdleReturnsOnlyOnceNothingIsUnfinished) {
  std::atomic<std::uint64_t> unfinished{3};
  std::atomic<bool> returned{false};
  std::thread waiter([&] {
    Admission::wait_idle([&] { return unfinished.load(); });
    returned.store(true);
  });
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_FALSE(returned.load()) << "returned with " << unfinished.load() << " unfinished";
    unfinished.fetch_sub(1);
  }
  waiter.join();
  EXPECT_TRUE(returned.load());
}

}  // namespace
}  // namespace poolbench::testing
