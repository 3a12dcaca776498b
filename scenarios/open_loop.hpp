#pragma once

#include <sys/prctl.h>
#include <time.h>

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
namespace detail {

/// Fills `open`'s counts of what each of the first `tasks` arrivals found in the system at
/// its scheduled time (`start` + `schedule[i]`): the tasks scheduled before it and not yet
/// done (`done_ns`), whether submitted yet or not, as a user of the service would count them.
void count_in_system(std::uint64_t start, const std::vector<std::uint64_t>& schedule,
                     const std::atomic<std::uint64_t>* done_ns, std::size_t tasks, OpenLoopRecord& open);

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
  OpenLoopRecord open;
  std::vector<Future<TaskSample>> futures;
  futures.reserve(tasks);
  std::vector<std::uint64_t> submitted(tasks);
  const auto done = std::make_unique<std::atomic<std::uint64_t>[]>(tasks);
  std::atomic<std::uint64_t> ended{0};
  const detail::PreciseWakeups precise;
  // A moment's lead, so that the first arrival is not late for the set-up.
  const std::uint64_t start = now_ns() + 1'000'000;
  try {
    for (std::size_t i = 0; i < tasks; ++i) {
      detail::sleep_until_ns(start + schedule[i]);
      submitted[i] = now_ns();
      futures.push_back(submit(i, true));
      futures.back().add_done_callback([&done, &ended, i](const Future<TaskSample>&) {
        done[i].store(now_ns(), std::memory_order_relaxed);
        ended.fetch_add(1, std::memory_order_acq_rel);
      });
    }
  } catch (const std::exception& e) {
    record.fail("task " + std::to_string(futures.size()) + " could not be submitted: " + e.what());
  }
  wait_all(futures);
  // The callbacks read `done` and `ended`: they must have run before either goes.
  while (ended.load(std::memory_order_acquire) < futures.size()) std::this_thread::yield();
  std::uint64_t first_done = UINT64_MAX, last_done = 0;
  for (std::size_t i = 0; i < futures.size(); ++i) {
    const std::uint64_t finished = done[i].load(std::memory_order_relaxed);
    first_done = std::min(first_done, finished);
    last_done = std::max(last_done, finished);
    TaskSample sample;
    try {
      sample = futures[i].get();
    } catch (const std::exception& e) {
      record.fail("task " + std::to_string(i) + " failed: " + e.what());
      continue;
    }
    if (!record.add_task(sample, check(i, sample.value))) continue;
    const std::uint64_t scheduled = start + schedule[i];
    const auto since = [](std::uint64_t from, std::uint64_t to) { return to > from ? to - from : 0; };
    record.latency_ns.push_back(since(scheduled, finished));
    record.queue_wait_ns.push_back(since(submitted[i], sample.start_ns));
    open.corrected_sum_ns += record.latency_ns.back();
    open.uncorrected_latency_ns.push_back(since(submitted[i], finished));
    open.submit_lag_ns.push_back(since(scheduled, submitted[i]));
  }
  detail::count_in_system(start, schedule, done.get(), futures.size(), open);
  if (!futures.empty()) {
    open.schedule_span_ns = schedule[futures.size() - 1];
    open.done_span_ns = last_done - first_done;
    record.wall_ns = last_done - start;
  }
  record.open_loop = std::move(open);
  return record;
}

}  // namespace poolbench::scenarios
