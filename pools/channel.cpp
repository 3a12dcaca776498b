#include "pools/channel.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "pools/errors.hpp"

namespace poolbench {
namespace {

constexpr std::size_t max_fds_per_frame = 16;
/// Fds one message may carry: what a receiver's control buffer is sized for.
constexpr std::size_t max_fds_per_message = 64;
constexpr std::uint64_t max_frame_bytes = std::uint64_t{1} << 30;
constexpr std::size_t receive_chunk = 64 * 1024;
/// Past this, a writer sends what it has collected before taking more.
constexpr std::size_t max_batch_bytes = 1 << 20;

struct Header {
  std::uint64_t size;
  std::uint32_t fd_count;
  std::uint32_t reserved;
};

/// Sends `data`, the first message carrying `fds`; the rest of a partial send follows.
void send_with_fds(int socket, std::string_view data, std::span<const int> fds) {
  iovec iov{const_cast<char*>(data.data()), data.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * max_fds_per_message)];
  if (!fds.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::sendmsg(socket, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_system_error("cannot send to worker", errno);
    }
    sent += static_cast<std::size_t>(n);
    iov = {const_cast<char*>(data.data()) + sent, data.size() - sent};
    msg.msg_control = nullptr;  // the fds went with the first bytes
    msg.msg_controllen = 0;
  }
}

void append_frame(std::string& out, std::string_view bytes, std::size_t fd_count) {
  const Header header{bytes.size(), static_cast<std::uint32_t>(fd_count), 0};
  out.append(reinterpret_cast<const char*>(&header), sizeof header);
  out.append(bytes);
}

void check_fd_count(std::size_t count) {
  if (count > max_fds_per_frame) throw ResourceError("too many fds for one task (at most 16)");
}

}  // namespace

void FrameWriter::add(std::string_view bytes, std::span<const UniqueFd> fds) {
  check_fd_count(fds.size());
  if (!buffer_.empty() && (fds_.size() + fds.size() > max_fds_per_message || buffer_.size() > max_batch_bytes))
    flush();
  append_frame(buffer_, bytes, fds.size());
  for (const auto& fd : fds) fds_.push_back(fd.get());
}

void FrameWriter::flush() {
  if (buffer_.empty()) return;
  // Emptied whether or not the send succeeds: a failed send means the peer is gone.
  struct Empty {
    FrameWriter& writer;
    ~Empty() {
      writer.buffer_.clear();
      writer.fds_.clear();
    }
  } empty{*this};
  send_with_fds(socket_, buffer_, fds_);
}

bool FrameReader::has_frame() const noexcept {
  const std::size_t available = end_ - begin_;
  if (available < sizeof(Header)) return false;
  Header header;
  std::memcpy(&header, buffer_.data() + begin_, sizeof header);
  return available - sizeof header >= header.size && fds_.size() >= header.fd_count;
}

std::optional<Frame> FrameReader::next() {
  while (!has_frame()) {
    if (receive(/*wait=*/true) == 0) {
      if (begin_ == end_) return std::nullopt;
      throw ResourceError("the peer closed the connection in the middle of a message");
    }
  }
  Header header;
  std::memcpy(&header, buffer_.data() + begin_, sizeof header);
  Frame frame;
  const char* bytes = buffer_.data() + begin_ + sizeof header;
  frame.bytes.assign(bytes, bytes + header.size);
  begin_ += sizeof header + header.size;
  for (std::uint32_t i = 0; i < header.fd_count; ++i) {
    frame.fds.push_back(std::move(fds_.front()));
    fds_.pop_front();
  }
  if (begin_ == end_) begin_ = end_ = 0;
  return frame;
}

bool FrameReader::ready() { return has_frame() || receive(/*wait=*/false) == 0 || has_frame(); }

ssize_t FrameReader::receive(bool wait) {
  std::size_t wanted = receive_chunk;
  if (end_ - begin_ >= sizeof(Header)) {
    Header header;
    std::memcpy(&header, buffer_.data() + begin_, sizeof header);
    if (header.size > max_frame_bytes) throw ResourceError("a message claims an absurd size");
    if (header.fd_count > max_fds_per_frame) throw ResourceError("a message claims too many fds");
    wanted = std::max<std::size_t>(wanted, sizeof header + header.size - (end_ - begin_));
  }
  if (buffer_.size() - end_ < wanted) {
    // Move what is left to the front, then grow if a large frame still does not fit.
    if (begin_ > 0) {
      if (end_ > begin_) std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (buffer_.size() - end_ < wanted) buffer_.resize(std::max(end_ + wanted, 2 * buffer_.size()));
  }
  iovec iov{buffer_.data() + end_, buffer_.size() - end_};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * max_fds_per_message)];
  ssize_t n;
  for (;;) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    n = ::recvmsg(socket_, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (n >= 0) break;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) throw_system_error("cannot receive from worker", errno);
    if (!wait) return -1;
    // Nothing yet: sleep in poll, not in recvmsg. A receive blocked on a UNIX socket is
    // also woken whenever the peer reads what this side sent (the kernel's write-space
    // wake-up), a wasted context switch per frame; poll wakes only for input.
    wait_for_input(socket_);
  }
  end_ += static_cast<std::size_t>(n);
  for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const unsigned char* data = CMSG_DATA(cmsg);
    for (std::size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, data + i * sizeof(int), sizeof fd);
      fds_.emplace_back(fd);
    }
  }
  if (msg.msg_flags & MSG_CTRUNC) throw ResourceError("a message carried more fds than allowed");
  return n;
}

void wait_for_input(int socket) {
  pollfd p{socket, POLLIN, 0};
  while (::poll(&p, 1, -1) < 0) {
    if (errno != EINTR) throw_system_error("cannot wait for the worker", errno);
  }
}

bool readable(int socket) noexcept {
  pollfd p{socket, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  return (p.revents & (POLLHUP | POLLRDHUP | POLLERR | POLLIN)) != 0;
}

std::pair<UniqueFd, UniqueFd> make_socket_pair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    throw_system_error("cannot create a socket pair for a worker", errno);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace poolbench
