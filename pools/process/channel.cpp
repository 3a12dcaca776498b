#include "pools/process/channel.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "pools/core/errors.hpp"

namespace poolbench {
namespace {

/// Milliseconds until `deadline`, rounded up, as poll takes them: -1 for no deadline.
int poll_timeout_ms(std::chrono::steady_clock::time_point deadline) noexcept {
  if (deadline == std::chrono::steady_clock::time_point::max()) return -1;
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 1 << 30));
}

/// Fds one message may carry: what a receiver's control buffer is sized for.
constexpr std::size_t max_fds_per_message = 64;
/// Fds received and not yet handed to a frame: those of the message being read plus a
/// previous one's leftovers. More means the peer sends fds that no frame declares.
constexpr std::size_t max_pending_fds = 2 * max_fds_per_message;
/// A message's bytes, plus room for the wire's own framing of an error reply.
constexpr std::uint64_t max_frame_bytes = max_message_bytes + 4096;
constexpr std::size_t receive_chunk = 64 * 1024;
/// Past this, a writer sends what it has collected before taking more.
constexpr std::size_t max_batch_bytes = 1 << 20;

struct Header {
  std::uint64_t size;
  std::uint32_t fd_count;
  std::uint32_t reserved;
};

/// Sends `data`, the first message carrying `fds`; the rest of a partial send follows.
/// While the socket is full it waits for room, calling `on_input` (when given) whenever
/// input is waiting instead.
void send_with_fds(int socket, std::string_view data, std::span<const int> fds,
                   const FrameWriter::InputHandler* on_input, std::chrono::steady_clock::time_point deadline) {
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
    const ssize_t n = ::sendmsg(socket, &msg, MSG_NOSIGNAL | (on_input ? MSG_DONTWAIT : 0));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE || errno == ECONNRESET) throw PeerGoneError("the worker closed its channel");
      if (on_input && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        pollfd p{socket, POLLIN | POLLOUT, 0};
        const int ready = ::poll(&p, 1, poll_timeout_ms(deadline));
        if (ready < 0 && errno != EINTR) throw_system_error("cannot wait to send to the worker", errno);
        if (ready == 0) throw TimeoutError("the worker took nothing it was sent before the deadline");
        if (ready > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR))) deadline = (*on_input)();
        continue;
      }
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
  if (count > max_message_fds)
    throw NotTransferableError("a task or result carries " + std::to_string(count) + " fds; at most " +
                               std::to_string(max_message_fds) + " may cross at once");
}

Header header_at(const std::vector<char>& buffer, std::size_t begin) noexcept {
  Header header;
  std::memcpy(&header, buffer.data() + begin, sizeof header);
  return header;
}

/// Checks a header against the bounds this side owns, before anything is sized by it.
void check_header(const Header& header) {
  if (header.size > max_frame_bytes)
    throw WorkerProtocolError("a message claims " + std::to_string(header.size) + " bytes, more than the " +
                              std::to_string(max_frame_bytes) + " allowed");
  if (header.fd_count > max_message_fds)
    throw WorkerProtocolError("a message claims " + std::to_string(header.fd_count) + " fds, more than the " +
                              std::to_string(max_message_fds) + " allowed");
}

}  // namespace

bool FrameWriter::has_room(std::size_t fd_count) const noexcept {
  return buffer_.empty() || (fds_.size() + fd_count <= max_fds_per_message && buffer_.size() <= max_batch_bytes);
}

void FrameWriter::add(std::string_view bytes, std::span<const UniqueFd> fds) {
  check_fd_count(fds.size());
  if (!has_room(fds.size())) flush();
  append_frame(buffer_, bytes, fds.size());
  for (const auto& fd : fds) fds_.push_back(fd.get());
}

void FrameWriter::flush() { flush_with(nullptr, std::chrono::steady_clock::time_point::max()); }

void FrameWriter::flush(const InputHandler& on_input, std::chrono::steady_clock::time_point deadline) {
  flush_with(&on_input, deadline);
}

void FrameWriter::flush_with(const InputHandler* on_input, std::chrono::steady_clock::time_point deadline) {
  if (buffer_.empty()) return;
  // Emptied whether or not the send succeeds: a failed send means the peer is gone.
  struct Empty {
    FrameWriter& writer;
    ~Empty() {
      writer.buffer_.clear();
      writer.fds_.clear();
    }
  } empty{*this};
  send_with_fds(socket_, buffer_, fds_, on_input, deadline);
}

bool FrameReader::has_frame() const noexcept {
  const std::size_t available = end_ - begin_;
  if (available < sizeof(Header)) return false;
  return available - sizeof(Header) >= header_at(buffer_, begin_).size;
}

std::optional<Frame> FrameReader::next(std::chrono::steady_clock::time_point deadline) {
  while (!has_frame()) {
    if (receive(/*wait=*/true, deadline) == 0) {
      if (begin_ == end_) return std::nullopt;
      throw PeerGoneError("the peer closed the connection in the middle of a message");
    }
  }
  const Header header = header_at(buffer_, begin_);
  check_header(header);
  // A frame's fds travel with the first bytes of the message that carries it, so they
  // are here by the time its bytes are: fewer means the peer declared fds it never sent.
  if (fds_.size() < header.fd_count)
    throw WorkerProtocolError("a message declares " + std::to_string(header.fd_count) + " fds but " +
                              std::to_string(fds_.size()) + " arrived with it");
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

ssize_t FrameReader::receive(bool wait, std::chrono::steady_clock::time_point deadline) {
  std::size_t wanted = receive_chunk;
  if (end_ - begin_ >= sizeof(Header)) {
    const Header header = header_at(buffer_, begin_);
    check_header(header);
    // Only called while the frame is not whole, so what is missing is positive.
    const std::size_t missing = sizeof header + header.size - (end_ - begin_);
    wanted = std::max(wanted, missing);
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
    if (errno == ECONNRESET) throw PeerGoneError("the peer reset the connection");
    if (errno != EAGAIN && errno != EWOULDBLOCK) throw_system_error("cannot receive from worker", errno);
    if (!wait) return -1;
    // Nothing yet: sleep in poll, not in recvmsg. A receive blocked on a UNIX socket is
    // also woken whenever the peer reads what this side sent (the kernel's write-space
    // wake-up), a wasted context switch per frame; poll wakes only for input.
    if (!wait_for_input(socket_, deadline)) throw TimeoutError("no message arrived before the deadline");
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
  if (msg.msg_flags & MSG_CTRUNC) {
    // The kernel cuts control data short when the fds do not fit the buffer, and also
    // when this process cannot take them: it is out of descriptors.
    throw ResourceError(
        "file descriptors sent with a message were cut short (MSG_CTRUNC): this process may have run out of "
        "descriptors (EMFILE; see ulimit -n), or the sender passed more than " +
        std::to_string(max_fds_per_message) + " at once");
  }
  if (fds_.size() > max_pending_fds)
    throw WorkerProtocolError("the peer sent " + std::to_string(fds_.size()) + " fds that no message declares");
  return n;
}

bool wait_for_input(int socket, std::chrono::steady_clock::time_point deadline) {
  pollfd p{socket, POLLIN, 0};
  for (;;) {
    const int ready = ::poll(&p, 1, poll_timeout_ms(deadline));
    if (ready > 0) return true;
    if (ready == 0) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      continue;
    }
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
