#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "scenarios/open_loop.hpp"

namespace poolbench::scenarios {

/// What the load client saw: every round trip's time, and the first error; for an open
/// loop also every request's schedule, send and reply.
struct LoadResult {
  std::uint64_t round_trips = 0;
  std::vector<std::uint64_t> rtt_ns;
  std::vector<TimedArrival> requests;  ///< open loop only
  std::uint64_t failures = 0;
  std::string first_error;
};

/// Closed loop: opens `connections` concurrent connections to 127.0.0.1:`port` from
/// threads of its own (never the executor under test); each sends `message` `round_trips`
/// times, the next as soon as the reply to the last has come, and checks every byte of the
/// upper-cased reply. Every wait is bounded by `timeout`.
LoadResult run_load(std::uint16_t port, std::uint64_t connections, std::uint64_t round_trips,
                    const std::string& message, std::chrono::milliseconds timeout);

/// Open loop, as wrk2 drives a server: connection c sends request k at `schedules[c][k]`
/// (nanoseconds after every connection is open), or as soon as the previous reply comes if
/// that is later; a late reply delays the next send but never moves the schedule.
LoadResult run_open_load(std::uint16_t port, const std::vector<std::vector<std::uint64_t>>& schedules,
                         const std::string& message, std::chrono::milliseconds timeout);

/// `message` upper-cased: the reply the echo server must send.
std::string expected_reply(const std::string& message);

}  // namespace poolbench::scenarios
