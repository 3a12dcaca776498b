#include "pools/registry.hpp"

#include <functional>

#include "pools/core/named_table.hpp"
#include "pools/process/process_pool.hpp"
#include "pools/threads/sync_executor.hpp"
#include "pools/threads/thread_per_task.hpp"
#include "pools/threads/thread_pool.hpp"
#include "pools/yardsticks/asio_executor.hpp"
#include "pools/yardsticks/tbb_executor.hpp"

namespace poolbench {
namespace {

struct Entry {
  std::string name;
  ExecutorTraits traits;
  std::function<std::unique_ptr<Executor>(const ExecutorOptions&)> make;
};

const std::vector<Entry>& entries() {
  static const std::vector<Entry> table{
      {"sync",
       {"runs each task inline in submit (the baseline)", false, true, false},
       [](const ExecutorOptions&) { return std::make_unique<SyncExecutor>(); }},
      {"thread-per-task",
       {"a new OS thread for every task, joined when it ends", false, true, true},
       [](const ExecutorOptions&) { return std::make_unique<ThreadPerTask>(); }},
      {"thread-pool",
       {"N long-lived threads sharing one queue (ThreadPoolExecutor)", true, true, false},
       [](const ExecutorOptions& o) { return std::make_unique<ThreadPool>(o.workers, o.placement); }},
      {"process-pool",
       {"N long-lived worker processes over UNIX sockets (ProcessPoolExecutor)", true, false, false},
       [](const ExecutorOptions& o) { return std::make_unique<ProcessPool>(o.workers, o.placement, o.task_timeout); }},
      {"tbb",
       {"oneTBB task_arena of N slots (yardstick)", true, true, false},
       [](const ExecutorOptions& o) { return std::make_unique<TbbExecutor>(o.workers); }},
      {"asio",
       {"Boost.Asio thread_pool of N threads (yardstick)", true, true, false},
       [](const ExecutorOptions& o) { return std::make_unique<AsioExecutor>(o.workers); }},
  };
  return table;
}

}  // namespace

const std::vector<std::string>& executor_names() {
  static const std::vector<std::string> names = names_of(entries());
  return names;
}

const ExecutorTraits& executor_traits(std::string_view name) {
  const Entry* e = find_named(entries(), name);
  if (!e) throw_unknown_name("executor", name, executor_names());
  return e->traits;
}

std::unique_ptr<Executor> make_executor(std::string_view name, const ExecutorOptions& options) {
  const Entry* e = find_named(entries(), name);
  if (!e) throw_unknown_name("executor", name, executor_names());
  if (e->traits.sized) require_workers(options.workers, name);
  return e->make(options);
}

}  // namespace poolbench
