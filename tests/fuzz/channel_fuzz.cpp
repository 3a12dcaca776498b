// Fuzzes FrameReader: the bytes (and fds) a hostile worker could write into its channel.
//
// Input: byte 0 is a plan, the rest the bytes sent, split into 1-4 messages.
//   bits 0-2: fds sent with SCM_RIGHTS per message (0, 0, 1, 2, 3, 16, 40 or 65, of /dev/null:
//             65 is more than a receive takes, 4 x 40 more than may wait for a frame)
//   bits 3-4: messages - 1
//   bit 5:    read with `ready()` while the writing end is still open, then close it
//             (otherwise close it first and read with `next()` only)
//   bit 6:    when not ready, call `next(deadline = now)` once: it must time out
//   bit 7:    fds go with every message rather than only the first
// Each `next()` returns a frame or nullopt or throws a poolbench::Error; anything else,
// a sanitizer report, a leaked fd or a hang is a finding.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <optional>
#include <vector>

#include "fuzz_support.hpp"
#include "pools/core/errors.hpp"
#include "pools/process/channel.hpp"

namespace {

using namespace poolbench;

constexpr std::size_t fd_counts[8] = {0, 0, 1, 2, 3, 16, 40, 65};

/// Sends `size` bytes with `fd_count` fresh /dev/null fds, without waiting; false when the
/// socket is full (the rest is dropped).
bool send_message(int socket, const std::uint8_t* data, std::size_t size, std::size_t fd_count) {
  std::vector<UniqueFd> fds;
  for (std::size_t i = 0; i < fd_count; ++i) fds.emplace_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 65)] = {};
  iovec iov{const_cast<std::uint8_t*>(data), size};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (fd_count > 0) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fd_count);
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fd_count);
    for (std::size_t i = 0; i < fd_count; ++i) {
      const int fd = fds[i].get();
      std::memcpy(CMSG_DATA(cmsg) + i * sizeof(int), &fd, sizeof fd);
    }
  }
  std::size_t sent = 0;
  while (sent < size) {
    const ssize_t n = ::sendmsg(socket, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
    iov = {const_cast<std::uint8_t*>(data) + sent, size - sent};
    msg.msg_control = nullptr;
    msg.msg_controllen = 0;
  }
  return true;
}

/// What a frame handed out must be: bounded, with open close-on-exec fds.
void check_frame(const Frame& frame) {
  if (frame.bytes.size() > max_message_bytes + 4096) fuzz::finding("a frame larger than the bound was accepted");
  if (frame.fds.size() > max_message_fds) fuzz::finding("a frame with more fds than the bound was accepted");
  for (const UniqueFd& fd : frame.fds) {
    const int flags = ::fcntl(fd.get(), F_GETFD);
    if (flags == -1) fuzz::finding("a frame holds an fd that is not open");
    if (!(flags & FD_CLOEXEC)) fuzz::finding("a received fd is not close-on-exec");
  }
}

/// Reads until end of stream, the first error, or (with `poll`) until `next` would wait.
/// Returns false once reading is over (end of stream or an error).
bool read_frames(FrameReader& reader, bool poll, bool try_deadline) {
  try {
    for (int i = 0; i < 1 << 16; ++i) {
      if (poll && !reader.ready()) {
        if (try_deadline) {
          try {
            std::optional<Frame> frame = reader.next(std::chrono::steady_clock::now());
            if (!frame) return false;
            check_frame(*frame);
            continue;
          } catch (const TimeoutError&) {
          }
        }
        return true;
      }
      std::optional<Frame> frame = reader.next();
      if (!frame) return false;
      check_frame(*frame);
    }
    fuzz::finding("the reader returned more frames than the input can hold");
  } catch (const Error&) {
    return false;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    fuzz::finding("the reader threw something that is not a poolbench::Error");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::FdLeakCheck<512> leaks;  // a message's 65 fds, and up to 128 the reader holds
  if (size == 0) return 0;
  const std::uint8_t plan = data[0];
  ++data;
  --size;
  const std::size_t fds_per_message = fd_counts[plan & 7];
  const std::size_t messages = ((plan >> 3) & 3) + 1;
  const bool poll = plan & 0x20;
  const bool try_deadline = plan & 0x40;
  const bool fds_every_time = plan & 0x80;
  {
    auto [near, far] = make_socket_pair();
    FrameReader reader(near.get());
    const std::size_t chunk = (size + messages - 1) / messages;
    bool reading = true;  // until end of stream or the first error, as a pool reads
    for (std::size_t m = 0, at = 0; m < messages && at < size && reading; ++m, at += chunk) {
      const std::size_t fd_count = (m == 0 || fds_every_time) ? fds_per_message : 0;
      if (!send_message(far.get(), data + at, std::min(chunk, size - at), fd_count)) break;
      // Reading between messages splits frames across receives as a slow worker would.
      if (poll) reading = read_frames(reader, true, try_deadline);
    }
    far.reset();
    if (reading) read_frames(reader, false, false);
  }
  leaks.check();
  return 0;
}
