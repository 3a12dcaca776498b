#include "scenarios/open_loop.hpp"

#include <algorithm>
#include <cerrno>

namespace poolbench::scenarios::detail {

void sleep_until_ns(std::uint64_t deadline_ns) noexcept {
  const timespec until{static_cast<time_t>(deadline_ns / 1'000'000'000),
                       static_cast<long>(deadline_ns % 1'000'000'000)};
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr) == EINTR) {
  }
}

void count_in_system(std::uint64_t start, const std::vector<std::uint64_t>& schedule,
                     const std::atomic<std::uint64_t>* done_ns, std::size_t tasks, OpenLoopRecord& open) {
  std::vector<std::uint64_t> done(tasks);
  for (std::size_t i = 0; i < tasks; ++i) done[i] = done_ns[i].load(std::memory_order_relaxed);
  std::sort(done.begin(), done.end());
  open.quarter = tasks / 4;
  for (std::size_t i = 0; i < tasks; ++i) {
    // A task done by this arrival's time was scheduled before it: the rest of the i before
    // it are still in the system.
    const auto finished =
        static_cast<std::uint64_t>(std::upper_bound(done.begin(), done.end(), start + schedule[i]) - done.begin());
    const std::uint64_t in_system = i > finished ? i - finished : 0;
    open.in_system_sum += in_system;
    if (i >= open.quarter && i < 2 * open.quarter) open.early_in_system += in_system;
    if (i >= tasks - open.quarter) open.late_in_system += in_system;
  }
}

PreciseWakeups::PreciseWakeups() noexcept : previous_(::prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0)) {
  ::prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0);
}

PreciseWakeups::~PreciseWakeups() {
  if (previous_ > 0) ::prctl(PR_SET_TIMERSLACK, previous_, 0, 0, 0);
}

}  // namespace poolbench::scenarios::detail
