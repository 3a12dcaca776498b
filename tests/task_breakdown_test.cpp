#include "bench/task_breakdown.hpp"

#include <gtest/gtest.h>

namespace poolbench::testing {
namespace {

using bench::TaskBreakdown;
using scenarios::TaskTiming;

/// A task submitted at `submit`, started at `start`, ended at `end` and seen done at `done`
/// (microseconds), run by thread `tid`.
TaskTiming task(std::uint64_t index, std::uint64_t submit, std::uint64_t start, std::uint64_t end, std::uint64_t done,
                int tid = 7) {
  return {index, submit * 1000, submit * 1000, start * 1000, end * 1000, done * 1000, 100, tid, 1};
}

double value(const bench::Counters& counters, std::string_view name) {
  for (const auto& [key, v] : counters)
    if (key == name) return v;
  ADD_FAILURE() << "no counter " << name;
  return -1;
}

/// The counters `breakdown` writes.
bench::Counters counters_of(const TaskBreakdown& breakdown) {
  bench::Counters counters;
  breakdown.add_counters(counters);
  return counters;
}

bool has(const bench::Counters& counters, std::string_view name) {
  for (const auto& [key, v] : counters)
    if (key == name) return true;
  return false;
}

TEST(TaskBreakdown, CountsWhatEachTaskFoundSubmittedAndNotYetEnded) {
  const std::vector<TaskTiming> timings{task(0, 0, 1, 10, 11), task(1, 5, 10, 20, 21), task(2, 12, 20, 30, 31),
                                        task(3, 25, 30, 40, 41), task(4, 50, 50, 60, 61)};
  EXPECT_EQ(bench::tasks_found(timings), (std::vector<std::size_t>{0, 1, 1, 1, 0}));
}

TEST(TaskBreakdown, PartsAddUpToTheLatencyAndWakeUpIsTheQueuedTimeOfTasksThatFoundAWorkerIdle) {
  scenarios::RunRecord run;
  run.wall_ns = 100'000;
  // One worker: task 0 finds it idle (a wake-up of 4 us); task 1 queues behind task 0.
  run.timings = {task(0, 0, 4, 10, 12), task(1, 2, 10, 20, 26)};
  TaskBreakdown breakdown(1);
  breakdown.add(run);
  const bench::Counters c = counters_of(breakdown);
  EXPECT_DOUBLE_EQ(value(c, "queued_mean_us"), (4 + 8) / 2.0);
  EXPECT_DOUBLE_EQ(value(c, "running_mean_us"), (6 + 10) / 2.0);
  EXPECT_DOUBLE_EQ(value(c, "handback_mean_us"), (2 + 6) / 2.0);
  EXPECT_DOUBLE_EQ(value(c, "queued_mean_us") + value(c, "running_mean_us") + value(c, "handback_mean_us"),
                   (12 + 24) / 2.0)
      << "the mean latency";
  EXPECT_DOUBLE_EQ(value(c, "wakeup_mean_us"), 4);
  EXPECT_DOUBLE_EQ(value(c, "wakeup_share"), 0.5);
}

TEST(TaskBreakdown, InASampledRunEachTimedTaskStandsForItsStride) {
  scenarios::RunRecord run;
  run.wall_ns = 100'000;
  run.timing_stride = 4;  // tasks 0 and 4 timed: task 4 finds task 0 and, so, about 4 tasks
  run.timings = {task(0, 0, 1, 50, 51), task(4, 10, 11, 60, 61)};
  TaskBreakdown breakdown(2);
  breakdown.add(run);
  const bench::Counters c = counters_of(breakdown);
  EXPECT_DOUBLE_EQ(value(c, "wakeup_share"), 0.5) << "4 tasks in 2 workers: task 4 found none idle";
  EXPECT_DOUBLE_EQ(value(c, "worker_busy_fraction_max"), 1.0) << "4 x 49 us of a 100 us run, at most all of it";
}

TEST(TaskBreakdown, IdleWorkersCountOnlyWhenEveryTaskWasTimed) {
  const std::vector<WorkerThread> pool{{100, 7}, {100, 8}, {100, 9}, {100, 10}};
  scenarios::RunRecord run;
  run.wall_ns = 100'000;
  run.timings = {task(0, 0, 0, 50, 50, 7), task(1, 0, 0, 25, 25, 8)};
  TaskBreakdown every(4);
  every.add(run);
  every.end_executor(pool);
  const bench::Counters c = counters_of(every);
  EXPECT_DOUBLE_EQ(value(c, "worker_busy_fraction_min"), 0) << "two of four workers ran nothing";
  EXPECT_DOUBLE_EQ(value(c, "worker_busy_fraction_max"), 0.5);
  EXPECT_DOUBLE_EQ(value(c, "worker_busy_fraction_mean"), (0.5 + 0.25) / 4);

  run.timing_stride = 2;  // a sample cannot tell an idle worker from an unsampled one
  TaskBreakdown sampled(4);
  sampled.add(run);
  sampled.end_executor(pool);
  const bench::Counters s = counters_of(sampled);
  EXPECT_DOUBLE_EQ(value(s, "worker_busy_fraction_min"), 0.5);
  EXPECT_DOUBLE_EQ(value(s, "worker_busy_fraction_max"), 1.0);
}

TEST(TaskBreakdown, EachExecutorsWorkersCountOverItsOwnRuns) {
  // tune builds an executor per visit: each one's workers are busy over its own runs, not
  // over all the visits'.
  TaskBreakdown breakdown(1);
  for (int tid : {7, 8, 9}) {
    scenarios::RunRecord run;
    run.wall_ns = 100'000;
    run.timings = {task(0, 0, 0, 80, 80, tid)};
    breakdown.add(run);
    breakdown.end_executor({{100, tid}});
  }
  const bench::Counters c = counters_of(breakdown);
  EXPECT_DOUBLE_EQ(value(c, "worker_busy_fraction_mean"), 0.8);
  EXPECT_DOUBLE_EQ(value(c, "worker_busy_fraction_min"), 0.8);
}

TEST(TaskBreakdown, AnExecutorWithoutFixedWorkersHasNoBusyFractionAndEveryTaskIsAWakeUp) {
  scenarios::RunRecord run;
  run.wall_ns = 100'000;
  run.timings = {task(0, 0, 30, 50, 50), task(1, 1, 40, 60, 61)};
  TaskBreakdown per_task(0);
  per_task.add(run);
  const bench::Counters c = counters_of(per_task);
  EXPECT_DOUBLE_EQ(value(c, "wakeup_share"), 1.0);
  EXPECT_FALSE(has(c, "worker_busy_fraction_mean"));
}

}  // namespace
}  // namespace poolbench::testing
