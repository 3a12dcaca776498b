#include "scenarios/load_client.hpp"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <thread>

#include "scenarios/scenario.hpp"
#include "scenarios/tcp.hpp"

namespace poolbench::scenarios {

std::string expected_reply(const std::string& message) {
  std::string reply = message;
  for (char& c : reply) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return reply;
}

namespace {

/// One client connection's round trips; returns an error message or an empty string.
std::string drive_connection(std::uint16_t port, std::uint64_t round_trips, const std::string& message,
                             const std::string& reply, std::chrono::milliseconds timeout,
                             std::vector<std::uint64_t>& rtts) {
  try {
    UniqueFd socket = connect_to_loopback(port, timeout);
    std::string received(reply.size(), '\0');
    for (std::uint64_t trip = 0; trip < round_trips; ++trip) {
      const std::uint64_t start = now_ns();
      send_all(socket.get(), message);
      std::size_t got = 0;
      while (got < reply.size()) {
        const std::size_t n = receive_some(socket.get(), received.data() + got, reply.size() - got);
        if (n == 0) return "the server closed the connection after " + std::to_string(trip) + " round trips";
        got += n;
      }
      rtts.push_back(now_ns() - start);
      if (received != reply) {
        const auto at = std::mismatch(received.begin(), received.end(), reply.begin()).first - received.begin();
        return "wrong reply byte " + std::to_string(at) + " in round trip " + std::to_string(trip) + ": expected '" +
               reply + "', got '" + received + "'";
      }
    }
    return {};
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace

LoadResult run_load(std::uint16_t port, std::uint64_t connections, std::uint64_t round_trips,
                    const std::string& message, std::chrono::milliseconds timeout) {
  const std::string reply = expected_reply(message);
  std::vector<std::vector<std::uint64_t>> rtts(connections);
  std::vector<std::string> errors(connections);
  {
    std::vector<std::jthread> clients;
    clients.reserve(connections);
    for (std::uint64_t c = 0; c < connections; ++c) {
      rtts[c].reserve(round_trips);
      clients.emplace_back(
          [&, c] { errors[c] = drive_connection(port, round_trips, message, reply, timeout, rtts[c]); });
    }
  }
  LoadResult result;
  for (std::uint64_t c = 0; c < connections; ++c) {
    result.round_trips += rtts[c].size();
    result.rtt_ns.insert(result.rtt_ns.end(), rtts[c].begin(), rtts[c].end());
    if (!errors[c].empty()) {
      if (result.failures++ == 0) result.first_error = "connection " + std::to_string(c) + ": " + errors[c];
    }
  }
  return result;
}

}  // namespace poolbench::scenarios
