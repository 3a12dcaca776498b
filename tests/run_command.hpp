#pragma once

#include <string>

namespace poolbench::testing {

/// What a finished command printed and how it exited.
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs `command` with /bin/sh, capturing stdout and stderr separately.
CommandResult run_command(const std::string& command);

/// Quotes `text` for /bin/sh.
std::string shell_quote(const std::string& text);

}  // namespace poolbench::testing
