#pragma once

#include <cstdint>
#include <vector>

#include "scenarios/scenario.hpp"

namespace poolbench::scenarios {

/// A deterministic integer hash chain: `iterations` dependent multiply-xor-shift steps
/// from `seed`. Pure CPU work that no compiler can skip or vectorise.
std::uint64_t hash_chain(std::uint64_t seed, std::uint64_t iterations) noexcept;

/// How many hash-chain steps this machine computes per microsecond on one CPU: measured
/// once per process (best of several chains of a few milliseconds), so that the mixed
/// scenario can turn a compute time into steps.
double hash_steps_per_us();

/// CPU-bound tasks: each computes a hash chain. Every result is checked against the value
/// computed single-threaded up front, whose time is also the base of the ideal.
class CpuScenario final : public Scenario {
 public:
  explicit CpuScenario(const ScenarioOptions& options);

  std::string_view name() const noexcept override { return "cpu"; }
  RunRecord run(Executor& executor) override;
  double ideal_seconds(std::size_t workers, unsigned usable_cpus) const override;
  std::uint64_t tasks_per_run() const noexcept override { return tasks_; }
  TaskFlow flow() const noexcept override { return flow_; }

  /// The single-threaded time of all tasks, in seconds (best of three).
  double single_thread_seconds() const noexcept { return single_thread_seconds_; }

 private:
  std::uint64_t tasks_;
  TaskFlow flow_;
  std::uint64_t iterations_;
  std::vector<std::uint64_t> expected_;
  double single_thread_seconds_ = 0;
};

}  // namespace poolbench::scenarios
