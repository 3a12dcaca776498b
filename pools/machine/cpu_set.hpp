#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace poolbench {

/// A set of processing units by OS index, as a worker's affinity.
struct CpuSet {
  std::vector<unsigned> pus;

  bool empty() const noexcept { return pus.empty(); }
  /// "0-3,6" style, as taskset prints it.
  std::string to_string() const;
  /// Restricts the calling thread to these PUs; throws ResourceError when refused.
  void bind_this_thread() const;
  /// Restricts process `pid` (its main thread) to these PUs; throws ResourceError when refused.
  void bind_process(pid_t pid) const;
};

/// Where each worker runs: worker i is bound to `sets[i % sets.size()]`; empty means unbound.
struct Placement {
  std::vector<CpuSet> sets;

  const CpuSet* for_worker(std::size_t i) const noexcept { return sets.empty() ? nullptr : &sets[i % sets.size()]; }
};

}  // namespace poolbench
