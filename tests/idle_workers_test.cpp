#include "pools/threads/idle_workers.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <array>
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
  // A window for a wake-up that must not come: notify rings before it returns, and the
  // sleeper, counted as parked, would leave park on that ring asleep or not.
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
  std::this_thread::sleep_for(50ms);  // a window for a wake-up that must not come, as above
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
  constexpr int count = 4;
  IdleWorkers idle(count);
  std::array<std::atomic<pid_t>, count> tids{};
  std::atomic<int> counted_as_parked{0};
  std::atomic<int> woken{0};
  std::vector<std::jthread> workers;
  for (int i = 0; i < count; ++i) {
    workers.emplace_back([&, i] {
      tids[i].store(::gettid());
      idle.park(i, [&] {
        counted_as_parked.fetch_add(1);
        return false;
      });
      idle.park(i, [] { return false; });  // after close, returns at once
      woken.fetch_add(1);
      idle.leave();
    });
  }
  // Every worker parked and asleep before the close: none of them can see it on its way
  // to sleeping, so only close's wake-ups can end the first parks.
  const bool all_asleep = eventually([&] {
    if (counted_as_parked.load() != count) return false;
    for (const auto& tid : tids)
      if (!asleep_in_futex_wait(tid.load())) return false;
    return true;
  });
  EXPECT_EQ(woken.load(), 0);
  idle.close();
  EXPECT_TRUE(all_asleep) << "the workers never all slept in park()";
  EXPECT_TRUE(eventually([&] { return woken.load() == count; })) << "close left a parked worker asleep";
}

}  // namespace
}  // namespace poolbench::testing
