#include "pools/process/reply_ring.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>

#include "pools/core/errors.hpp"

namespace poolbench {
namespace {

/// The worker's side of a ring: the same shared memory mapped a second time.
ReplyRing writer_for(const ReplyRing& reader) { return ReplyRing::attach(UniqueFd(::dup(reader.fd().get()))); }

TEST(ReplyRing, RepliesComeOutWholeAndInOrderAcrossManyWraps) {
  ReplyRing reader = ReplyRing::create();
  ReplyRing writer = writer_for(reader);
  std::string reply;
  std::uint64_t written = 0, read = 0;
  // Sizes that do not divide the ring, so entries meet its end at every offset.
  for (int round = 0; round < 2000; ++round) {
    for (int i = 0; i < 7; ++i, ++written) {
      const std::string text(static_cast<std::size_t>((written * 37) % (ReplyRing::max_entry + 1)),
                             static_cast<char>('a' + written % 26));
      writer.push(text);
    }
    while (reader.pop(reply) == ReplyRing::Entry::reply) {
      ASSERT_EQ(reply.size(), (read * 37) % (ReplyRing::max_entry + 1)) << "reply " << read;
      ASSERT_EQ(reply, std::string(reply.size(), static_cast<char>('a' + read % 26))) << "reply " << read;
      ++read;
    }
  }
  EXPECT_EQ(read, written);
  EXPECT_FALSE(reader.has_entry());
}

TEST(ReplyRing, AMarkerSaysTheReplyWentOnTheSocket) {
  ReplyRing reader = ReplyRing::create();
  ReplyRing writer = writer_for(reader);
  writer.push("first");
  writer.push_on_socket();
  writer.push("");
  std::string reply;
  EXPECT_EQ(reader.pop(reply), ReplyRing::Entry::reply);
  EXPECT_EQ(reply, "first");
  EXPECT_EQ(reader.pop(reply), ReplyRing::Entry::on_socket);
  EXPECT_EQ(reader.pop(reply), ReplyRing::Entry::reply);
  EXPECT_EQ(reply, "");
  EXPECT_EQ(reader.pop(reply), ReplyRing::Entry::none);
}

TEST(ReplyRing, PopReplyLeavesAMarkerInTheRing) {
  ReplyRing reader = ReplyRing::create();
  ReplyRing writer = writer_for(reader);
  std::string reply;
  EXPECT_EQ(reader.pop_reply(reply), ReplyRing::Entry::none);
  writer.push_on_socket();
  writer.push("second");
  EXPECT_EQ(reader.pop_reply(reply), ReplyRing::Entry::on_socket);
  EXPECT_EQ(reader.pop_reply(reply), ReplyRing::Entry::on_socket) << "a marker is left for the socket reader";
  EXPECT_EQ(reader.pop(reply), ReplyRing::Entry::on_socket);
  EXPECT_EQ(reader.pop_reply(reply), ReplyRing::Entry::reply);
  EXPECT_EQ(reply, "second");
  EXPECT_EQ(reader.pop_reply(reply), ReplyRing::Entry::none);
}

TEST(ReplyRing, TheWriterSeesWhetherACallerPolls) {
  ReplyRing reader = ReplyRing::create();
  ReplyRing writer = writer_for(reader);
  EXPECT_FALSE(writer.caller_polls());
  reader.set_caller_polls(true);
  EXPECT_TRUE(writer.caller_polls());
  reader.set_caller_polls(false);
  EXPECT_FALSE(writer.caller_polls());
}

TEST(ReplyRing, TheWriterWakesTheReaderOnlyOnceItSaidItWouldSleep) {
  ReplyRing reader = ReplyRing::create();
  ReplyRing writer = writer_for(reader);
  EXPECT_FALSE(writer.push("no one sleeps"));
  std::string reply;
  reader.pop(reply);
  ASSERT_TRUE(reader.prepare_to_sleep());
  EXPECT_TRUE(writer.push("wake up"));
  EXPECT_FALSE(writer.push("already woken")) << "one wake-up per sleep";
  reader.woke();
  EXPECT_FALSE(reader.prepare_to_sleep()) << "replies are waiting: sleeping now would never end";
  EXPECT_FALSE(writer.push("the reader did not sleep"));
}

TEST(ReplyRing, HoldsMaxEntriesOfTheLargestSizeAtAnyOffset) {
  ReplyRing reader = ReplyRing::create();
  ReplyRing writer = writer_for(reader);
  const std::string largest(ReplyRing::max_entry, 'x');
  std::string reply;
  for (int offset = 0; offset < 200; ++offset) {
    writer.push(std::string(static_cast<std::size_t>(offset * 13 % 300), 'o'));
    reader.pop(reply);
    for (std::size_t i = 0; i < ReplyRing::max_entries; ++i) ASSERT_NO_THROW(writer.push(largest)) << offset;
    for (std::size_t i = 0; i < ReplyRing::max_entries; ++i) {
      ASSERT_EQ(reader.pop(reply), ReplyRing::Entry::reply);
      ASSERT_EQ(reply, largest);
    }
  }
}

TEST(ReplyRing, RefusesAReplyLargerThanAnEntryAndAFullRing) {
  ReplyRing reader = ReplyRing::create();
  ReplyRing writer = writer_for(reader);
  EXPECT_THROW(writer.push(std::string(ReplyRing::max_entry + 1, 'x')), ResourceError);
  const std::string largest(ReplyRing::max_entry, 'x');
  EXPECT_THROW(for (int i = 0; i < 1000; ++i) writer.push(largest), ResourceError);
  std::string reply;
  std::size_t held = 0;
  while (reader.pop(reply) == ReplyRing::Entry::reply) ++held;
  EXPECT_GE(held, ReplyRing::max_entries) << "what was pushed before the ring filled is all there";
}

TEST(ReplyRing, AttachRefusesMemoryOfTheWrongSize) {
  UniqueFd fd(::memfd_create("not-a-ring", MFD_CLOEXEC));
  ASSERT_TRUE(fd);
  ASSERT_EQ(::ftruncate(fd.get(), 4096), 0);
  EXPECT_THROW(ReplyRing::attach(std::move(fd)), ResourceError);
}

std::atomic<std::uint64_t>& shared_word(ReplyRing& ring, std::size_t offset) {
  return *reinterpret_cast<std::atomic<std::uint64_t>*>(ring.shared_bytes() + offset);
}

TEST(ReplyRing, TheReaderKeepsItsOwnPositionWhateverTheWriterWritesThere) {
  ReplyRing reader = ReplyRing::create();
  ReplyRing writer = writer_for(reader);
  std::string reply;
  writer.push("first");
  writer.push("second");
  ASSERT_EQ(reader.pop(reply), ReplyRing::Entry::reply);
  EXPECT_EQ(reply, "first");
  shared_word(writer, ReplyRing::Layout::head).store(0);  // a writer moving the reader back
  ASSERT_EQ(reader.pop(reply), ReplyRing::Entry::reply);
  EXPECT_EQ(reply, "second") << "the reader read an old reply again";
  EXPECT_EQ(reader.pop(reply), ReplyRing::Entry::none);
}

TEST(ReplyRing, AnEntryThatRunsPastTheRingsEndOrATailOutOfRangeIsAProtocolError) {
  {
    ReplyRing reader = ReplyRing::create();
    ReplyRing writer = writer_for(reader);
    std::string reply;
    // 126 entries of 520 bytes bring both sides to 16 bytes before the ring's end.
    for (int i = 0; i < 126; ++i) {
      writer.push(std::string(512, 'x'));
      ASSERT_EQ(reader.pop(reply), ReplyRing::Entry::reply);
    }
    const std::uint64_t tail = shared_word(writer, ReplyRing::Layout::tail).load();
    ASSERT_EQ(tail % ReplyRing::Layout::capacity, ReplyRing::Layout::capacity - 16);
    // An entry there claiming 400 bytes, published as if whole: it would run past the end.
    const std::uint32_t word = 400;
    std::memcpy(writer.shared_bytes() + ReplyRing::Layout::data + ReplyRing::Layout::capacity - 16, &word, sizeof word);
    shared_word(writer, ReplyRing::Layout::tail).store(tail + 408);
    EXPECT_THROW(reader.pop(reply), WorkerProtocolError);
  }
  {
    ReplyRing reader = ReplyRing::create();
    ReplyRing writer = writer_for(reader);
    shared_word(writer, ReplyRing::Layout::tail).store(3 * ReplyRing::Layout::capacity);
    std::string reply;
    EXPECT_THROW(reader.pop(reply), WorkerProtocolError);
  }
}

}  // namespace
}  // namespace poolbench
