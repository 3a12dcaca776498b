#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "pools/machine/cgroup.hpp"

namespace poolbench::testing {
namespace {

namespace fs = std::filesystem;

/// A throw-away directory tree shaped like / for one test: proc/self/* and sys/fs/cgroup/*.
class CgroupFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("poolbench-cgroup-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "proc/self");
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const fs::path& relative, const std::string& text) {
    fs::create_directories((root_ / relative).parent_path());
    std::ofstream(root_ / relative) << text;
  }

  fs::path root_;
};

constexpr const char* v1_mountinfo =
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n";

constexpr const char* v2_mountinfo = "35 24 0:30 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";

TEST_F(CgroupFixture, V1FractionalQuotaRoundsUp) {
  write("proc/self/mountinfo", v1_mountinfo);
  write("proc/self/cgroup", "2:cpuacct:/\n1:cpu:/batch\n0::/\n");
  write("sys/fs/cgroup/cpu/batch/cpu.cfs_quota_us", "150000\n");
  write("sys/fs/cgroup/cpu/batch/cpu.cfs_period_us", "100000\n");
  const auto limit = read_cgroup_cpu_limit(root_);
  ASSERT_TRUE(limit.has_value());
  EXPECT_DOUBLE_EQ(limit->cpus(), 1.5);
  EXPECT_EQ(limit->whole_cpus(), 2u);
}

TEST_F(CgroupFixture, V1UnlimitedQuotaIsNone) {
  write("proc/self/mountinfo", v1_mountinfo);
  write("proc/self/cgroup", "1:cpu:/\n");
  write("sys/fs/cgroup/cpu/cpu.cfs_quota_us", "-1\n");
  write("sys/fs/cgroup/cpu/cpu.cfs_period_us", "100000\n");
  EXPECT_FALSE(read_cgroup_cpu_limit(root_).has_value());
}

TEST_F(CgroupFixture, V1TighterAncestorWins) {
  write("proc/self/mountinfo", v1_mountinfo);
  write("proc/self/cgroup", "1:cpu,cpuacct:/outer/inner\n");
  write("sys/fs/cgroup/cpu/outer/cpu.cfs_quota_us", "50000\n");
  write("sys/fs/cgroup/cpu/outer/cpu.cfs_period_us", "100000\n");
  write("sys/fs/cgroup/cpu/outer/inner/cpu.cfs_quota_us", "400000\n");
  write("sys/fs/cgroup/cpu/outer/inner/cpu.cfs_period_us", "100000\n");
  const auto limit = read_cgroup_cpu_limit(root_);
  ASSERT_TRUE(limit.has_value());
  EXPECT_DOUBLE_EQ(limit->cpus(), 0.5);
  EXPECT_EQ(limit->whole_cpus(), 1u);
}

TEST_F(CgroupFixture, V2MaxIsNone) {
  write("proc/self/mountinfo", v2_mountinfo);
  write("proc/self/cgroup", "0::/user.slice\n");
  write("sys/fs/cgroup/user.slice/cpu.max", "max 100000\n");
  EXPECT_FALSE(read_cgroup_cpu_limit(root_).has_value());
}

TEST_F(CgroupFixture, V2QuotaIsRead) {
  write("proc/self/mountinfo", v2_mountinfo);
  write("proc/self/cgroup", "0::/svc/app\n");
  write("sys/fs/cgroup/svc/app/cpu.max", "250000 100000\n");
  const auto limit = read_cgroup_cpu_limit(root_);
  ASSERT_TRUE(limit.has_value());
  EXPECT_DOUBLE_EQ(limit->cpus(), 2.5);
  EXPECT_EQ(limit->whole_cpus(), 3u);
}

TEST_F(CgroupFixture, V2InsideAContainerUsesTheMountRoot) {
  // A container sees its own cgroup mounted at /sys/fs/cgroup with a non-root mount root.
  write("proc/self/mountinfo", "40 30 0:30 /kubepods/pod1 /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n");
  write("proc/self/cgroup", "0::/kubepods/pod1\n");
  write("sys/fs/cgroup/cpu.max", "50000 100000\n");
  const auto limit = read_cgroup_cpu_limit(root_);
  ASSERT_TRUE(limit.has_value());
  EXPECT_EQ(limit->whole_cpus(), 1u);
}

TEST_F(CgroupFixture, OomKillsAreReadFromTheMemoryCgroupOfEitherVersion) {
  write("proc/self/mountinfo", "33 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n");
  write("proc/self/cgroup", "4:memory:/jobs/one\n1:cpu:/\n");
  write("sys/fs/cgroup/memory/jobs/one/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
  EXPECT_EQ(read_cgroup_oom_kills(root_), 3u);
  write("proc/self/mountinfo", v2_mountinfo);
  write("proc/self/cgroup", "0::/jobs/two\n");
  write("sys/fs/cgroup/jobs/two/memory.events", "low 0\nhigh 0\nmax 4\noom 2\noom_kill 1\n");
  EXPECT_EQ(read_cgroup_oom_kills(root_), 1u);
  write("proc/self/cgroup", "0::/nowhere\n");
  EXPECT_FALSE(read_cgroup_oom_kills(root_).has_value());
}

TEST_F(CgroupFixture, ThrottlingIsSummedOverTheCgroupAndItsAncestorsOfEitherVersion) {
  write("proc/self/mountinfo", v1_mountinfo);
  write("proc/self/cgroup", "2:cpuacct:/\n1:cpu:/outer/inner\n");
  write("sys/fs/cgroup/cpu/outer/cpu.stat", "nr_periods 90\nnr_throttled 7\nthrottled_time 2000000\n");
  write("sys/fs/cgroup/cpu/outer/inner/cpu.stat", "nr_periods 50\nnr_throttled 3\nthrottled_time 500\n");
  auto t = read_cgroup_cpu_throttling(root_);
  EXPECT_EQ(t.periods, 10u);
  EXPECT_EQ(t.throttled_ns, 2'000'500u) << "v1 counts nanoseconds";
  write("proc/self/mountinfo", v2_mountinfo);
  write("proc/self/cgroup", "0::/svc\n");
  write("sys/fs/cgroup/svc/cpu.stat", "usage_usec 10\nnr_periods 4\nnr_throttled 2\nthrottled_usec 1500\n");
  t = read_cgroup_cpu_throttling(root_);
  EXPECT_EQ(t.periods, 2u);
  EXPECT_EQ(t.throttled_ns, 1'500'000u) << "v2 counts microseconds";
  write("proc/self/cgroup", "0::/nowhere\n");
  t = read_cgroup_cpu_throttling(root_);
  EXPECT_EQ(t.periods, 0u) << "nothing readable: nothing throttled";
}

TEST_F(CgroupFixture, MissingFilesMeanNoLimit) { EXPECT_FALSE(read_cgroup_cpu_limit(root_).has_value()); }

TEST_F(CgroupFixture, MalformedFilesMeanNoLimit) {
  write("sys/fs/cgroup/x/cpu.max", "lots 100000\n");
  EXPECT_FALSE(read_cgroup_v2_limit(root_ / "sys/fs/cgroup/x").has_value());
  write("sys/fs/cgroup/y/cpu.cfs_quota_us", "0\n");
  write("sys/fs/cgroup/y/cpu.cfs_period_us", "100000\n");
  EXPECT_FALSE(read_cgroup_v1_limit(root_ / "sys/fs/cgroup/y").has_value());
}

}  // namespace
}  // namespace poolbench::testing
