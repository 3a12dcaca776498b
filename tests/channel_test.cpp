#include "pools/channel.hpp"

#include <gtest/gtest.h>

#include <string>

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

}  // namespace
}  // namespace poolbench
