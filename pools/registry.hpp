#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pools/cpu_set.hpp"
#include "pools/executor.hpp"

namespace poolbench {

/// What every executor is built from: its size, where its workers run, and how long a
/// task may run — enforced only where a task can be stopped without stopping this
/// process (process-pool kills the worker); a thread cannot be, so in-process executors
/// ignore it.
struct ExecutorOptions {
  std::size_t workers = 1;
  Placement placement;
  std::chrono::nanoseconds task_timeout = std::chrono::nanoseconds::max();
};

/// The names of every executor, in the order `poolbench list` prints them.
const std::vector<std::string>& executor_names();

/// A one-line description of executor `name` for `poolbench list`.
std::string_view executor_description(std::string_view name);

/// True when executor `name` runs closures in this process, so tasks can be posted to it.
bool executor_runs_in_process(std::string_view name);

/// Builds the executor called `name`; throws ConfigError naming the allowed names when
/// there is none, or when a sized executor's worker count is out of range (sync and
/// thread-per-task ignore the count).
std::unique_ptr<Executor> make_executor(std::string_view name, const ExecutorOptions& options);

}  // namespace poolbench
