#include "pools/process/channel.hpp"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "pools/core/errors.hpp"

namespace poolbench {
namespace {

TEST(FrameReader, ReadyTellsWithoutWaitingWhetherNextWouldWait) {
  auto [near, far] = make_socket_pair();
  FrameReader reader(near.get());
  EXPECT_FALSE(reader.ready()) << "nothing was sent";
  FrameWriter writer(far.get());
  writer.add("hello");
  writer.flush();
  EXPECT_TRUE(reader.ready());
  std::optional<Frame> frame = reader.next();
  ASSERT_TRUE(frame);
  EXPECT_EQ(std::string(as_view(frame->bytes)), "hello");
  EXPECT_FALSE(reader.ready());
  far.reset();
  EXPECT_TRUE(reader.ready()) << "a closed peer: next returns at once";
  EXPECT_FALSE(reader.next());
}

struct RawHeader {
  std::uint64_t size;
  std::uint32_t fd_count;
  std::uint32_t reserved;
};

void send_raw(int socket, const void* data, std::size_t size) {
  ASSERT_EQ(::send(socket, data, size, MSG_NOSIGNAL), static_cast<ssize_t>(size));
}

/// One byte of payload carrying `fds` with SCM_RIGHTS, whatever the frames declare.
void send_with_undeclared_fds(int socket, const std::vector<UniqueFd>& fds) {
  char byte = 'z';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 64)] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
  for (std::size_t i = 0; i < fds.size(); ++i) {
    const int fd = fds[i].get();
    std::memcpy(CMSG_DATA(cmsg) + i * sizeof(int), &fd, sizeof fd);
  }
  ASSERT_EQ(::sendmsg(socket, &msg, MSG_NOSIGNAL), 1);
}

TEST(FrameReader, AFrameDeclaringFdsItNeverSentIsAProtocolErrorNotAStall) {
  auto [near, far] = make_socket_pair();
  const RawHeader header{4, 2, 0};
  send_raw(far.get(), &header, sizeof header);
  send_raw(far.get(), "abcd", 4);
  FrameReader reader(near.get());
  // The frame is whole: waiting for its fds would wait forever.
  EXPECT_TRUE(reader.ready());
  try {
    reader.next();
    FAIL() << "a frame short of its fds was accepted";
  } catch (const WorkerProtocolError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("declares 2 fds"));
  }
}

TEST(FrameReader, SizesAndFdCountsOverTheBoundsAreRefusedBeforeAnythingIsSized) {
  for (const RawHeader header :
       {RawHeader{std::uint64_t{1} << 40, 0, 0}, RawHeader{~std::uint64_t{0}, 0, 0}, RawHeader{8, 1000, 0}}) {
    auto [near, far] = make_socket_pair();
    send_raw(far.get(), &header, sizeof header);
    FrameReader reader(near.get());
    EXPECT_THROW(reader.next(), WorkerProtocolError) << header.size << " bytes, " << header.fd_count << " fds";
  }
}

TEST(FrameReader, FdsNoFrameDeclaresAreRefusedOnceTheyPileUp) {
  auto [near, far] = make_socket_pair();
  FrameReader reader(near.get());
  // Messages of one byte each carrying 60 fds, while the frame they belong to never
  // declares any: the reader must not keep taking fds without bound.
  const RawHeader header{1000, 0, 0};
  send_raw(far.get(), &header, sizeof header);
  std::vector<UniqueFd> fds;
  for (int i = 0; i < 60; ++i) fds.emplace_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  for (int message = 0; message < 3; ++message) send_with_undeclared_fds(far.get(), fds);
  try {
    for (int i = 0; i < 3; ++i) reader.ready();
    FAIL() << "180 undeclared fds were taken";
  } catch (const WorkerProtocolError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("no message declares"));
  }
}

TEST(FrameReader, APeerThatClosesMidFrameIsAPeerGoneError) {
  auto [near, far] = make_socket_pair();
  const RawHeader header{100, 0, 0};
  send_raw(far.get(), &header, sizeof header);
  send_raw(far.get(), "0123456789", 10);
  far.reset();
  FrameReader reader(near.get());
  EXPECT_THROW(reader.next(), PeerGoneError);
}

TEST(FrameWriter, ASendThatWouldBlockReadsWhatThePeerSendsMeanwhile) {
  auto [near, far] = make_socket_pair();
  // The peer sends its own large message first and reads nothing until it is read: a
  // writer that only writes would block for ever.
  const std::string big(4 << 20, 'p');
  FrameWriter peer(far.get());
  std::thread other([&] {
    peer.add(big);
    peer.flush();
    FrameReader from_near(far.get());
    std::optional<Frame> frame = from_near.next();
    EXPECT_TRUE(frame && frame->bytes.size() == big.size());
  });
  FrameWriter writer(near.get());
  FrameReader reader(near.get());
  std::optional<Frame> received;
  writer.add(big);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  writer.flush(
      [&] {
        if (!received && reader.ready()) received = reader.next();
        return deadline;
      },
      deadline);
  if (!received) received = reader.next();
  other.join();
  ASSERT_TRUE(received);
  EXPECT_EQ(received->bytes.size(), big.size());
}

}  // namespace
}  // namespace poolbench
