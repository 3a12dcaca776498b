#include <gtest/gtest.h>
#include <sched.h>

#include <set>

#include "pools/registry.hpp"
#include "pools/thread_per_task.hpp"
#include "pools/thread_pool.hpp"
#include "pools/topology.hpp"
#include "tests/test_tasks.hpp"

namespace poolbench::testing {
namespace {

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

}  // namespace
}  // namespace poolbench::testing
