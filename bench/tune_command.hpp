#pragma once

#include <optional>
#include <string>

#include "bench/knobs.hpp"

namespace poolbench::bench {

/// `poolbench tune` as the user typed it.
struct TuneRequest {
  std::string scenario;
  std::string pool = "thread-pool";
  std::optional<long long> max_workers;
  std::optional<long long> repetitions;
  bool quick = false;
  std::string out;
  KnobFlags knobs;
};

/// Sweeps worker counts for one scenario on one executor until throughput has clearly
/// stopped improving, then prints the best size, the knee, how far the auto and py38 rules
/// and the classic formula are from the best, and a recommendation — a table on stdout,
/// progress and warnings on stderr, JSON to `out`. Returns 0; throws ConfigError on bad
/// input and Error when a run fails.
int tune_pool_size(const TuneRequest& request);

}  // namespace poolbench::bench
