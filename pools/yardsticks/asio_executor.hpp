#pragma once

#include <boost/asio/thread_pool.hpp>

#include <memory>

#include "pools/core/executor.hpp"
#include "pools/yardsticks/admission.hpp"

namespace poolbench {

/// A yardstick: tasks posted to a Boost.Asio `thread_pool` of N threads, with the same
/// future semantics as every other executor. Each handler carries only this executor's
/// address and its job, so its cost over `boost::asio::post` alone (the `raw/asio_post`
/// row) is the adapter's.
class AsioExecutor final : public Executor {
 public:
  explicit AsioExecutor(std::size_t workers);
  ~AsioExecutor() override;

  std::string_view name() const noexcept override { return "asio"; }
  std::size_t worker_count() const noexcept override { return workers_; }
  std::uint64_t threads_created() const noexcept override { return workers_; }
  void shutdown(bool wait = true, bool cancel_pending = false) override;

 protected:
  void enqueue(Job job) override;

 private:
  std::size_t workers_;
  boost::asio::thread_pool pool_;
  Admission admission_;
};

}  // namespace poolbench
