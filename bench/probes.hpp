#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace poolbench::bench {

/// The measured cost, on this machine now, of one primitive that executors are built from.
struct ProbeResult {
  std::string name;          ///< e.g. "pipe_round_trip"
  std::string description;   ///< what one operation is
  double ns_per_op = 0;      ///< median over batches
  double spread = 0;         ///< median absolute deviation ÷ median, across batches
  long long operations = 0;  ///< operations timed in all
};

/// How a probe bounds its waits on the other process it measures against (the partner of
/// the pipe, socketpair and shared-memory round trips; each child of fork_exit_wait).
struct ProbeOptions {
  /// A partner that has not answered for this long is killed, and the probe fails.
  std::chrono::milliseconds partner_timeout{10'000};
  /// Called in the probing thread with the partner's PID once it has started (for tests).
  std::function<void(pid_t)> on_partner_started;
};

/// Names of every probe, in the order they run.
const std::vector<std::string>& probe_names();

/// Runs probe `name`: `batches` batches of `per_batch` operations each, after a warm-up.
/// Throws ConfigError for an unknown name, ResourceError when the OS refuses a primitive
/// or the partner process dies or stays silent for `options.partner_timeout`.
ProbeResult run_probe(const std::string& name, int batches = 7, int per_batch = 0, const ProbeOptions& options = {});

}  // namespace poolbench::bench
