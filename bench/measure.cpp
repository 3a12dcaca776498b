#include "bench/measure.hpp"

#include "bench/heap_counter.hpp"
#include "bench/metrics.hpp"
#include "pools/registry.hpp"

namespace poolbench::bench {

void measure(benchmark::State& state, const Cell& cell, scenarios::Scenario& scenario, const Topology& topology,
             const MeasureOptions& options, bool& failed) {
  Metrics metrics(cell, scenario, topology.usable_cpus());
  std::unique_ptr<Executor> executor;
  try {
    executor = make_executor(cell.pool,
                             {cell.workers, topology.placement(options.pinning, cell.workers), options.task_timeout});
  } catch (const std::exception& e) {
    failed = true;
    state.SkipWithError((std::string("cannot build the executor: ") + e.what()).c_str());
    return;
  }
  for (auto _ : state) {
    const std::uint64_t allocations_before = heap_allocations();
    scenarios::RunRecord record = scenario.run(*executor);
    const std::uint64_t allocations = heap_allocations() - allocations_before;
    if (!record.ok()) {
      failed = true;
      const std::string reason = std::to_string(record.failures) + " failure(s); first: " + record.first_error;
      state.SkipWithError(reason.c_str());
      break;
    }
    metrics.add(record, allocations);
    if (options.trace) options.trace->add_run(cell.name(), cell.pool, cell.workers, record, executor->worker_threads());
  }
  metrics.before_shutdown(*executor);
  executor.reset();
  for (const auto& [name, value] : metrics.counters()) state.counters[std::string(name)] = value;
}

}  // namespace poolbench::bench
