#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "pools/core/unique_fd.hpp"

namespace poolbench::scenarios {

/// A listening TCP socket on 127.0.0.1 with a port the OS picked, so runs never collide.
UniqueFd listen_on_loopback(int backlog);
std::uint16_t local_port(int socket);

/// Connects to 127.0.0.1:`port`, failing after `timeout`.
UniqueFd connect_to_loopback(std::uint16_t port, std::chrono::milliseconds timeout);

/// Bounds every blocking send and receive on `socket` by `timeout`.
void set_io_timeout(int socket, std::chrono::milliseconds timeout);

/// Sends all of `bytes`; throws ResourceError on a timeout or a closed peer (no SIGPIPE).
void send_all(int socket, std::string_view bytes);

/// Receives up to `size` bytes; 0 means the peer closed. Throws ResourceError on a
/// timeout ("no data for N ms") or a reset.
std::size_t receive_some(int socket, char* buffer, std::size_t size);

}  // namespace poolbench::scenarios
