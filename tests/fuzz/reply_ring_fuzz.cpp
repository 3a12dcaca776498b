// Fuzzes ReplyRing's reader against a worker that writes anything into the shared memory.
//
// Input: byte 0 picks a mode.
//   even: bulk. 8 bytes set the tail, the rest is copied to the start of the data area;
//         then the reader pops until nothing is left (with `pop_reply` where byte 0's
//         bit 1 says, `pop` otherwise, so markers do not stall it).
//   odd:  script. Each op byte (its low 3 bits) with its operands from the input:
//         0 push a reply (u16 length % 513, bytes)   1 push a marker
//         2 set the tail (u64)                        3 move the tail (bit 3 clear: by an
//           i16) or set the shared head (bit 3 set: u64)
//         4 write raw bytes anywhere (u16 offset, u8 length, bytes)
//         5 pop   6 pop_reply   7 has_entry, then prepare_to_sleep (bit 3 set: woke)
//         then the reader drains the ring.
// The reader may only return entries or throw WorkerProtocolError, and must stop within
// as many pops as the ring has room for. Until the first raw write, the replies must come
// out as they were pushed.
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <exception>
#include <optional>
#include <string>

#include "fuzz_support.hpp"
#include "pools/core/errors.hpp"
#include "pools/process/reply_ring.hpp"

namespace {

using namespace poolbench;
using Layout = ReplyRing::Layout;

/// Reads operands off the input; zeros past its end.
struct Cursor {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t at = 0;

  bool done() const { return at >= size; }
  template <class T>
  T take() {
    T value{};
    const std::size_t n = std::min(sizeof value, size - at);
    std::memcpy(&value, data + at, n);
    at += n;
    return value;
  }
  std::string bytes(std::size_t n) {
    n = std::min(n, size - at);
    std::string out(reinterpret_cast<const char*>(data + at), n);
    at += n;
    return out;
  }
};

/// What an honest writer pushed and the reader has not taken: a reply, or a marker (nullopt).
using Model = std::deque<std::optional<std::string>>;

struct Harness {
  ReplyRing reader = ReplyRing::create();
  ReplyRing writer = ReplyRing::attach(UniqueFd(::dup(reader.fd().get())));
  Model model;
  bool honest = true;  ///< no raw write yet: the model holds
  bool sleeping = false;
  std::string reply;

  char* shared() { return writer.shared_bytes(); }
  std::uint64_t tail() {
    std::uint64_t t;
    std::memcpy(&t, shared() + Layout::tail, sizeof t);
    return t;
  }
  void set(std::size_t offset, std::uint64_t value) {
    std::memcpy(shared() + offset, &value, sizeof value);
    honest = false;
  }

  void check(ReplyRing::Entry entry, bool takes_markers) {
    if (entry != ReplyRing::Entry::none && reply.size() > ReplyRing::max_entry)
      fuzz::finding("the reader returned a reply larger than an entry may be");
    if (!honest) return;
    if (model.empty()) {
      if (entry != ReplyRing::Entry::none) fuzz::finding("an entry came out of an empty ring");
      return;
    }
    const bool marker = !model.front();
    if (entry != (marker ? ReplyRing::Entry::on_socket : ReplyRing::Entry::reply))
      fuzz::finding("the reader saw another kind of entry than was pushed");
    if (!marker && reply != *model.front()) fuzz::finding("a reply came out other than it went in");
    if (!marker || takes_markers) model.pop_front();
  }

  void push(std::optional<std::string> entry) {
    bool wake;
    try {
      wake = entry ? writer.push(*entry) : writer.push_on_socket();
    } catch (const ResourceError&) {
      if (honest && model.size() < ReplyRing::max_entries)
        fuzz::finding("the ring was full with fewer than max_entries");
      return;
    }
    if (honest && wake != sleeping) fuzz::finding("a push misreported whether the reader sleeps");
    sleeping = false;
    model.push_back(std::move(entry));
  }

  /// Pops until nothing is left; the reader must stop within the ring's size.
  void drain(bool only_replies) {
    constexpr int bound = Layout::capacity / 8 + 2;
    for (int i = 0; i < bound; ++i) {
      const bool replies = only_replies && (!honest || model.empty() || model.front());
      const ReplyRing::Entry entry = replies ? reader.pop_reply(reply) : reader.pop(reply);
      check(entry, !replies);
      if (entry == ReplyRing::Entry::none) {
        if (reader.has_entry() && honest) fuzz::finding("has_entry with nothing to pop");
        if (honest && !model.empty()) fuzz::finding("pushed entries were lost");
        return;
      }
      if (replies && entry == ReplyRing::Entry::on_socket) return;  // a marker stays for the socket reader
    }
    fuzz::finding("the reader kept finding entries past the ring's size");
  }

  void script(Cursor& in) {
    while (!in.done()) {
      const std::uint8_t op = in.take<std::uint8_t>();
      switch (op & 7) {
        case 0:
          push(in.bytes(in.take<std::uint16_t>() % (ReplyRing::max_entry + 1)));
          break;
        case 1:
          push(std::nullopt);
          break;
        case 2:
          set(Layout::tail, in.take<std::uint64_t>());
          break;
        case 3:
          if (op & 8) {
            set(Layout::head, in.take<std::uint64_t>());
          } else {
            set(Layout::tail, tail() + static_cast<std::uint64_t>(static_cast<std::int64_t>(in.take<std::int16_t>())));
          }
          break;
        case 4: {
          const std::size_t offset = in.take<std::uint16_t>() % (Layout::data + Layout::capacity);
          const std::string bytes =
              in.bytes(std::min<std::size_t>(in.take<std::uint8_t>(), Layout::data + Layout::capacity - offset));
          std::memcpy(shared() + offset, bytes.data(), bytes.size());
          honest = false;
          break;
        }
        case 5:
          check(reader.pop(reply), true);
          break;
        case 6:
          check(reader.pop_reply(reply), false);
          break;
        default: {
          const bool has = reader.has_entry();
          if (honest && has == model.empty()) fuzz::finding("has_entry disagrees with what was pushed");
          const bool sleep = reader.prepare_to_sleep();
          if (honest && sleep != model.empty()) fuzz::finding("prepare_to_sleep disagrees with what was pushed");
          sleeping = sleep;
          if (sleep && (op & 8)) {
            reader.woke();
            sleeping = false;
          }
          break;
        }
      }
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // A fresh ring each input, so one input's state does not leak into the next.
  Harness h;
  Cursor in{data + 1, size - 1};
  try {
    if (data[0] % 2 == 0) {
      h.set(Layout::tail, in.take<std::uint64_t>());
      const std::string bytes = in.bytes(Layout::capacity);
      std::memcpy(h.shared() + Layout::data, bytes.data(), bytes.size());
      h.drain(data[0] & 2);
    } else {
      h.script(in);
      h.drain(data[0] & 2);
    }
  } catch (const WorkerProtocolError&) {
    if (h.honest) fuzz::finding("an honest writer's ring was called corrupt");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    fuzz::finding("the reader threw something other than WorkerProtocolError");
  }
  return 0;
}
