#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "pools/machine/sizing.hpp"
#include "pools/machine/topology.hpp"

namespace poolbench::bench {

/// The machine facts every result carries: the keys of `poolbench info --json` and of
/// the run JSON's context, in a stable order.
nlohmann::ordered_json machine_context(const Topology& topology, const SizingRule& default_rule);

/// The same facts as text for people.
std::string describe_machine(const Topology& topology, const SizingRule& default_rule);

/// "none", or the cgroup's CPU limit as a decimal ("0.5").
std::string cgroup_limit_text(const Topology& topology);

}  // namespace poolbench::bench
