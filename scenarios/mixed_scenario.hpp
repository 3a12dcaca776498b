#pragma once

#include <cstdint>
#include <vector>

#include "scenarios/distribution.hpp"
#include "scenarios/scenario.hpp"

namespace poolbench::scenarios {

/// Tasks like a service's requests: each computes (the cpu scenario's hash chain, for a
/// time turned into steps by this machine's calibration) and then blocks (a sleep,
/// standing for a database or a disk). Both times are drawn up front from a seeded
/// generator, so reruns see the same tasks; every result is checked against the hash
/// computed single-threaded up front. For fixed times C and W on P CPUs the best size is
/// known: P × (1 + W ÷ C).
class MixedScenario final : public Scenario {
 public:
  explicit MixedScenario(const ScenarioOptions& options);

  std::string_view name() const noexcept override { return "mixed"; }
  RunRecord run(Executor& executor) override;
  /// max(ΣC ÷ min(N, P), ⌈T ÷ N⌉ × (C + W)) for fixed times; for drawn ones
  /// max(ΣC ÷ min(N, P), Σ(C + W) ÷ N, the longest task).
  double ideal_seconds(std::size_t workers, unsigned usable_cpus) const override;
  std::uint64_t tasks_per_run() const noexcept override { return compute_ns_.size(); }
  TaskFlow flow() const noexcept override { return flow_; }
  std::optional<TaskShape> task_shape() const override { return shape_; }

  /// Task i's drawn compute and wait times, in nanoseconds.
  const std::vector<std::uint64_t>& compute_ns() const noexcept { return compute_ns_; }
  const std::vector<std::uint64_t>& wait_ns() const noexcept { return wait_ns_; }

 private:
  TaskFlow flow_;
  bool fixed_;
  std::vector<std::uint64_t> compute_ns_;
  std::vector<std::uint64_t> wait_ns_;
  std::vector<std::uint64_t> iterations_;
  std::vector<std::uint64_t> expected_;
  double compute_s_ = 0;  ///< ΣC, in seconds
  double total_s_ = 0;    ///< Σ(C + W)
  double longest_s_ = 0;  ///< the longest C + W
  TaskShape shape_;
};

}  // namespace poolbench::scenarios
