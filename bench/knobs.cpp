#include "bench/knobs.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cmath>

#include "pools/core/errors.hpp"

namespace poolbench::bench {
namespace {

std::uint64_t checked(scenarios::Knob knob, long long value) {
  return static_cast<std::uint64_t>(scenarios::check_knob(knob, static_cast<double>(value)));
}

}  // namespace

void add_knob_options(CLI::App& app, KnobFlags& f) {
  app.add_option("--tasks", f.tasks, "Tasks per run (cpu, sleep)");
  app.add_option("--iterations", f.iterations, "Hash-chain steps per cpu task; 0 = empty tasks");
  app.add_option("--in-flight", f.in_flight,
                 "Most tasks outstanding at once (cpu, sleep); 1 = submit then wait, a round trip; default all");
  app.add_option("--submit", f.submit,
                 "How cpu and sleep tasks are handed over: future (submit, the default) or post (no future; "
                 "in-process executors only)");
  app.add_option("--instrument", f.instrument,
                 "on (default): time every task for latency percentiles; off: time only whole runs, to measure "
                 "what the timing costs");
  app.add_option("--sleep-ms", f.sleep_ms, "How long each sleep task blocks, in ms");
  app.add_option("--compute-us", f.compute_us, "Mean compute time of a mixed task, in us (default 1000)");
  app.add_option("--wait-us", f.wait_us, "Mean time a mixed task then blocks, in us (default 4000)");
  app.add_option("--compute-dist", f.compute_dist,
                 "How mixed compute times vary around their mean: fixed (default), exponential or lognormal:SIGMA");
  app.add_option("--wait-dist", f.wait_dist,
                 "How mixed wait times vary around their mean: fixed (default), exponential or lognormal:SIGMA");
  app.add_option("--seed", f.seed, "Seeds the drawn task times and arrivals, so reruns see the same tasks (default 1)");
  app.add_option("--rate", f.rate,
                 "Open loop: tasks arrive at this rate per second whatever the backlog, for --duration "
                 "(socket: requests per second over all connections, each keeping its own schedule); "
                 "latency then counts from each arrival's scheduled time");
  app.add_option("--arrivals", f.arrivals, "How open-loop tasks arrive: poisson (default, seeded) or uniform");
  app.add_option("--duration", f.duration_s, "Seconds an open-loop run schedules arrivals for (default 5)");
  app.add_option("--connections", f.connections, "Concurrent connections (socket)");
  app.add_option("--round-trips", f.round_trips, "Round trips per connection (socket)");
  app.add_option("--io-timeout-ms", f.io_timeout_ms, "Longest wait on one socket send or receive (default 10000)");
  app.add_option("--task-timeout", f.task_timeout_s,
                 "Seconds a task may run before it fails and its worker process is killed (process-pool; default 60)");
}

std::chrono::nanoseconds resolve_task_timeout(const KnobFlags& f) {
  const double seconds = f.task_timeout_s.value_or(60.0);
  if (!(seconds > 0 && seconds <= 86'400))
    throw ConfigError(
        fmt::format("--task-timeout {} is out of range (allowed: more than 0, at most 86400 seconds)", seconds));
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(seconds));
}

scenarios::ScenarioOptions resolve_knobs(const KnobFlags& f, bool quick) {
  scenarios::ScenarioOptions o;
  o.tasks = f.tasks ? checked(scenarios::Knob::tasks, *f.tasks) : (quick ? 200 : 1000);
  o.iterations = f.iterations ? checked(scenarios::Knob::iterations, *f.iterations) : 200'000;
  if (f.in_flight) o.flow.in_flight = checked(scenarios::Knob::in_flight, *f.in_flight);
  if (f.submit) {
    if (*f.submit == "post") {
      o.flow.submission = scenarios::Submission::post;
    } else if (*f.submit != "future") {
      throw ConfigError(fmt::format("--submit {} is not a way to hand tasks over (allowed: future, post)", *f.submit));
    }
  }
  if (f.instrument) {
    if (*f.instrument != "on" && *f.instrument != "off")
      throw ConfigError(fmt::format("--instrument {} is not allowed (allowed: on, off)", *f.instrument));
    o.flow.instrumented = *f.instrument == "on";
  }
  if (f.sleep_ms) {
    scenarios::check_knob(scenarios::Knob::sleep_ms, *f.sleep_ms);
    o.sleep = std::chrono::microseconds(static_cast<std::int64_t>(*f.sleep_ms * 1000.0));
  }
  const auto microseconds = [](scenarios::Knob knob, double value) {
    return std::chrono::microseconds(std::llround(scenarios::check_knob(knob, value)));
  };
  if (f.compute_us) o.compute = microseconds(scenarios::Knob::compute_us, *f.compute_us);
  if (f.wait_us) o.wait = microseconds(scenarios::Knob::wait_us, *f.wait_us);
  if (f.compute_dist) o.compute_distribution = scenarios::parse_distribution("--compute-dist", *f.compute_dist);
  if (f.wait_dist) o.wait_distribution = scenarios::parse_distribution("--wait-dist", *f.wait_dist);
  if (f.seed) o.seed = checked(scenarios::Knob::seed, *f.seed);
  if (f.rate) {
    if (f.tasks) throw ConfigError("--rate cannot go with --tasks: an open loop runs rate x duration tasks");
    if (f.round_trips)
      throw ConfigError("--rate cannot go with --round-trips: an open loop sends rate x duration requests");
    // A rate of 0 would mean a closed batch: refused here. The upper bound is each
    // scenario's to check (over connections it is per connection).
    o.flow.arrivals.rate = *f.rate > 0 ? *f.rate : scenarios::check_knob(scenarios::Knob::rate, *f.rate);
    if (f.arrivals) o.flow.arrivals.kind = scenarios::parse_arrival_kind(*f.arrivals);
    if (f.duration_s)
      o.flow.arrivals.duration = std::chrono::milliseconds(
          std::llround(scenarios::check_knob(scenarios::Knob::duration_s, *f.duration_s) * 1000.0));
  } else if (f.arrivals || f.duration_s) {
    throw ConfigError(std::string(f.arrivals ? "--arrivals" : "--duration") +
                      " needs --rate: without it a run is a closed batch");
  }
  o.connections = f.connections ? checked(scenarios::Knob::connections, *f.connections) : (quick ? 8 : 32);
  o.round_trips = f.round_trips ? checked(scenarios::Knob::round_trips, *f.round_trips) : (quick ? 200 : 1000);
  if (f.io_timeout_ms)
    o.io_timeout = std::chrono::milliseconds(checked(scenarios::Knob::io_timeout_ms, *f.io_timeout_ms));
  return o;
}

}  // namespace poolbench::bench
