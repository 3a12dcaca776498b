#pragma once

#include <filesystem>
#include <string>

#include "tests/run_command.hpp"

namespace poolbench::testing {

/// A fresh cgroup with a CPU quota of `quota_us` per `period_us`, where this machine lets a
/// test make one (as root, with a writable cpu controller, cgroup v1 or v2), removed when
/// it goes; otherwise `why()` says what stopped it, for the test to skip with.
class QuotaCgroup {
 public:
  QuotaCgroup(long quota_us, long period_us);
  ~QuotaCgroup();
  QuotaCgroup(const QuotaCgroup&) = delete;
  QuotaCgroup& operator=(const QuotaCgroup&) = delete;

  /// Empty when the cgroup is ready.
  const std::string& why() const noexcept { return why_; }

  /// Runs `command` with /bin/sh from inside the cgroup: the shell joins it, then execs.
  CommandResult run_inside(const std::string& command) const;

 private:
  void make(const std::filesystem::path& at, const std::string& file, const std::string& value,
            const std::string& period_file);

  std::filesystem::path dir_;
  std::string why_;
};

}  // namespace poolbench::testing
