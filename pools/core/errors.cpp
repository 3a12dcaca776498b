#include "pools/core/errors.hpp"

#include <cstring>

namespace poolbench {

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

void throw_system_error(const std::string& what, int err) { throw ResourceError(what + ": " + std::strerror(err)); }

}  // namespace poolbench
