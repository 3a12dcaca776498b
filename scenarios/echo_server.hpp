#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "pools/core/executor.hpp"
#include "pools/core/unique_fd.hpp"
#include "scenarios/task_sample.hpp"

namespace poolbench::scenarios {

/// Serves one connection as the seed's `conn_communication` does: receive, upper-case,
/// send back, until the peer closes. Returns the bytes echoed; throws when the peer is
/// silent for `idle_timeout_ms` or the connection breaks. Bounded, so it always ends.
TaskSample serve_connection(UniqueFd connection, std::int64_t idle_timeout_ms);

/// The seed's echo server on 127.0.0.1, port chosen by the OS. Its accept loop runs on a
/// thread of its own and hands each accepted connection to the executor under test as
/// one task; it stops after `connections` accepts, when no client comes for `timeout`, or
/// when accept fails (e.g. out of descriptors), and then resets whoever still waits.
class EchoServer {
 public:
  EchoServer(Executor& executor, std::uint64_t connections, std::chrono::milliseconds timeout);
  ~EchoServer();
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  std::uint16_t port() const noexcept { return port_; }

  /// One accepted connection: when and by which thread it was handed over, its task's
  /// future, and when that future ended (0 until then).
  struct Connection {
    std::uint64_t submit_ns;
    std::uint64_t submitted_ns;
    std::int32_t submitter_tid;
    Future<TaskSample> future;
    std::shared_ptr<std::atomic<std::uint64_t>> done_ns;
  };

  /// Waits for the accept loop to end and returns every connection it handed over, plus
  /// the accept loop's own error, if any (empty when all `connections` were accepted).
  std::vector<Connection> finish(std::string& accept_error);

 private:
  void accept_loop();
  void accept_connections();

  Executor& executor_;
  std::uint64_t expected_;
  std::chrono::milliseconds timeout_;
  UniqueFd listener_;
  std::uint16_t port_ = 0;
  std::vector<Connection> connections_;
  std::string accept_error_;
  std::thread thread_;
};

}  // namespace poolbench::scenarios
