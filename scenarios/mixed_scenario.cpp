#include "scenarios/mixed_scenario.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <thread>

#include "pools/core/task_registry.hpp"
#include "scenarios/cpu_scenario.hpp"
#include "scenarios/task_sample.hpp"
#include "scenarios/task_tracker.hpp"

namespace poolbench::scenarios {
namespace {

TaskSample mixed_task(std::uint64_t index, std::uint64_t iterations, std::int64_t wait_ns, bool timed) {
  const TaskClock clock(timed);
  const std::uint64_t hash = hash_chain(index, iterations);
  std::this_thread::sleep_for(std::chrono::nanoseconds(wait_ns));
  return clock.finish(hash);
}

const RegisteredTask<&mixed_task> mixed_task_ref{"scenarios.mixed"};

constexpr std::uint64_t cap_ns = 60'000'000'000;

/// Mean and coefficient of variation of `times`, in µs and as a ratio.
std::pair<double, double> mean_and_cv(const std::vector<std::uint64_t>& times) {
  if (times.empty()) return {0, 0};
  const double n = static_cast<double>(times.size());
  const double mean = std::accumulate(times.begin(), times.end(), 0.0) / n;
  double squares = 0;
  for (auto t : times) squares += (static_cast<double>(t) - mean) * (static_cast<double>(t) - mean);
  const double cv = mean > 0 ? std::sqrt(squares / n) / mean : 0;
  return {mean / 1000.0, cv};
}

}  // namespace

MixedScenario::MixedScenario(const ScenarioOptions& options)
    : flow_(options.flow),
      fixed_(options.compute_distribution.kind == Distribution::Kind::fixed &&
             options.wait_distribution.kind == Distribution::Kind::fixed) {
  // One generator, compute times first: the same seed and knobs give the same tasks.
  std::mt19937_64 random(options.seed);
  compute_ns_ = draw_times(options.compute_distribution, static_cast<double>(options.compute.count()) * 1000.0,
                           options.tasks, cap_ns, random);
  wait_ns_ = draw_times(options.wait_distribution, static_cast<double>(options.wait.count()) * 1000.0, options.tasks,
                        cap_ns, random);
  const double steps_per_ns = hash_steps_per_us() / 1000.0;
  iterations_.reserve(options.tasks);
  expected_.reserve(options.tasks);
  for (std::uint64_t i = 0; i < options.tasks; ++i) {
    iterations_.push_back(static_cast<std::uint64_t>(std::llround(static_cast<double>(compute_ns_[i]) * steps_per_ns)));
    expected_.push_back(hash_chain(i, iterations_[i]));
    const double task = static_cast<double>(compute_ns_[i] + wait_ns_[i]) * 1e-9;
    compute_s_ += static_cast<double>(compute_ns_[i]) * 1e-9;
    total_s_ += task;
    longest_s_ = std::max(longest_s_, task);
  }
  const auto [compute_us, compute_cv] = mean_and_cv(compute_ns_);
  const auto [wait_us, wait_cv] = mean_and_cv(wait_ns_);
  shape_ = {compute_us, wait_us, compute_cv, wait_cv, options.seed};
}

RunRecord MixedScenario::run(Executor& executor) {
  return run_tracked(
      executor, tasks_per_run(), flow_,
      [&](std::uint64_t i, bool timed) {
        return mixed_task(i, iterations_[i], static_cast<std::int64_t>(wait_ns_[i]), timed);
      },
      [&](std::uint64_t i, bool timed) {
        return executor.submit(mixed_task_ref, i, iterations_[i], static_cast<std::int64_t>(wait_ns_[i]), timed);
      },
      [&](std::size_t i, std::uint64_t value) -> std::string {
        if (value == expected_[i]) return {};
        return "mixed task " + std::to_string(i) + " returned a wrong hash";
      });
}

double MixedScenario::ideal_seconds(std::size_t workers, unsigned usable_cpus) const {
  const double n = static_cast<double>(std::max<std::size_t>(1, workers));
  const double parallel = static_cast<double>(std::max<std::size_t>(1, std::min<std::size_t>(workers, usable_cpus)));
  const double cpus_bound = compute_s_ / parallel;
  if (fixed_) {
    // Every task is the longest: rounds of whole tasks.
    const double rounds = std::ceil(static_cast<double>(tasks_per_run()) / n);
    return std::max(cpus_bound, rounds * longest_s_);
  }
  return std::max({cpus_bound, total_s_ / n, longest_s_});
}

}  // namespace poolbench::scenarios
