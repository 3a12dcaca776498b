#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <numeric>
#include <set>
#include <thread>
#include <vector>

#include <unistd.h>

#include "pools/registry.hpp"
#include "tests/test_tasks.hpp"

namespace poolbench::testing {
namespace {

using ::testing::HasSubstr;

/// What the contract may assume about each executor: whether submit runs the task inline,
/// and whether tasks wait in a queue behind busy workers (so they can be cancelled).
struct SyncKind {
  static constexpr const char* name = "sync";
  static constexpr bool inline_run = true;
  static constexpr bool queues = false;
};
struct ThreadPerTaskKind {
  static constexpr const char* name = "thread-per-task";
  static constexpr bool inline_run = false;
  static constexpr bool queues = false;
};
struct ThreadPoolKind {
  static constexpr const char* name = "thread-pool";
  static constexpr bool inline_run = false;
  static constexpr bool queues = true;
};
struct ProcessPoolKind {
  static constexpr const char* name = "process-pool";
  static constexpr bool inline_run = false;
  static constexpr bool queues = true;
};
struct TbbKind {
  static constexpr const char* name = "tbb";
  static constexpr bool inline_run = false;
  static constexpr bool queues = true;
};
struct AsioKind {
  static constexpr const char* name = "asio";
  static constexpr bool inline_run = false;
  static constexpr bool queues = true;
};

template <class Kind>
class ExecutorContract : public ::testing::Test {
 protected:
  static std::unique_ptr<Executor> make(std::size_t workers = 4) {
    return make_executor(Kind::name, ExecutorOptions{workers, {}});
  }
};

struct KindName {
  template <class Kind>
  static std::string GetName(int) {
    std::string name = Kind::name;
    std::replace(name.begin(), name.end(), '-', '_');
    return name;
  }
};

using AllExecutors = ::testing::Types<SyncKind, ThreadPerTaskKind, ThreadPoolKind, ProcessPoolKind, TbbKind, AsioKind>;
TYPED_TEST_SUITE(ExecutorContract, AllExecutors, KindName);

TYPED_TEST(ExecutorContract, HasItsRegistryName) { EXPECT_EQ(this->make()->name(), TypeParam::name); }

std::string fd_target(int fd) {
  char path[256] = {};
  const ssize_t n = ::readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), path, sizeof path - 1);
  return n > 0 ? std::string(path, static_cast<std::size_t>(n)) : "not open";
}

TYPED_TEST(ExecutorContract, AMoveOnlyResultIsReadByReferenceAndTakenOnce) {
  auto executor = this->make();
  auto future = executor->submit(open_dev_null_task);
  const UniqueFd& seen = future.get();
  EXPECT_EQ(fd_target(seen.get()), "/dev/null") << "the fd crossed back, open";
  EXPECT_EQ(&future.get(), &seen) << "every get returns the same object";
  UniqueFd taken = future.take();
  EXPECT_EQ(fd_target(taken.get()), "/dev/null");
  EXPECT_THROW(future.take(), ResultTakenError);
  EXPECT_THROW(future.get(), ResultTakenError);
  if (executor->runs_in_process()) {
    auto owned = executor->submit([] { return std::make_unique<int>(42); });
    EXPECT_EQ(*owned.get(), 42);
    EXPECT_EQ(*owned.take(), 42);
  }
}

TYPED_TEST(ExecutorContract, ResultsAreRight) {
  auto executor = this->make();
  std::vector<Future<int>> futures;
  for (int i = 0; i < 200; ++i) futures.push_back(executor->submit(square_task, i));
  for (int i = 0; i < 200; ++i) EXPECT_EQ(futures[i].get(), i * i);
  executor->shutdown();
  EXPECT_EQ(executor->counts().completed, 200u);
  expect_no_task_lost(*executor);
}

TYPED_TEST(ExecutorContract, MapKeepsInputOrder) {
  auto executor = this->make();
  std::vector<int> inputs(60);
  std::iota(inputs.begin(), inputs.end(), -10);
  const std::vector<int> results = executor->map(jitter_square_task, inputs);
  ASSERT_EQ(results.size(), inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) EXPECT_EQ(results[i], inputs[i] * inputs[i]) << "index " << i;
}

TYPED_TEST(ExecutorContract, ExceptionReachesGet) {
  auto executor = this->make();
  auto future = executor->submit(throw_task, std::string("boom 42"));
  try {
    future.get();
    FAIL() << "get() did not throw";
  } catch (const std::exception& e) {
    EXPECT_THAT(e.what(), HasSubstr("boom 42"));
  }
  EXPECT_NE(future.exception(), nullptr);
  EXPECT_TRUE(future.done());
  executor->shutdown();
  EXPECT_EQ(executor->counts().failed, 1u);
  expect_no_task_lost(*executor);
}

TYPED_TEST(ExecutorContract, CallbacksRunOnceEachInOrderAndAtOnceWhenDone) {
  auto executor = this->make();
  Gate gate;
  std::mutex mutex;
  std::vector<int> calls;
  Future<int> future =
      TypeParam::inline_run ? executor->submit(square_task, 3) : executor->submit(gate_task, gate.reader());
  for (int i = 1; i <= 3; ++i) {
    future.add_done_callback([&, i](const Future<int>& f) {
      EXPECT_TRUE(f.done());
      std::lock_guard lock(mutex);
      calls.push_back(i);
    });
  }
  gate.open();
  future.wait();
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return calls.size() == 3;
  }));

  const auto caller = std::this_thread::get_id();
  std::thread::id ran_in;
  future.add_done_callback([&](const Future<int>&) {
    ran_in = std::this_thread::get_id();
    std::lock_guard lock(mutex);
    calls.push_back(4);
  });
  EXPECT_EQ(ran_in, caller) << "a callback added after completion runs at once in the caller";
  std::lock_guard lock(mutex);
  EXPECT_EQ(calls, (std::vector<int>{1, 2, 3, 4}));
}

TYPED_TEST(ExecutorContract, ThrowingCallbackIsReportedAndOthersStillRun) {
  static std::atomic<int> reported{0};
  reported = 0;
  const auto previous = set_unobserved_error_handler([](std::exception_ptr) noexcept { ++reported; });
  auto executor = this->make();
  Gate gate;
  auto future = TypeParam::inline_run ? executor->submit(square_task, 2) : executor->submit(gate_task, gate.reader());
  std::atomic<int> later{0};
  future.add_done_callback([](const Future<int>&) { throw std::runtime_error("callback failure"); });
  future.add_done_callback([&](const Future<int>&) { ++later; });
  gate.open();
  future.wait();
  EXPECT_TRUE(eventually([&] { return later == 1 && reported == 1; }));
  executor->shutdown();
  set_unobserved_error_handler(previous);
  EXPECT_EQ(executor->counts().completed, 1u) << "a throwing callback does not fail its task";
}

TYPED_TEST(ExecutorContract, CancelSucceedsOnlyBeforeStart) {
  auto executor = this->make(1);
  if constexpr (TypeParam::inline_run) {
    auto done = executor->submit(square_task, 4);
    EXPECT_FALSE(done.cancel()) << "a finished task cannot be cancelled";
    EXPECT_EQ(done.get(), 16);
  } else {
    Gate gate;
    auto running = executor->submit(gate_task, gate.reader());
    ASSERT_TRUE(eventually([&] { return running.running(); }));
    EXPECT_FALSE(running.cancel()) << "a running task cannot be cancelled";
    if constexpr (TypeParam::queues) {
      auto queued = executor->submit(square_task, 5);
      EXPECT_TRUE(queued.cancel());
      EXPECT_TRUE(queued.cancelled());
      EXPECT_TRUE(queued.done());
      EXPECT_THROW(queued.get(), CancelledError);
      EXPECT_THROW(queued.exception(), CancelledError);
    }
    gate.open();
    EXPECT_EQ(running.get(), 0);
    EXPECT_FALSE(running.cancel()) << "a finished task cannot be cancelled";
  }
  executor->shutdown();
  const TaskCounts c = executor->counts();
  EXPECT_EQ(c.cancelled, TypeParam::queues ? 1u : 0u);
  expect_no_task_lost(*executor);
}

TYPED_TEST(ExecutorContract, ShutdownWaitsForEveryTask) {
  auto executor = this->make(2);
  std::vector<Future<int>> futures;
  for (int i = 0; i < 6; ++i) futures.push_back(executor->submit(sleep_task, 20));
  executor->shutdown(/*wait=*/true);
  for (auto& f : futures) EXPECT_TRUE(f.done());
  EXPECT_EQ(executor->counts().completed, 6u);
  expect_no_task_lost(*executor);
}

TYPED_TEST(ExecutorContract, ShutdownWithCancelPendingCancelsWhatHasNotStarted) {
  auto executor = this->make(1);
  if constexpr (!TypeParam::queues) {
    // Nothing waits in a queue: every task has started by the time submit returns.
    auto f = executor->submit(square_task, 6);
    executor->shutdown(true, true);
    EXPECT_EQ(f.get(), 36);
  } else {
    Gate gate;
    auto running = executor->submit(gate_task, gate.reader());
    ASSERT_TRUE(eventually([&] { return running.running(); }));
    std::vector<Future<int>> queued;
    for (int i = 0; i < 5; ++i) queued.push_back(executor->submit(square_task, i));
    executor->shutdown(/*wait=*/false, /*cancel_pending=*/true);
    gate.open();
    executor->shutdown(/*wait=*/true);
    EXPECT_EQ(running.get(), 0) << "the running task finishes";
    for (auto& f : queued) EXPECT_TRUE(f.cancelled());
    EXPECT_EQ(executor->counts().cancelled, 5u);
  }
  expect_no_task_lost(*executor);
}

TYPED_TEST(ExecutorContract, SubmitAfterShutdownFailsClearly) {
  auto executor = this->make();
  executor->shutdown();
  try {
    executor->submit(square_task, 1);
    FAIL() << "submit after shutdown did not throw";
  } catch (const ExecutorShutdownError& e) {
    EXPECT_THAT(e.what(), HasSubstr("shut down"));
    EXPECT_THAT(e.what(), HasSubstr(TypeParam::name));
  }
  EXPECT_THROW(executor->post(square_task, 1), ExecutorShutdownError);
  EXPECT_EQ(executor->counts().submitted, 0u);
}

TYPED_TEST(ExecutorContract, DestroyingWithQueuedTasksNeitherHangsNorLosesOne) {
  std::vector<Future<int>> futures;
  {
    auto executor = this->make(2);
    for (int i = 0; i < 40; ++i) futures.push_back(executor->submit(sleep_task, 1));
  }
  for (auto& f : futures) {
    ASSERT_TRUE(f.done());
    EXPECT_EQ(f.get(), 1);
  }
}

TYPED_TEST(ExecutorContract, HundredThousandSmallTasksAllEnd) {
  // Under a sanitizer each new thread costs one to two milliseconds of its bookkeeping, so
  // thread-per-task runs 5,000 tasks there (the same creation, reaping and counting
  // paths); the release suite runs 100,000 on every executor.
  const int tasks = sanitized && std::string_view(TypeParam::name) == "thread-per-task" ? 5'000 : 100'000;
  auto executor = this->make(4);
  std::vector<Future<int>> futures;
  futures.reserve(tasks);
  for (int i = 0; i < tasks; ++i) futures.push_back(executor->submit(square_task, i % 1000));
  long long sum = 0;
  for (auto& f : futures) sum += f.get();
  executor->shutdown();
  long long expected = 0;
  for (int i = 0; i < tasks; ++i) expected += (i % 1000) * (i % 1000);
  EXPECT_EQ(sum, expected);
  const TaskCounts c = executor->counts();
  EXPECT_EQ(c.submitted, static_cast<std::uint64_t>(tasks));
  EXPECT_EQ(c.completed, static_cast<std::uint64_t>(tasks));
  expect_no_task_lost(*executor);
}

TYPED_TEST(ExecutorContract, PostRunsTasksAndCountsFailures) {
  static std::atomic<int> reported{0};
  reported = 0;
  const auto previous = set_unobserved_error_handler([](std::exception_ptr) noexcept { ++reported; });
  auto executor = this->make(2);
  for (int i = 0; i < 50; ++i) executor->post(square_task, i);
  executor->post(throw_task, std::string("posted failure"));
  executor->shutdown();
  set_unobserved_error_handler(previous);
  const TaskCounts c = executor->counts();
  EXPECT_EQ(c.completed, 50u);
  EXPECT_EQ(c.failed, 1u);
  EXPECT_EQ(reported, 1) << "a posted task's exception is reported, not swallowed";
  expect_no_task_lost(*executor);
}

TYPED_TEST(ExecutorContract, AsCompletedYieldsEveryFutureOnce) {
  auto executor = this->make(3);
  std::vector<Future<int>> futures;
  for (int i = 0; i < 30; ++i) futures.push_back(executor->submit(jitter_square_task, i));
  auto completed = as_completed(futures);
  std::multiset<int> seen;
  while (auto f = completed.next_for(std::chrono::seconds(30))) {
    EXPECT_TRUE(f->done());
    seen.insert(f->get());
  }
  std::multiset<int> expected;
  for (int i = 0; i < 30; ++i) expected.insert(i * i);
  EXPECT_EQ(seen, expected);
}

}  // namespace
}  // namespace poolbench::testing
