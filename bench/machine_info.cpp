#include "bench/machine_info.hpp"

#include <fmt/format.h>

#include "bench/kernel_counters.hpp"
#include "bench/schema.hpp"
#include "bench/version.hpp"
#include "scenarios/cpu_scenario.hpp"

namespace poolbench::bench {
namespace {

std::string bytes_text(std::uint64_t bytes) {
  if (bytes == 0) return "?";
  if (bytes % (1024 * 1024) == 0) return fmt::format("{} MiB", bytes / (1024 * 1024));
  return fmt::format("{} KiB", bytes / 1024);
}

std::string rule_meaning(const std::string& rule) {
  if (rule == "auto") return "usable CPUs x 5 (the seed's rule)";
  if (rule == "cpus") return "usable CPUs";
  if (rule == "cores") return "physical cores among them";
  if (rule == "py38") return "min(32, usable CPUs + 4), Python 3.8+";
  return "";
}

}  // namespace

std::string cgroup_limit_text(const Topology& topology) {
  if (!topology.cgroup_limit) return "none";
  return fmt::format("{:g}", topology.cgroup_limit->cpus());
}

nlohmann::ordered_json machine_context(const Topology& t, const SizingRule& default_rule) {
  nlohmann::ordered_json j;
  j[context_key("poolbench_version")] = std::string(version);
  j[context_key("hwloc_version")] = t.hwloc_version;
  j[context_key("topology_packages")] = t.packages;
  j[context_key("topology_numa_nodes")] = t.numa_nodes;
  j[context_key("topology_cores")] = t.cores;
  j[context_key("topology_pus")] = t.pus;
  j[context_key("allowed_pus")] = t.allowed_pus;
  j[context_key("cpu_binding")] = t.binding.to_string();
  j[context_key("cgroup_cpu_limit")] = cgroup_limit_text(t);
  j[context_key("usable_cpus")] = t.usable_cpus();
  j[context_key("usable_cores")] = t.usable_cores();
  j[context_key("l1d_bytes")] = t.l1d_bytes;
  j[context_key("l2_bytes")] = t.l2_bytes;
  j[context_key("l3_bytes")] = t.l3_bytes;
  j[context_key("sizing_rule")] = default_rule.name();
  j[context_key("default_workers")] = workers_for(default_rule, t.size());
  j[context_key("hash_steps_per_us")] = scenarios::hash_steps_per_us();
  j[context_key("kernel_counters")] = KernelCounters::process().status();
  return j;
}

std::string describe_machine(const Topology& t, const SizingRule& default_rule) {
  std::string out;
  auto line = [&](std::string_view label, const std::string& value) { out += fmt::format("{:<14}{}\n", label, value); };
  out += fmt::format("poolbench {} (hwloc {})\n", version, t.hwloc_version);
  line("machine:",
       fmt::format("{} package(s), {} NUMA node(s), {} core(s), {} PU(s)", t.packages, t.numa_nodes, t.cores, t.pus));
  line("allowed PUs:", std::to_string(t.allowed_pus));
  line("bound to:", "PUs " + t.binding.to_string());
  line("cgroup limit:",
       t.cgroup_limit ? fmt::format("{:g} CPUs ({} / {} us, {})", t.cgroup_limit->cpus(), t.cgroup_limit->quota_us,
                                    t.cgroup_limit->period_us, t.cgroup_limit->source.string())
                      : "none");
  line("usable CPUs:", fmt::format("{} ({} physical core(s))", t.usable_cpus(), t.usable_cores()));
  line("caches:",
       fmt::format("L1d {}, L2 {}, L3 {}", bytes_text(t.l1d_bytes), bytes_text(t.l2_bytes), bytes_text(t.l3_bytes)));
  line("hash chain:", fmt::format("{:.0f} steps/us on one CPU (the mixed scenario's unit of compute)",
                                  scenarios::hash_steps_per_us()));
  out += fmt::format("workers by sizing rule (default: {}):\n", default_rule.name());
  for (const auto& rule : sizing_rule_names())
    out += fmt::format("  {:<6}{:>5}   {}\n", rule, workers_for(parse_sizing_rule(rule), t.size()), rule_meaning(rule));
  return out;
}

}  // namespace poolbench::bench
