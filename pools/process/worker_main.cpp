#include "pools/process/worker_main.hpp"

#include <cxxabi.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <typeinfo>

#include "pools/core/errors.hpp"
#include "pools/core/task_registry.hpp"
#include "pools/machine/spin_wait.hpp"
#include "pools/process/channel.hpp"
#include "pools/process/reply_ring.hpp"
#include "pools/process/worker_protocol.hpp"

namespace poolbench {
namespace {

ReplyRing* current_ring = nullptr;
int current_channel = -1;

/// Parses a whole decimal number in [low, high]; nullopt for anything else.
std::optional<long> parse_number(const char* text, long low, long high) {
  const std::string_view view(text);
  long value = 0;
  const auto [end, error] = std::from_chars(view.data(), view.data() + view.size(), value);
  if (error != std::errc() || end != view.data() + view.size() || value < low || value > high) return std::nullopt;
  return value;
}

/// Ends this worker the moment its pool's end of the channel closes, even in the middle
/// of a task: a pool that is killed leaves no worker behind. Shares nothing with the
/// task; stopped and joined when the worker returns.
class Lifeline {
 public:
  explicit Lifeline(int channel) {
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0) throw_system_error("cannot create the worker's lifeline", errno);
    stop_read_.reset(ends[0]);
    stop_write_.reset(ends[1]);
    watcher_ = std::thread([this, channel] { watch(channel); });
  }
  ~Lifeline() {
    stop_write_.reset();
    watcher_.join();
  }
  Lifeline(const Lifeline&) = delete;
  Lifeline& operator=(const Lifeline&) = delete;

 private:
  void watch(int channel) const {
    // POLLRDHUP alone: requests arriving do not wake this thread, the pool closing does.
    pollfd fds[2] = {{channel, POLLRDHUP, 0}, {stop_read_.get(), POLLIN, 0}};
    for (;;) {
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[1].revents != 0) return;
      if (fds[0].revents & (POLLRDHUP | POLLHUP | POLLERR)) ::_exit(0);
    }
  }

  UniqueFd stop_read_;
  UniqueFd stop_write_;
  std::thread watcher_;
};

std::string demangled(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> name(abi::__cxa_demangle(type.name(), nullptr, nullptr, &status),
                                                   &std::free);
  return status == 0 && name ? name.get() : type.name();
}

/// The most of an exception's type name or message a reply carries: a task may throw any
/// message, but the reply must stay within what the pool accepts from a worker.
constexpr std::size_t max_error_text = 64 * 1024;

std::string bounded(const std::string& text) {
  if (text.size() <= max_error_text) return text;
  return text.substr(0, max_error_text) + "... (cut short: " + std::to_string(text.size()) + " bytes in all)";
}

WireWriter error_reply(const std::string& type, const std::string& message) {
  WireWriter out;
  out.put(ReplyStatus::error);
  out.put(bounded(type));
  out.put(bounded(message));
  return out;
}

}  // namespace

namespace detail {

WireWriter handle_request(Frame& request) {
  WireReader in(as_view(request.bytes), std::move(request.fds));
  try {
    const auto id = in.get<std::uint64_t>();
    const TaskEntry* task = TaskRegistry::instance().find(id);
    if (!task)
      return error_reply("poolbench::NotTransferableError",
                         "the worker does not know this task: register it in the executable that runs the pool");
    WireWriter out;
    out.put(ReplyStatus::ok);
    task->call(in, out);
    if (out.bytes().size() > max_message_bytes)
      return error_reply("poolbench::NotTransferableError", "the result of task '" + task->name + "' is " +
                                                                std::to_string(out.bytes().size()) +
                                                                " bytes; a process-pool message carries at most " +
                                                                std::to_string(max_message_bytes >> 20) + " MiB");
    if (out.fds().size() > max_message_fds)
      return error_reply("poolbench::NotTransferableError", "the result of task '" + task->name + "' carries " +
                                                                std::to_string(out.fds().size()) + " fds; at most " +
                                                                std::to_string(max_message_fds) + " may cross at once");
    for (const UniqueFd& fd : out.fds())
      if (!fd)
        return error_reply("poolbench::NotTransferableError",
                           "the result of task '" + task->name + "' holds an empty UniqueFd, which cannot be sent");
    return out;
  } catch (const std::exception& e) {
    return error_reply(demangled(typeid(e)), e.what());
  } catch (...) {
    return error_reply("unknown", "the task threw something that is not a std::exception");
  }
}

}  // namespace detail

std::optional<int> run_worker_if_requested(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], worker_flag) != 0) return std::nullopt;
  // The channel's fd, and how long to poll for the next request before sleeping; the
  // pool, which has read the topology, passes 0 where polling cannot leave it a CPU.
  const std::optional<long> channel_arg = argc == 4 ? parse_number(argv[2], 3, 1 << 20) : std::nullopt;
  const std::optional<long> poll_arg = argc == 4 ? parse_number(argv[3], 0, 1'000'000) : std::nullopt;
  if (!channel_arg || !poll_arg) {
    std::fprintf(stderr,
                 "poolbench worker: malformed command line; expected %s CHANNEL_FD POLL_MICROSECONDS, as a "
                 "process pool starts it (this mode is not for people)\n",
                 worker_flag);
    return 2;
  }
  const int channel = static_cast<int>(*channel_arg);
  const std::chrono::microseconds poll_limit(*poll_arg);
  detail::set_can_spin(poll_limit.count() > 0);
  try {
    const Lifeline lifeline(channel);
    FrameReader requests(channel);
    FrameWriter socket_replies(channel);
    // The pool's first frame carries the shared memory that replies go into.
    std::optional<Frame> setup = requests.next();
    if (!setup || setup->fds.size() != 1) throw ResourceError("the pool sent no reply ring");
    ReplyRing replies = ReplyRing::attach(std::move(setup->fds.front()));
    current_ring = &replies;
    current_channel = channel;
    // The greeting: an empty frame that says this worker is ready, so that the pool
    // starts no task's clock while the worker is still starting.
    socket_replies.add({});
    socket_replies.flush();
    std::chrono::steady_clock::duration last_task{};
    for (;;) {
      // A caller that polls for each reply of short tasks (a lent call's waiter) sends its
      // next request a few microseconds after this reply: polling for it saves a wake-up
      // per task. Polling stops once the pool's I/O thread takes the worker back, and
      // yields between polls, so that whoever needs this CPU gets it.
      if (last_task < poll_limit && replies.caller_polls()) {
        detail::spin_adaptively([&] { return requests.ready() || !replies.caller_polls(); }, poll_limit,
                                detail::SpinPause::yield);
      }
      std::optional<Frame> request = requests.next();
      if (!request) break;
      const auto started = std::chrono::steady_clock::now();
      WireWriter reply = detail::handle_request(*request);
      last_task = std::chrono::steady_clock::now() - started;
      // Each reply is published at once, in memory that outlives this process, so a
      // later task that crashes the worker loses no finished task's reply.
      bool wake;
      if (reply.fds().empty() && reply.bytes().size() <= ReplyRing::max_entry) {
        wake = replies.push(reply.bytes());
      } else {
        socket_replies.add(reply.bytes(), reply.fds());
        socket_replies.flush();
        wake = replies.push_on_socket();
      }
      if (wake) {  // the pool sleeps on the socket: an empty frame rings it
        socket_replies.add({});
        socket_replies.flush();
      }
    }
    current_ring = nullptr;
    return 0;
  } catch (const std::exception& e) {
    current_ring = nullptr;
    std::fprintf(stderr, "poolbench worker %d: %s\n", static_cast<int>(::getpid()), e.what());
    return 1;
  }
}

namespace detail {

ReplyRing* worker_reply_ring() noexcept { return current_ring; }
int worker_channel() noexcept { return current_channel; }

}  // namespace detail
}  // namespace poolbench
