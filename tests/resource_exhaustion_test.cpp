#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "pools/thread_per_task.hpp"
#include "pools/thread_pool.hpp"
#include "tests/test_tasks.hpp"

namespace poolbench::testing {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

/// Moves this test process into a fresh cgroup v1 `pids` group that allows only `extra`
/// more threads than it has now, and moves it back on destruction. Each CTest test runs in
/// its own process, so the limit touches nothing else.
class PidsLimit {
 public:
  explicit PidsLimit(int extra) {
    const fs::path root = "/sys/fs/cgroup/pids";
    group_ = root / ("poolbench-test-" + std::to_string(::getpid()));
    std::error_code ec;
    if (!fs::exists(root / "cgroup.procs") || !fs::create_directory(group_, ec)) return;
    int threads = 0;
    for ([[maybe_unused]] const auto& t : fs::directory_iterator("/proc/self/task")) ++threads;
    std::ofstream(group_ / "pids.max") << threads + extra;
    std::ofstream(group_ / "cgroup.procs") << ::getpid();
    active_ = true;
  }
  ~PidsLimit() {
    if (active_) std::ofstream("/sys/fs/cgroup/pids/cgroup.procs") << ::getpid();
    std::error_code ec;
    fs::remove(group_, ec);
  }
  PidsLimit(const PidsLimit&) = delete;
  PidsLimit& operator=(const PidsLimit&) = delete;

  bool active() const { return active_; }

 private:
  fs::path group_;
  bool active_ = false;
};

constexpr const char* needs_pids_cgroup =
    "needs a writable cgroup v1 pids hierarchy at /sys/fs/cgroup/pids (root on a cgroup v1 host)";

TEST(ResourceExhaustion, RefusedThreadFailsOnlyItsTask) {
  ThreadPerTask executor;
  Gate gate;
  std::vector<Future<int>> futures;
  {
    PidsLimit limit(3);
    if (!limit.active()) GTEST_SKIP() << needs_pids_cgroup;
    for (int i = 0; i < 10; ++i) futures.push_back(executor.submit(gate_task, gate.reader()));
    gate.open();
    for (auto& f : futures) f.wait();
  }
  int refused = 0;
  for (auto& f : futures) {
    try {
      EXPECT_EQ(f.get(), 0);
    } catch (const ResourceError& e) {
      ++refused;
      EXPECT_THAT(e.what(), HasSubstr("could not create a thread"));
    }
  }
  EXPECT_GE(refused, 7) << "at most 3 threads fit under the limit";
  executor.shutdown();
  const TaskCounts c = executor.counts();
  EXPECT_EQ(c.failed, static_cast<std::uint64_t>(refused));
  EXPECT_EQ(c.submitted, c.completed + c.failed);
}

TEST(ResourceExhaustion, ThreadPoolThatCannotStartItsWorkersThrowsResourceError) {
  PidsLimit limit(2);
  if (!limit.active()) GTEST_SKIP() << needs_pids_cgroup;
  try {
    ThreadPool pool(8);
    FAIL() << "8 workers started under a limit of 2 threads";
  } catch (const ResourceError& e) {
    EXPECT_THAT(e.what(), HasSubstr("of 8 worker threads"));
  }
}

}  // namespace
}  // namespace poolbench::testing
