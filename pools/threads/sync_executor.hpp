#pragma once

#include <atomic>

#include "pools/core/executor.hpp"

namespace poolbench {

/// Runs each task inline in `submit`, returning a future that is already done: the
/// baseline every other executor must beat (the seed's synchronous submit).
class SyncExecutor final : public Executor {
 public:
  SyncExecutor() = default;
  ~SyncExecutor() override { shutdown(); }

  std::string_view name() const noexcept override { return "sync"; }
  std::size_t worker_count() const noexcept override { return 1; }
  void shutdown(bool wait = true, bool cancel_pending = false) override;

 protected:
  void enqueue(Job job) override;

 private:
  std::atomic<bool> stopped_{false};
};

}  // namespace poolbench
