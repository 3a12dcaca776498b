#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

namespace poolbench::scenarios {

/// When the tasks of an open-loop run arrive: at `rate` per second for `duration`, spaced
/// evenly (`uniform`) or as a Poisson process (`poisson`: independent exponential gaps,
/// from a generator seeded with `seed`), whatever the executor's backlog. A rate of 0
/// means a closed batch: every task submitted at once, as without --rate.
struct Arrivals {
  enum class Kind { poisson, uniform };
  double rate = 0;  ///< tasks per second; 0 = closed batch
  Kind kind = Kind::poisson;
  std::chrono::milliseconds duration{5'000};
  std::uint64_t seed = 1;  ///< make_scenario sets it from ScenarioOptions::seed

  /// The most tasks per second a run may ask of its one submitter: on the 2-vCPU machine
  /// this was measured on, it kept up with 30,000 empty tasks a second and reached only
  /// 64,000 of 100,000 (docs/results.md). Its lag is reported below this bound too.
  static constexpr double max_rate = 50'000;
  static constexpr std::chrono::hours max_duration{1};

  bool open() const noexcept { return rate > 0; }
  /// How many tasks arrive: rate × duration, at least 1.
  std::uint64_t count() const noexcept;
  /// Each task's arrival, in nanoseconds from the run's start: the first at 0, in order.
  std::vector<std::uint64_t> schedule() const;
};

/// The schedules of `parts` submitters that share `arrivals` between them, as wrk2's
/// connections do: each at rate ÷ parts (at least one arrival), Poisson streams seeded
/// apart (so that together they are a Poisson process at the whole rate), uniform ones
/// staggered so that together they stay evenly spaced.
std::vector<std::vector<std::uint64_t>> split_schedule(const Arrivals& arrivals, std::uint64_t parts);

/// Reads --arrivals; throws ConfigError naming the text and what is allowed.
Arrivals::Kind parse_arrival_kind(std::string_view text);

}  // namespace poolbench::scenarios
