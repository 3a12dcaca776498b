#include "pools/channel.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "pools/errors.hpp"

namespace poolbench {
namespace {

constexpr std::size_t max_fds_per_frame = 16;
constexpr std::uint64_t max_frame_bytes = std::uint64_t{1} << 30;

struct Header {
  std::uint64_t size;
  std::uint32_t fd_count;
  std::uint32_t reserved;
};

void send_all(int socket, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(socket, data, size, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_system_error("cannot send to worker", errno);
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

/// Reads exactly `size` bytes; false on EOF before the first byte.
bool recv_all(int socket, char* data, std::size_t size) {
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::recv(socket, data + got, size - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_system_error("cannot receive from worker", errno);
    }
    if (n == 0) {
      if (got == 0) return false;
      throw ResourceError("the peer closed the connection in the middle of a message");
    }
    got += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

void send_frame(int socket, std::string_view bytes, std::span<const UniqueFd> fds) {
  if (fds.size() > max_fds_per_frame) throw ResourceError("too many fds for one task (at most 16)");
  const Header header{bytes.size(), static_cast<std::uint32_t>(fds.size()), 0};
  iovec iov{const_cast<Header*>(&header), sizeof header};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * max_fds_per_frame)];
  if (!fds.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    int* out = reinterpret_cast<int*>(CMSG_DATA(cmsg));
    for (std::size_t i = 0; i < fds.size(); ++i) out[i] = fds[i].get();
  }
  ssize_t n;
  do {
    n = ::sendmsg(socket, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw_system_error("cannot send to worker", errno);
  const auto* rest = reinterpret_cast<const char*>(&header) + n;
  send_all(socket, rest, sizeof header - static_cast<std::size_t>(n));
  send_all(socket, bytes.data(), bytes.size());
}

std::optional<Frame> recv_frame(int socket) {
  Header header{};
  iovec iov{&header, sizeof header};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * max_fds_per_frame)];
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw_system_error("cannot receive from worker", errno);
  if (n == 0) return std::nullopt;

  Frame frame;
  for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const int* in = reinterpret_cast<const int*>(CMSG_DATA(cmsg));
    for (std::size_t i = 0; i < count; ++i) frame.fds.emplace_back(in[i]);
  }
  if (msg.msg_flags & MSG_CTRUNC) throw ResourceError("a message carried more fds than allowed");
  if (static_cast<std::size_t>(n) < sizeof header &&
      !recv_all(socket, reinterpret_cast<char*>(&header) + n, sizeof header - static_cast<std::size_t>(n)))
    throw ResourceError("the peer closed the connection in the middle of a message");
  if (header.size > max_frame_bytes) throw ResourceError("a message claims an absurd size");
  if (header.fd_count != frame.fds.size()) throw ResourceError("a message lost some of its fds");
  frame.bytes.resize(header.size);
  if (header.size > 0 && !recv_all(socket, frame.bytes.data(), frame.bytes.size()))
    throw ResourceError("the peer closed the connection in the middle of a message");
  return frame;
}

bool peer_has_closed(int socket) noexcept {
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
