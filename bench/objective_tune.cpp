#include "bench/objective_tune.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <regex>

#include "bench/interrupt.hpp"
#include "bench/machine_info.hpp"
#include "bench/metrics.hpp"
#include "bench/output_file.hpp"
#include "bench/schema.hpp"
#include "bench/slo_search.hpp"
#include "pools/machine/topology.hpp"
#include "pools/registry.hpp"

namespace poolbench::bench {
namespace {

/// Runs one size at one rate against the objective and says how it went.
class Prober {
 public:
  Prober(const TuneRequest& r, scenarios::ScenarioOptions options, double slo_us, unsigned usable, int repetitions,
         std::chrono::nanoseconds task_timeout)
      : r_(r),
        options_(std::move(options)),
        slo_us_(slo_us),
        usable_(usable),
        repetitions_(repetitions),
        task_timeout_(task_timeout) {}

  SloProbe probe(std::size_t workers, double rate) {
    scenarios::ScenarioOptions options = options_;
    options.flow.arrivals.rate = rate;
    auto scenario = scenarios::make_scenario(r_.scenario, options);
    const Cell cell{r_.scenario, r_.pool, workers};
    progress_started(cell.name());
    Metrics metrics(cell, *scenario, usable_);
    {
      auto executor = make_executor(r_.pool, {workers, {}, task_timeout_});
      for (int run = 0; run < repetitions_; ++run) {
        const scenarios::RunRecord record = scenario->run(*executor);
        if (!record.ok())
          throw Error(
              fmt::format("{} at {} workers and {:g}/s failed: {}", cell.name(), workers, rate, record.first_error));
        metrics.add(record);
      }
      metrics.before_shutdown(*executor);
    }
    const Counters counters = metrics.counters();
    SloProbe p;
    p.workers = workers;
    p.rate = rate;
    p.offered = counter(counters, counter_key("offered_rate"));
    p.p99_us = counter(counters, counter_key("latency_p99_us"));
    p.saturated = counter(counters, counter_key("saturated")) > 0;
    p.meets = !p.saturated && p.p99_us <= slo_us_;
    std::fprintf(stderr, "tune: %s on %s, %zu workers at %g/s: p99 %.0f us%s -> %s\n", r_.scenario.c_str(),
                 r_.pool.c_str(), workers, rate, p.p99_us, p.saturated ? ", saturated" : "",
                 p.meets ? "meets the objective" : "misses it");
    progress_finished(cell.name());
    return p;
  }

 private:
  const TuneRequest& r_;
  scenarios::ScenarioOptions options_;
  double slo_us_;
  unsigned usable_;
  int repetitions_;
  std::chrono::nanoseconds task_timeout_;
};

nlohmann::ordered_json probe_json(const SloProbe& p) {
  nlohmann::ordered_json j;
  j[counter_key("workers")] = p.workers;
  j[tuning_key("slo_rate")] = p.rate;
  j[counter_key("offered_rate")] = p.offered;
  j[counter_key("latency_p99_us")] = p.p99_us;
  j[counter_key("saturated")] = p.saturated ? 1 : 0;
  j[tuning_key("meets")] = p.meets ? 1 : 0;
  return j;
}

}  // namespace

double parse_latency_us(const std::string& flag, const std::string& text) {
  static const std::regex pattern(R"(^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(us|ms|s)\s*$)");
  std::smatch m;
  if (!std::regex_match(text, m, pattern))
    throw ConfigError(fmt::format("{} {} needs a number and a unit: us, ms or s (for example 50ms)", flag, text));
  const double scale = m[2] == "us" ? 1 : m[2] == "ms" ? 1e3 : 1e6;
  const double us = std::stod(m[1]) * scale;
  if (!(us > 0) || us > 3600e6) throw ConfigError(fmt::format("{} {} must be above 0 and at most 1 hour", flag, text));
  return us;
}

int tune_for_objective(const TuneRequest& r) {
  if (!r.slo_p99)
    throw ConfigError("tune --rate needs --slo-p99: at a rate, tune sizes the pool for a latency objective");
  const double slo_us = parse_latency_us("--slo-p99", *r.slo_p99);
  const bool at_rate = r.knobs.rate.has_value();
  const int repetitions = r.repetitions ? static_cast<int>(*r.repetitions) : 1;
  if (repetitions < 1 || repetitions > 100)
    throw ConfigError(fmt::format("--repetitions {} is out of range (allowed: 1 to 100 with --slo-p99)", repetitions));
  // Each probe is an open loop of --duration: 2 s at one rate, 1 s per step of a frontier.
  KnobFlags flags = r.knobs;
  if (!flags.duration_s) flags.duration_s = at_rate ? 2.0 : 1.0;
  if (!flags.rate) flags.rate = 1.0;  // each step of the frontier sets its own
  const scenarios::ScenarioOptions options = resolve_knobs(flags, r.quick);
  scenarios::make_scenario(r.scenario, options);  // checks the knobs before anything runs
  const Topology& topology = Topology::machine();
  const std::size_t auto_workers = workers_for(parse_sizing_rule("auto"), topology.size());
  const std::size_t cap = r.max_workers ? static_cast<std::size_t>(*r.max_workers) : (at_rate ? 256 : 4 * auto_workers);
  const double most_rate = scenarios::highest_rate(r.scenario, options);
  const std::string unit = throughput_unit(r.scenario);
  OutputFile output(r.out);
  Prober prober(r, options, slo_us, topology.usable_cpus(), repetitions, resolve_task_timeout(r.knobs));

  nlohmann::ordered_json j;
  j["context"] = machine_context(topology, parse_sizing_rule("auto"));
  auto& tuning = j["tuning"];
  tuning[tuning_key("objective")] = at_rate ? "p99 at a rate" : "frontier";
  tuning[tuning_key("scenario")] = r.scenario;
  tuning[tuning_key("pool")] = r.pool;
  tuning[tuning_key("throughput_unit")] = unit;
  tuning[tuning_key("slo_p99_us")] = slo_us;
  auto& probes = tuning[tuning_key("probes")] = nlohmann::ordered_json::array();
  std::string recommendation;
  const double duration = *flags.duration_s;
  std::cout << fmt::format(
      "tune {} on {} for p99 <= {:g} us{}: {} usable CPU(s), cgroup limit {}, open loop of {:g} s per probe, {} "
      "arrivals\n\n",
      r.scenario, r.pool, slo_us, at_rate ? fmt::format(" at {:g} {}", *r.knobs.rate, unit) : std::string(),
      topology.usable_cpus(), cgroup_limit_text(topology), duration, r.knobs.arrivals.value_or("poisson"));

  if (at_rate) {
    const double rate = *r.knobs.rate;
    tuning[tuning_key("slo_rate")] = rate;
    progress_begin("probes", 2 * (std::bit_width(cap) + 1), /*at_most=*/true);
    const SizeSearch search = smallest_meeting_size(cap, [&](std::size_t n) { return prober.probe(n, rate); });
    std::cout << fmt::format("{:>8}{:>12}{:>11}{:>7}\n", "workers", "p99 us", "saturated", "meets");
    for (const auto& p : search.probes) {
      std::cout << fmt::format("{:>8}{:>12.0f}{:>11}{:>7}\n", p.workers, p.p99_us, p.saturated ? "yes" : "no",
                               p.meets ? "yes" : "no");
      probes.push_back(probe_json(p));
    }
    if (search.pick) {
      const auto it = std::find_if(search.probes.begin(), search.probes.end(),
                                   [&](const SloProbe& p) { return p.workers == *search.pick; });
      tuning[tuning_key("pick_workers")] = *search.pick;
      recommendation = fmt::format(
          "use {} workers: the smallest size whose p99 ({:.0f} us) stays within {:g} us at {:g} {} without "
          "saturating{}",
          *search.pick, it->p99_us, slo_us, rate, unit,
          *search.pick == 1 ? std::string() : fmt::format("; {} workers miss it", *search.pick - 1));
    } else {
      const SloProbe* closest = search.closest();
      tuning[tuning_key("pick_workers")] = nullptr;
      tuning[tuning_key("closest_workers")] = closest->workers;
      recommendation = fmt::format(
          "no size up to {} workers meets p99 <= {:g} us at {:g} {}: the closest was {} workers, p99 {:.0f} us{}", cap,
          slo_us, rate, unit, closest->workers, closest->p99_us, closest->saturated ? " and saturated" : "");
    }
  } else {
    std::vector<std::size_t> sizes;
    for (std::size_t n = 1; n < cap; n *= 2) sizes.push_back(n);
    sizes.push_back(cap);
    if (auto_workers <= cap) sizes.push_back(auto_workers);
    std::sort(sizes.begin(), sizes.end());
    sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
    progress_begin("sizes", sizes.size());
    auto& frontier = tuning[tuning_key("frontier")] = nlohmann::ordered_json::array();
    std::cout << fmt::format("{:>8}{:>22}{:>14}{:>9}\n", "workers", "sustained " + unit, "per worker", "probes");
    std::size_t best = 0;
    double best_per_worker = 0;
    for (std::size_t n : sizes) {
      const RateSearch search = highest_sustained_rate(100.0 * static_cast<double>(n), most_rate,
                                                       [&](double rate) { return prober.probe(n, rate); });
      for (const auto& p : search.probes) probes.push_back(probe_json(p));
      const double per_worker = search.sustained / static_cast<double>(n);
      nlohmann::ordered_json point;
      point[counter_key("workers")] = n;
      point[tuning_key("sustained_rate")] = search.sustained;
      point[tuning_key("sustained_rate_per_worker")] = per_worker;
      frontier.push_back(point);
      std::cout << fmt::format("{:>8}{:>22.1f}{:>14.1f}{:>9}\n", n, search.sustained, per_worker, search.probes.size());
      if (per_worker > best_per_worker) {
        best_per_worker = per_worker;
        best = n;
      }
    }
    tuning[tuning_key("pick_workers")] = best ? nlohmann::ordered_json(best) : nlohmann::ordered_json(nullptr);
    recommendation =
        best ? fmt::format("use {} workers: the most headroom per worker, {:.1f} {} each within p99 <= {:g} us", best,
                           best_per_worker, unit, slo_us)
             : fmt::format("no size up to {} workers meets p99 <= {:g} us even at the lowest rate tried", cap, slo_us);
  }
  tuning[tuning_key("recommendation")] = recommendation;
  std::cout << fmt::format("\nrecommendation: {}\n", recommendation);
  if (!r.out.empty()) {
    output.write(j.dump(2) + "\n");
    output.commit();
    std::fprintf(stderr, "tune: wrote %s\n", r.out.c_str());
  }
  return 0;
}

}  // namespace poolbench::bench
