#pragma once

#include <optional>

namespace poolbench {

class ReplyRing;
struct Frame;
class WireWriter;

/// The flag that starts an executable as a process-pool worker; it is followed by the
/// channel's fd and how many microseconds to poll for a request before sleeping.
inline constexpr const char* worker_flag = "--poolbench-worker";

/// Call first thing in `main` of every executable that uses a process pool: when the
/// process was started as a worker, serves registered tasks until the pool closes the
/// channel and returns the exit code; otherwise returns nullopt at once.
///   if (auto code = poolbench::run_worker_if_requested(argc, argv)) return *code;
/// A malformed worker command line is refused with one line on stderr and exit code 2.
std::optional<int> run_worker_if_requested(int argc, char** argv);

namespace detail {

/// In a worker process, while it serves: its reply ring and its channel's fd, for tests
/// that play a worker breaking the protocol; nullptr and -1 elsewhere.
ReplyRing* worker_reply_ring() noexcept;
int worker_channel() noexcept;

/// Decodes a request frame (task id, then arguments), runs the registered task it names
/// and encodes the reply: ok and the result, or error with what was thrown.
WireWriter handle_request(Frame& request);

}  // namespace detail

}  // namespace poolbench
