#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pools/core/unique_fd.hpp"

namespace poolbench {

/// A worker's replies to its pool, in memory the two processes share: the worker writes a
/// reply and the pool's I/O thread reads it without a system call, and replies written
/// before a worker dies stay readable after its death. The socket stays for what shared
/// memory cannot do: fds, replies too large for the ring, waking a reader that sleeps and
/// telling that the worker died. One writer (the worker), one reader (its I/O thread).
class ReplyRing {
 public:
  /// Replies up to this size go through the ring; larger ones, and those carrying fds, go
  /// on the socket with a marker in the ring where they belong.
  static constexpr std::size_t max_entry = 512;
  /// The most entries the ring is sure to hold at once: the reader must not let more
  /// replies than this be outstanding.
  static constexpr std::size_t max_entries = 64;

  /// Where the shared fields lie in the ring's memory (byte offsets), for tests that play
  /// a worker writing what it should not.
  struct Layout {
    static constexpr std::size_t head = 0, tail = 64, reader_sleeping = 128, caller_polls = 192, data = 256,
                                 capacity = 64 * 1024;
  };

  /// What `pop` found.
  enum class Entry { none, reply, on_socket };

  /// A new ring in fresh shared memory; its fd goes to the worker. Throws ResourceError.
  static ReplyRing create();
  /// Maps the ring whose fd a worker was sent. Throws ResourceError.
  static ReplyRing attach(UniqueFd fd);

  ReplyRing(ReplyRing&& other) noexcept;
  ReplyRing& operator=(ReplyRing&& other) noexcept;
  ReplyRing(const ReplyRing&) = delete;
  ReplyRing& operator=(const ReplyRing&) = delete;
  ~ReplyRing();

  /// The shared memory itself, laid out as `Layout` says: for tests that play a worker
  /// writing what it should not.
  char* shared_bytes() noexcept { return reinterpret_cast<char*>(shared_); }

  /// The shared memory's fd, to send to the worker: open after `create`, not after `attach`.
  const UniqueFd& fd() const noexcept { return fd_; }

  /// Writer: appends a reply of at most `max_entry` bytes. Returns true when the reader
  /// had said it would sleep, so the writer must wake it through the socket. Throws
  /// ResourceError when the ring is full, which only a reader that lets more than
  /// `max_entries` replies pile up could cause.
  bool push(std::string_view reply);
  /// Writer: appends a marker saying this reply was sent on the socket (send it first).
  bool push_on_socket();

  /// Reader: takes the next entry, if any, without waiting; a reply's bytes go to `reply`.
  /// Throws WorkerProtocolError when what the writer published is out of bounds.
  Entry pop(std::string& reply);
  /// Reader: `pop`, but a marker stays in the ring (its kind is returned): for a reader
  /// that takes only replies in the ring and leaves those on the socket to another.
  Entry pop_reply(std::string& reply);
  /// Reader: true when an entry is waiting.
  bool has_entry() const noexcept;
  /// Reader: announces that it is about to sleep on the socket; false (do not sleep) when
  /// an entry arrived meanwhile. Call `woke` after the sleep.
  bool prepare_to_sleep() noexcept;
  void woke() noexcept;

  /// Reader: says whether a caller now polls the ring for each reply (and so sends its
  /// next request right after one), or the pool's I/O thread serves the worker again.
  void set_caller_polls(bool polls) noexcept;
  /// Writer: what the reader last said.
  bool caller_polls() const noexcept;

 private:
  struct Shared;
  ReplyRing(UniqueFd fd, Shared* shared) noexcept : fd_(std::move(fd)), shared_(shared) {}
  /// Moves the reader's position on by `bytes` and tells the writer.
  void advance(std::size_t bytes) noexcept;
  bool append(std::string_view bytes, std::uint32_t flags);
  /// The next entry's kind, where its bytes start and how many there are.
  Entry front(std::size_t& pos, std::size_t& size);
  /// Copies the entry `front` found into `reply` and takes it.
  void take(std::size_t pos, std::size_t size, std::string& reply);

  UniqueFd fd_;
  Shared* shared_ = nullptr;
  std::uint64_t read_head_ = 0;  ///< the reader's position, kept where the writer cannot reach it
};

}  // namespace poolbench
