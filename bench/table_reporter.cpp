#include "bench/table_reporter.hpp"

#include <fmt/format.h>

#include <ostream>
#include <string>
#include <string_view>

#include "bench/interrupt.hpp"
#include "bench/schema.hpp"

namespace poolbench::bench {
namespace {

double run_counter(const benchmark::BenchmarkReporter::Run& run, std::string_view name) {
  const auto it = run.counters.find(std::string(name));
  return it == run.counters.end() ? 0.0 : static_cast<double>(it->second);
}

}  // namespace

bool TableReporter::ReportContext(const Context&) {
  GetOutputStream() << fmt::format("{:<44}{:>13}{:>11}{:>11}{:>11}{:>7}{:>7}\n", "benchmark", "tasks/s", "p50 us",
                                   "p99 us", "wait p99", "eff", "cpu");
  return true;
}

void TableReporter::ReportRuns(const std::vector<Run>& runs) {
  auto& out = GetOutputStream();
  for (const Run& run : runs) {
    progress_finished(run.run_name.function_name);
    const std::string name = run.benchmark_name();
    if (run.error_occurred) {
      out << fmt::format("{:<44}ERROR: {}\n", name, run.error_message);
      continue;
    }
    if (name.rfind("probe/", 0) == 0) {
      out << fmt::format("{:<44}{:>13.0f} ns per operation (spread {:.1f}%)\n", name,
                         run_counter(run, counter_key("ns_per_op")), 100 * run_counter(run, counter_key("spread")));
      continue;
    }
    if (name.rfind("raw/", 0) == 0) {
      out << fmt::format("{:<44}{:>13.0f}  {:.0f} ns per task, the library alone\n", name,
                         run_counter(run, counter_key("tasks_per_second")), run_counter(run, counter_key("ns_per_op")));
      continue;
    }
    if (name.rfind("paired/", 0) == 0) {
      out << fmt::format(
          "{:<44}{:>13.0f} ns per task against {:.0f} for the library alone: {:.2f}x (rounds "
          "{:.2f}x to {:.2f}x)\n",
          name, run_counter(run, counter_key("ns_per_op")), run_counter(run, counter_key("library_ns_per_op")),
          run_counter(run, counter_key("ratio")), run_counter(run, counter_key("ratio_min")),
          run_counter(run, counter_key("ratio_max")));
      continue;
    }
    const double rps = run_counter(run, counter_key("requests_per_second"));
    const double efficiency = run_counter(run, counter_key("efficiency"));
    out << fmt::format(
        "{:<44}{:>13.0f}{:>11.1f}{:>11.1f}{:>11.1f}{:>7}{:>6.0f}%{}\n", name,
        run_counter(run, counter_key("tasks_per_second")), run_counter(run, counter_key("latency_p50_us")),
        run_counter(run, counter_key("latency_p99_us")), run_counter(run, counter_key("queue_wait_p99_us")),
        efficiency > 0 ? fmt::format("{:.2f}", efficiency) : std::string("-"),
        100.0 * run_counter(run, counter_key("cpu_utilization")),
        rps > 0 ? fmt::format("  {:.0f} req/s, rtt p99 {:.0f} us", rps, run_counter(run, counter_key("rtt_p99_us")))
                : std::string());
  }
  out.flush();
}

}  // namespace poolbench::bench
