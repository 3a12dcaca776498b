#include "scenarios/cpu_scenario.hpp"

#include <algorithm>

#include "pools/core/task_registry.hpp"
#include "scenarios/task_sample.hpp"
#include "scenarios/task_tracker.hpp"

namespace poolbench::scenarios {
namespace {

TaskSample cpu_task(std::uint64_t seed, std::uint64_t iterations, bool timed) {
  const TaskClock clock(timed);
  return clock.finish(hash_chain(seed, iterations));
}

const RegisteredTask<&cpu_task> cpu_task_ref{"scenarios.cpu"};

}  // namespace

std::uint64_t hash_chain(std::uint64_t seed, std::uint64_t iterations) noexcept {
  std::uint64_t x = seed ^ 0x9E3779B97F4A7C15ull;
  for (std::uint64_t i = 0; i < iterations; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    x ^= x >> 29;
  }
  return x;
}

double hash_steps_per_us() {
  static const double rate = [] {
    // Chains of about 2 ms each; the fastest is the one the fewest interruptions slowed.
    constexpr std::uint64_t steps = 1 << 20;
    double best_ns = 0;
    for (int round = 0; round < 7; ++round) {
      const std::uint64_t start = now_ns();
      // Read, so that the chain cannot be left out; a zero hash is as good as never.
      const std::uint64_t hash = hash_chain(static_cast<std::uint64_t>(round), steps);
      const auto ns = static_cast<double>(now_ns() - start) + (hash == 0 ? 1.0 : 0.0);
      if (round == 0 || ns < best_ns) best_ns = ns;
    }
    return static_cast<double>(steps) / std::max(best_ns, 1.0) * 1000.0;
  }();
  return rate;
}

CpuScenario::CpuScenario(const ScenarioOptions& options)
    : tasks_(options.tasks), flow_(options.flow), iterations_(options.iterations), expected_(options.tasks) {
  double best = 0;
  for (int round = 0; round < 3; ++round) {
    const std::uint64_t start = now_ns();
    for (std::uint64_t i = 0; i < tasks_; ++i) expected_[i] = hash_chain(i, iterations_);
    const double seconds = static_cast<double>(now_ns() - start) * 1e-9;
    best = round == 0 ? seconds : std::min(best, seconds);
  }
  single_thread_seconds_ = best;
}

RunRecord CpuScenario::run(Executor& executor) {
  return run_tracked(
      executor, tasks_, flow_, [&](std::uint64_t i, bool timed) { return cpu_task(i, iterations_, timed); },
      [&](std::uint64_t i, bool timed) { return executor.submit(cpu_task_ref, i, iterations_, timed); },
      [&](std::size_t i, std::uint64_t value) -> std::string {
        if (value == expected_[i]) return {};
        return "task " + std::to_string(i) + " returned a wrong hash";
      });
}

double CpuScenario::ideal_seconds(std::size_t workers, unsigned usable_cpus) const {
  const std::size_t parallel = std::max<std::size_t>(1, std::min<std::size_t>(workers, usable_cpus));
  return single_thread_seconds_ / static_cast<double>(parallel);
}

}  // namespace poolbench::scenarios
