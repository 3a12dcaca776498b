#include "pools/core/wire.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace poolbench {
namespace {

enum class Colour : std::uint8_t { red, green };
enum Unscoped { one, two };
struct Point {
  int x, y;
};
struct HoldsAPointer {
  const char* text;
};

// What may cross a process boundary is decided at compile time; these fail the build.
static_assert(Transferable<int> && Transferable<double> && Transferable<Point> && Transferable<std::string>);
static_assert(Transferable<bool> && Transferable<Colour> && Transferable<UniqueFd>);
static_assert(!Transferable<std::string_view>, "a view points into the sender's memory");
static_assert(!Transferable<std::span<const int>>, "a span points into the sender's memory");
static_assert(!Transferable<int*> && !Transferable<const char*>, "pointers mean nothing in another process");
static_assert(!Transferable<Unscoped>, "an unscoped enum may have values outside its range");

std::string encoded_byte(unsigned char byte) { return std::string(1, static_cast<char>(byte)); }

TEST(Wire, ValuesComeBackAsTheyWent) {
  WireWriter out;
  out.put(true);
  out.put(Colour::green);
  out.put(Point{3, -4});
  out.put(std::string("bytes"));
  WireReader in(out.bytes());
  EXPECT_TRUE(in.get<bool>());
  EXPECT_EQ(in.get<Colour>(), Colour::green);
  const Point p = in.get<Point>();
  EXPECT_EQ(p.x, 3);
  EXPECT_EQ(p.y, -4);
  EXPECT_EQ(in.get<std::string>(), "bytes");
  EXPECT_NO_THROW(in.expect_end());
}

TEST(Wire, ABoolByteOtherThanZeroOrOneIsRefused) {
  const std::string two = encoded_byte(2);
  WireReader in(two);
  EXPECT_THROW(in.get<bool>(), NotTransferableError);
}

TEST(Wire, BytesAfterTheLastValueAreRefused) {
  WireWriter out;
  out.put(7);
  std::string bytes(out.bytes());
  bytes += "xyz";
  WireReader in(bytes);
  EXPECT_EQ(in.get<int>(), 7);
  try {
    in.expect_end();
    FAIL() << "trailing bytes were accepted";
  } catch (const NotTransferableError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("3 bytes after its last value"));
  }
}

TEST(Wire, AStringLongerThanItsMessageIsRefused) {
  WireWriter out;
  out.put(std::uint64_t{1} << 40);
  WireReader in(out.bytes());
  EXPECT_THROW(in.get<std::string>(), NotTransferableError);
}

}  // namespace
}  // namespace poolbench
