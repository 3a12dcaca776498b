#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "pools/threads/thread_pool.hpp"
#include "tests/test_tasks.hpp"

namespace poolbench::testing {
namespace {

using namespace std::chrono_literals;

TEST(Future, ResultWithTimeoutThrowsTimeoutErrorWhileRunning) {
  ThreadPool pool(1);
  Gate gate;
  auto f = pool.submit(gate_task, gate.reader());
  EXPECT_THROW(f.result(20ms), TimeoutError);
  EXPECT_FALSE(f.wait_for(1ms));
  gate.open();
  EXPECT_EQ(f.result(30s), 0);
}

TEST(Future, EveryThreadWaitingOnOneFutureWakesWhenItEnds) {
  ThreadPool pool(1);
  Gate gate;
  auto f = pool.submit(gate_task, gate.reader());
  constexpr int count = 4;
  std::array<std::atomic<pid_t>, count> waiter_tids{};
  std::atomic<int> woken{0};
  bool all_asleep = false;
  {
    std::vector<std::jthread> waiters;
    for (int i = 0; i < count; i += 2) {
      waiters.emplace_back([&, i] {
        waiter_tids[i].store(::gettid());
        EXPECT_EQ(f.get(), 0);
        woken.fetch_add(1);
      });
      waiters.emplace_back([&, i] {
        waiter_tids[i + 1].store(::gettid());
        // The longest timeout there is must not overflow into an instant timeout.
        EXPECT_TRUE(f.wait_for(std::chrono::nanoseconds::max()));
        woken.fetch_add(1);
      });
    }
    // Every waiter asleep on the one status word before the task ends: only the wake-up
    // that ending it sends can bring them back, not a look at the status on the way in.
    all_asleep = eventually([&] {
      std::uintptr_t first = 0;
      for (const auto& tid : waiter_tids) {
        std::uintptr_t word = 0;
        if (tid.load() == 0 || !asleep_in_futex_wait(tid.load(), &word)) return false;
        if (first == 0) first = word;
        if (word != first) return false;
      }
      return true;
    });
    EXPECT_EQ(woken.load(), 0) << "nobody returns before the task ends";
    gate.open();
    EXPECT_TRUE(eventually([&] { return woken.load() == count; })) << "a waiter slept through the end of the task";
  }
  EXPECT_TRUE(all_asleep) << "the waiters never all slept in get() or wait_for()";
  EXPECT_EQ(woken.load(), count);
}

TEST(Future, ExceptionIsNullOnSuccess) {
  ThreadPool pool(1);
  auto f = pool.submit(square_task, 9);
  EXPECT_EQ(f.exception(), nullptr);
  EXPECT_EQ(f.get(), 81);
  EXPECT_EQ(f.get(), 81) << "get() may be called again";
}

TEST(Future, CopiesShareOneState) {
  ThreadPool pool(1);
  Gate gate;
  auto running = pool.submit(gate_task, gate.reader());
  auto queued = pool.submit(square_task, 2);
  Future<int> copy = queued;
  EXPECT_TRUE(copy.cancel());
  EXPECT_TRUE(queued.cancelled());
  gate.open();
  running.get();
}

TEST(Future, VoidTasksSignalCompletion) {
  ThreadPool pool(2);
  std::atomic<int> ran{0};
  auto f = pool.submit([&] { ++ran; });
  f.get();
  EXPECT_EQ(ran, 1);
}

TEST(Future, AsCompletedYieldsInCompletionOrder) {
  ThreadPool pool(2);
  Gate first_gate;
  auto slow = pool.submit(gate_task, first_gate.reader());
  auto fast = pool.submit(square_task, 3);
  fast.wait();
  auto completed = as_completed(std::vector<Future<int>>{slow, fast});
  EXPECT_EQ(completed.next()->get(), 9) << "the task that ended first comes first";
  first_gate.open();
  EXPECT_EQ(completed.next()->get(), 0);
  EXPECT_FALSE(completed.next().has_value());
}

TEST(Future, AsCompletedTimesOut) {
  ThreadPool pool(1);
  Gate gate;
  auto completed = as_completed(std::vector<Future<int>>{pool.submit(gate_task, gate.reader())});
  EXPECT_THROW(completed.next_for(10ms), TimeoutError);
  gate.open();
  EXPECT_TRUE(completed.next_for(30s).has_value());
}

TEST(Future, WaitAllWithTimeout) {
  ThreadPool pool(2);
  Gate gate;
  std::vector<Future<int>> futures{pool.submit(square_task, 1), pool.submit(gate_task, gate.reader())};
  EXPECT_FALSE(wait_all(futures, 10ms));
  gate.open();
  EXPECT_TRUE(wait_all(futures, 30s));
}

}  // namespace
}  // namespace poolbench::testing
