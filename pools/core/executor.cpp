#include "pools/core/executor.hpp"

#include <string>

namespace poolbench {
namespace {

/// This thread's shard of a completion count: threads take shards in turn as they first
/// end a task, so a pool's workers, started together, take different ones.
std::size_t this_thread_shard(std::size_t shards) noexcept {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t taken = next.fetch_add(1, std::memory_order_relaxed);
  return taken % shards;
}

}  // namespace

std::size_t require_workers(std::size_t workers, std::string_view executor) {
  if (workers == 0 || workers > max_workers)
    throw ConfigError(std::string(executor) + " needs between 1 and " + std::to_string(max_workers) + " workers, not " +
                      std::to_string(workers));
  return workers;
}

void Executor::check_message_bounds(const std::string& task, WireWriter& writer) {
  if (writer.bytes().size() > max_message_bytes)
    throw NotTransferableError("task '" + task + "' has arguments of " + std::to_string(writer.bytes().size()) +
                               " bytes; a process-pool message carries at most " +
                               std::to_string(max_message_bytes >> 20) + " MiB");
  if (writer.fds().size() > max_message_fds)
    throw NotTransferableError("task '" + task + "' passes " + std::to_string(writer.fds().size()) +
                               " fds; a process-pool task may pass at most " + std::to_string(max_message_fds));
}

TaskCounts Executor::counts() const noexcept {
  TaskCounts c;
  // Outcomes are read before `submitted`, so a snapshot never shows more ended than submitted.
  for (const Shard& shard : completed_) c.completed += shard.value.load(std::memory_order_acquire);
  c.failed = failed_.load(std::memory_order_acquire);
  c.cancelled = cancelled_.load(std::memory_order_acquire);
  c.submitted = submitted_.load(std::memory_order_seq_cst);
  return c;
}

std::uint64_t Executor::unfinished() const noexcept {
  const TaskCounts c = counts();
  return c.submitted - c.ended();
}

void Executor::record(TaskOutcome outcome) noexcept {
  switch (outcome) {
    case TaskOutcome::completed:
      completed_[this_thread_shard(completed_shards)].value.fetch_add(1, std::memory_order_release);
      break;
    case TaskOutcome::failed:
      failed_.fetch_add(1, std::memory_order_release);
      break;
    case TaskOutcome::cancelled:
      cancelled_.fetch_add(1, std::memory_order_release);
      break;
  }
}

// A sink by value, as its overrides take it. NOLINTNEXTLINE(performance-unnecessary-value-param)
void Executor::enqueue_remote(RemoteCall) {
  throw NotTransferableError(std::string(name()) + " runs tasks in process; remote calls are not supported");
}

void Executor::require_in_process() const {
  if (!runs_in_process())
    throw NotTransferableError(std::string(name()) +
                               " runs tasks in worker processes and cannot run a closure; "
                               "submit a RegisteredTask instead");
}

void Executor::enqueue_counted(Job job) {
  submitted_.fetch_add(1, std::memory_order_seq_cst);
  try {
    enqueue(std::move(job));
  } catch (...) {
    submitted_.fetch_sub(1, std::memory_order_acq_rel);
    throw;
  }
}

void Executor::enqueue_remote_counted(RemoteCall call) {
  submitted_.fetch_add(1, std::memory_order_seq_cst);
  try {
    enqueue_remote(std::move(call));
  } catch (...) {
    submitted_.fetch_sub(1, std::memory_order_acq_rel);
    throw;
  }
}

}  // namespace poolbench
