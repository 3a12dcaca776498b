#pragma once

#include <sys/types.h>

#include <cstddef>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pools/unique_fd.hpp"
#include "pools/wire.hpp"

namespace poolbench {

/// One message between a process pool and a worker: bytes plus the fds sent with them.
struct Frame {
  WireBytes bytes;
  std::vector<UniqueFd> fds;
};

/// Collects length-prefixed frames for a connected UNIX stream socket and sends them
/// together, passing their fds with SCM_RIGHTS: a batch of tasks costs one system call
/// rather than one per task. The fds of added frames must stay open until `flush`. Keeps
/// its buffer between batches; never raises SIGPIPE.
class FrameWriter {
 public:
  explicit FrameWriter(int socket) noexcept : socket_(socket) {}

  /// Appends a frame; sends what is collected first when the fds of one message would
  /// exceed the kernel's limit.
  void add(std::string_view bytes, std::span<const UniqueFd> fds = {});
  /// Sends everything collected. Throws ResourceError when the peer is gone.
  void flush();
  bool empty() const noexcept { return buffer_.empty(); }

 private:
  int socket_;
  std::string buffer_;
  std::vector<int> fds_;
};

/// Receives frames through a buffer, so frames sent back to back arrive with one system
/// call; fds ride in a queue and are handed to frames in order, by each frame's count.
class FrameReader {
 public:
  explicit FrameReader(int socket) noexcept : socket_(socket) {}

  /// The next frame, waiting for it to arrive whole; nullopt when the peer closed the
  /// socket cleanly between frames. Throws ResourceError on a reset or a frame cut short.
  /// Received fds are close-on-exec.
  std::optional<Frame> next();
  /// True when a whole frame is already buffered, so `next` will not wait.
  bool has_frame() const noexcept;
  /// Receives what has arrived, without waiting; true when `next` will not wait (a frame
  /// is whole, or the peer closed the socket). For polling a socket before sleeping on it.
  bool ready();

 private:
  /// One receive into the buffer: the bytes received, 0 at end of stream, or -1 when
  /// nothing has arrived and `wait` is false.
  ssize_t receive(bool wait);

  int socket_;
  std::vector<char> buffer_;  ///< bytes [begin_, end_) are received and not yet taken
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::deque<UniqueFd> fds_;
};

/// Blocks until `socket` has input, end of stream or an error. Unlike a blocked receive,
/// it is not woken when the peer reads what this side sent.
void wait_for_input(int socket);

/// True when a receive on `socket` would not block: data, end of stream or an error is
/// waiting (checked without blocking). On a channel with nothing in flight, it means the
/// peer has closed or reset it.
bool readable(int socket) noexcept;

/// A connected pair of close-on-exec UNIX stream sockets.
std::pair<UniqueFd, UniqueFd> make_socket_pair();

}  // namespace poolbench
