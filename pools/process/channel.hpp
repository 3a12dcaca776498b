#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pools/core/unique_fd.hpp"
#include "pools/core/wire.hpp"

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

  /// Appends a frame; sends what is collected first (see `has_room`) when the fds of one
  /// message would exceed the kernel's limit, or the batch is large already.
  void add(std::string_view bytes, std::span<const UniqueFd> fds = {});
  /// True when a frame with `fd_count` fds can join the batch without `add` flushing it.
  bool has_room(std::size_t fd_count) const noexcept;
  /// Sends everything collected. Throws PeerGoneError when the peer is gone.
  void flush();
  /// Called by `flush` when input is waiting; returns the deadline to wait until from then
  /// on, which what it read may have moved.
  using InputHandler = std::function<std::chrono::steady_clock::time_point()>;

  /// `flush`, for a peer that may itself be blocked sending to this side: while the
  /// socket is full, `on_input` is called whenever input is waiting, so the two sides
  /// never wait on each other. Throws TimeoutError when the deadline passes first.
  void flush(const InputHandler& on_input, std::chrono::steady_clock::time_point deadline);
  bool empty() const noexcept { return buffer_.empty(); }

 private:
  void flush_with(const InputHandler* on_input, std::chrono::steady_clock::time_point deadline);

  int socket_;
  std::string buffer_;
  std::vector<int> fds_;
};

/// Receives frames through a buffer, so frames sent back to back arrive with one system
/// call; fds ride in a queue and are handed to frames in order, by each frame's count.
class FrameReader {
 public:
  explicit FrameReader(int socket) noexcept : socket_(socket) {}

  /// The next frame, waiting for it to arrive whole (until `deadline`, then TimeoutError); nullopt when the peer closed
  /// the socket cleanly between frames. Throws ResourceError on a reset, a frame cut short or fds this process could
  /// not take; WorkerProtocolError when the peer breaks the framing (a size or fd count over the bounds, fds declared
  /// and not sent, fds no frame declares). Received fds are close-on-exec.
  std::optional<Frame> next(
      std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());
  /// True when a whole frame's bytes are already buffered, so `next` will not wait.
  bool has_frame() const noexcept;
  /// True when a frame, whole or begun, is buffered: its bytes left the socket, so a
  /// reader that waits on the socket for them would wait forever.
  bool has_bytes() const noexcept { return end_ != begin_; }
  /// Receives what has arrived, without waiting; true when `next` will not wait (a frame
  /// is whole, or the peer closed the socket). For polling a socket before sleeping on it.
  bool ready();

 private:
  /// One receive into the buffer: the bytes received, 0 at end of stream, or -1 when
  /// nothing has arrived and `wait` is false.
  ssize_t receive(bool wait,
                  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());

  int socket_;
  std::vector<char> buffer_;  ///< bytes [begin_, end_) are received and not yet taken
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::deque<UniqueFd> fds_;
};

/// Blocks until `socket` has input, end of stream or an error. Unlike a blocked receive,
/// it is not woken when the peer reads what this side sent.
/// Gives up at `deadline`: false when it came first.
bool wait_for_input(int socket, std::chrono::steady_clock::time_point deadline);

/// True when a receive on `socket` would not block: data, end of stream or an error is
/// waiting (checked without blocking). On a channel with nothing in flight, it means the
/// peer has closed or reset it.
bool readable(int socket) noexcept;

/// A connected pair of close-on-exec UNIX stream sockets.
std::pair<UniqueFd, UniqueFd> make_socket_pair();

}  // namespace poolbench
