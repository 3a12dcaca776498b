#include "pools/machine/spin_wait.hpp"

#include <atomic>

#include "pools/machine/topology.hpp"

namespace poolbench::detail {

namespace {

/// -1 until settled, then 0 or 1.
std::atomic<int> several_cpus{-1};

}  // namespace

bool can_spin() noexcept {
  int known = several_cpus.load(std::memory_order_relaxed);
  if (known < 0) {
    try {
      known = Topology::machine().usable_cpus() > 1 ? 1 : 0;
    } catch (...) {
      known = 0;  // cannot tell: never spin, which is always safe
    }
    several_cpus.store(known, std::memory_order_relaxed);
  }
  return known != 0;
}

void set_can_spin(bool several) noexcept { several_cpus.store(several ? 1 : 0, std::memory_order_relaxed); }

}  // namespace poolbench::detail
