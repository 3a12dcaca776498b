#include "bench/run_command.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <regex.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "bench/benchmark_grid.hpp"
#include "bench/interrupt.hpp"
#include "bench/kernel_counters.hpp"
#include "bench/machine_info.hpp"
#include "bench/output_file.hpp"
#include "bench/table_reporter.hpp"
#include "pools/core/errors.hpp"
#include "pools/core/named_table.hpp"
#include "pools/registry.hpp"

namespace poolbench::bench {
namespace {

void add_context(const Topology& topology, const SizingRule& rule) {
  const auto context = machine_context(topology, rule);
  for (const auto& [key, value] : context.items())
    benchmark::AddCustomContext(key, value.is_string() ? value.get<std::string>() : value.dump());
}

/// How many of `names` (Google Benchmark's full names) `filter` selects, by Google
/// Benchmark's own rule: a POSIX extended regular expression searched for in the name,
/// "all" or nothing for every one, a leading '-' for those it does not match. 0 when the
/// filter is not a valid expression (Google Benchmark then refuses it).
std::size_t count_selected(const std::vector<std::string>& names, std::string filter) {
  const bool negative = !filter.empty() && filter[0] == '-';
  if (negative) filter.erase(0, 1);
  if (filter.empty() || filter == "all") filter = ".";
  regex_t re;
  if (::regcomp(&re, filter.c_str(), REG_EXTENDED | REG_NOSUB) != 0) return 0;
  const std::size_t selected =
      static_cast<std::size_t>(std::count_if(names.begin(), names.end(), [&](const std::string& name) {
        return (::regexec(&re, name.c_str(), 0, nullptr, 0) == 0) != negative;
      }));
  ::regfree(&re);
  return selected;
}

}  // namespace

int run_benchmarks(const RunRequest& request) {
  const Topology& topology = Topology::machine();
  GridOptions grid;
  grid.pools = checked_names(request.pools, executor_names(), "executor");
  grid.scenarios = checked_names(request.scenarios, scenarios::scenario_names(), "scenario");
  grid.pinning = parse_pinning(request.pinning);
  grid.knobs = resolve_knobs(request.knobs, request.quick);
  grid.task_timeout = resolve_task_timeout(request.knobs);
  if (grid.knobs.flow.submission == scenarios::Submission::post) {
    // Posted closures cannot cross into a worker process: left out unless asked for by name.
    const auto out_of_process = std::find_if_not(
        grid.pools.begin(), grid.pools.end(), [](const std::string& pool) { return executor_traits(pool).in_process; });
    if (out_of_process != grid.pools.end() && !request.pools.empty())
      throw ConfigError(
          fmt::format("--submit post cannot run on {}: it runs only registered tasks in its worker "
                      "processes (use --submit future, or leave it out of --pools)",
                      *out_of_process));
    std::erase_if(grid.pools, [](const std::string& pool) { return !executor_traits(pool).in_process; });
  }
  if (request.workers.empty()) {
    grid.workers = request.quick ? quick_sizes(topology.size()) : sweep_sizes(topology.size());
  } else {
    for (const auto& w : request.workers) grid.workers.push_back(workers_for(parse_sizing_rule(w), topology.size()));
    std::sort(grid.workers.begin(), grid.workers.end());
    grid.workers.erase(std::unique(grid.workers.begin(), grid.workers.end()), grid.workers.end());
  }
  for (const auto& flag : request.benchmark_flags)
    if (flag.rfind("--benchmark_", 0) != 0 || flag.rfind("--benchmark_out", 0) == 0)
      throw ConfigError(
          fmt::format("unknown option '{}' (Google Benchmark flags start with --benchmark_; "
                      "use --out for the JSON file)",
                      flag));

  if (!request.trace.empty()) time_every_task_for_trace(grid.knobs.flow);
  std::vector<std::unique_ptr<scenarios::Scenario>> scenarios;
  for (const auto& name : grid.scenarios) scenarios.push_back(scenarios::make_scenario(name, grid.knobs));

  OutputFile output(request.out);
  const std::unique_ptr<TraceRecorder> trace = open_trace(request.trace, request.trace_limit);
  grid.trace = trace.get();
  std::vector<std::string> args{"poolbench"};
  if (!output.temp_path().empty()) {
    // Through the open fd: should an interrupt remove the temporary file first, Google
    // Benchmark's opening it by this name creates none.
    args.push_back("--benchmark_out=" + output.writer_path());
    args.push_back("--benchmark_out_format=json");
  }
  // Quick runs settle for 0.2 s per benchmark; a --benchmark_min_time given later wins.
  if (request.quick) args.push_back("--benchmark_min_time=0.2");
  args.insert(args.end(), request.benchmark_flags.begin(), request.benchmark_flags.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  int argc = static_cast<int>(argv.size());
  benchmark::Initialize(&argc, argv.data());
  if (argc > 1)
    throw ConfigError(
        fmt::format("unknown Google Benchmark flag '{}' (see --benchmark_list_tests, "
                    "--benchmark_filter, --benchmark_repetitions, --benchmark_min_time)",
                    argv[1]));

  KernelCounters::process();  // before any executor exists, so that its workers count
  add_context(topology, parse_sizing_rule("auto"));
  bool any_failed = false;
  std::vector<std::string> names = register_probes(any_failed);
  for (auto& name : register_grid(grid, scenarios, topology, any_failed)) names.push_back(std::move(name));
  progress_begin("benchmarks", count_selected(names, benchmark::GetBenchmarkFilter()));
  TableReporter table;
  benchmark::RunSpecifiedBenchmarks(&table);
  benchmark::Shutdown();
  output.commit();
  if (!request.out.empty()) std::fprintf(stderr, "poolbench: wrote %s\n", request.out.c_str());
  if (trace) trace->commit_and_say("poolbench");
  if (any_failed) {
    std::fprintf(stderr, "poolbench: some benchmarks failed; see ERROR lines above (error_occurred in the JSON)\n");
    return 1;
  }
  return 0;
}

}  // namespace poolbench::bench
