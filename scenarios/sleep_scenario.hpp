#pragma once

#include "scenarios/scenario.hpp"

namespace poolbench::scenarios {

/// Blocking tasks: each sleeps for a fixed time, standing for blocking I/O (the seed's
/// `time.sleep(2)`). Ideal time: ceil(tasks ÷ workers) × duration.
class SleepScenario final : public Scenario {
 public:
  explicit SleepScenario(const ScenarioOptions& options);

  std::string_view name() const noexcept override { return "sleep"; }
  RunRecord run(Executor& executor) override;
  double ideal_seconds(std::size_t workers, unsigned usable_cpus) const override;
  std::uint64_t tasks_per_run() const noexcept override { return tasks_; }
  TaskFlow flow() const noexcept override { return flow_; }

 private:
  std::uint64_t tasks_;
  TaskFlow flow_;
  std::chrono::microseconds sleep_;
};

}  // namespace poolbench::scenarios
