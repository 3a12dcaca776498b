#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pools/machine/cgroup.hpp"
#include "pools/machine/cpu_set.hpp"
#include "pools/machine/sizing.hpp"

namespace poolbench {

/// The machine as this process may use it: hwloc's topology restricted to the allowed
/// cpuset and the process's CPU binding, plus the cgroup CPU quota, which hwloc does not
/// read. Everything a sizing rule or pinning plan needs.
struct Topology {
  /// One processing unit this process may run on, with the core and package it belongs to.
  struct Pu {
    unsigned os_index;
    unsigned core;
    unsigned package;
  };

  std::string hwloc_version;
  unsigned packages = 0;
  unsigned numa_nodes = 0;
  unsigned cores = 0;        ///< physical cores in the allowed cpuset
  unsigned pus = 0;          ///< processing units (hardware threads) in the whole machine
  unsigned allowed_pus = 0;  ///< PUs in the allowed cpuset (cgroup cpuset)
  CpuSet binding;            ///< PUs this process is bound to, within the allowed set
  std::vector<Pu> bound_pus;
  std::optional<CgroupCpuLimit> cgroup_limit;
  std::uint64_t l1d_bytes = 0;
  std::uint64_t l2_bytes = 0;
  std::uint64_t l3_bytes = 0;

  /// Loads the topology of the machine now; throws ResourceError when hwloc cannot.
  static Topology load();
  /// The topology loaded once per process (the first call loads it).
  static const Topology& machine();

  /// min(bound PUs, ceil(cgroup quota / period)), at least 1.
  unsigned usable_cpus() const noexcept;
  /// Physical cores among the bound PUs, at most usable_cpus().
  unsigned usable_cores() const noexcept;
  MachineSize size() const noexcept { return {usable_cpus(), usable_cores()}; }

  /// Where each of `workers` workers runs under `pinning`: compact fills neighbouring
  /// PUs first, scatter puts consecutive workers on different cores (and packages).
  Placement placement(Pinning pinning, std::size_t workers) const;
};

}  // namespace poolbench
