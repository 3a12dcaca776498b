#include "pools/worker_main.hpp"

#include <cxxabi.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <typeinfo>

#include "pools/channel.hpp"
#include "pools/errors.hpp"
#include "pools/reply_ring.hpp"
#include "pools/spin_wait.hpp"
#include "pools/task_registry.hpp"
#include "pools/worker_protocol.hpp"

namespace poolbench {
namespace {

std::string demangled(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> name(abi::__cxa_demangle(type.name(), nullptr, nullptr, &status),
                                                  &std::free);
  return status == 0 && name ? name.get() : type.name();
}

WireWriter error_reply(const std::string& type, const std::string& message) {
  WireWriter out;
  out.put(ReplyStatus::error);
  out.put(type);
  out.put(message);
  return out;
}

WireWriter run_one(Frame& request) {
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
    return out;
  } catch (const std::exception& e) {
    return error_reply(demangled(typeid(e)), e.what());
  } catch (...) {
    return error_reply("unknown", "the task threw something that is not a std::exception");
  }
}

}  // namespace

std::optional<int> run_worker_if_requested(int argc, char** argv) {
  if (argc < 3 || std::strcmp(argv[1], worker_flag) != 0) return std::nullopt;
  const int channel = std::atoi(argv[2]);
  // How long to poll for the next request before sleeping; the pool, which has read the
  // topology, passes 0 where polling cannot leave it a CPU.
  const std::chrono::microseconds poll_limit(argc > 3 ? std::atoi(argv[3]) : 0);
  detail::set_can_spin(poll_limit.count() > 0);
  try {
    FrameReader requests(channel);
    FrameWriter socket_replies(channel);
    // The pool's first frame carries the shared memory that replies go into.
    std::optional<Frame> setup = requests.next();
    if (!setup || setup->fds.size() != 1) throw ResourceError("the pool sent no reply ring");
    ReplyRing replies = ReplyRing::attach(std::move(setup->fds.front()));
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
      WireWriter reply = run_one(*request);
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
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "poolbench worker %d: %s\n", static_cast<int>(::getpid()), e.what());
    return 1;
  }
}

}  // namespace poolbench
