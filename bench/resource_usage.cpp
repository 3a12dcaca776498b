#include "bench/resource_usage.hpp"

#include <sys/resource.h>

#include <fstream>
#include <string>
#include <string_view>

#include "pools/machine/cgroup.hpp"

namespace poolbench::bench {
namespace {

double seconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6; }

std::string proc_path(pid_t pid, const char* file) {
  return pid == 0 ? std::string("/proc/self/") + file : "/proc/" + std::to_string(pid) + "/" + file;
}

}  // namespace

ResourceUsage ResourceUsage::now() noexcept {
  ResourceUsage usage;
  for (int who : {RUSAGE_SELF, RUSAGE_CHILDREN}) {
    rusage r{};
    if (::getrusage(who, &r) != 0) continue;
    usage.cpu_seconds += seconds(r.ru_utime) + seconds(r.ru_stime);
    usage.context_switches += static_cast<std::uint64_t>(r.ru_nvcsw + r.ru_nivcsw);
  }
  usage.kernel = KernelCounters::process().read();
  try {
    const CpuThrottling throttling = read_cgroup_cpu_throttling();
    usage.throttled_periods = throttling.periods;
    usage.throttled_ns = throttling.throttled_ns;
  } catch (const std::exception&) {
    // Out of memory while reading a few small files: the counters stay at 0.
  }
  return usage;
}

bool reset_peak_rss() noexcept {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  clear.flush();
  return static_cast<bool>(clear);
}

namespace {

/// A field of a `/proc/<pid>/<file>` that lists "Key: <n> kB" lines, in bytes; 0 when absent.
std::uint64_t kib_field_bytes(pid_t pid, const char* file, std::string_view field) noexcept {
  std::ifstream in(proc_path(pid, file));
  std::string key;
  while (in >> key) {
    if (key == field) {
      std::uint64_t kib = 0;
      in >> kib;
      return kib * 1024;
    }
    std::getline(in, key);
  }
  return 0;
}

}  // namespace

std::uint64_t peak_rss_bytes(pid_t pid) noexcept { return kib_field_bytes(pid, "status", "VmHWM:"); }

std::uint64_t resident_bytes(pid_t pid) noexcept { return kib_field_bytes(pid, "status", "VmRSS:"); }

std::uint64_t proportional_bytes(pid_t pid) noexcept { return kib_field_bytes(pid, "smaps_rollup", "Pss:"); }

}  // namespace poolbench::bench
