#pragma once

#include "bench/kernel_counters.hpp"

#include <sys/types.h>

#include <cstdint>
#include <vector>

namespace poolbench::bench {

/// CPU time and context switches of this process and its waited-for children, from
/// getrusage. Differences of two snapshots cover what happened between them.
struct ResourceUsage {
  double cpu_seconds = 0;               ///< user + system, self + children
  std::uint64_t context_switches = 0;   ///< voluntary + involuntary, self + children
  std::uint64_t throttled_periods = 0;  ///< of this process's cgroups (see CpuThrottling)
  std::uint64_t throttled_ns = 0;
  KernelCounts kernel;  ///< this process tree's kernel events (see KernelCounters)

  static ResourceUsage now() noexcept;
};

/// Resets this process's peak-RSS mark (Linux `clear_refs` 5), so the next read of
/// `peak_rss_bytes` covers only what follows; false where the kernel refuses.
bool reset_peak_rss() noexcept;

/// The peak resident set (VmHWM) of process `pid` (0 = this process) in bytes, or 0.
std::uint64_t peak_rss_bytes(pid_t pid = 0) noexcept;

/// The resident set now (VmRSS) of process `pid` (0 = this process) in bytes, or 0.
std::uint64_t resident_bytes(pid_t pid = 0) noexcept;

/// The proportional set size (Pss) of process `pid` in bytes: its resident pages, each
/// shared page divided among the processes that map it; 0 where the kernel lacks it.
std::uint64_t proportional_bytes(pid_t pid = 0) noexcept;

}  // namespace poolbench::bench
