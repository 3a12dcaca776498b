#include "bench/kernel_counters.hpp"

#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

namespace poolbench::bench {
namespace {

struct EventSpec {
  KernelEvent event;
  std::uint32_t type;
  std::uint64_t config;
  std::string_view words;  ///< as a sentence names it
  bool kernel_side;        ///< happens only in the kernel: meaningless when counting user space only
};

constexpr std::array<EventSpec, kernel_event_count> specs{{
    {KernelEvent::context_switches, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES, "context switches", true},
    {KernelEvent::cpu_migrations, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS, "CPU migrations", true},
    {KernelEvent::page_faults, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS, "page faults", false},
    {KernelEvent::task_clock_ns, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK, "task clock", false},
    {KernelEvent::cycles, PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, "cycles", false},
    {KernelEvent::instructions, PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS, "instructions", false},
    {KernelEvent::cache_misses, PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES, "cache misses", false},
}};

int open_counter(const EventSpec& spec, bool user_only) {
  perf_event_attr attr{};
  attr.size = sizeof(attr);
  attr.type = spec.type;
  attr.config = spec.config;
  attr.inherit = 1;
  attr.exclude_hv = 1;
  attr.exclude_kernel = user_only ? 1 : 0;
  attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
  return static_cast<int>(::syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC));
}

std::string paranoid_level() {
  std::ifstream in("/proc/sys/kernel/perf_event_paranoid");
  std::string level;
  if (!(in >> level)) return "unreadable";
  return level;
}

std::string join(const std::vector<std::string_view>& words) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? " and " : ", ";
    out += words[i];
  }
  return out;
}

}  // namespace

KernelCounters::KernelCounters() noexcept {
  try {
    open_all();
  } catch (const std::exception&) {
    // Out of memory while writing a few words: count nothing rather than stop the run.
    for (UniqueFd& fd : fds_) fd.reset();
    status_.clear();
  }
}

void KernelCounters::open_all() {
  // perf_event_paranoid 2 lets a user count its own processes in user space only: one mode
  // for every event, decided by whether the kernel lets the first be counted in full.
  const int probe = open_counter(specs.front(), false);
  const bool user_only = probe < 0 && (errno == EACCES || errno == EPERM);
  if (probe >= 0) ::close(probe);
  std::vector<std::string_view> counted, refused, no_pmu, kernel_only;
  int refused_errno = 0;
  for (const EventSpec& spec : specs) {
    if (user_only && spec.kernel_side) {
      kernel_only.push_back(spec.words);  // counted in user space only, it would read 0: not a count
      continue;
    }
    const int fd = open_counter(spec, user_only);
    if (fd >= 0) {
      fds_[static_cast<std::size_t>(spec.event)].reset(fd);
      counted.push_back(spec.words);
    } else if (spec.type == PERF_TYPE_HARDWARE && (errno == ENOENT || errno == EOPNOTSUPP || errno == ENODEV)) {
      no_pmu.push_back(spec.words);
    } else {
      refused_errno = errno;
      refused.push_back(spec.words);
    }
  }
  const auto clause = [this](const std::string& text) { status_ += (status_.empty() ? "" : "; ") + text; };
  if (!counted.empty())
    clause("counted for the whole process tree" + std::string(user_only ? ", in user space only: " : ": ") +
           join(counted));
  if (!kernel_only.empty())
    clause(join(kernel_only) + " absent: perf_event_paranoid " + paranoid_level() +
           " allows only user-space counting, and they happen in the kernel");
  if (!no_pmu.empty())
    clause(join(no_pmu) + " absent: this machine exposes no hardware PMU to perf_event_open (most VMs do not)");
  if (!refused.empty())
    clause(join(refused) + " absent: perf_event_open refused them (" + std::strerror(refused_errno) +
           "; perf_event_paranoid " + paranoid_level() + ")");
  if (counted.empty() || !kernel_only.empty() || !refused.empty())
    std::fprintf(stderr, "poolbench: kernel event counts: %s\n", status_.c_str());
}

KernelCounters& KernelCounters::process() noexcept {
  static KernelCounters counters;
  return counters;
}

bool KernelCounters::counting_any() const noexcept {
  for (const UniqueFd& fd : fds_)
    if (fd) return true;
  return false;
}

KernelCounts KernelCounters::read() const noexcept {
  KernelCounts counts;
  for (std::size_t i = 0; i < kernel_event_count; ++i) {
    if (!fds_[i]) continue;
    std::uint64_t value[3] = {0, 0, 0};  // count, time enabled, time running
    if (::read(fds_[i].get(), value, sizeof(value)) != static_cast<ssize_t>(sizeof(value))) continue;
    // A hardware counter shared with others runs part of the time: scale to the whole.
    counts.values[i] = value[2] > 0 && value[2] < value[1]
                           ? static_cast<std::uint64_t>(static_cast<double>(value[0]) * static_cast<double>(value[1]) /
                                                        static_cast<double>(value[2]))
                           : value[0];
  }
  return counts;
}

}  // namespace poolbench::bench
