#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pools/unique_fd.hpp"

namespace poolbench {

/// One message between a process pool and a worker: bytes plus the fds sent with them.
struct Frame {
  std::string bytes;
  std::vector<UniqueFd> fds;
};

/// Sends one length-prefixed frame over a connected UNIX stream socket, passing `fds`
/// with SCM_RIGHTS. Throws ResourceError when the peer is gone; never raises SIGPIPE.
void send_frame(int socket, std::string_view bytes, std::span<const UniqueFd> fds = {});

/// Receives one frame; nullopt when the peer closed the socket cleanly between frames.
/// Throws ResourceError on a reset or a frame cut short. Received fds are close-on-exec.
std::optional<Frame> recv_frame(int socket);

/// True when the peer has closed or reset the socket (checked without blocking).
bool peer_has_closed(int socket) noexcept;

/// A connected pair of close-on-exec UNIX stream sockets.
std::pair<UniqueFd, UniqueFd> make_socket_pair();

}  // namespace poolbench
