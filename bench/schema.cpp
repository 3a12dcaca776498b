#include "bench/schema.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace poolbench::bench {

std::string describe_schema() {
  std::size_t name_width = 4;
  std::size_t unit_width = 4;
  std::size_t when_width = 4;
  for (const SchemaKey& key : schema_keys()) {
    name_width = std::max(name_width, key.name.size());
    unit_width = std::max(unit_width, key.unit.size());
    when_width = std::max(when_width, key.when.size());
  }
  auto line = [&](std::string_view name, std::string_view unit, std::string_view when, std::string_view meaning) {
    return fmt::format("  {:<{}}  {:<{}}  {:<{}}  {}\n", name, name_width, unit, unit_width, when, when_width, meaning);
  };
  std::string out;
  std::string_view where;
  for (const SchemaKey& key : schema_keys()) {
    if (key.where != where) {
      where = key.where;
      out += fmt::format("{}{}:\n", out.empty() ? "" : "\n", where);
      out += line("name", "unit", "when", "meaning");
    }
    out += line(key.name, key.unit, key.when, key.meaning);
  }
  return out;
}

nlohmann::ordered_json schema_json() {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const SchemaKey& key : schema_keys())
    out.push_back(
        {{"name", key.name}, {"where", key.where}, {"unit", key.unit}, {"meaning", key.meaning}, {"when", key.when}});
  return out;
}

}  // namespace poolbench::bench
