#pragma once

#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "pools/core/executor.hpp"
#include "pools/core/future.hpp"
#include "scenarios/scenario.hpp"
#include "scenarios/task_sample.hpp"

namespace poolbench::scenarios {

/// One arrival of an open loop, in now_ns() time: when it was due, when its submitter
/// could first send it (when due, or for a connection the reply to its previous request,
/// if that came later), when it was sent, and when it was done.
struct TimedArrival {
  std::uint64_t scheduled_ns = 0;
  std::uint64_t ready_ns = 0;
  std::uint64_t submitted_ns = 0;
  std::uint64_t done_ns = 0;
};

/// Adds what an open loop measured of `arrivals` (any order) to `record`: each one's
/// latency from its schedule (corrected: a late start counts against the server) to
/// `latency_ns`, and to its open-loop record the latency from its submit (uncorrected), how
/// long after it was ready the submitter sent it, and what each found in the system.
/// Returns when the last of them was done (0 when there are none).
std::uint64_t record_open_loop(RunRecord& record, std::vector<TimedArrival> arrivals);

namespace detail {

/// Fills `open`'s counts of what each arrival (sorted by schedule) found in the system at
/// its scheduled time: those scheduled before it and not yet done, whether submitted yet
/// or not, as a user of the service would count them.
void count_in_system(const std::vector<TimedArrival>& arrivals, OpenLoopRecord& open);

/// Sleeps until `deadline_ns` on CLOCK_MONOTONIC; returns at once when it has passed.
void sleep_until_ns(std::uint64_t deadline_ns) noexcept;

/// Asks the kernel to wake this thread on time rather than batch its wake-ups (timer
/// slack), for as long as it lives; the submitter of an open loop keeps a schedule.
class PreciseWakeups {
 public:
  PreciseWakeups() noexcept;
  ~PreciseWakeups();
  PreciseWakeups(const PreciseWakeups&) = delete;
  PreciseWakeups& operator=(const PreciseWakeups&) = delete;

 private:
  int previous_;
};

}  // namespace detail

/// One open-loop run: this thread submits task i with `submit(i, true)` at its scheduled
/// time (`arrivals.schedule()`, from now), whatever the backlog, and never waits for a task
/// in between; each task's done time is taken when its future ends. Every task is timed:
/// latency from its scheduled time (corrected: a late submit counts against the executor),
/// from its actual submit (uncorrected), and how late the submit itself was. Each value is
/// checked with `check(i, value)`.
template <class Submit, class Check>
RunRecord run_open_loop(const Arrivals& arrivals, Submit submit, Check check) {
  const std::vector<std::uint64_t> schedule = arrivals.schedule();
  const std::size_t tasks = schedule.size();
  RunRecord record;
  std::vector<Future<TaskSample>> futures;
  futures.reserve(tasks);
  std::vector<std::uint64_t> submitted(tasks);
  std::vector<std::uint64_t> returned(tasks);
  const auto submitter = static_cast<std::int32_t>(::gettid());
  const auto done = std::make_unique<std::atomic<std::uint64_t>[]>(tasks);
  std::atomic<std::uint64_t> ended{0};
  std::size_t watched = 0;  // futures whose done callback is registered: all, unless registering one threw
  const detail::PreciseWakeups precise;
  // A moment's lead, so that the first arrival is not late for the set-up.
  const std::uint64_t start = now_ns() + 1'000'000;
  record.start_ns = start;
  try {
    for (std::size_t i = 0; i < tasks; ++i) {
      detail::sleep_until_ns(start + schedule[i]);
      submitted[i] = now_ns();
      futures.push_back(submit(i, true));
      returned[i] = now_ns();
      futures.back().add_done_callback([&done, &ended, i](const Future<TaskSample>&) {
        done[i].store(now_ns(), std::memory_order_relaxed);
        ended.fetch_add(1, std::memory_order_acq_rel);
      });
      ++watched;
    }
  } catch (const std::exception& e) {
    record.fail("task " + std::to_string(futures.size()) + " could not be submitted: " + e.what());
  }
  wait_all(futures);
  // The callbacks read `done` and `ended`: they must have run before either goes.
  while (ended.load(std::memory_order_acquire) < watched) std::this_thread::yield();
  std::vector<TimedArrival> timed;
  timed.reserve(watched);
  for (std::size_t i = 0; i < watched; ++i) {
    TaskSample sample;
    try {
      sample = futures[i].get();
    } catch (const std::exception& e) {
      record.fail("task " + std::to_string(i) + " failed: " + e.what());
      continue;
    }
    const std::uint64_t done_ns = done[i].load(std::memory_order_relaxed);
    if (!record.add_timing(
            {i, submitted[i], returned[i], sample.start_ns, sample.end_ns, done_ns, sample.pid, sample.tid, submitter}))
      continue;
    if (!record.add_task(sample, check(i, sample.value))) continue;
    const std::uint64_t scheduled = start + schedule[i];
    timed.push_back({scheduled, scheduled, submitted[i], done_ns});
  }
  const bool any = !timed.empty();
  const std::uint64_t last_done = record_open_loop(record, std::move(timed));
  if (any) record.wall_ns = last_done - start;
  record.end_ns = std::max(now_ns(), last_done);
  return record;
}

}  // namespace poolbench::scenarios
