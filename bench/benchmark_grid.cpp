#include "bench/benchmark_grid.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>

#include "bench/interrupt.hpp"
#include "bench/measure.hpp"
#include "bench/paired_runs.hpp"
#include "bench/probes.hpp"
#include "bench/raw_libraries.hpp"
#include "bench/schema.hpp"
#include "pools/registry.hpp"

namespace poolbench::bench {

std::string Cell::name() const { return scenario + "/" + pool + "/workers:" + std::to_string(workers); }

std::vector<std::size_t> quick_sizes(const MachineSize& machine) {
  std::vector<std::size_t> sizes{1, workers_for(parse_sizing_rule("cpus"), machine),
                                 workers_for(parse_sizing_rule("auto"), machine)};
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  return sizes;
}

std::vector<std::size_t> sweep_sizes(const MachineSize& machine) {
  const std::size_t automatic = workers_for(parse_sizing_rule("auto"), machine);
  std::vector<std::size_t> sizes{automatic};
  for (std::size_t n = 1; n <= std::min<std::size_t>(4 * automatic, max_workers); n *= 2) sizes.push_back(n);
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  return sizes;
}

std::vector<Cell> expand_grid(const GridOptions& options,
                              const std::vector<std::unique_ptr<scenarios::Scenario>>& scenarios) {
  std::vector<Cell> cells;
  for (const auto& scenario : scenarios) {
    const std::string name(scenario->name());
    for (const auto& pool : options.pools) {
      const ExecutorTraits& traits = executor_traits(pool);
      if (traits.worker_per_task) {
        cells.push_back({name, pool, static_cast<std::size_t>(scenario->tasks_per_run())});
      } else if (!traits.sized) {
        cells.push_back({name, pool, 1});
      } else {
        for (std::size_t workers : options.workers) cells.push_back({name, pool, workers});
      }
    }
  }
  return cells;
}

Counters probe_counters(const ProbeResult& result) {
  return {{counter_key("ns_per_op"), result.ns_per_op},
          {counter_key("spread"), result.spread},
          {counter_key("operations"), static_cast<double>(result.operations)}};
}

std::vector<std::string> register_probes(bool& any_failed) {
  std::vector<std::string> full_names;
  for (const auto& name : probe_names()) {
    auto* b = benchmark::RegisterBenchmark(("probe/" + name).c_str(), [name, &any_failed](benchmark::State& state) {
      progress_started("probe/" + name);
      ProbeResult result;
      for (auto _ : state) {
        try {
          result = run_probe(name);
        } catch (const std::exception& e) {
          any_failed = true;
          state.SkipWithError(e.what());
          break;
        }
      }
      for (const auto& [counter, value] : probe_counters(result)) state.counters[std::string(counter)] = value;
    });
    b->UseRealTime()->Iterations(1)->Unit(benchmark::kMillisecond);
    full_names.push_back("probe/" + name + "/iterations:1/real_time");
  }
  return full_names;
}

bool measures_empty_tasks(const GridOptions& options) {
  return std::find(options.scenarios.begin(), options.scenarios.end(), "cpu") != options.scenarios.end() &&
         options.knobs.iterations == 0 && options.knobs.flow.arrivals.rate == 0;
}

std::string raw_library_row(const std::string& name, std::size_t workers) {
  return "raw/" + name + "/workers:" + std::to_string(workers);
}

Counters raw_library_counters(std::size_t workers, std::uint64_t tasks, std::uint64_t runs, std::uint64_t wall_ns) {
  const double all = static_cast<double>(tasks) * static_cast<double>(runs);
  const double seconds = static_cast<double>(wall_ns) / 1e9;
  return {{counter_key("workers"), static_cast<double>(workers)},
          {counter_key("tasks"), static_cast<double>(tasks)},
          {counter_key("tasks_per_second"), seconds > 0 ? all / seconds : 0},
          {counter_key("ns_per_op"), all > 0 ? static_cast<double>(wall_ns) / all : 0}};
}

std::vector<std::string> register_raw_libraries(const GridOptions& options, bool& any_failed) {
  std::vector<std::string> full_names;
  if (!measures_empty_tasks(options)) return full_names;
  const std::uint64_t tasks = options.knobs.tasks;
  for (const auto& name : raw_library_names()) {
    for (std::size_t workers : options.workers) {
      const std::string row = raw_library_row(name, workers);
      auto* b =
          benchmark::RegisterBenchmark(row.c_str(), [name, workers, tasks, row, &any_failed](benchmark::State& state) {
            progress_started(row);
            std::unique_ptr<TaskBatch> library;
            try {
              library = make_raw_library_run(name, workers);
              library->run(tasks);  // warm-up: threads started, memory pools filled
            } catch (const std::exception& e) {
              any_failed = true;
              state.SkipWithError(e.what());
              return;
            }
            std::uint64_t wall_ns = 0;
            for (auto _ : state) {
              const std::uint64_t start = scenarios::now_ns();
              library->run(tasks);
              wall_ns += scenarios::now_ns() - start;
            }
            for (const auto& [counter, value] : raw_library_counters(workers, tasks, state.iterations(), wall_ns))
              state.counters[std::string(counter)] = value;
          });
      b->UseRealTime()->Unit(benchmark::kMillisecond);
      full_names.push_back(row + "/real_time");
    }
  }
  return full_names;
}

std::string paired_row(const LibraryPair& pair, std::size_t workers) {
  return "paired/" + std::string(pair.pool) + "/" + std::string(pair.library) + "/workers:" + std::to_string(workers);
}

Counters paired_counters(std::size_t workers, std::uint64_t tasks, bool posted, const PairedTiming& timing) {
  Counters counters{{counter_key("workers"), static_cast<double>(workers)},
                    {counter_key("tasks"), static_cast<double>(tasks)},
                    {counter_key("ns_per_op"), timing.ns_per_op},
                    {counter_key("library_ns_per_op"), timing.library_ns_per_op},
                    {counter_key("ratio"), timing.ratio},
                    {counter_key("ratio_min"), timing.ratio_min},
                    {counter_key("ratio_max"), timing.ratio_max},
                    {counter_key("rounds"), static_cast<double>(timing.rounds)}};
  if (posted) counters.emplace_back(counter_key("posted"), 1);
  if (timing.context_switches) {
    counters.emplace_back(counter_key("kernel_context_switches_per_task"), *timing.context_switches);
    counters.emplace_back(counter_key("library_context_switches_per_task"), *timing.library_context_switches);
  }
  return counters;
}

std::vector<std::string> register_paired_runs(const GridOptions& options, bool& any_failed) {
  std::vector<std::string> full_names;
  if (!measures_empty_tasks(options)) return full_names;
  const std::uint64_t tasks = options.knobs.tasks;
  const scenarios::Submission submission = options.knobs.flow.submission;
  for (const LibraryPair& pair : library_pairs()) {
    if (std::find(options.pools.begin(), options.pools.end(), pair.pool) == options.pools.end()) continue;
    for (std::size_t workers : options.workers) {
      const std::string row = paired_row(pair, workers);
      auto* b = benchmark::RegisterBenchmark(
          row.c_str(), [pair, workers, tasks, submission, row, &any_failed](benchmark::State& state) {
            progress_started(row);
            PairedTiming timing;
            for (auto _ : state) {
              try {
                timing = time_pair([&] { return make_executor_batch(pair.pool, workers, submission); },
                                   [&] { return make_raw_library_run(std::string(pair.library), workers); }, tasks,
                                   paired_rounds);
              } catch (const std::exception& e) {
                any_failed = true;
                state.SkipWithError(e.what());
                return;
              }
            }
            for (const auto& [counter, value] :
                 paired_counters(workers, tasks, submission == scenarios::Submission::post, timing))
              state.counters[std::string(counter)] = value;
          });
      b->UseRealTime()->Iterations(1)->Unit(benchmark::kMillisecond);
      full_names.push_back(row + "/iterations:1/real_time");
    }
  }
  return full_names;
}

std::vector<std::string> register_grid(const GridOptions& options,
                                       std::vector<std::unique_ptr<scenarios::Scenario>>& scenarios,
                                       const Topology& topology, bool& any_failed) {
  const std::vector<Cell> cells = expand_grid(options, scenarios);
  std::vector<std::string> full_names;
  for (const Cell& cell : cells) {
    scenarios::Scenario* scenario = nullptr;
    for (auto& s : scenarios)
      if (s->name() == cell.scenario) scenario = s.get();
    auto* b = benchmark::RegisterBenchmark(
        cell.name().c_str(), [cell, scenario, &topology, pinning = options.pinning, timeout = options.task_timeout,
                              trace = options.trace, &any_failed](benchmark::State& state) {
          progress_started(cell.name());
          measure(state, cell, *scenario, topology, {pinning, timeout, trace}, any_failed);
        });
    b->UseRealTime()->Unit(benchmark::kMillisecond);
    full_names.push_back(cell.name() + "/real_time");
  }
  for (auto& name : register_raw_libraries(options, any_failed)) full_names.push_back(std::move(name));
  for (auto& name : register_paired_runs(options, any_failed)) full_names.push_back(std::move(name));
  return full_names;
}

}  // namespace poolbench::bench
