#include "pools/machine/cgroup.hpp"

#include <cmath>
#include <fstream>
#include <sstream>
#include <string_view>
#include <vector>

namespace poolbench {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> read_first_line(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  return line;
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n')) text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  try {
    std::size_t used = 0;
    const long long v = std::stoll(std::string(text), &used);
    if (used != text.size()) return std::nullopt;
    return v;
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<CgroupCpuLimit> valid(std::int64_t quota, std::int64_t period, const fs::path& dir) {
  if (quota <= 0 || period <= 0) return std::nullopt;
  return CgroupCpuLimit{quota, period, dir};
}

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == sep) {
      out.emplace_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

/// A mounted cgroup hierarchy: where it is mounted, and which cgroup is its root.
struct Mount {
  std::string root;
  std::string mount_point;
};

struct Mounts {
  std::optional<Mount> v1_cpu;
  std::optional<Mount> v1_memory;
  std::optional<Mount> v2;
};

Mounts find_mounts(const fs::path& root) {
  Mounts mounts;
  std::ifstream in(root / "proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    const auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    const auto before = split(line.substr(0, dash), ' ');
    const auto after = split(line.substr(dash + 3), ' ');
    if (before.size() < 5 || after.size() < 3) continue;
    const Mount mount{before[3], before[4]};
    if (after[0] == "cgroup2") {
      if (!mounts.v2) mounts.v2 = mount;
    } else if (after[0] == "cgroup") {
      for (const auto& option : split(after[2], ','))
        if (option == "cpu" && !mounts.v1_cpu)
          mounts.v1_cpu = mount;
        else if (option == "memory" && !mounts.v1_memory)
          mounts.v1_memory = mount;
    }
  }
  return mounts;
}

fs::path clean(const fs::path& path) {
  fs::path p = path.lexically_normal();
  if (p.has_relative_path() && p.filename().empty()) p = p.parent_path();
  return p;
}

fs::path mount_dir(const fs::path& root, const Mount& mount) {
  return clean(root / fs::path(mount.mount_point).relative_path());
}

/// The directory of cgroup `path` inside `mount`, below `root`.
fs::path cgroup_dir(const fs::path& root, const Mount& mount, std::string path) {
  if (mount.root != "/" && path.starts_with(mount.root)) path = path.substr(mount.root.size());
  return clean(mount_dir(root, mount) / fs::path(path).relative_path());
}

/// Calls `visit` on `dir` and each of its ancestors up to the hierarchy's `top`.
template <class Visit>
void walk_up(fs::path dir, const fs::path& top, Visit visit) {
  for (;;) {
    visit(dir);
    if (dir == top || !dir.has_parent_path() || dir.parent_path() == dir) break;
    const auto rel = dir.lexically_relative(top);
    if (rel.empty() || *rel.begin() == "..") break;
    dir = dir.parent_path();
  }
}

template <class Read>
void tighten_walking_up(std::optional<CgroupCpuLimit>& best, const fs::path& dir, const fs::path& top, Read read) {
  walk_up(dir, top, [&](const fs::path& level) {
    if (auto limit = read(level); limit && (!best || limit->cpus() < best->cpus())) best = limit;
  });
}

/// One line of /proc/self/cgroup: `0::path` for v2, `N:controllers:path` for v1.
struct CgroupLine {
  bool v2;
  std::vector<std::string> controllers;
  std::string path;
};

/// Calls `visit` for each line of this process's /proc/self/cgroup below `root`.
template <class Visit>
void for_each_cgroup(const fs::path& root, Visit visit) {
  std::ifstream in(root / "proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    const auto first = line.find(':');
    const auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const bool v2 = line.substr(0, first) == "0" && controllers.empty();
    visit(CgroupLine{v2, v2 ? std::vector<std::string>{} : split(controllers, ','), line.substr(second + 1)});
  }
}

bool has_controller(const CgroupLine& line, std::string_view controller) {
  for (const auto& c : line.controllers)
    if (c == controller) return true;
  return false;
}

/// The value of `key` in a flat-keyed cgroup file ("key value" per line).
std::optional<std::uint64_t> read_keyed(const fs::path& file, std::string_view key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    const auto fields = split(line, ' ');
    if (fields.size() == 2 && fields[0] == key) {
      if (const auto value = parse_int(fields[1]); value && *value >= 0) return static_cast<std::uint64_t>(*value);
    }
  }
  return std::nullopt;
}

}  // namespace

unsigned CgroupCpuLimit::whole_cpus() const noexcept {
  const auto n = (quota_us + period_us - 1) / period_us;
  return n < 1 ? 1u : static_cast<unsigned>(n);
}

std::optional<CgroupCpuLimit> read_cgroup_v2_limit(const fs::path& dir) {
  const auto line = read_first_line(dir / "cpu.max");
  if (!line) return std::nullopt;
  const auto fields = split(*line, ' ');
  if (fields.empty() || fields[0] == "max") return std::nullopt;
  const auto quota = parse_int(fields[0]);
  const auto period = fields.size() > 1 ? parse_int(fields[1]) : std::optional<std::int64_t>(100000);
  if (!quota || !period) return std::nullopt;
  return valid(*quota, *period, dir);
}

std::optional<CgroupCpuLimit> read_cgroup_v1_limit(const fs::path& dir) {
  const auto quota_line = read_first_line(dir / "cpu.cfs_quota_us");
  const auto period_line = read_first_line(dir / "cpu.cfs_period_us");
  if (!quota_line || !period_line) return std::nullopt;
  const auto quota = parse_int(*quota_line);
  const auto period = parse_int(*period_line);
  if (!quota || !period) return std::nullopt;
  return valid(*quota, *period, dir);
}

std::optional<CgroupCpuLimit> read_cgroup_cpu_limit(const fs::path& root) {
  const Mounts mounts = find_mounts(root);
  std::optional<CgroupCpuLimit> best;
  for_each_cgroup(root, [&](const CgroupLine& line) {
    if (line.v2) {
      if (!mounts.v2) return;
      const fs::path top = mount_dir(root, *mounts.v2);
      tighten_walking_up(best, cgroup_dir(root, *mounts.v2, line.path), top, read_cgroup_v2_limit);
    } else if (has_controller(line, "cpu") && mounts.v1_cpu) {
      const fs::path top = mount_dir(root, *mounts.v1_cpu);
      tighten_walking_up(best, cgroup_dir(root, *mounts.v1_cpu, line.path), top, read_cgroup_v1_limit);
    }
  });
  return best;
}

CpuThrottling read_cgroup_cpu_throttling(const fs::path& root) {
  const Mounts mounts = find_mounts(root);
  CpuThrottling total;
  const auto add = [&total](std::string_view time_key, std::uint64_t ns_per_unit) {
    return [&total, time_key, ns_per_unit](const fs::path& dir) {
      total.periods += read_keyed(dir / "cpu.stat", "nr_throttled").value_or(0);
      total.throttled_ns += read_keyed(dir / "cpu.stat", time_key).value_or(0) * ns_per_unit;
    };
  };
  for_each_cgroup(root, [&](const CgroupLine& line) {
    if (line.v2 && mounts.v2) {
      walk_up(cgroup_dir(root, *mounts.v2, line.path), mount_dir(root, *mounts.v2), add("throttled_usec", 1000));
    } else if (has_controller(line, "cpu") && mounts.v1_cpu) {
      walk_up(cgroup_dir(root, *mounts.v1_cpu, line.path), mount_dir(root, *mounts.v1_cpu), add("throttled_time", 1));
    }
  });
  return total;
}

std::optional<std::uint64_t> read_cgroup_oom_kills(const fs::path& root) {
  const Mounts mounts = find_mounts(root);
  std::optional<std::uint64_t> kills;
  for_each_cgroup(root, [&](const CgroupLine& line) {
    if (kills) return;
    if (line.v2 && mounts.v2) {
      kills = read_keyed(cgroup_dir(root, *mounts.v2, line.path) / "memory.events", "oom_kill");
    } else if (has_controller(line, "memory") && mounts.v1_memory) {
      kills = read_keyed(cgroup_dir(root, *mounts.v1_memory, line.path) / "memory.oom_control", "oom_kill");
    }
  });
  return kills;
}

}  // namespace poolbench
