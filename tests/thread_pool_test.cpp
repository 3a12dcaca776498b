#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <latch>
#include <set>
#include <thread>
#include <vector>

#include "bench/heap_counter.hpp"
#include "pools/machine/topology.hpp"
#include "pools/registry.hpp"
#include "pools/threads/thread_per_task.hpp"
#include "pools/threads/thread_pool.hpp"
#include "tests/test_tasks.hpp"

namespace poolbench::testing {
namespace {

using bench::heap_allocations;

TEST(ThreadPool, WorkerThreadsAreCreatedOnce) {
  ThreadPool pool(4);
  std::vector<Future<std::uint64_t>> futures;
  for (int i = 0; i < 1000; ++i) futures.push_back(pool.submit(thread_task));
  std::set<std::uint64_t> threads;
  for (auto& f : futures) threads.insert(f.get());
  EXPECT_LE(threads.size(), 4u);
  EXPECT_EQ(threads.count(current_thread()), 0u) << "tasks never run in the submitting thread";
}

TEST(ThreadPool, ClosuresCaptureStateAndMoveOnlyArguments) {
  ThreadPool pool(2);
  auto owned = std::make_unique<int>(41);
  auto f = pool.submit([](std::unique_ptr<int> p, int add) { return *p + add; }, std::move(owned), 1);
  EXPECT_EQ(f.get(), 42);
  std::string big(200, 'x');  // larger than the inline buffer: stored on the heap
  EXPECT_EQ(pool.submit([big] { return big.size(); }).get(), 200u);
  pool.submit([] {}).get();
}

TEST(ThreadPool, OneWorkerRunsABacklogLongerThanItsRingInSubmissionOrder) {
  ThreadPool pool(1);
  std::latch release(1);
  auto blocker = pool.submit([&] { release.wait(); });
  std::vector<int> order;
  std::vector<Future<void>> futures;
  for (int i = 0; i < 5000; ++i) futures.push_back(pool.submit([&order, i] { order.push_back(i); }));
  release.count_down();
  wait_all(futures);
  ASSERT_EQ(order.size(), 5000u);
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(order[i], i);
  pool.shutdown();
  expect_no_task_lost(pool);
}

TEST(ThreadPool, ATaskSubmittedWhileEveryWorkerSleepsWakesOneToRunIt) {
  constexpr std::ptrdiff_t workers = 2;
  ThreadPool pool(workers);
  // One task per worker, each held until both run, tells every worker's thread id.
  std::latch all_running(workers);
  std::vector<Future<pid_t>> started;
  for (int i = 0; i < workers; ++i) {
    started.push_back(pool.submit([&all_running] {
      all_running.arrive_and_wait();
      return ::gettid();
    }));
  }
  std::vector<pid_t> tids;
  for (auto& f : started) tids.push_back(f.result(std::chrono::seconds(30)));
  // Every worker parked and asleep: none finds the next task on its own, so it runs only
  // if submitting it wakes one.
  ASSERT_TRUE(eventually([&] {
    for (pid_t tid : tids)
      if (!asleep_in_futex_wait(tid)) return false;
    return true;
  })) << "the idle workers never slept";
  EXPECT_EQ(pool.submit(square_task, 6).result(std::chrono::seconds(30)), 36);
}

TEST(ThreadPool, ShutdownCancelsTheWholeBacklogAndRefusesWhatComesAfter) {
  ThreadPool pool(1);
  std::latch release(1);
  auto blocker = pool.submit([&] { release.wait(); });
  ASSERT_TRUE(eventually([&] { return blocker.running(); }));
  std::vector<Future<int>> queued;
  for (int i = 0; i < 3000; ++i) queued.push_back(pool.submit([i] { return i; }));
  pool.shutdown(/*wait=*/false, /*cancel_pending=*/true);
  EXPECT_THROW(pool.submit([] { return 0; }), ExecutorShutdownError);
  release.count_down();
  pool.shutdown();
  for (auto& f : queued) ASSERT_TRUE(f.cancelled());
  EXPECT_EQ(pool.counts().cancelled, 3000u);
  EXPECT_EQ(pool.counts().completed, 1u);
  expect_no_task_lost(pool);
}

TEST(ThreadPool, SubmitsRacingShutdownAreEachRefusedOrEnded) {
  for (const bool cancel_pending : {false, true}) {
    ThreadPool pool(2);
    std::array<std::vector<Future<int>>, 3> accepted;
    std::atomic<int> refused{0};
    {
      std::vector<std::jthread> submitters;
      for (auto& mine : accepted) {
        submitters.emplace_back([&] {
          for (int i = 0;; ++i) {
            try {
              mine.push_back(pool.submit([i] { return i; }));
            } catch (const ExecutorShutdownError&) {
              refused.fetch_add(1);
              return;
            }
          }
        });
      }
      ASSERT_TRUE(eventually([&] { return pool.counts().submitted > 3000; }));
      pool.shutdown(/*wait=*/true, cancel_pending);
    }
    EXPECT_EQ(refused.load(), 3) << "every submitter is refused once the pool is shut down";
    std::uint64_t futures = 0;
    for (const auto& mine : accepted) {
      for (const auto& f : mine) ASSERT_TRUE(f.done());
      futures += mine.size();
    }
    EXPECT_EQ(pool.counts().submitted, futures);
    expect_no_task_lost(pool);
  }
}

TEST(ThreadPool, CompactPinningBindsWorkerZeroToTheFirstPu) {
  const Topology& topology = Topology::machine();
  ThreadPool pool(1, topology.placement(Pinning::compact, 1));
  auto affinity = pool.submit([] {
    cpu_set_t set;
    CPU_ZERO(&set);
    sched_getaffinity(0, sizeof set, &set);
    std::vector<unsigned> pus;
    for (unsigned i = 0; i < CPU_SETSIZE; ++i)
      if (CPU_ISSET(i, &set)) pus.push_back(i);
    return pus;
  });
  EXPECT_EQ(affinity.get(), std::vector<unsigned>{topology.bound_pus.at(0).os_index});
}

TEST(ThreadPool, RejectsZeroAndAbsurdSizes) {
  EXPECT_THROW(ThreadPool(0), ConfigError);
  EXPECT_THROW(ThreadPool(max_workers + 1), ConfigError);
}

TEST(Registry, UnsizedExecutorsIgnoreTheWorkerCount) {
  EXPECT_EQ(make_executor("thread-per-task", {20'000, {}})->name(), "thread-per-task");
  EXPECT_EQ(make_executor("sync", {0, {}})->name(), "sync");
  EXPECT_THROW(make_executor("thread-pool", {20'000, {}}), ConfigError);
  EXPECT_THROW(make_executor("fibers", {1, {}}), ConfigError);
}

TEST(ThreadPerTask, CreatesOneThreadPerTask) {
  ThreadPerTask executor;
  std::vector<Future<std::uint64_t>> futures;
  for (int i = 0; i < 50; ++i) futures.push_back(executor.submit(thread_task));
  for (auto& f : futures) f.get();
  executor.shutdown();
  EXPECT_EQ(executor.threads_created(), 50u);
}

/// A closure of 40 bytes: within the 48 bytes a task may capture without allocating.
struct SmallTask {
  std::uint64_t a, b, c, d, e;
  std::uint64_t operator()() const { return a + b + c + d + e; }
};
static_assert(sizeof(SmallTask) == 40);

TEST(ThreadPool, SubmitAllocatesNothingPerTaskOnceWarm) {
  ThreadPool pool(2);
  constexpr std::size_t tasks = 2000;
  std::vector<Future<std::uint64_t>> futures;
  futures.reserve(tasks);
  auto round = [&] {
    for (std::uint64_t i = 0; i < tasks; ++i) futures.push_back(pool.submit(SmallTask{i, 1, 2, 3, 4}));
    for (std::uint64_t i = 0; i < tasks; ++i) ASSERT_EQ(futures[i].get(), i + 10);
    futures.clear();
  };
  round();  // warms the state pool and the queue
  const std::uint64_t before = heap_allocations();
  round();
  round();
  EXPECT_LT(heap_allocations() - before, tasks / 100) << "at most a few allocations in 4000 tasks";
}

/// Posts closures of 48 bytes (two references and four integers).
TEST(ThreadPool, PostAllocatesNothingPerTaskOnceWarm) {
  ThreadPool pool(2);
  constexpr std::size_t tasks = 2000;
  std::atomic<std::uint64_t> sum{0};
  std::atomic<std::size_t> ended{0};
  auto round = [&] {
    const std::size_t target = ended.load() + tasks;
    for (std::uint64_t i = 0; i < tasks; ++i)
      pool.post([&sum, &ended, i, a = std::uint64_t{1}, b = std::uint64_t{2}, c = std::uint64_t{3}] {
        sum.fetch_add(i + a + b + c, std::memory_order_relaxed);
        ended.fetch_add(1, std::memory_order_release);
      });
    return eventually([&] { return ended.load(std::memory_order_acquire) >= target; });
  };
  ASSERT_TRUE(round());
  const std::uint64_t before = heap_allocations();
  ASSERT_TRUE(round());
  ASSERT_TRUE(round());
  EXPECT_LT(heap_allocations() - before, tasks / 100);
  pool.shutdown();
  EXPECT_EQ(sum.load(), 3 * (tasks * (tasks - 1) / 2 + 6 * tasks));
}

}  // namespace
}  // namespace poolbench::testing
