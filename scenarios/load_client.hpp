#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace poolbench::scenarios {

/// What the load client saw: every round trip's time, and the first error.
struct LoadResult {
  std::uint64_t round_trips = 0;
  std::vector<std::uint64_t> rtt_ns;
  std::uint64_t failures = 0;
  std::string first_error;
};

/// Opens `connections` concurrent connections to 127.0.0.1:`port` from threads of its own
/// (never the executor under test); each sends `message` `round_trips` times and checks
/// every byte of the upper-cased reply. Every wait is bounded by `timeout`.
LoadResult run_load(std::uint16_t port, std::uint64_t connections, std::uint64_t round_trips,
                    const std::string& message, std::chrono::milliseconds timeout);

/// `message` upper-cased: the reply the echo server must send.
std::string expected_reply(const std::string& message);

}  // namespace poolbench::scenarios
