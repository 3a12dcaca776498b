#pragma once

#include <array>
#include <atomic>
#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "pools/core/future.hpp"
#include "pools/core/job.hpp"
#include "pools/core/remote_call.hpp"
#include "pools/core/task_registry.hpp"

namespace poolbench {

/// The most workers any executor accepts: beyond this a size is a typo, not a plan.
inline constexpr std::size_t max_workers = 4096;

/// Returns `workers` when it is in 1..max_workers; throws ConfigError naming `executor` otherwise.
std::size_t require_workers(std::size_t workers, std::string_view executor);

/// One worker thread as the OS names it: its process and thread ids.
struct WorkerThread {
  int pid = 0;
  int tid = 0;

  friend bool operator==(const WorkerThread&, const WorkerThread&) = default;
};

/// How many tasks an executor has taken and how each ended. After `shutdown(wait=true)`,
/// `submitted == completed + failed + cancelled`: no task is lost.
struct TaskCounts {
  std::uint64_t submitted = 0;
  std::uint64_t completed = 0;
  std::uint64_t failed = 0;
  std::uint64_t cancelled = 0;

  std::uint64_t ended() const noexcept { return completed + failed + cancelled; }
};

/// The one interface every way of running tasks implements, with the semantics of
/// Python's `concurrent.futures.Executor`. Executors are created by name (see registry.hpp)
/// and are neither copyable nor movable; the destructor shuts down and waits.
class Executor {
 public:
  Executor() = default;
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;
  virtual ~Executor() = default;

  /// The registry name: `sync`, `thread-pool`, ...
  virtual std::string_view name() const noexcept = 0;
  /// How many tasks may run at once (0 for thread-per-task: unbounded).
  virtual std::size_t worker_count() const noexcept = 0;
  /// True when tasks run in this process, so any callable may be submitted; false for
  /// process-pool, which runs only RegisteredTasks.
  virtual bool runs_in_process() const noexcept { return true; }

  /// Threads and processes started so far: the creation cost a pool amortises.
  virtual std::uint64_t threads_created() const noexcept { return 0; }
  virtual std::uint64_t processes_created() const noexcept { return 0; }
  /// The PIDs of live worker processes, for measuring their memory; empty for in-process executors.
  virtual std::vector<int> worker_processes() const { return {}; }
  /// The threads that run its tasks, in worker order, as far as the executor knows them
  /// (started workers of a pool; empty where a library owns the threads or there are
  /// none up front): a profile names and counts idle workers too.
  virtual std::vector<WorkerThread> worker_threads() const { return {}; }

  /// Schedules `fn(args...)` and returns its future. Throws ExecutorShutdownError after
  /// shutdown, NotTransferableError on an executor that cannot run closures.
  template <class F, class... A>
  requires std::invocable < std::decay_t<F>
  &, std::decay_t<A>... > auto submit(F&& fn, A&&... args)
                              -> Future<std::invoke_result_t<std::decay_t<F>&, std::decay_t<A>...>> {
    using R = std::invoke_result_t<std::decay_t<F>&, std::decay_t<A>...>;
    require_in_process();
    auto state = detail::make_state<R>();
    auto bound = bind(std::forward<F>(fn), std::forward<A>(args)...);
    enqueue_counted(Job(detail::FutureTask<R, decltype(bound)>(state, std::move(bound))));
    return Future<R>(std::move(state));
  }

  /// Schedules a registered task; works on every executor, including process-pool.
  template <auto Fn, class... A>
  auto submit(const RegisteredTask<Fn>& task, A&&... args) -> Future<typename RegisteredTask<Fn>::result_type> {
    using R = typename RegisteredTask<Fn>::result_type;
    if (runs_in_process()) return submit(Fn, std::forward<A>(args)...);
    auto state = detail::make_state<R>();
    enqueue_remote_counted(make_remote_call(task, RemoteCompletion::into<R>(state), std::forward<A>(args)...));
    return Future<R>(std::move(state));
  }

  /// Fire-and-forget: schedules `fn(args...)` with no future. Its exception is counted
  /// as a failure and reported (see set_unobserved_error_handler).
  template <class F, class... A>
  requires std::invocable < std::decay_t<F>
  &, std::decay_t<A>... > void post(F&& fn, A&&... args) {
    require_in_process();
    auto bound = bind(std::forward<F>(fn), std::forward<A>(args)...);
    enqueue_counted(Job(detail::DetachedTask<decltype(bound)>(std::move(bound))));
  }

  template <auto Fn, class... A>
  void post(const RegisteredTask<Fn>& task, A&&... args) {
    if (runs_in_process()) return post(Fn, std::forward<A>(args)...);
    enqueue_remote_counted(make_remote_call(task, RemoteCompletion::detached(), std::forward<A>(args)...));
  }

  /// Runs `fn` on every element of `inputs` and returns the results in input order;
  /// rethrows the first failure in input order once all tasks have ended.
  template <class F, class Range>
  auto map(const F& fn, const Range& inputs) {
    using Future = decltype(submit(fn, *std::begin(inputs)));
    using R = typename Future::value_type;
    std::vector<Future> futures;
    for (const auto& input : inputs) futures.push_back(submit(fn, input));
    wait_all(futures);
    if constexpr (std::is_void_v<R>) {
      for (auto& f : futures) f.get();
    } else {
      std::vector<R> results;
      results.reserve(futures.size());
      for (auto& f : futures) results.push_back(f.take());
      return results;
    }
  }

  /// Stops accepting tasks. With `wait`, returns once every accepted task has ended;
  /// with `cancel_pending`, tasks that have not started are cancelled. Safe to call
  /// more than once; the destructor calls `shutdown(true)`.
  virtual void shutdown(bool wait = true, bool cancel_pending = false) = 0;

  /// A snapshot of the task counts.
  TaskCounts counts() const noexcept;

 protected:
  /// Queues a job; throws ExecutorShutdownError once shutdown has begun. The executor
  /// must end the job (run, cancel or fail) and report it through `record`.
  virtual void enqueue(Job job) = 0;
  /// Queues a task for another process; only executors that do not run in process override it.
  virtual void enqueue_remote(RemoteCall call);
  /// Counts how one task ended.
  void record(TaskOutcome outcome) noexcept;
  /// Tasks submitted and not yet ended, the one being submitted included. A task is
  /// counted as submitted before `enqueue` sees it, and that count and this read are
  /// sequentially consistent: an executor whose `enqueue` checks a flag that shutdown sets
  /// with `memory_order_seq_cst` before calling this either sees the flag or is counted here.
  std::uint64_t unfinished() const noexcept;

 private:
  template <class F, class... A>
  static auto bind(F&& fn, A&&... args) {
    if constexpr (sizeof...(A) == 0) {
      return std::forward<F>(fn);
    } else {
      return [fn = std::forward<F>(fn), ... args = std::forward<A>(args)]() mutable -> decltype(auto) {
        return std::invoke(fn, std::move(args)...);
      };
    }
  }

  template <auto Fn, class... A>
  static RemoteCall make_remote_call(const RegisteredTask<Fn>& task, RemoteCompletion completion, A&&... args) {
    WireWriter writer;
    writer.put(task.id());
    RegisteredTask<Fn>::encode(writer, std::forward<A>(args)...);
    check_message_bounds(task.name(), writer);
    return RemoteCall{&task.name(), writer.take_bytes(), std::move(writer.fds()), std::move(completion), 0, nullptr};
  }

  /// Throws NotTransferableError naming `task` when its encoded arguments exceed what
  /// one message may carry (max_message_bytes, max_message_fds).
  static void check_message_bounds(const std::string& task, WireWriter& writer);
  void require_in_process() const;
  void enqueue_counted(Job job);
  void enqueue_remote_counted(RemoteCall call);

  /// A count on a cache line of its own.
  struct alignas(64) Shard {
    std::atomic<std::uint64_t> value{0};
  };
  /// Completions are counted per worker thread, each thread in its own shard (threads
  /// share one only beyond `completed_shards`) and summed on read: a task's end then
  /// writes a line no other worker writes, where one shared count made every end of a
  /// busy pool wait for the line to move between CPUs.
  static constexpr std::size_t completed_shards = 8;

  // Submitters write `submitted_`, workers the shards: apart, neither slows the other.
  alignas(64) std::atomic<std::uint64_t> submitted_{0};
  std::array<Shard, completed_shards> completed_;
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<std::uint64_t> cancelled_{0};
};

}  // namespace poolbench
