#include "pools/machine/sizing.hpp"

#include <algorithm>
#include <charconv>

#include "pools/core/errors.hpp"
#include "pools/core/executor.hpp"

namespace poolbench {

std::string SizingRule::name() const {
  switch (kind) {
    case Kind::automatic:
      return "auto";
    case Kind::cpus:
      return "cpus";
    case Kind::cores:
      return "cores";
    case Kind::py38:
      return "py38";
    case Kind::fixed:
      break;
  }
  return std::to_string(fixed);
}

const std::vector<std::string>& sizing_rule_names() {
  static const std::vector<std::string> names{"auto", "cpus", "cores", "py38"};
  return names;
}

SizingRule parse_sizing_rule(std::string_view text) {
  using Kind = SizingRule::Kind;
  if (text == "auto") return {Kind::automatic, 0};
  if (text == "cpus") return {Kind::cpus, 0};
  if (text == "cores") return {Kind::cores, 0};
  if (text == "py38") return {Kind::py38, 0};
  const std::string allowed = "auto, cpus, cores, py38, or a number from 1 to " + std::to_string(max_workers);
  if (!text.empty() && (std::isdigit(static_cast<unsigned char>(text[0])) || text[0] == '-' || text[0] == '+')) {
    long long n = 0;
    const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (err == std::errc() && end == text.data() + text.size() && n >= 1 &&
        static_cast<unsigned long long>(n) <= max_workers)
      return {Kind::fixed, static_cast<std::size_t>(n)};
    throw ConfigError("worker count '" + std::string(text) + "' is out of range (allowed: " + allowed + ")");
  }
  throw ConfigError("unknown sizing rule '" + std::string(text) + "' (allowed: " + allowed + ")");
}

std::size_t workers_for(const SizingRule& rule, const MachineSize& machine) {
  const std::size_t cpus = std::max(1u, machine.usable_cpus);
  const std::size_t cores = std::clamp<std::size_t>(machine.usable_cores, 1, cpus);
  std::size_t n = 0;
  switch (rule.kind) {
    case SizingRule::Kind::automatic:
      n = cpus * 5;
      break;
    case SizingRule::Kind::cpus:
      n = cpus;
      break;
    case SizingRule::Kind::cores:
      n = cores;
      break;
    case SizingRule::Kind::py38:
      n = std::min<std::size_t>(32, cpus + 4);
      break;
    case SizingRule::Kind::fixed:
      n = rule.fixed;
      break;
  }
  return std::clamp<std::size_t>(n, 1, max_workers);
}

Pinning parse_pinning(std::string_view text) {
  if (text == "none") return Pinning::none;
  if (text == "compact") return Pinning::compact;
  if (text == "scatter") return Pinning::scatter;
  throw ConfigError("unknown pinning '" + std::string(text) + "' (allowed: none, compact, scatter)");
}

std::string_view pinning_name(Pinning pinning) noexcept {
  switch (pinning) {
    case Pinning::compact:
      return "compact";
    case Pinning::scatter:
      return "scatter";
    case Pinning::none:
      break;
  }
  return "none";
}

}  // namespace poolbench
