#include "pools/yardsticks/asio_executor.hpp"

#include <boost/asio/post.hpp>

namespace poolbench {

AsioExecutor::AsioExecutor(std::size_t workers) : workers_(require_workers(workers, "asio")), pool_(workers) {}

AsioExecutor::~AsioExecutor() {
  shutdown();
  pool_.join();
}

void AsioExecutor::enqueue(Job job) {
  admission_->admit(name());
  try {
    boost::asio::post(pool_, [this, admission = admission_, job = std::move(job)]() mutable {
      record(admission->run(job));
      admission->release();
    });
  } catch (...) {
    admission_->release();
    throw;
  }
}

void AsioExecutor::shutdown(bool wait, bool cancel_pending) {
  admission_->close(cancel_pending);
  if (wait) admission_->wait_idle();
}

}  // namespace poolbench
