#pragma once

#include "bench/tune_command.hpp"

namespace poolbench::bench {

/// `tune --slo-p99 D [--rate R]`: sizes a pool for a latency objective with open-loop runs
/// (p99 counted from each arrival's scheduled time). With a rate, finds the smallest size
/// whose p99 stays within D at R without saturating, or says no size up to the cap does
/// and names the closest; without one, finds for each size the highest rate it sustains
/// within D (the latency–throughput frontier) and recommends the size with the most
/// headroom per worker. Table on stdout, progress on stderr, JSON to `--out`; returns 0,
/// throws ConfigError on bad input and Error when a run fails.
int tune_for_objective(const TuneRequest& request);

/// Reads a latency such as "50ms", "800us" or "1.5s" into microseconds; throws ConfigError
/// naming `flag` when the unit is missing or the value is not above 0 (or over an hour).
double parse_latency_us(const std::string& flag, const std::string& text);

}  // namespace poolbench::bench
