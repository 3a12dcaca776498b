#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "bench/heap_counter.hpp"
#include "pools/block_pool.hpp"
#include "pools/thread_pool.hpp"
#include "tests/test_tasks.hpp"

namespace poolbench::testing {
namespace {

using bench::heap_allocations;

TEST(BlockPool, BlocksFreedOnAnotherThreadAreReusedWithoutTheHeap) {
  using Pool = detail::BlockPool<192>;
  std::vector<void*> blocks(1000);
  for (auto& b : blocks) b = Pool::allocate();
  std::thread([&] {
    for (void* b : blocks) Pool::deallocate(b);
  }).join();

  const std::uint64_t before = heap_allocations();
  for (auto& b : blocks) b = Pool::allocate();
  EXPECT_EQ(heap_allocations() - before, 0u) << "blocks freed by the other thread came back through the depot";
  for (void* b : blocks) Pool::deallocate(b);
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
