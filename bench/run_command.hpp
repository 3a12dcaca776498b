#pragma once

#include <string>
#include <vector>

#include "bench/knobs.hpp"
#include "bench/trace_recorder.hpp"

namespace poolbench::bench {

/// `poolbench run` as the user typed it; unset knobs take the quick or full defaults.
struct RunRequest {
  std::vector<std::string> pools;      ///< empty = all executors
  std::vector<std::string> scenarios;  ///< empty = all scenarios
  std::vector<std::string> workers;    ///< sizing rules or numbers; empty = the default sweep
  bool quick = false;
  std::string out;    ///< JSON file; empty = none
  std::string trace;  ///< trace-event file; empty = no trace
  long long trace_limit = static_cast<long long>(default_trace_limit);
  std::string pinning = "none";
  KnobFlags knobs;
  std::vector<std::string> benchmark_flags;  ///< --benchmark_* passed to Google Benchmark
};

/// Runs the grid, prints the table, writes the JSON (atomically: a temporary file renamed
/// into place, removed on failure). Returns 0, or 1 when any benchmark errored; throws
/// ConfigError for bad input, before anything runs or any file is written.
int run_benchmarks(const RunRequest& request);

}  // namespace poolbench::bench
