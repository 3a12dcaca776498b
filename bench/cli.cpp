#include "bench/cli.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "bench/interrupt.hpp"
#include "bench/machine_info.hpp"
#include "bench/probes.hpp"
#include "bench/run_command.hpp"
#include "bench/schema.hpp"
#include "bench/tune_command.hpp"
#include "pools/core/errors.hpp"
#include "pools/core/named_table.hpp"
#include "pools/machine/sizing.hpp"
#include "pools/machine/topology.hpp"
#include "pools/registry.hpp"
#include "scenarios/scenario.hpp"

namespace poolbench::bench {
namespace {

constexpr int exit_bad_input = 2;

int print_info(bool json, const SizingRule& rule, Pinning pinning) {
  const Topology& topology = Topology::machine();
  const std::size_t workers = workers_for(rule, topology.size());
  const Placement placement = topology.placement(pinning, workers);
  if (json) {
    auto j = machine_context(topology, rule);
    nlohmann::ordered_json by_rule;
    for (const auto& name : sizing_rule_names()) by_rule[name] = workers_for(parse_sizing_rule(name), topology.size());
    j[info_key("workers_by_rule")] = by_rule;
    j[info_key("pinning")] = pinning_name(pinning);
    auto& sets = j[info_key("placement")] = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < placement.sets.size() && i < workers; ++i)
      sets.push_back(placement.sets[i].to_string());
    std::cout << j.dump(2) << '\n';
  } else {
    std::cout << describe_machine(topology, rule);
    if (pinning != Pinning::none) {
      std::cout << fmt::format("placement ({}): ", pinning_name(pinning));
      for (std::size_t i = 0; i < workers; ++i)
        std::cout << (i ? ", " : "") << "worker " << i << " -> PU " << placement.for_worker(i)->to_string();
      std::cout << '\n';
    }
  }
  return 0;
}

int print_list() {
  for (const auto& name : executor_names())
    std::cout << fmt::format("executor  {:<16}{}\n", name, executor_traits(name).description);
  for (const auto& name : scenarios::scenario_names())
    std::cout << fmt::format("scenario  {:<16}{}\n", name, scenarios::scenario_traits(name).description);
  return 0;
}

int print_probes(const std::vector<std::string>& wanted, bool json) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  if (!json) std::cout << fmt::format("{:<24}{:>14}{:>9}  {}\n", "probe", "ns per op", "spread", "one operation");
  progress_begin("probes", wanted.size());
  for (const auto& name : wanted) {
    progress_started(name);
    const ProbeResult r = run_probe(name);
    progress_finished(name);
    if (json) {
      out.push_back({{"name", r.name},
                     {counter_key("ns_per_op"), r.ns_per_op},
                     {counter_key("spread"), r.spread},
                     {counter_key("operations"), r.operations},
                     {"description", r.description}});
    } else {
      std::cout << fmt::format("{:<24}{:>14.0f}{:>8.1f}%  {}\n", r.name, r.ns_per_op, 100 * r.spread, r.description)
                << std::flush;
    }
  }
  if (json) std::cout << out.dump(2) << '\n';
  return 0;
}

int print_schema(bool json) {
  if (json)
    std::cout << schema_json().dump(2) << '\n';
  else
    std::cout << describe_schema();
  return 0;
}

void add_run_options(CLI::App& run, RunRequest& r) {
  run.add_option("--pools", r.pools, "Executors to measure (default: all)")->delimiter(',');
  run.add_option("--scenarios", r.scenarios, "Scenarios to run (default: all)")->delimiter(',');
  run.add_option("--workers", r.workers, "Sizes: numbers or rules (auto, cpus, cores, py38)")->delimiter(',');
  run.add_flag("--quick", r.quick, "Small knobs and sizes {1, usable CPUs, auto}: a few minutes at most");
  run.add_option("--out", r.out, "Write Google Benchmark JSON here (atomically)");
  run.add_option("--trace", r.trace,
                 "Time every task and write a timeline in the Chrome trace-event format here (Perfetto, "
                 "chrome://tracing)");
  run.add_option("--trace-limit", r.trace_limit, "Most tasks the trace keeps; whole runs only")->capture_default_str();
  run.add_option("--pinning", r.pinning, "Bind workers: none, compact or scatter")->capture_default_str();
  add_knob_options(run, r.knobs);
  run.allow_extras();
}

void add_tune_options(CLI::App& tune, TuneRequest& r) {
  tune.add_option("--scenario", r.scenario, "The workload to size a pool for: cpu, sleep, mixed or socket")->required();
  tune.add_option("--pool", r.pool, "The executor to size")->capture_default_str();
  tune.add_option("--max-workers", r.max_workers, "Largest size to try (default: as many as the run has tasks)");
  tune.add_option("--repetitions", r.repetitions,
                  "Rounds of visits, one measured run per size each (default 5, at least 2: the U test compares them)");
  tune.add_option("--slo-p99", r.slo_p99,
                  "Size for a latency objective instead (e.g. 50ms): with --rate, the smallest size whose p99 stays "
                  "within it; alone, the highest rate each size sustains within it");
  tune.add_flag("--quick", r.quick, "Small knobs");
  tune.add_option("--out", r.out, "Write the sweep and the verdict as JSON here (atomically)");
  tune.add_option("--trace", r.trace,
                  "Time every task and write the measured runs as a Chrome trace-event timeline here (Perfetto)");
  tune.add_option("--trace-limit", r.trace_limit, "Most tasks the trace keeps; whole runs only")->capture_default_str();
  add_knob_options(tune, r.knobs);
}

std::string subcommand_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    names.push_back(sub->get_name());
  return join_names(names);
}

bool is_subcommand(const CLI::App& app, const std::string& name) {
  return !app.get_subcommands([&](const CLI::App* sub) { return sub->check_name(name); }).empty();
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"poolbench: which way of running many tasks, and how many workers, is fastest here - and why?",
               "poolbench"};
  app.require_subcommand(1);

  bool json = false;
  std::string rule_text = "auto";
  std::string pinning_text = "none";
  auto* info = app.add_subcommand("info", "Print the topology, usable CPUs, cgroup limit and sizes by rule");
  info->add_flag("--json", json, "Print JSON (the keys of the run JSON's context)");
  info->add_option("--sizing", rule_text, "Default sizing rule: auto, cpus, cores, py38 or a number")
      ->capture_default_str();
  info->add_option("--pinning", pinning_text, "Show where workers would run: none, compact or scatter")
      ->capture_default_str();
  auto* list = app.add_subcommand("list", "Print the executors and scenarios, one per line");
  RunRequest run_request;
  auto* run = app.add_subcommand("run", "Measure executors on scenarios across worker counts");
  add_run_options(*run, run_request);
  std::vector<std::string> probe_request;
  bool probe_json = false;
  auto* probe = app.add_subcommand("probe", "Measure the primitives executors are built from, on this machine now");
  probe->add_option("--probes", probe_request, "Which probes (default: all)")->delimiter(',');
  probe->add_flag("--json", probe_json, "Print JSON");
  bool schema_as_json = false;
  auto* schema = app.add_subcommand("schema", "Print every key the JSON output holds, with its unit and meaning");
  schema->add_flag("--json", schema_as_json, "Print JSON: a list of {name, where, unit, meaning, when}");
  TuneRequest tune_request;
  auto* tune = app.add_subcommand("tune", "Find the best pool size for a scenario on this machine");
  add_tune_options(*tune, tune_request);

  try {
    if (argc > 1 && argv[1][0] != '-' && !is_subcommand(app, argv[1]))
      throw ConfigError(fmt::format("unknown command '{}' (allowed: {})", argv[1], subcommand_names(app)));
    app.parse(argc, argv);
    if (info->parsed()) return print_info(json, parse_sizing_rule(rule_text), parse_pinning(pinning_text));
    if (list->parsed()) return print_list();
    if (schema->parsed()) return print_schema(schema_as_json);
    if (run->parsed()) {
      run_request.benchmark_flags = run->remaining();
      return run_benchmarks(run_request);
    }
    if (tune->parsed()) return tune_pool_size(tune_request);
    if (probe->parsed()) return print_probes(checked_names(probe_request, probe_names(), "probe"), probe_json);
    return exit_bad_input;
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "poolbench: %s\n", e.what());
    return exit_bad_input;
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "poolbench: %s\n", e.what());
    return exit_bad_input;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "poolbench: %s\n", e.what());
    return 1;
  }
}

}  // namespace poolbench::bench
