#include "tests/quota_cgroup.hpp"

#include <unistd.h>

#include <fstream>

namespace poolbench::testing {
namespace {

namespace fs = std::filesystem;

bool contains_word(const fs::path& file, const std::string& word) {
  std::ifstream in(file);
  std::string w;
  while (in >> w)
    if (w == word) return true;
  return false;
}

bool write_file(const fs::path& file, const std::string& value) {
  std::ofstream out(file);
  out << value << std::flush;
  return static_cast<bool>(out);
}

}  // namespace

QuotaCgroup::QuotaCgroup(long quota_us, long period_us) {
  const std::string name = "poolbench-test-" + std::to_string(::getpid());
  if (fs::exists("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")) {
    make("/sys/fs/cgroup/cpu" / fs::path(name), "cpu.cfs_quota_us", std::to_string(quota_us),
         std::to_string(period_us));
  } else if (contains_word("/sys/fs/cgroup/cgroup.subtree_control", "cpu")) {
    make("/sys/fs/cgroup" / fs::path(name), "cpu.max", std::to_string(quota_us) + " " + std::to_string(period_us), "");
  } else {
    why_ =
        "no cgroup cpu controller this test can write to (v1 /sys/fs/cgroup/cpu, or v2 with cpu in "
        "/sys/fs/cgroup/cgroup.subtree_control)";
  }
}

void QuotaCgroup::make(const fs::path& at, const std::string& file, const std::string& value,
                       const std::string& period) {
  std::error_code error;
  if (!fs::create_directory(at, error)) {
    why_ = "cannot create " + at.string() + ": " + (error ? error.message() : "it exists");
    return;
  }
  dir_ = at;
  if (!period.empty() && !write_file(at / "cpu.cfs_period_us", period)) why_ = "cannot write its period";
  if (!write_file(at / file, value)) why_ = "cannot write " + (at / file).string();
}

QuotaCgroup::~QuotaCgroup() {
  std::error_code ignored;
  if (!dir_.empty()) fs::remove(dir_, ignored);  // rmdir: the processes run inside have exited
}

CommandResult QuotaCgroup::run_inside(const std::string& command) const {
  return run_command("sh -c " +
                     shell_quote("echo $$ > " + shell_quote((dir_ / "cgroup.procs").string()) + " && exec " + command));
}

}  // namespace poolbench::testing
