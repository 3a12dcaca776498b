#include "pools/core/named_table.hpp"

#include <algorithm>

#include "pools/core/errors.hpp"

namespace poolbench {

void throw_unknown_name(std::string_view what, std::string_view name, const std::vector<std::string>& known) {
  throw ConfigError("unknown " + std::string(what) + " '" + std::string(name) + "' (allowed: " + join_names(known) +
                    ")");
}

std::vector<std::string> checked_names(const std::vector<std::string>& wanted, const std::vector<std::string>& known,
                                       std::string_view what) {
  if (wanted.empty()) return known;
  for (const auto& name : wanted)
    if (std::find(known.begin(), known.end(), name) == known.end()) throw_unknown_name(what, name, known);
  return wanted;
}

}  // namespace poolbench
