#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "pools/future.hpp"
#include "scenarios/scenario.hpp"
#include "scenarios/task_sample.hpp"

namespace poolbench::scenarios {

/// Times every task of one run: submit time in the submitting thread, start time from the
/// task itself, done time in the thread that completes its future. Slots are sized up
/// front, so recording allocates nothing per task beyond the callback.
class TaskTracker {
 public:
  explicit TaskTracker(std::size_t tasks);

  /// Call just before submitting task `index`.
  void submitting(std::size_t index) noexcept { submit_ns_[index] = now_ns(); }
  /// Records task `index`'s completion time when its future ends.
  void track(std::size_t index, const Future<TaskSample>& future);
  /// Waits for every tracked future and fills `record`'s latencies; `check(index, value)`
  /// returns an error message for a wrong result, or an empty string.
  template <class Check>
  void collect(std::vector<Future<TaskSample>>& futures, RunRecord& record, Check check);

 private:
  /// Waits for task `index`'s callback (it runs just after its future is published).
  std::uint64_t done_ns(std::size_t index) const noexcept;

  std::vector<std::uint64_t> submit_ns_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> done_ns_;
};

/// One run of `tasks` tasks: submits task i with `submit(i)` (which returns its future),
/// keeping at most `in_flight` outstanding (0 = no limit), times every task, waits for
/// all, and checks each value with `check(i, value)`.
template <class Submit, class Check>
RunRecord run_tracked(std::uint64_t tasks, std::uint64_t in_flight, Submit submit, Check check) {
  RunRecord record;
  TaskTracker tracker(tasks);
  std::vector<Future<TaskSample>> futures;
  futures.reserve(tasks);
  const std::uint64_t start = now_ns();
  for (std::uint64_t i = 0; i < tasks; ++i) {
    if (in_flight > 0 && i >= in_flight) futures[i - in_flight].wait();
    tracker.submitting(i);
    futures.push_back(submit(i));
    tracker.track(i, futures.back());
  }
  wait_all(futures);
  record.wall_ns = now_ns() - start;
  tracker.collect(futures, record, check);
  return record;
}

template <class Check>
void TaskTracker::collect(std::vector<Future<TaskSample>>& futures, RunRecord& record, Check check) {
  record.latency_ns.reserve(record.latency_ns.size() + futures.size());
  record.queue_wait_ns.reserve(record.queue_wait_ns.size() + futures.size());
  for (std::size_t i = 0; i < futures.size(); ++i) {
    TaskSample sample;
    try {
      sample = futures[i].get();
    } catch (const std::exception& e) {
      done_ns(i);
      record.fail(std::string("task ") + std::to_string(i) + " failed: " + e.what());
      continue;
    }
    const std::uint64_t done = done_ns(i);
    if (auto error = check(i, sample.value); !error.empty()) {
      record.fail(std::move(error));
      continue;
    }
    ++record.tasks;
    record.task_busy_ns += sample.busy_ns;
    record.task_cpu_ns += sample.cpu_ns;
    const std::uint64_t submitted = submit_ns_[i];
    record.latency_ns.push_back(done > submitted ? done - submitted : 0);
    record.queue_wait_ns.push_back(sample.start_ns > submitted ? sample.start_ns - submitted : 0);
  }
}

}  // namespace poolbench::scenarios
