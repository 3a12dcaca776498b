#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace poolbench::bench {

/// A way of running batches of empty tasks: a library used directly (here) or an
/// executor's post or submit (paired_runs.hpp), so that both are timed the same way.
class TaskBatch {
 public:
  virtual ~TaskBatch() = default;
  /// Runs `tasks` empty tasks and returns once every one has ended.
  virtual void run(std::uint64_t tasks) = 0;
};

/// The libraries behind the yardstick executors, used directly: no poolbench code runs
/// per task, so an adapter's cost over its library's is the adapter's overhead.
///   tbb_enqueue     `task_arena::enqueue` of each task from the outside thread, one latch
///   tbb_task_group  `task_group::run` inside the arena, joined by `wait` (fork-join: the
///                   caller spawns into its own deque and joins the work; a reference, not
///                   the contract the executors keep)
///   asio_post       `boost::asio::post` to a `thread_pool`, one latch
/// Each task is empty but for counting down the latch where it has one. In the order `run`
/// measures them.
const std::vector<std::string>& raw_library_names();

/// Builds library path `name` with `workers` threads, sized as the matching executor is
/// (a oneTBB arena of `workers` slots with enough parallelism allowed, an Asio pool of
/// `workers` threads). Throws ConfigError for an unknown name or a size out of 1..max_workers.
std::unique_ptr<TaskBatch> make_raw_library_run(const std::string& name, std::size_t workers);

}  // namespace poolbench::bench
