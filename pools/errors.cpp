#include "pools/errors.hpp"

#include <cstring>

namespace poolbench {

void throw_system_error(const std::string& what, int err) {
  throw ResourceError(what + ": " + std::strerror(err));
}

}  // namespace poolbench
