#include "scenarios/echo_server.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "pools/core/errors.hpp"
#include "pools/core/task_registry.hpp"
#include "scenarios/scenario.hpp"
#include "scenarios/tcp.hpp"

namespace poolbench::scenarios {
namespace {

const RegisteredTask<&serve_connection> serve_connection_task{"scenarios.serve_connection"};

/// No run sends more than this through one connection; past it the server gives up.
constexpr std::uint64_t max_bytes_per_connection = std::uint64_t{1} << 32;

}  // namespace

TaskSample serve_connection(UniqueFd connection, std::int64_t idle_timeout_ms) {
  const TaskClock clock;
  set_io_timeout(connection.get(), std::chrono::milliseconds(idle_timeout_ms));
  char buffer[1024];
  std::uint64_t echoed = 0;
  while (echoed < max_bytes_per_connection) {
    std::size_t n;
    try {
      n = receive_some(connection.get(), buffer, sizeof buffer);
    } catch (const ResourceError& e) {
      throw ResourceError("connection dropped after " + std::to_string(echoed) + " bytes: " + e.what());
    }
    if (n == 0) return clock.finish(echoed);
    for (std::size_t i = 0; i < n; ++i)
      buffer[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(buffer[i])));
    send_all(connection.get(), std::string_view(buffer, n));
    echoed += n;
  }
  throw ResourceError("connection sent more than 4 GiB; the server stopped serving it");
}

EchoServer::EchoServer(Executor& executor, std::uint64_t connections, std::chrono::milliseconds timeout)
    : executor_(executor),
      expected_(connections),
      timeout_(timeout),
      listener_(listen_on_loopback(static_cast<int>(std::min<std::uint64_t>(connections + 16, 65535)))),
      port_(local_port(listener_.get())) {
  connections_.reserve(connections);
  thread_ = std::thread([this] { accept_loop(); });
}

EchoServer::~EchoServer() {
  if (thread_.joinable()) thread_.join();
}

void EchoServer::accept_loop() {
  accept_connections();
  // Clients still queued on the listener are reset now, not left to wait out their timeout.
  listener_.reset();
}

void EchoServer::accept_connections() {
  while (connections_.size() < expected_) {
    pollfd p{listener_.get(), POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(timeout_.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      accept_error_ = "the server accepted " + std::to_string(connections_.size()) + " of " +
                      std::to_string(expected_) + " connections; no client came for " +
                      std::to_string(timeout_.count()) + " ms";
      return;
    }
    UniqueFd connection(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!connection) {
      const int error = errno;
      if (error == EINTR || error == ECONNABORTED) continue;
      accept_error_ = "the server accepted " + std::to_string(connections_.size()) + " of " +
                      std::to_string(expected_) + " connections, then accept failed: " + std::strerror(error);
      if (error == EMFILE || error == ENFILE)
        accept_error_ +=
            " (this process is out of descriptors: raise `ulimit -n`, or use fewer connections or "
            "process-pool workers)";
      return;
    }
    const std::uint64_t submitted = now_ns();
    try {
      auto future =
          executor_.submit(serve_connection_task, std::move(connection), static_cast<std::int64_t>(timeout_.count()));
      const std::uint64_t handed_over = now_ns();
      auto done = std::make_shared<std::atomic<std::uint64_t>>(0);
      future.add_done_callback([done](const Future<TaskSample>&) { done->store(now_ns(), std::memory_order_release); });
      connections_.push_back(
          {submitted, handed_over, static_cast<std::int32_t>(::gettid()), std::move(future), std::move(done)});
    } catch (const std::exception& e) {
      accept_error_ = std::string("the executor refused a connection: ") + e.what();
      return;
    }
  }
}

std::vector<EchoServer::Connection> EchoServer::finish(std::string& accept_error) {
  if (thread_.joinable()) thread_.join();
  accept_error = accept_error_;
  return std::move(connections_);
}

}  // namespace poolbench::scenarios
