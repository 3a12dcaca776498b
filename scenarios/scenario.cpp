#include "scenarios/scenario.hpp"

#include <sys/resource.h>

#include <fmt/format.h>

#include <ctime>
#include <iomanip>
#include <sstream>
#include <string>
#include <thread>

#include "pools/core/errors.hpp"
#include "pools/core/named_table.hpp"
#include "scenarios/cpu_scenario.hpp"
#include "scenarios/mixed_scenario.hpp"
#include "scenarios/sleep_scenario.hpp"
#include "scenarios/socket_scenario.hpp"

namespace poolbench::scenarios {
namespace {

struct Entry {
  std::string name;
  ScenarioTraits traits;
};

const std::vector<Entry>& entries() {
  static const std::vector<Entry> table{
      {"cpu", {"CPU-bound: each task computes a hash chain (--tasks, --iterations)", "tasks", true, false}},
      {"sleep", {"blocking: each task sleeps, standing for blocking I/O (--tasks, --sleep-ms)", "tasks", true, false}},
      {"mixed",
       {"compute then wait, like a service's request: each task hashes, then sleeps (--compute-us, --wait-us, "
        "--compute-dist, --wait-dist, --seed)",
        "tasks", true, false}},
      {"socket",
       {"TCP echo: one task per connection (--connections, --round-trips; with --rate, requests/s over all "
        "connections)",
        "requests", false, true}},
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

struct Range {
  const char* flag;
  double low, high;
};

Range range_of(Knob knob) {
  switch (knob) {
    case Knob::tasks:
      return {"--tasks", 1, 100'000'000};
    case Knob::iterations:
      return {"--iterations", 0, 10'000'000'000.0};
    case Knob::in_flight:
      return {"--in-flight", 1, 100'000'000};
    case Knob::sleep_ms:
      return {"--sleep-ms", 0, 60'000};
    case Knob::compute_us:
      return {"--compute-us", 0, 60'000'000};
    case Knob::wait_us:
      return {"--wait-us", 0, 60'000'000};
    case Knob::seed:
      return {"--seed", 0, 9'007'199'254'740'992.0};  // 2^53: exact in the JSON's doubles
    case Knob::rate:
      return {"--rate", 0.001, Arrivals::max_rate};
    case Knob::duration_s:
      return {"--duration", 0.001, std::chrono::duration<double>(Arrivals::max_duration).count()};
    case Knob::connections:
      return {"--connections", 1, 1'000'000};
    case Knob::round_trips:
      return {"--round-trips", 1, 100'000'000};
    case Knob::io_timeout_ms:
      return {"--io-timeout-ms", 1, 600'000};
  }
  return {"?", 0, 0};
}

std::string number_text(double value) {
  std::ostringstream text;
  text << std::setprecision(15) << value;
  return text.str();
}

void validate_arrivals(std::string_view name, const ScenarioOptions& o) {
  const Arrivals& a = o.flow.arrivals;
  if (scenario_traits(name).over_connections) {
    if (!(a.rate >= range_of(Knob::rate).low && a.rate <= highest_rate(name, o)))
      throw ConfigError(
          fmt::format("--rate {} is out of range for {} connections (allowed: {} to {}, {} per connection)",
                      number_text(a.rate), o.connections, number_text(range_of(Knob::rate).low),
                      number_text(highest_rate(name, o)), number_text(Arrivals::max_rate)));
  } else {
    check_knob(Knob::rate, a.rate);
  }
  check_knob(Knob::duration_s, std::chrono::duration<double>(a.duration).count());
  if (o.flow.in_flight > 0)
    throw ConfigError("--rate cannot go with --in-flight: an open loop submits on schedule, whatever is outstanding");
  if (o.flow.submission == Submission::post)
    throw ConfigError("--rate cannot go with --submit post: an open loop times each task by its future");
  const double most = range_of(Knob::tasks).high;
  if (static_cast<double>(a.count()) > most)
    throw ConfigError(fmt::format("--rate {} x --duration {} s is {} tasks, more than the {} a run may have", a.rate,
                                  std::chrono::duration<double>(a.duration).count(), a.count(), most));
}

void validate(std::string_view name, const ScenarioOptions& o) {
  const ScenarioTraits& traits = scenario_traits(name);
  if (o.flow.arrivals.open()) validate_arrivals(name, o);
  if (!traits.over_connections) {
    check_knob(Knob::tasks, static_cast<double>(o.tasks));
    check_knob(Knob::iterations, static_cast<double>(o.iterations));
    if (o.flow.in_flight > 0) check_knob(Knob::in_flight, static_cast<double>(o.flow.in_flight));
    check_knob(Knob::sleep_ms, static_cast<double>(o.sleep.count()) / 1000.0);
    check_knob(Knob::compute_us, static_cast<double>(o.compute.count()));
    check_knob(Knob::wait_us, static_cast<double>(o.wait.count()));
    check_knob(Knob::seed, static_cast<double>(o.seed));
  } else {
    check_knob(Knob::connections, static_cast<double>(o.connections));
    check_knob(Knob::round_trips, static_cast<double>(o.round_trips));
    check_knob(Knob::io_timeout_ms, static_cast<double>(o.io_timeout.count()));
    if (o.message.empty() || o.message.size() > 1024) throw ConfigError("the socket message must be 1 to 1024 bytes");
  }
}

}  // namespace

double check_knob(Knob knob, double value) {
  Range range = range_of(knob);
  std::string why;
  if (knob == Knob::connections) {
    const auto limit = static_cast<double>(connection_limit());
    if (limit < range.high) {
      range.high = limit;
      why = ", set by the open-file limit `ulimit -n`";
    }
  }
  if (!(value >= range.low && value <= range.high))
    throw ConfigError(std::string(range.flag) + " " + number_text(value) + " is out of range (allowed: " +
                      number_text(range.low) + " to " + number_text(range.high) + why + ")");
  return value;
}

std::uint64_t await_time(const std::atomic<std::uint64_t>& time) noexcept {
  std::uint64_t t;
  while ((t = time.load(std::memory_order_acquire)) == 0) std::this_thread::yield();
  return t;
}

bool TaskTiming::consistent() const noexcept {
  return submit_ns <= submitted_ns && submit_ns <= start_ns && start_ns <= end_ns && end_ns <= done_ns;
}

void RunRecord::fail(std::string message) {
  if (failures++ == 0) first_error = std::move(message);
}

bool RunRecord::add_timing(const TaskTiming& timing) {
  if (!timing.consistent()) {
    fail("task " + std::to_string(timing.index) +
         " reported times out of order (it must start after its submit and end before its result came back): "
         "its worker's clock or reply cannot be trusted");
    return false;
  }
  timings.push_back(timing);
  return true;
}

bool RunRecord::add_task(const TaskSample& sample, std::string error) {
  if (!error.empty()) {
    fail(std::move(error));
    return false;
  }
  ++tasks;
  task_busy_ns += sample.busy_ns;
  task_cpu_ns += sample.cpu_ns;
  return true;
}

double highest_rate(std::string_view name, const ScenarioOptions& options) {
  const bool per_connection = scenario_traits(name).over_connections;
  return Arrivals::max_rate * (per_connection ? static_cast<double>(options.connections) : 1.0);
}

const std::vector<std::string>& scenario_names() {
  static const std::vector<std::string> names = names_of(entries());
  return names;
}

const ScenarioTraits& scenario_traits(std::string_view name) {
  const Entry* e = find_named(entries(), name);
  if (!e) throw_unknown_name("scenario", name, scenario_names());
  return e->traits;
}

std::unique_ptr<Scenario> make_scenario(std::string_view name, const ScenarioOptions& given) {
  validate(name, given);
  ScenarioOptions options = given;
  // An open loop runs as many tasks as arrive: rate × duration, drawn from the run's seed.
  if (options.flow.arrivals.open()) options.tasks = options.flow.arrivals.count();
  options.flow.arrivals.seed = options.seed;
  if (name == "cpu") return std::make_unique<CpuScenario>(options);
  if (name == "sleep") return std::make_unique<SleepScenario>(options);
  if (name == "mixed") return std::make_unique<MixedScenario>(options);
  if (name == "socket") return std::make_unique<SocketScenario>(options);
  throw_unknown_name("scenario", name, scenario_names());
}

std::uint64_t now_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace poolbench::scenarios
