#include "pools/idle_workers.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "tests/test_tasks.hpp"

namespace poolbench::testing {
namespace {

using namespace std::chrono_literals;

TEST(IdleWorkers, ParkReturnsAtOnceWhenWorkArrivedAndTheWorkerSearchesAgain) {
  IdleWorkers idle(2);
  std::atomic<bool> counted_as_parked{false};
  std::atomic<bool> woken{false};
  std::jthread sleeper([&] {
    idle.park(1, [&] {
      counted_as_parked.store(true);
      return false;
    });
    woken.store(true);
    idle.leave();
  });
  ASSERT_TRUE(eventually([&] { return counted_as_parked.load(); }));
  idle.park(0, [] { return true; });  // work is there: back at once, searching
  idle.notify([] { return 1; });
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(woken.load()) << "the task the returned worker searches for wakes nobody";
  idle.stop_searching();
  idle.notify([] { return 1; });
  EXPECT_TRUE(eventually([&] { return woken.load(); }));
}

TEST(IdleWorkers, NotifyWakesOneWorkerPerTaskThatNoSearcherCovers) {
  constexpr int count = 3;
  IdleWorkers idle(count);
  std::atomic<int> counted_as_parked{0};
  std::atomic<int> woken{0};
  std::vector<std::jthread> workers;
  for (std::size_t i = 0; i < count; ++i) {
    workers.emplace_back([&, i] {
      // park asks for work once the worker counts as parked, and sleeps when there is none.
      idle.park(i, [&] {
        counted_as_parked.fetch_add(1);
        return false;
      });
      woken.fetch_add(1);
    });
  }
  ASSERT_TRUE(eventually([&] { return counted_as_parked.load() == count; }));
  idle.notify([] { return 1; });
  ASSERT_TRUE(eventually([&] { return woken.load() == 1; }));
  // The woken worker searches until it leaves: it covers one queued task, not two.
  idle.notify([] { return 1; });
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(woken.load(), 1) << "a task a searcher covers wakes nobody";
  idle.notify([] { return 2; });
  ASSERT_TRUE(eventually([&] { return woken.load() == 2; }));
  idle.leave();
  idle.leave();
  idle.notify([] { return 1; });
  ASSERT_TRUE(eventually([&] { return woken.load() == 3; }));
  idle.leave();
}

TEST(IdleWorkers, CloseWakesEveryParkedWorkerAndKeepsThemFromParking) {
  constexpr std::size_t count = 4;
  IdleWorkers idle(count);
  std::atomic<int> woken{0};
  std::vector<std::jthread> workers;
  for (std::size_t i = 0; i < count; ++i) {
    workers.emplace_back([&, i] {
      idle.park(i, [] { return false; });
      idle.park(i, [] { return false; });  // after close, returns at once
      woken.fetch_add(1);
      idle.leave();
    });
  }
  std::this_thread::sleep_for(20ms);
  idle.close();
  ASSERT_TRUE(eventually([&] { return woken.load() == static_cast<int>(count); }));
}

}  // namespace
}  // namespace poolbench::testing
