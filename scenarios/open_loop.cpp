#include "scenarios/open_loop.hpp"

#include <algorithm>
#include <cerrno>

namespace poolbench::scenarios {
namespace detail {

void sleep_until_ns(std::uint64_t deadline_ns) noexcept {
  const timespec until{static_cast<time_t>(deadline_ns / 1'000'000'000),
                       static_cast<long>(deadline_ns % 1'000'000'000)};
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr) == EINTR) {
  }
}

void count_in_system(const std::vector<TimedArrival>& arrivals, OpenLoopRecord& open) {
  const std::size_t n = arrivals.size();
  std::vector<std::uint64_t> done(n);
  for (std::size_t i = 0; i < n; ++i) done[i] = arrivals[i].done_ns;
  std::sort(done.begin(), done.end());
  open.quarter = n / 4;
  for (std::size_t i = 0; i < n; ++i) {
    // A task done by this arrival's time was scheduled before it: the rest of the i before
    // it are still in the system.
    const auto finished =
        static_cast<std::uint64_t>(std::upper_bound(done.begin(), done.end(), arrivals[i].scheduled_ns) - done.begin());
    const std::uint64_t in_system = i > finished ? i - finished : 0;
    open.in_system_sum += in_system;
    if (i >= open.quarter && i < 2 * open.quarter) open.early_in_system += in_system;
    if (i >= n - open.quarter) open.late_in_system += in_system;
  }
}

PreciseWakeups::PreciseWakeups() noexcept : previous_(::prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0)) {
  ::prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0);
}

PreciseWakeups::~PreciseWakeups() {
  if (previous_ > 0) ::prctl(PR_SET_TIMERSLACK, previous_, 0, 0, 0);
}

}  // namespace detail

std::uint64_t record_open_loop(RunRecord& record, std::vector<TimedArrival> arrivals) {
  std::stable_sort(arrivals.begin(), arrivals.end(),
                   [](const TimedArrival& a, const TimedArrival& b) { return a.scheduled_ns < b.scheduled_ns; });
  OpenLoopRecord open;
  const auto since = [](std::uint64_t from, std::uint64_t to) { return to > from ? to - from : 0; };
  std::uint64_t first_done = UINT64_MAX, last_done = 0;
  for (const TimedArrival& a : arrivals) {
    record.latency_ns.push_back(since(a.scheduled_ns, a.done_ns));
    open.corrected_sum_ns += record.latency_ns.back();
    open.uncorrected_latency_ns.push_back(since(a.submitted_ns, a.done_ns));
    open.submit_lag_ns.push_back(since(a.ready_ns, a.submitted_ns));
    first_done = std::min(first_done, a.done_ns);
    last_done = std::max(last_done, a.done_ns);
  }
  detail::count_in_system(arrivals, open);
  if (!arrivals.empty()) {
    open.schedule_span_ns = arrivals.back().scheduled_ns - arrivals.front().scheduled_ns;
    open.done_span_ns = last_done - first_done;
  }
  record.open_loop = std::move(open);
  return last_done;
}

}  // namespace poolbench::scenarios
