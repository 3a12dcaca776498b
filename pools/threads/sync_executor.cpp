#include "pools/threads/sync_executor.hpp"

namespace poolbench {

void SyncExecutor::enqueue(Job job) {
  if (stopped_.load(std::memory_order_acquire))
    throw ExecutorShutdownError("cannot submit to the sync executor: it has been shut down");
  record(job.run());
}

void SyncExecutor::shutdown(bool, bool) { stopped_.store(true, std::memory_order_release); }

}  // namespace poolbench
