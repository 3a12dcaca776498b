// Fuzzes a worker's call decoder (detail::handle_request): a request frame from a pool
// that may be buggy or not a pool at all.
//
// Input: byte 0 holds the number of /dev/null fds sent with the frame (bits 0-1) and,
// in bits 2-4, which registered task's real id starts the frame (6-7: none, the frame
// is the input as it is); the rest of the input follows. The decoder must never throw,
// and its reply must be well formed: ok with the task's result (checked against what the
// task returns for the arguments sent) or error with two strings. Anything else, a
// sanitizer report or a leaked fd is a finding.
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "fuzz_support.hpp"
#include "pools/core/task_registry.hpp"
#include "pools/core/wire.hpp"
#include "pools/process/channel.hpp"
#include "pools/process/worker_main.hpp"
#include "pools/process/worker_protocol.hpp"

namespace {

using namespace poolbench;

enum class Colour : std::uint8_t { red, green, blue };
struct Sample {
  std::int32_t x;
  std::int32_t y;
};

int add(int a, int b) { return static_cast<int>(static_cast<unsigned>(a) + static_cast<unsigned>(b)); }
std::string echo(std::string text) {
  if (text == "throw") throw std::runtime_error("echo was told to throw");
  if (text == "throw 7") throw 7;
  return text;
}
bool flip(bool value) { return !value; }
UniqueFd keep_fd(UniqueFd fd) { return fd; }
std::int64_t weigh(Colour colour, Sample sample) {
  return static_cast<std::int64_t>(colour) + std::int64_t{sample.x} + std::int64_t{sample.y};
}
void nothing() {}

const RegisteredTask<&add> add_task{"fuzz.add"};
const RegisteredTask<&echo> echo_task{"fuzz.echo"};
const RegisteredTask<&flip> flip_task{"fuzz.flip"};
const RegisteredTask<&keep_fd> keep_fd_task{"fuzz.keep_fd"};
const RegisteredTask<&weigh> weigh_task{"fuzz.weigh"};
const RegisteredTask<&nothing> nothing_task{"fuzz.nothing"};

/// Decodes an ok reply's result as `R`, and the request's arguments as `A...` with the
/// same reader the task used; `expected` says what the task should have returned.
template <class R, class... A, class F>
void check_result(WireReader& result, const std::string& request, F expected) {
  WireReader arguments(request);
  arguments.get<std::uint64_t>();
  try {
    if constexpr (std::is_void_v<R>) {
      result.expect_end();
    } else if constexpr (std::is_same_v<R, UniqueFd>) {
      const UniqueFd fd = result.get<UniqueFd>();
      result.expect_end();
      if (::fcntl(fd.get(), F_GETFD) == -1) fuzz::finding("a returned fd is not open");
    } else {
      const R value = result.get<R>();
      result.expect_end();
      // Braces read the arguments in order, as the task's trampoline does.
      std::tuple<A...> args{arguments.get<A>()...};
      if (!(value == std::apply(expected, std::move(args)))) fuzz::finding("a task's result is not what it returned");
    }
  } catch (const NotTransferableError&) {
    fuzz::finding("an ok reply is malformed");
  }
}

void check_reply(WireWriter& reply, const std::string& request) {
  WireReader in(reply.bytes(), std::move(reply.fds()));
  try {
    const auto status = in.get<ReplyStatus>();
    if (status == ReplyStatus::error) {
      in.get<std::string>();
      in.get<std::string>();
      in.expect_end();
      return;
    }
    if (status != ReplyStatus::ok) fuzz::finding("a reply has a status that is neither ok nor error");
  } catch (const NotTransferableError&) {
    fuzz::finding("an error reply is malformed");
  }
  std::uint64_t id = 0;
  if (request.size() >= sizeof id) std::memcpy(&id, request.data(), sizeof id);
  if (id == add_task.id()) {
    check_result<int, int, int>(in, request, add);
  } else if (id == echo_task.id()) {
    check_result<std::string, std::string>(in, request, echo);
  } else if (id == flip_task.id()) {
    check_result<bool, bool>(in, request, flip);
  } else if (id == keep_fd_task.id()) {
    check_result<UniqueFd>(in, request, [] {});
  } else if (id == weigh_task.id()) {
    check_result<std::int64_t, Colour, Sample>(in, request, weigh);
  } else if (id == nothing_task.id()) {
    check_result<void>(in, request, [] {});
  } else {
    fuzz::finding("a request for an unknown task had an ok reply");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::FdLeakCheck<64> leaks;
  static const std::uint64_t ids[] = {add_task.id(),     echo_task.id(),  flip_task.id(),
                                      keep_fd_task.id(), weigh_task.id(), nothing_task.id()};
  if (size == 0) return 0;
  const std::size_t fd_count = data[0] & 3;
  const std::size_t task = (data[0] >> 2) & 7;
  std::string request;
  if (task < std::size(ids)) request.append(reinterpret_cast<const char*>(&ids[task]), sizeof ids[task]);
  request.append(reinterpret_cast<const char*>(data + 1), size - 1);
  {
    Frame frame;
    frame.bytes.assign(request.begin(), request.end());
    for (std::size_t i = 0; i < fd_count; ++i) frame.fds.emplace_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    try {
      WireWriter reply = detail::handle_request(frame);
      check_reply(reply, request);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s\n", e.what());
      fuzz::finding("handle_request threw");
    } catch (...) {
      fuzz::finding("handle_request threw something");
    }
  }
  leaks.check();
  return 0;
}
