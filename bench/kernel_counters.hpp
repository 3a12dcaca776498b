#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pools/core/unique_fd.hpp"

namespace poolbench::bench {

/// The kernel events poolbench counts for a whole run: software events every Linux has,
/// then hardware ones that need a PMU (most VMs expose none).
enum class KernelEvent : std::size_t {
  context_switches,
  cpu_migrations,
  page_faults,
  task_clock_ns,
  cycles,
  instructions,
  cache_misses,
};
inline constexpr std::size_t kernel_event_count = 7;

/// Totals of the counted events since the counters were opened; an event not counted stays 0.
struct KernelCounts {
  std::array<std::uint64_t, kernel_event_count> values{};

  std::uint64_t operator[](KernelEvent event) const noexcept { return values[static_cast<std::size_t>(event)]; }
};

/// Counts kernel events of this process and of every thread and process it starts
/// afterwards (perf_event_open with `inherit`), so that a pool's worker threads and worker
/// processes count along with the submitter. Must be opened before the executors it is to
/// cover exist; reads are totals, whose differences cover what happened between them.
class KernelCounters {
 public:
  /// Opens what this machine and its `perf_event_paranoid` allow; never throws: an event
  /// refused is not counted, and `status()` says why.
  KernelCounters() noexcept;

  /// The counters of this process, opened on first use: `run` and `tune` open them at
  /// start, before any executor, so every worker counts.
  static KernelCounters& process() noexcept;

  bool counting(KernelEvent event) const noexcept { return static_cast<bool>(fds_[static_cast<std::size_t>(event)]); }
  bool counting_any() const noexcept;
  KernelCounts read() const noexcept;
  /// One line for the JSON context: what is counted, and why any event is not.
  const std::string& status() const noexcept { return status_; }

 private:
  void open_all();

  std::array<UniqueFd, kernel_event_count> fds_;
  std::string status_;
};

}  // namespace poolbench::bench
