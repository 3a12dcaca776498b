#include "pools/machine/topology.hpp"

#include <hwloc.h>

#include <algorithm>
#include <map>
#include <memory>

#include "pools/core/errors.hpp"

namespace poolbench {
namespace {

struct TopologyHandle {
  hwloc_topology_t topo = nullptr;
  TopologyHandle() {
    if (hwloc_topology_init(&topo) != 0) throw ResourceError("hwloc cannot initialise a topology");
    if (hwloc_topology_load(topo) != 0) {
      hwloc_topology_destroy(topo);
      throw ResourceError("hwloc cannot load this machine's topology");
    }
  }
  ~TopologyHandle() { hwloc_topology_destroy(topo); }
  TopologyHandle(const TopologyHandle&) = delete;
  TopologyHandle& operator=(const TopologyHandle&) = delete;
};

struct Bitmap {
  hwloc_bitmap_t set = hwloc_bitmap_alloc();
  ~Bitmap() { hwloc_bitmap_free(set); }
  Bitmap() = default;
  Bitmap(const Bitmap&) = delete;
  Bitmap& operator=(const Bitmap&) = delete;
};

unsigned count_inside(hwloc_topology_t topo, hwloc_const_cpuset_t set, hwloc_obj_type_t type) {
  const int n = hwloc_get_nbobjs_inside_cpuset_by_type(topo, set, type);
  return n > 0 ? static_cast<unsigned>(n) : 0;
}

std::uint64_t first_cache_size(hwloc_topology_t topo, hwloc_obj_type_t type) {
  hwloc_obj_t obj = hwloc_get_obj_by_type(topo, type, 0);
  return obj && obj->attr ? obj->attr->cache.size : 0;
}

}  // namespace

Topology Topology::load() {
  TopologyHandle h;
  hwloc_topology_t topo = h.topo;
  hwloc_const_cpuset_t allowed = hwloc_topology_get_allowed_cpuset(topo);

  Topology t;
  t.hwloc_version = HWLOC_VERSION;
  t.packages = std::max(1u, count_inside(topo, allowed, HWLOC_OBJ_PACKAGE));
  t.numa_nodes = std::max(1, hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE));
  t.cores = std::max(1u, count_inside(topo, allowed, HWLOC_OBJ_CORE));
  t.pus = std::max(1, hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU));
  t.allowed_pus = std::max(1, hwloc_bitmap_weight(allowed));

  Bitmap bound;
  if (hwloc_get_cpubind(topo, bound.set, HWLOC_CPUBIND_PROCESS) != 0) hwloc_bitmap_copy(bound.set, allowed);
  hwloc_bitmap_and(bound.set, bound.set, allowed);
  if (hwloc_bitmap_iszero(bound.set)) hwloc_bitmap_copy(bound.set, allowed);

  for (hwloc_obj_t pu = hwloc_get_next_obj_inside_cpuset_by_type(topo, bound.set, HWLOC_OBJ_PU, nullptr); pu;
       pu = hwloc_get_next_obj_inside_cpuset_by_type(topo, bound.set, HWLOC_OBJ_PU, pu)) {
    const hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_CORE, pu);
    const hwloc_obj_t package = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_PACKAGE, pu);
    t.bound_pus.push_back(
        {pu->os_index, core ? core->logical_index : pu->logical_index, package ? package->logical_index : 0});
    t.binding.pus.push_back(pu->os_index);
  }
  std::sort(t.binding.pus.begin(), t.binding.pus.end());

  t.cgroup_limit = read_cgroup_cpu_limit();
  t.l1d_bytes = first_cache_size(topo, HWLOC_OBJ_L1CACHE);
  t.l2_bytes = first_cache_size(topo, HWLOC_OBJ_L2CACHE);
  t.l3_bytes = first_cache_size(topo, HWLOC_OBJ_L3CACHE);
  return t;
}

const Topology& Topology::machine() {
  static const Topology topology = load();
  return topology;
}

unsigned Topology::usable_cpus() const noexcept {
  unsigned n = std::max<unsigned>(1, static_cast<unsigned>(bound_pus.size()));
  if (cgroup_limit) n = std::min(n, cgroup_limit->whole_cpus());
  return n;
}

unsigned Topology::usable_cores() const noexcept {
  std::vector<unsigned> distinct;
  for (const Pu& pu : bound_pus)
    if (std::find(distinct.begin(), distinct.end(), pu.core) == distinct.end()) distinct.push_back(pu.core);
  return std::clamp<unsigned>(static_cast<unsigned>(distinct.size()), 1, usable_cpus());
}

Placement Topology::placement(Pinning pinning, std::size_t workers) const {
  Placement out;
  if (pinning == Pinning::none || bound_pus.empty()) return out;
  std::vector<unsigned> order;
  if (pinning == Pinning::compact) {
    for (const Pu& pu : bound_pus) order.push_back(pu.os_index);
  } else {
    // Cores interleaved across packages, then round r takes the r-th PU of every core.
    std::map<unsigned, std::map<unsigned, std::vector<unsigned>>> by_package;
    for (const Pu& pu : bound_pus) by_package[pu.package][pu.core].push_back(pu.os_index);
    std::vector<std::vector<unsigned>> core_pus;
    for (bool more = true; more;) {
      more = false;
      for (auto& [package, package_cores] : by_package) {
        if (package_cores.empty()) continue;
        core_pus.push_back(std::move(package_cores.begin()->second));
        package_cores.erase(package_cores.begin());
        more = true;
      }
    }
    std::size_t deepest = 0;
    for (const auto& c : core_pus) deepest = std::max(deepest, c.size());
    for (std::size_t round = 0; round < deepest; ++round)
      for (const auto& c : core_pus)
        if (round < c.size()) order.push_back(c[round]);
  }
  const std::size_t n = std::min(workers, order.size());
  for (std::size_t i = 0; i < n; ++i) out.sets.push_back(CpuSet{{order[i]}});
  return out;
}

}  // namespace poolbench
