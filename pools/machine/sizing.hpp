#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace poolbench {

/// The CPUs a pool can actually use on this machine, as the sizing rules see it.
struct MachineSize {
  unsigned usable_cpus = 1;   ///< allowed, bound PUs, capped by the cgroup quota
  unsigned usable_cores = 1;  ///< physical cores among them
};

/// How to pick a worker count: `auto` (usable CPUs × 5, the seed's rule and the default),
/// `cpus`, `cores`, `py38` (min(32, usable CPUs + 4), Python 3.8's ThreadPoolExecutor),
/// or a fixed number.
struct SizingRule {
  enum class Kind { automatic, cpus, cores, py38, fixed };
  Kind kind = Kind::automatic;
  std::size_t fixed = 0;

  /// The name as the user writes it: "auto", "cpus", ..., or the number.
  std::string name() const;
};

/// The named rules, in the order `poolbench info` shows them.
const std::vector<std::string>& sizing_rule_names();

/// Parses a rule name or a number in 1..4096; throws ConfigError naming the bad value
/// and what is allowed.
SizingRule parse_sizing_rule(std::string_view text);

/// The worker count `rule` gives on `machine` (always in 1..4096).
std::size_t workers_for(const SizingRule& rule, const MachineSize& machine);

/// Where workers are pinned: not at all, packed onto neighbouring PUs, or spread across cores.
enum class Pinning { none, compact, scatter };

/// Parses "none", "compact" or "scatter"; throws ConfigError otherwise.
Pinning parse_pinning(std::string_view text);
std::string_view pinning_name(Pinning pinning) noexcept;

}  // namespace poolbench
