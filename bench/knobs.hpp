#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "scenarios/scenario.hpp"

namespace CLI {
class App;
}

namespace poolbench::bench {

/// The scenario knobs as typed on the command line (unset = the default).
struct KnobFlags {
  std::optional<long long> tasks;
  std::optional<long long> iterations;
  std::optional<long long> in_flight;
  std::optional<double> sleep_ms;
  std::optional<double> compute_us;
  std::optional<double> wait_us;
  std::optional<std::string> compute_dist;
  std::optional<std::string> wait_dist;
  std::optional<long long> seed;
  std::optional<double> rate;
  std::optional<std::string> arrivals;
  std::optional<double> duration_s;
  std::optional<long long> connections;
  std::optional<long long> round_trips;
  std::optional<long long> io_timeout_ms;
  std::optional<std::string> submit;
  std::optional<std::string> instrument;
  std::optional<double> task_timeout_s;
};

/// Adds --tasks, --iterations, --in-flight, --submit, --instrument, --sleep-ms, --compute-us,
/// --wait-us, --compute-dist, --wait-dist, --seed, --rate, --arrivals, --duration,
/// --connections, --round-trips,
/// --io-timeout-ms, --task-timeout.
void add_knob_options(CLI::App& app, KnobFlags& flags);

/// The scenario options: the quick or full defaults, overridden by what was typed.
/// Throws ConfigError naming a value out of range.
scenarios::ScenarioOptions resolve_knobs(const KnobFlags& flags, bool quick);

/// The longest a task of a run may take (`--task-timeout` seconds, default 60): a
/// process-pool task past it fails and its worker is killed, so the benchmark is marked
/// errored and the run goes on. Throws ConfigError unless 0 < seconds <= 86400.
std::chrono::nanoseconds resolve_task_timeout(const KnobFlags& flags);

}  // namespace poolbench::bench
