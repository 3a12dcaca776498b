#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace poolbench {

/// Executors, scenarios and probes each live in a table of entries with a `name`; these
/// list, find and check names the same way for all of them.

/// The names of `table`'s entries, in table order (the order `list` prints).
template <class Entry>
std::vector<std::string> names_of(const std::vector<Entry>& table) {
  std::vector<std::string> names;
  names.reserve(table.size());
  for (const auto& entry : table) names.emplace_back(entry.name);
  return names;
}

/// The entry of `table` called `name`, or nullptr.
template <class Entry>
const Entry* find_named(const std::vector<Entry>& table, std::string_view name) {
  for (const auto& entry : table)
    if (name == entry.name) return &entry;
  return nullptr;
}

/// Throws the ConfigError for a name not in `known`: "unknown <what> '<name>' (allowed: ...)".
[[noreturn]] void throw_unknown_name(std::string_view what, std::string_view name,
                                     const std::vector<std::string>& known);

/// `wanted` once every name in it is in `known`, or all of `known` when `wanted` is empty;
/// throws the ConfigError of throw_unknown_name for the first name that is not.
std::vector<std::string> checked_names(const std::vector<std::string>& wanted, const std::vector<std::string>& known,
                                       std::string_view what);

}  // namespace poolbench
