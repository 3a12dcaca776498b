#include "pools/spin_wait.hpp"

#include "pools/topology.hpp"

namespace poolbench::detail {

bool can_spin() noexcept {
  static const bool several_cpus = [] {
    try {
      return Topology::machine().usable_cpus() > 1;
    } catch (...) {
      return false;  // cannot tell: never spin, which is always safe
    }
  }();
  return several_cpus;
}

}  // namespace poolbench::detail
