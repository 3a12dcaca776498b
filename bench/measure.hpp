#pragma once

#include <benchmark/benchmark.h>

#include "bench/benchmark_grid.hpp"
#include "bench/trace_recorder.hpp"
#include "pools/machine/topology.hpp"
#include "scenarios/scenario.hpp"

namespace poolbench::bench {

/// The body of every poolbench benchmark: builds the cell's executor outside the timed
/// loop, runs the scenario once per iteration, and sets the JSON counters (throughput,
/// latency and queue-wait percentiles, CPU use, context switches, peak RSS, threads and
/// processes created, efficiency against the ideal). A failed run marks the benchmark
/// errored with its reason and sets `failed`.
/// How `measure` builds its executor and where its runs go besides the counters.
struct MeasureOptions {
  Pinning pinning = Pinning::none;
  std::chrono::nanoseconds task_timeout = std::chrono::seconds(60);
  TraceRecorder* trace = nullptr;  ///< receives each run, when tracing
};

void measure(benchmark::State& state, const Cell& cell, scenarios::Scenario& scenario, const Topology& topology,
             const MeasureOptions& options, bool& failed);

}  // namespace poolbench::bench
