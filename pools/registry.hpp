#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pools/core/executor.hpp"
#include "pools/machine/cpu_set.hpp"

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

/// What the harness needs to know of an executor to measure it, so that nothing outside
/// this registry decides by an executor's name.
struct ExecutorTraits {
  std::string_view description;  ///< one line, for `poolbench list`
  bool sized;                    ///< takes a worker count (so `run --workers` and `tune` apply)
  bool in_process;               ///< runs closures in this process, so tasks can be posted to it
  bool worker_per_task;          ///< starts one worker for every task (thread-per-task)
};

/// The names of every executor, in the order `poolbench list` prints them.
const std::vector<std::string>& executor_names();

/// The traits of executor `name`; throws ConfigError naming the allowed names when there
/// is none.
const ExecutorTraits& executor_traits(std::string_view name);

/// Builds the executor called `name`; throws ConfigError naming the allowed names when
/// there is none, or when a sized executor's worker count is out of range (sync and
/// thread-per-task ignore the count).
std::unique_ptr<Executor> make_executor(std::string_view name, const ExecutorOptions& options);

}  // namespace poolbench
