#include "bench/cli.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "bench/machine_info.hpp"
#include "pools/errors.hpp"
#include "pools/registry.hpp"
#include "pools/sizing.hpp"
#include "pools/topology.hpp"

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
    j["workers_by_rule"] = by_rule;
    j["pinning"] = pinning_name(pinning);
    auto& sets = j["placement"] = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < placement.sets.size() && i < workers; ++i) sets.push_back(placement.sets[i].to_string());
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
    std::cout << fmt::format("executor  {:<16}{}\n", name, executor_description(name));
  return 0;
}

std::string subcommand_names(const CLI::App& app) {
  std::string names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    names += (names.empty() ? "" : ", ") + sub->get_name();
  return names;
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

  try {
    if (argc > 1 && argv[1][0] != '-' && !is_subcommand(app, argv[1]))
      throw ConfigError(fmt::format("unknown command '{}' (allowed: {})", argv[1], subcommand_names(app)));
    app.parse(argc, argv);
    if (info->parsed()) return print_info(json, parse_sizing_rule(rule_text), parse_pinning(pinning_text));
    if (list->parsed()) return print_list();
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
