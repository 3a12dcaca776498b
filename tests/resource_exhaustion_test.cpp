#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <numeric>
#include <vector>

#include "pools/process/process_pool.hpp"
#include "pools/threads/thread_per_task.hpp"
#include "pools/threads/thread_pool.hpp"
#include "scenarios/echo_server.hpp"
#include "scenarios/tcp.hpp"
#include "tests/test_tasks.hpp"

namespace poolbench::testing {

/// Allocates `mib` MiB and touches every page: a worker that asks for more than its
/// memory cgroup allows.
std::uint64_t touch_memory(std::uint64_t mib) {
  std::vector<char> block(mib << 20);
  for (std::size_t i = 0; i < block.size(); i += 4096) block[i] = static_cast<char>(i);
  return std::accumulate(block.begin(), block.end(), std::uint64_t{0});
}
const RegisteredTask<&touch_memory> touch_memory_task{"tests.touch_memory"};

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

/// Leaves this process exactly `extra` free descriptors: lowers the soft RLIMIT_NOFILE to
/// just above the highest open fd, fills every free number below it, then frees `extra`.
/// Restores both on destruction.
class FdLimit {
 public:
  explicit FdLimit(int extra) {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    int highest = 0;
    for (const auto& entry : fs::directory_iterator("/proc/self/fd"))
      highest = std::max(highest, std::stoi(entry.path().filename().string()));
    rlimit lowered = saved_;
    lowered.rlim_cur = static_cast<rlim_t>(highest + 1);
    ::setrlimit(RLIMIT_NOFILE, &lowered);
    for (UniqueFd fd; (fd = UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC)));) filler_.push_back(std::move(fd));
    for (int i = 0; i < extra && !filler_.empty(); ++i) filler_.pop_back();
  }
  ~FdLimit() {
    filler_.clear();
    ::setrlimit(RLIMIT_NOFILE, &saved_);
  }
  FdLimit(const FdLimit&) = delete;
  FdLimit& operator=(const FdLimit&) = delete;

 private:
  rlimit saved_{};
  std::vector<UniqueFd> filler_;
};

TEST(ResourceExhaustion, ProcessPoolThatCannotOpenItsChannelsThrowsResourceError) {
  FdLimit limit(3);
  try {
    ProcessPool pool(4);
    FAIL() << "4 workers started with 3 descriptors to spare";
  } catch (const ResourceError& e) {
    EXPECT_THAT(e.what(), HasSubstr("Too many open files"));
  }
}

TEST(ResourceExhaustion, AnFdResultThePoolCannotTakeFailsItsTaskAndSaysWhy) {
  ProcessPool pool(1);
  ASSERT_EQ(pool.submit(square_task, 2).get(), 4);
  {
    FdLimit limit(0);
    auto fd = pool.submit(open_dev_null_task);
    EXPECT_THAT(error_of(fd), ::testing::AllOf(HasSubstr("tests.open_dev_null"), HasSubstr("MSG_CTRUNC"),
                                               HasSubstr("out of descriptors")));
  }
  EXPECT_EQ(pool.submit(square_task, 3).get(), 9) << "the pool recovers once descriptors are free again";
  pool.shutdown();
  expect_no_task_lost(pool);
}

TEST(ResourceExhaustion, AnEchoServerOutOfDescriptorsSaysSoAndResetsWhomItCannotAccept) {
  ThreadPool pool(2);
  scenarios::EchoServer server(pool, 2, std::chrono::seconds(60));
  UniqueFd first = scenarios::connect_to_loopback(server.port(), std::chrono::seconds(20));
  scenarios::set_io_timeout(first.get(), std::chrono::seconds(20));
  scenarios::send_all(first.get(), "ab");
  char echo[2];
  ASSERT_EQ(scenarios::receive_some(first.get(), echo, 1), 1u);
  ASSERT_EQ(scenarios::receive_some(first.get(), echo + 1, 1), 1u);
  EXPECT_EQ(std::string(echo, 2), "AB") << "the first connection was accepted and served";
  std::string accept_error;
  std::vector<scenarios::EchoServer::Connection> connections;
  {
    FdLimit limit(1);
    // Takes the last free descriptor, so the server has none to accept this connection with.
    UniqueFd second = scenarios::connect_to_loopback(server.port(), std::chrono::seconds(20));
    connections = server.finish(accept_error);
    // Not left waiting for a server that stopped accepting: its connection is reset.
    scenarios::set_io_timeout(second.get(), std::chrono::seconds(20));
    char byte;
    try {
      EXPECT_EQ(scenarios::receive_some(second.get(), &byte, 1), 0u);
    } catch (const ResourceError& e) {
      EXPECT_THAT(e.what(), HasSubstr("reset")) << "the unaccepted connection waited out its timeout";
    }
  }
  EXPECT_THAT(accept_error,
              ::testing::AllOf(HasSubstr("accepted 1 of 2"), HasSubstr("Too many open files"), HasSubstr("ulimit -n")));
  first.reset();
  ASSERT_EQ(connections.size(), 1u);
  EXPECT_EQ(connections[0].future.get().value, 2u) << "the connection it did accept was served to its end";
  pool.shutdown();
  expect_no_task_lost(pool);
}

TEST(ResourceExhaustion, ProcessPoolThatCannotStartItsWorkersThrowsResourceError) {
  PidsLimit limit(2);
  if (!limit.active()) GTEST_SKIP() << needs_pids_cgroup;
  try {
    ProcessPool pool(4);
    FAIL() << "4 worker processes started under a limit of 2 more tasks";
  } catch (const ResourceError& e) {
    EXPECT_THAT(e.what(), HasSubstr("worker"));
  }
}

TEST(ResourceExhaustion, AWorkerThatCannotBeReplacedFailsTasksUntilTheLimitLifts) {
  ProcessPool pool(1);
  ASSERT_EQ(pool.submit(square_task, 2).get(), 4);
  {
    PidsLimit limit(0);
    if (!limit.active()) GTEST_SKIP() << needs_pids_cgroup;
    auto crash = pool.submit(abort_task);
    EXPECT_THAT(error_of(crash), HasSubstr("SIGABRT"));
    auto refused = pool.submit(square_task, 5);
    EXPECT_THAT(error_of(refused), HasSubstr("could not start a worker"));
  }
  EXPECT_EQ(pool.submit(square_task, 3).get(), 9) << "a worker starts once the limit is lifted";
  pool.shutdown();
  expect_no_task_lost(pool);
}

/// Moves this test process into a fresh cgroup v1 memory group below its own, limited to
/// `bytes`, and back on destruction; workers started meanwhile live in it too.
class MemoryLimit {
 public:
  explicit MemoryLimit(std::uint64_t bytes) {
    std::ifstream cgroups("/proc/self/cgroup");
    std::string line;
    fs::path own;
    while (std::getline(cgroups, line)) {
      const auto first = line.find(':'), second = line.find(':', first + 1);
      if (line.substr(first + 1, second - first - 1) == "memory") own = line.substr(second + 1);
    }
    if (own.empty()) return;
    parent_ = fs::path("/sys/fs/cgroup/memory") / own.relative_path();
    group_ = parent_ / ("poolbench-test-" + std::to_string(::getpid()));
    std::error_code ec;
    if (!fs::exists(parent_ / "cgroup.procs") || !fs::create_directory(group_, ec)) return;
    std::ofstream(group_ / "memory.limit_in_bytes") << bytes;
    std::ofstream(group_ / "cgroup.procs") << ::getpid();
    active_ = true;
  }
  ~MemoryLimit() {
    if (active_) std::ofstream(parent_ / "cgroup.procs") << ::getpid();
    std::error_code ec;
    fs::remove(group_, ec);
  }
  MemoryLimit(const MemoryLimit&) = delete;
  MemoryLimit& operator=(const MemoryLimit&) = delete;

  bool active() const { return active_; }

 private:
  fs::path parent_;
  fs::path group_;
  bool active_ = false;
};

TEST(ResourceExhaustion, AWorkerTheOomKillerTakesIsReportedAsSuch) {
  MemoryLimit limit(std::uint64_t{256} << 20);
  if (!limit.active())
    GTEST_SKIP() << "needs a writable cgroup v1 memory hierarchy at /sys/fs/cgroup/memory (root on a cgroup v1 host)";
  ProcessPool pool(1);
  auto hog = pool.submit(touch_memory_task, std::uint64_t{1024});
  EXPECT_THAT(error_of(hog),
              ::testing::AllOf(HasSubstr("SIGKILL"), HasSubstr("OOM killer"), HasSubstr("tests.touch_memory")));
  EXPECT_EQ(pool.submit(square_task, 3).get(), 9);
}

}  // namespace
}  // namespace poolbench::testing
