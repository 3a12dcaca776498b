#pragma once

#include <string>
#include <vector>

namespace poolbench::bench {

/// The measured cost, on this machine now, of one primitive that executors are built from.
struct ProbeResult {
  std::string name;         ///< e.g. "pipe_round_trip"
  std::string description;  ///< what one operation is
  double ns_per_op = 0;     ///< median over batches
  double spread = 0;        ///< median absolute deviation ÷ median, across batches
  long long operations = 0; ///< operations timed in all
};

/// Names of every probe, in the order they run.
const std::vector<std::string>& probe_names();

/// Runs probe `name`: `batches` batches of `per_batch` operations each, after a warm-up.
/// Throws ConfigError for an unknown name, ResourceError when the OS refuses a primitive.
ProbeResult run_probe(const std::string& name, int batches = 7, int per_batch = 0);

}  // namespace poolbench::bench
