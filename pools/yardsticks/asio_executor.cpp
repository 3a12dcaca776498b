#include "pools/yardsticks/asio_executor.hpp"

#include <boost/asio/post.hpp>

namespace poolbench {

AsioExecutor::AsioExecutor(std::size_t workers) : workers_(require_workers(workers, "asio")), pool_(workers) {}

AsioExecutor::~AsioExecutor() {
  shutdown();
  pool_.join();
}

void AsioExecutor::enqueue(Job job) {
  admission_.admit(name());
  // The job's body is gone once it has run or been cancelled; counting its end is the
  // handler's last touch of this executor, which shutdown may then destroy.
  boost::asio::post(pool_, [this, job = std::move(job)]() mutable { record(admission_.run(job)); });
}

void AsioExecutor::shutdown(bool wait, bool cancel_pending) {
  admission_.close(cancel_pending);
  if (wait) Admission::wait_idle([this] { return unfinished(); });
}

}  // namespace poolbench
