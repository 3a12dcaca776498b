#include "pools/registry.hpp"

#include <functional>

#include "pools/asio_executor.hpp"
#include "pools/named_table.hpp"
#include "pools/process_pool.hpp"
#include "pools/sync_executor.hpp"
#include "pools/tbb_executor.hpp"
#include "pools/thread_per_task.hpp"
#include "pools/thread_pool.hpp"

namespace poolbench {
namespace {

struct Entry {
  std::string name;
  std::string description;
  bool sized;       ///< takes a worker count (sync and thread-per-task do not)
  bool in_process;  ///< runs closures in this process (process-pool does not)
  std::function<std::unique_ptr<Executor>(const ExecutorOptions&)> make;
};

const std::vector<Entry>& entries() {
  static const std::vector<Entry> table{
      {"sync", "runs each task inline in submit (the baseline)", false, true,
       [](const ExecutorOptions&) { return std::make_unique<SyncExecutor>(); }},
      {"thread-per-task", "a new OS thread for every task, joined when it ends", false, true,
       [](const ExecutorOptions&) { return std::make_unique<ThreadPerTask>(); }},
      {"thread-pool", "N long-lived threads sharing one queue (ThreadPoolExecutor)", true, true,
       [](const ExecutorOptions& o) { return std::make_unique<ThreadPool>(o.workers, o.placement); }},
      {"process-pool", "N long-lived worker processes over UNIX sockets (ProcessPoolExecutor)", true, false,
       [](const ExecutorOptions& o) { return std::make_unique<ProcessPool>(o.workers, o.placement, o.task_timeout); }},
      {"tbb", "oneTBB task_arena of N slots (yardstick)", true, true,
       [](const ExecutorOptions& o) { return std::make_unique<TbbExecutor>(o.workers); }},
      {"asio", "Boost.Asio thread_pool of N threads (yardstick)", true, true,
       [](const ExecutorOptions& o) { return std::make_unique<AsioExecutor>(o.workers); }},
  };
  return table;
}

}  // namespace

const std::vector<std::string>& executor_names() {
  static const std::vector<std::string> names = names_of(entries());
  return names;
}

std::string_view executor_description(std::string_view name) {
  const Entry* e = find_named(entries(), name);
  return e ? std::string_view(e->description) : std::string_view();
}

bool executor_runs_in_process(std::string_view name) {
  const Entry* e = find_named(entries(), name);
  return e && e->in_process;
}

std::unique_ptr<Executor> make_executor(std::string_view name, const ExecutorOptions& options) {
  const Entry* e = find_named(entries(), name);
  if (!e) throw_unknown_name("executor", name, executor_names());
  if (e->sized) require_workers(options.workers, name);
  return e->make(options);
}

}  // namespace poolbench
