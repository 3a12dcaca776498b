#pragma once

#include "scenarios/scenario.hpp"

namespace poolbench::scenarios {

/// The seed's echo service under load: one task per TCP connection on the executor under
/// test, a load client on threads of its own, and every reply byte checked. Reports
/// requests per second and round-trip times; it has no ideal time. With a rate, each
/// connection keeps a schedule of its own (open loop, as wrk2), and every request is timed.
class SocketScenario final : public Scenario {
 public:
  explicit SocketScenario(const ScenarioOptions& options);

  std::string_view name() const noexcept override { return "socket"; }
  RunRecord run(Executor& executor) override;
  double ideal_seconds(std::size_t, unsigned) const override { return 0; }
  std::uint64_t tasks_per_run() const noexcept override { return options_.connections; }
  TaskFlow flow() const noexcept override;

 private:
  ScenarioOptions options_;
};

}  // namespace poolbench::scenarios
