#include "scenarios/load_client.hpp"

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cctype>
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

/// One client connection's requests, in the order they are sent.
struct Requests {
  std::uint64_t count;
  const std::vector<std::uint64_t>* schedule;  ///< open loop: when each is due, from `start`
};

/// What every connection of one load shares: what to send and expect, how long to wait,
/// and, for an open loop, the moment every connection is open and the schedules start.
class Load {
 public:
  Load(std::uint16_t port, std::uint64_t connections, const std::string& message, std::chrono::milliseconds timeout)
      : port_(port),
        message_(message),
        reply_(expected_reply(message)),
        timeout_(timeout),
        ready_(static_cast<std::ptrdiff_t>(connections), StartClock{&start_}) {}

  /// Drives one connection; its round trips go to `rtts` and, in an open loop, `timed`.
  /// Returns an error message, or an empty string.
  std::string drive(Requests requests, std::vector<std::uint64_t>& rtts, std::vector<TimedArrival>& timed) {
    UniqueFd socket;
    try {
      socket = connect_to_loopback(port_, timeout_);
    } catch (const std::exception& e) {
      ready_.arrive_and_drop();
      return e.what();
    }
    ready_.arrive_and_wait();
    try {
      const detail::PreciseWakeups precise;
      return round_trips(socket.get(), requests, rtts, timed);
    } catch (const std::exception& e) {
      return e.what();
    }
  }

 private:
  /// Sets the schedules' start once every connection is open, a moment ahead.
  struct StartClock {
    std::atomic<std::uint64_t>* start;
    void operator()() const noexcept { start->store(now_ns() + 1'000'000, std::memory_order_relaxed); }
  };

  std::string round_trips(int socket, Requests requests, std::vector<std::uint64_t>& rtts,
                          std::vector<TimedArrival>& timed) {
    const std::uint64_t start = start_.load(std::memory_order_relaxed);
    std::string received(reply_.size(), '\0');
    std::uint64_t previous_reply = 0;
    for (std::uint64_t trip = 0; trip < requests.count; ++trip) {
      std::uint64_t scheduled = 0;
      if (requests.schedule) {
        scheduled = start + (*requests.schedule)[trip];
        detail::sleep_until_ns(scheduled);
      }
      const std::uint64_t sent = now_ns();
      send_all(socket, message_);
      std::size_t got = 0;
      while (got < reply_.size()) {
        const std::size_t n = receive_some(socket, received.data() + got, reply_.size() - got);
        if (n == 0) return "the server closed the connection after " + std::to_string(trip) + " round trips";
        got += n;
      }
      const std::uint64_t replied = now_ns();
      rtts.push_back(replied - sent);
      if (requests.schedule) timed.push_back({scheduled, std::max(scheduled, previous_reply), sent, replied});
      previous_reply = replied;
      if (received != reply_) {
        const auto at = std::mismatch(received.begin(), received.end(), reply_.begin()).first - received.begin();
        return "wrong reply byte " + std::to_string(at) + " in round trip " + std::to_string(trip) + ": expected '" +
               reply_ + "', got '" + received + "'";
      }
    }
    return {};
  }

  std::uint16_t port_;
  const std::string& message_;
  std::string reply_;
  std::chrono::milliseconds timeout_;
  std::atomic<std::uint64_t> start_{0};
  std::barrier<StartClock> ready_;
};

/// Runs every connection on a thread of its own and gathers what they saw.
LoadResult drive_all(std::uint16_t port, const std::vector<Requests>& connections, const std::string& message,
                     std::chrono::milliseconds timeout) {
  const std::size_t n = connections.size();
  Load load(port, n, message, timeout);
  std::vector<std::vector<std::uint64_t>> rtts(n);
  std::vector<std::vector<TimedArrival>> timed(n);
  std::vector<std::string> errors(n);
  {
    std::vector<std::jthread> clients;
    clients.reserve(n);
    for (std::size_t c = 0; c < n; ++c) {
      rtts[c].reserve(connections[c].count);
      if (connections[c].schedule) timed[c].reserve(connections[c].count);
      clients.emplace_back([&, c] { errors[c] = load.drive(connections[c], rtts[c], timed[c]); });
    }
  }
  LoadResult result;
  for (std::size_t c = 0; c < n; ++c) {
    result.round_trips += rtts[c].size();
    result.rtt_ns.insert(result.rtt_ns.end(), rtts[c].begin(), rtts[c].end());
    result.requests.insert(result.requests.end(), timed[c].begin(), timed[c].end());
    if (!errors[c].empty()) {
      if (result.failures++ == 0) result.first_error = "connection " + std::to_string(c) + ": " + errors[c];
    }
  }
  return result;
}

}  // namespace

LoadResult run_load(std::uint16_t port, std::uint64_t connections, std::uint64_t round_trips,
                    const std::string& message, std::chrono::milliseconds timeout) {
  return drive_all(port, std::vector<Requests>(connections, Requests{round_trips, nullptr}), message, timeout);
}

LoadResult run_open_load(std::uint16_t port, const std::vector<std::vector<std::uint64_t>>& schedules,
                         const std::string& message, std::chrono::milliseconds timeout) {
  std::vector<Requests> connections;
  connections.reserve(schedules.size());
  for (const auto& schedule : schedules) connections.push_back({schedule.size(), &schedule});
  return drive_all(port, connections, message, timeout);
}

}  // namespace poolbench::scenarios
