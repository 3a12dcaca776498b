#include "scenarios/sleep_scenario.hpp"

#include <thread>

#include "pools/task_registry.hpp"
#include "scenarios/task_sample.hpp"
#include "scenarios/task_tracker.hpp"

namespace poolbench::scenarios {
namespace {

TaskSample sleep_task(std::uint64_t index, std::int64_t microseconds) {
  const TaskClock clock;
  std::this_thread::sleep_for(std::chrono::microseconds(microseconds));
  return clock.finish(index);
}

const RegisteredTask<&sleep_task> sleep_task_ref{"scenarios.sleep"};

}  // namespace

SleepScenario::SleepScenario(const ScenarioOptions& options) : tasks_(options.tasks), sleep_(options.sleep) {}

RunRecord SleepScenario::run(Executor& executor) {
  RunRecord record;
  TaskTracker tracker(tasks_);
  std::vector<Future<TaskSample>> futures;
  futures.reserve(tasks_);
  const std::uint64_t start = now_ns();
  for (std::uint64_t i = 0; i < tasks_; ++i) {
    tracker.submitting(i);
    futures.push_back(executor.submit(sleep_task_ref, i, static_cast<std::int64_t>(sleep_.count())));
    tracker.track(i, futures.back());
  }
  wait_all(futures);
  record.wall_ns = now_ns() - start;
  tracker.collect(futures, record, [](std::size_t i, std::uint64_t value) -> std::string {
    if (value == i) return {};
    return "sleep task " + std::to_string(i) + " returned the result of task " + std::to_string(value);
  });
  return record;
}

double SleepScenario::ideal_seconds(std::size_t workers, unsigned) const {
  const std::uint64_t w = std::max<std::size_t>(1, workers);
  const std::uint64_t rounds = (tasks_ + w - 1) / w;
  return static_cast<double>(rounds) * static_cast<double>(sleep_.count()) * 1e-6;
}

}  // namespace poolbench::scenarios
