#include "scenarios/sleep_scenario.hpp"

#include <thread>

#include "pools/core/task_registry.hpp"
#include "scenarios/task_sample.hpp"
#include "scenarios/task_tracker.hpp"

namespace poolbench::scenarios {
namespace {

TaskSample sleep_task(std::uint64_t index, std::int64_t microseconds, bool timed) {
  const TaskClock clock(timed);
  std::this_thread::sleep_for(std::chrono::microseconds(microseconds));
  return clock.finish(index);
}

const RegisteredTask<&sleep_task> sleep_task_ref{"scenarios.sleep"};

}  // namespace

SleepScenario::SleepScenario(const ScenarioOptions& options)
    : tasks_(options.tasks), flow_(options.flow), sleep_(options.sleep) {}

RunRecord SleepScenario::run(Executor& executor) {
  const auto microseconds = static_cast<std::int64_t>(sleep_.count());
  return run_tracked(
      executor, tasks_, flow_, [&](std::uint64_t i, bool timed) { return sleep_task(i, microseconds, timed); },
      [&](std::uint64_t i, bool timed) { return executor.submit(sleep_task_ref, i, microseconds, timed); },
      [](std::size_t i, std::uint64_t value) -> std::string {
        if (value == i) return {};
        return "sleep task " + std::to_string(i) + " returned the result of task " + std::to_string(value);
      });
}

double SleepScenario::ideal_seconds(std::size_t workers, unsigned) const {
  const std::uint64_t w = std::max<std::size_t>(1, workers);
  const std::uint64_t rounds = (tasks_ + w - 1) / w;
  return static_cast<double>(rounds) * static_cast<double>(sleep_.count()) * 1e-6;
}

}  // namespace poolbench::scenarios
