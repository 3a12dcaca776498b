#pragma once

#include <benchmark/benchmark.h>

namespace poolbench::bench {

/// The table for people: one line per benchmark with throughput, latency, queue wait,
/// efficiency and CPU use, and the reason in place of figures when a run errored. The
/// JSON for tools is Google Benchmark's own reporter, written alongside.
class TableReporter final : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context& context) override;
  void ReportRuns(const std::vector<Run>& runs) override;
};

}  // namespace poolbench::bench
