#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace poolbench {

/// A CPU bandwidth limit: `quota_us` of CPU time per `period_us`, from cgroup v2
/// `cpu.max` or cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`.
struct CgroupCpuLimit {
  std::int64_t quota_us = 0;
  std::int64_t period_us = 0;
  std::filesystem::path source;  ///< the cgroup directory that sets it

  double cpus() const noexcept { return static_cast<double>(quota_us) / static_cast<double>(period_us); }
  /// The CPUs a pool can keep busy: ceil(quota / period), at least 1.
  unsigned whole_cpus() const noexcept;
};

/// The CPU limit in one cgroup v2 directory (its `cpu.max`); nullopt for "max" or no file.
std::optional<CgroupCpuLimit> read_cgroup_v2_limit(const std::filesystem::path& dir);

/// The CPU limit in one cgroup v1 `cpu` directory; nullopt for quota -1 or no files.
std::optional<CgroupCpuLimit> read_cgroup_v1_limit(const std::filesystem::path& dir);

/// The tightest CPU limit on this process: its own cgroup and every ancestor, v1 and v2,
/// found through /proc/self/cgroup and /proc/self/mountinfo. nullopt when unlimited.
/// Every path is read below `root`, so tests can point it at a fixture tree.
std::optional<CgroupCpuLimit> read_cgroup_cpu_limit(const std::filesystem::path& root = "/");

/// How often the CPU bandwidth limit stopped this process's cgroups: periods in which a
/// cgroup used up its quota, and the time its tasks then waited (cgroup v2 `cpu.stat`
/// `nr_throttled` / `throttled_usec`, v1 `nr_throttled` / `throttled_time`).
struct CpuThrottling {
  std::uint64_t periods = 0;
  std::uint64_t throttled_ns = 0;
};

/// The throttling of this process's cgroup and its ancestors, summed (a quota set on an
/// ancestor throttles there); all zero where no `cpu.stat` is readable, since no limit
/// can then have stopped it. Read below `root`, as read_cgroup_cpu_limit.
CpuThrottling read_cgroup_cpu_throttling(const std::filesystem::path& root = "/");

/// How many times the OOM killer has struck in this process's memory cgroup (v2
/// `memory.events`, v1 `memory.oom_control`, field `oom_kill`); nullopt where neither is
/// readable. Worker processes share the cgroup, so a rise tells a SIGKILL was the OOM killer's.
std::optional<std::uint64_t> read_cgroup_oom_kills(const std::filesystem::path& root = "/");

}  // namespace poolbench
