#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "bench/knobs.hpp"
#include "bench/trace_recorder.hpp"

namespace poolbench::bench {

/// `poolbench tune` as the user typed it.
struct TuneRequest {
  std::string scenario;
  std::string pool = "thread-pool";
  std::optional<long long> max_workers;
  std::optional<long long> repetitions;
  std::optional<std::string> slo_p99;  ///< a latency objective, e.g. "50ms": tune for it instead of throughput
  bool quick = false;
  std::string out;
  std::string trace;  ///< trace-event file of the measured runs; empty = none
  long long trace_limit = static_cast<long long>(default_trace_limit);
  KnobFlags knobs;
};

/// Measures worker counts for one scenario on one executor in shuffled rounds, then prints
/// the best size, the sizes statistically tied with it and the smallest of them (the
/// pick), the knee, how far the auto and py38 rules and the classic formula are from the
/// best, a scalability fit, and a recommendation — a table on stdout, progress and
/// warnings on stderr, JSON to `out`. With `slo_p99`, tunes for that objective instead
/// (objective_tune.hpp). Returns 0; throws ConfigError on bad input and Error when a run
/// fails.
int tune_pool_size(const TuneRequest& request);

/// What a scenario's throughputs count, per second: "tasks/s" or "requests/s".
std::string throughput_unit(std::string_view scenario);

}  // namespace poolbench::bench
