#include "scenarios/tcp.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "pools/core/errors.hpp"

namespace poolbench::scenarios {
namespace {

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

UniqueFd tcp_socket() {
  UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) throw_system_error("cannot create a TCP socket", errno);
  return s;
}

}  // namespace

UniqueFd listen_on_loopback(int backlog) {
  UniqueFd s = tcp_socket();
  const int yes = 1;
  ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  const sockaddr_in address = loopback(0);
  if (::bind(s.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
    throw_system_error("cannot bind 127.0.0.1", errno);
  if (::listen(s.get(), backlog) != 0) throw_system_error("cannot listen on 127.0.0.1", errno);
  return s;
}

std::uint16_t local_port(int socket) {
  sockaddr_in address{};
  socklen_t size = sizeof address;
  if (::getsockname(socket, reinterpret_cast<sockaddr*>(&address), &size) != 0)
    throw_system_error("cannot read the listening port", errno);
  return ntohs(address.sin_port);
}

UniqueFd connect_to_loopback(std::uint16_t port, std::chrono::milliseconds timeout) {
  UniqueFd s = tcp_socket();
  set_io_timeout(s.get(), timeout);
  const sockaddr_in address = loopback(port);
  // With SO_SNDTIMEO set, a blocking connect gives up after the timeout (EINPROGRESS).
  if (::connect(s.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
    throw_system_error("cannot connect to 127.0.0.1:" + std::to_string(port), errno);
  const int yes = 1;
  ::setsockopt(s.get(), IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  return s;
}

void set_io_timeout(int socket, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

void send_all(int socket, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(socket, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) throw ResourceError("send timed out: the peer stopped reading");
      throw_system_error("send failed", errno);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::size_t receive_some(int socket, char* buffer, std::size_t size) {
  for (;;) {
    const ssize_t n = ::recv(socket, buffer, size, 0);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) throw ResourceError("receive timed out: the peer sent nothing");
    throw_system_error("receive failed", errno);
  }
}

}  // namespace poolbench::scenarios
