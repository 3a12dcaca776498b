#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "pools/core/executor.hpp"
#include "pools/core/future.hpp"
#include "scenarios/open_loop.hpp"
#include "scenarios/scenario.hpp"
#include "scenarios/task_sample.hpp"

namespace poolbench::scenarios {

/// Times a sample of the tasks of one run — every task when a run has at most
/// `timed_per_run` or when asked to time them all, else every k-th (k a power of two) —
/// so timing costs a few nanoseconds per task, not four clock reads. Submit times are
/// taken in the submitting thread; start and end times by the task itself. The done time
/// is when its future ends for a task run in another process (the reply's trip back counts)
/// and, when every task is timed (a trace), for every task with a future; otherwise a task
/// run in this process is done as it ends, which saves a callback per timed task. Slots
/// are sized up front; the destructor waits for the callbacks it registered.
class TaskTracker {
 public:
  static constexpr std::size_t timed_per_run = 1024;

  TaskTracker(std::size_t tasks, bool in_process, bool every_task);
  ~TaskTracker();
  TaskTracker(const TaskTracker&) = delete;
  TaskTracker& operator=(const TaskTracker&) = delete;

  /// Whether task `index` is one of the timed sample.
  bool timed(std::size_t index) const noexcept { return (index & (stride_ - 1)) == 0; }
  std::uint64_t stride() const noexcept { return stride_; }
  /// Call just before handing timed task `index` over.
  void submitting(std::size_t index) noexcept { submit_ns_[slot(index)] = now_ns(); }
  /// Call once the hand-over of timed task `index` returned, with its future if it has one.
  void submitted(std::size_t index, const Future<TaskSample>* future);
  /// The times of timed task `index`, which ended with `sample`.
  TaskTiming timing(std::size_t index, const TaskSample& sample) const;

 private:
  std::size_t slot(std::size_t index) const noexcept { return index >> shift_; }

  std::size_t stride_;  ///< a power of two, so `timed` costs no division
  int shift_;           ///< log2(stride_)
  bool every_task_;
  bool watch_futures_;  ///< take done times from futures' callbacks
  std::int32_t submitter_tid_;
  std::vector<std::uint64_t> submit_ns_;     ///< one per timed task, written by the submitter
  std::vector<std::uint64_t> submitted_ns_;  ///< when every task is timed
  /// Written by whichever thread ends a future, so kept apart from the submitter's slots;
  /// 0 until then.
  std::unique_ptr<std::atomic<std::uint64_t>[]> done_ns_;
  std::size_t watched_ = 0;  ///< slots below this have a callback registered (they are registered in order)
};

/// Counts posted tasks as they end, so the submitter can wait for a number of them
/// without a future per task. Like a latch, only the task that reaches the awaited count
/// wakes the waiter: the others pay one atomic increment, not a wake-up each.
class EndCounter {
 public:
  /// Called by each task as it ends (ran, or failed inside the harness's wrapper).
  void add() noexcept;
  std::uint64_t ended() const noexcept { return ended_.load(std::memory_order_acquire); }
  /// Waits until `count` tasks have ended or `limit` has passed; true when they have. One
  /// thread waits at a time (the submitter).
  bool wait_for(std::uint64_t count, std::chrono::milliseconds limit);

 private:
  std::atomic<std::uint64_t> ended_{0};
  std::atomic<std::uint64_t> awaited_{0};  ///< the count the waiter waits for; 0 when none waits
  std::mutex mutex_;
  std::condition_variable changed_;
};

namespace detail {

template <class Check>
void check_sample(std::size_t index, const TaskSample& sample, const TaskTracker* tracker, RunRecord& record,
                  Check& check) {
  if (tracker && tracker->timed(index)) {
    const TaskTiming timing = tracker->timing(index, sample);
    if (!record.add_timing(timing)) return;
    record.latency_ns.push_back(timing.done_ns - timing.submit_ns);
  }
  record.add_task(sample, check(index, sample.value));
}

template <class Submit, class Check>
RunRecord run_submitted(bool in_process, std::uint64_t tasks, const TaskFlow& flow, Submit& submit, Check& check) {
  RunRecord record;
  std::optional<TaskTracker> tracker;
  if (flow.instrumented) tracker.emplace(tasks, in_process, flow.time_every_task);
  std::vector<Future<TaskSample>> futures;
  futures.reserve(tasks);
  const std::uint64_t start = now_ns();
  record.start_ns = start;
  try {
    for (std::uint64_t i = 0; i < tasks; ++i) {
      if (flow.in_flight > 0 && i >= flow.in_flight) futures[i - flow.in_flight].wait();
      const bool timed = tracker && tracker->timed(i);
      if (timed) tracker->submitting(i);
      futures.push_back(submit(i, timed));
      if (timed) tracker->submitted(i, &futures.back());
    }
  } catch (const std::exception& e) {
    record.fail("task " + std::to_string(futures.size()) + " could not be submitted: " + e.what());
  }
  wait_all(futures);
  record.wall_ns = now_ns() - start;
  if (tracker) record.timing_stride = tracker->stride();
  for (std::size_t i = 0; i < futures.size(); ++i) {
    try {
      detail::check_sample(i, futures[i].get(), tracker ? &*tracker : nullptr, record, check);
    } catch (const std::exception& e) {
      record.fail("task " + std::to_string(i) + " failed: " + e.what());
    }
  }
  record.end_ns = now_ns();
  return record;
}

/// The shared state of one posted run: every task writes only its own sample slot; the
/// rare task that throws records its message under a lock.
template <class Body>
struct PostedRun {
  PostedRun(Body& body, TaskTracker* tracker, std::size_t tasks) : body(body), tracker(tracker), samples(tasks) {}

  Body& body;
  TaskTracker* tracker;
  std::vector<TaskSample> samples;
  std::mutex errors_mutex;
  std::map<std::size_t, std::string> errors;
  EndCounter ended;

  void run_one(std::size_t index, bool timed) noexcept {
    try {
      samples[index] = body(index, timed);
    } catch (const std::exception& e) {
      fail(index, e.what());
    } catch (...) {
      fail(index, "the task threw something that is not a std::exception");
    }
    ended.add();
  }

  void fail(std::size_t index, std::string message) noexcept {
    try {
      std::lock_guard lock(errors_mutex);
      errors.emplace(index, std::move(message));
    } catch (...) {
      std::terminate();  // out of memory while recording a failure: nothing sound is left to do
    }
  }
};

template <class Body, class Check>
RunRecord run_posted(Executor& executor, std::uint64_t tasks, const TaskFlow& flow, Body& body, Check& check) {
  RunRecord record;
  if (!executor.runs_in_process()) {
    record.fail(std::string(executor.name()) + " cannot run posted closures; use --submit future");
    return record;
  }
  std::optional<TaskTracker> tracker;
  if (flow.instrumented) tracker.emplace(tasks, true, flow.time_every_task);
  PostedRun<Body> run(body, tracker ? &*tracker : nullptr, tasks);
  // Tasks the executor itself fails or cancels never reach run_one; its counts tell.
  const TaskCounts before = executor.counts();
  auto ended_by_executor = [&] {
    const TaskCounts now = executor.counts();
    return (now.completed + now.failed + now.cancelled) - (before.completed + before.failed + before.cancelled);
  };
  auto wait_until = [&](std::uint64_t count) {
    while (!run.ended.wait_for(count, std::chrono::milliseconds(5)))
      if (ended_by_executor() >= count) return;
  };

  std::uint64_t posted = 0;
  const std::uint64_t start = now_ns();
  record.start_ns = start;
  try {
    for (; posted < tasks; ++posted) {
      if (flow.in_flight > 0 && posted >= flow.in_flight) wait_until(posted - flow.in_flight + 1);
      const bool timed = tracker && tracker->timed(posted);
      if (timed) tracker->submitting(posted);
      executor.post([&run, index = posted, timed] { run.run_one(index, timed); });
      if (timed) tracker->submitted(posted, nullptr);
    }
  } catch (const std::exception& e) {
    record.fail("task " + std::to_string(posted) + " could not be posted: " + e.what());
  }
  wait_until(posted);
  record.wall_ns = now_ns() - start;
  // A task may still be inside run_one, waking this thread; the executor counts it only
  // once its closure is gone, and `run` must outlive every closure.
  while (ended_by_executor() < posted) std::this_thread::yield();
  // Every posted task has ended; any still uncounted was failed or cancelled by the executor.
  if (const std::uint64_t ran = run.ended.ended(); ran < posted) {
    record.fail(std::to_string(posted - ran) + " posted task(s) were failed or cancelled by " +
                std::string(executor.name()));
    return record;
  }
  for (std::size_t i = 0; i < posted; ++i) {
    if (const auto error = run.errors.find(i); error != run.errors.end()) {
      record.fail("task " + std::to_string(i) + " failed: " + error->second);
      continue;
    }
    detail::check_sample(i, run.samples[i], run.tracker, record, check);
  }
  if (tracker) record.timing_stride = tracker->stride();
  record.end_ns = now_ns();
  return record;
}

}  // namespace detail

/// One run of `tasks` tasks shaped by `flow`: hands task i over with `submit(i, timed)`
/// (which returns its future) or, when posting, posts `body(i, timed)` (which returns
/// its sample, with start and end times when `timed`),
/// keeping at most `flow.in_flight` outstanding; waits for all, times each when
/// instrumented (see TaskTracker), and checks each value with `check(i, value)`. With
/// `flow.arrivals` open, submits each task at its scheduled time instead (run_open_loop).
template <class Body, class Submit, class Check>
RunRecord run_tracked(Executor& executor, std::uint64_t tasks, const TaskFlow& flow, Body body, Submit submit,
                      Check check) {
  if (flow.arrivals.open()) return run_open_loop(flow.arrivals, submit, check);
  if (flow.submission == Submission::post) return detail::run_posted(executor, tasks, flow, body, check);
  return detail::run_submitted(executor.runs_in_process(), tasks, flow, submit, check);
}

}  // namespace poolbench::scenarios
