#include "scenarios/scenario.hpp"

#include <sys/resource.h>

#include <ctime>
#include <string>

#include "pools/errors.hpp"
#include "pools/named_table.hpp"
#include "scenarios/cpu_scenario.hpp"
#include "scenarios/sleep_scenario.hpp"
#include "scenarios/socket_scenario.hpp"

namespace poolbench::scenarios {
namespace {

constexpr std::uint64_t max_tasks = 100'000'000;
constexpr std::chrono::microseconds max_sleep = std::chrono::seconds(60);

struct Entry {
  std::string name;
  std::string description;
};

const std::vector<Entry>& entries() {
  static const std::vector<Entry> table{
      {"cpu", "CPU-bound: each task computes a hash chain (--tasks, --iterations)"},
      {"sleep", "blocking: each task sleeps, standing for blocking I/O (--tasks, --sleep-ms)"},
      {"socket", "TCP echo: one task per connection (--connections, --round-trips)"},
  };
  return table;
}

std::uint64_t connection_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  // Each connection costs two fds (client and server end), plus headroom for the rest.
  const std::uint64_t fds = limit.rlim_cur == RLIM_INFINITY ? 1'048'576 : limit.rlim_cur;
  return fds > 64 ? (fds - 64) / 2 : 1;
}

void validate(std::string_view name, const ScenarioOptions& o) {
  if (name == "cpu" || name == "sleep") {
    if (o.tasks == 0 || o.tasks > max_tasks)
      throw ConfigError("--tasks " + std::to_string(o.tasks) + " is out of range (allowed: 1 to 100000000)");
  }
  if (name == "sleep" && (o.sleep.count() < 0 || o.sleep > max_sleep))
    throw ConfigError("--sleep-ms " + std::to_string(o.sleep.count() / 1000.0) +
                      " is out of range (allowed: 0 to 60000)");
  if (name == "socket") {
    const std::uint64_t limit = connection_limit();
    if (o.connections == 0 || o.connections > limit)
      throw ConfigError("--connections " + std::to_string(o.connections) + " is out of range (allowed: 1 to " +
                        std::to_string(limit) + ", set by the open-file limit `ulimit -n`)");
    if (o.round_trips == 0 || o.round_trips > max_tasks)
      throw ConfigError("--round-trips " + std::to_string(o.round_trips) +
                        " is out of range (allowed: 1 to 100000000)");
    if (o.message.empty() || o.message.size() > 1024)
      throw ConfigError("the socket message must be 1 to 1024 bytes");
  }
}

}  // namespace

void RunRecord::fail(std::string message) {
  if (failures++ == 0) first_error = std::move(message);
}

const std::vector<std::string>& scenario_names() {
  static const std::vector<std::string> names = names_of(entries());
  return names;
}

std::string_view scenario_description(std::string_view name) {
  const Entry* e = find_named(entries(), name);
  return e ? std::string_view(e->description) : std::string_view();
}

std::unique_ptr<Scenario> make_scenario(std::string_view name, const ScenarioOptions& options) {
  validate(name, options);
  if (name == "cpu") return std::make_unique<CpuScenario>(options);
  if (name == "sleep") return std::make_unique<SleepScenario>(options);
  if (name == "socket") return std::make_unique<SocketScenario>(options);
  throw_unknown_name("scenario", name, scenario_names());
}

std::uint64_t now_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace poolbench::scenarios
