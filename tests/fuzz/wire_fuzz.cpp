// Fuzzes WireReader: decoding every transferable type from bytes a hostile peer wrote.
//
// Input: byte 0 holds the number of fds handed to the reader (bits 0-1) and the number
// of values to read (bits 2-7); that many bytes follow, each choosing a type; the rest
// is the message. Each `get` returns a value or throws NotTransferableError; a value
// decoded must re-encode to exactly the bytes it was read from (so nothing is read
// twice, skipped or made up). Anything else, a sanitizer report or a leaked fd is a finding.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"
#include "pools/core/errors.hpp"
#include "pools/core/wire.hpp"

namespace {

using namespace poolbench;

enum class Colour : std::int16_t { red, green, blue };
struct Sample {
  std::int32_t x;
  std::int32_t y;
  std::uint64_t z;
};
static_assert(sizeof(Sample) == 16, "no padding: its bytes round-trip exactly");

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::FdLeakCheck<64> leaks;
  if (size == 0) return 0;
  const std::size_t fd_count = data[0] & 3;
  const std::size_t op_count = std::min<std::size_t>(data[0] >> 2, size - 1);
  const std::uint8_t* ops = data + 1;
  const std::string_view message(reinterpret_cast<const char*>(ops + op_count), size - 1 - op_count);
  {
    std::vector<UniqueFd> fds;
    std::vector<int> numbers;
    for (std::size_t i = 0; i < fd_count; ++i) {
      fds.emplace_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
      numbers.push_back(fds.back().get());
    }
    WireReader in(message, std::move(fds));
    WireWriter again;  // each decoded value, encoded anew
    try {
      for (std::size_t i = 0; i < op_count; ++i) {
        switch (ops[i] & 7) {
          case 0:
            again.put(in.get<int>());
            break;
          case 1:
            again.put(in.get<double>());
            break;
          case 2:
            again.put(in.get<bool>());
            break;
          case 3:
            again.put(in.get<Colour>());
            break;
          case 4:
            again.put(in.get<Sample>());
            break;
          case 5:
            again.put(in.get<std::string>());
            break;
          case 6: {
            // The index as sent: a writer numbers fds in its own order.
            std::uint32_t index = 0;
            const std::size_t at = again.bytes().size();
            if (at + sizeof index <= message.size()) std::memcpy(&index, message.data() + at, sizeof index);
            const UniqueFd fd = in.get<UniqueFd>();
            if (index >= numbers.size() || fd.get() != numbers[index])
              fuzz::finding("an fd came back that was not sent at its index");
            again.put(index);
            break;
          }
          default:
            in.expect_end();
            break;
        }
      }
      in.expect_end();
      if (again.bytes() != message) fuzz::finding("a message decoded whole does not re-encode to its bytes");
    } catch (const NotTransferableError&) {
      if (again.bytes() != message.substr(0, again.bytes().size()))
        fuzz::finding("what was decoded before an error does not re-encode to the message's start");
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s\n", e.what());
      fuzz::finding("the reader threw something other than NotTransferableError");
    }
  }
  leaks.check();
  return 0;
}
