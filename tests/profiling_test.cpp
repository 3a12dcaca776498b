#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "tests/run_command.hpp"

namespace poolbench::testing {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

/// Runs of `poolbench run` with its profiling on, each in a fresh directory.
class Profiling : public ::testing::Test {
 protected:
  /// `poolbench run` with `args`, leaving out the machine probes, which these tests do not need.
  CommandResult run(const std::string& args) {
    return run_command(shell_quote(poolbench) + " run " + without_probes + " " + args);
  }
  std::string path(const std::string& name) const { return shell_quote((dir_ / name).string()); }
  static nlohmann::json read(const fs::path& file) {
    std::ifstream in(file);
    return nlohmann::json::parse(in);
  }
  std::vector<std::string> files() const { return scratch_.files(); }

  ScratchDirectory scratch_{"poolbench-profiling"};
  const fs::path dir_ = scratch_.path();
};

using Track = std::pair<int, int>;  // pid, tid

/// Whether a run file's entry is a machine probe's rather than a scenario's.
bool is_probe(const nlohmann::json& entry) { return entry["name"].get<std::string>().rfind("probe/", 0) == 0; }

Track track_of(const nlohmann::json& e) { return {e["pid"].get<int>(), e["tid"].get<int>()}; }

TEST_F(Profiling, TraceOfEveryExecutorHasAWorkerTrackPerWorkerOneSlicePerTaskAndAFlowPerSubmit) {
  const auto r =
      run("--scenarios sleep,socket --tasks 6 --sleep-ms 1 --connections 2 --round-trips 3 --workers 3 "
          "--benchmark_min_time=0.001 --trace " +
          path("t.json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json trace = read(dir_ / "t.json");
  ASSERT_TRUE(trace["traceEvents"].is_array());
  const nlohmann::json& runs = trace["otherData"]["runs"];
  ASSERT_FALSE(runs.empty());
  const int parent = trace["traceEvents"][0]["pid"].get<int>();

  std::map<Track, std::string> thread_names;
  std::map<int, std::string> process_names;
  std::map<std::size_t, std::map<std::uint64_t, int>> slices_per_task;  // run -> task -> slices
  std::map<std::size_t, std::set<std::uint64_t>> submits_per_run;
  std::set<std::tuple<int, int, double>> task_starts, submit_starts;
  std::map<std::uint64_t, std::tuple<int, int, double>> flow_starts, flow_ends;
  std::size_t counters = 0;
  for (const auto& e : trace["traceEvents"]) {
    const std::string ph = e["ph"];
    if (ph == "M" && e["name"] == "thread_name") thread_names[track_of(e)] = e["args"]["name"];
    if (ph == "M" && e["name"] == "process_name") process_names[e["pid"].get<int>()] = e["args"]["name"];
    if (ph == "s") flow_starts[e["id"]] = {e["pid"], e["tid"], e["ts"]};
    if (ph == "f") flow_ends[e["id"]] = {e["pid"], e["tid"], e["ts"]};
    if (ph == "C") {
      ++counters;
      for (const auto& [key, value] : e["args"].items()) EXPECT_GE(value.get<int>(), 0) << e;
    }
    if (ph != "X" || e["cat"] == "run") continue;
    const auto run_index = e["args"]["run"].get<std::size_t>();
    ASSERT_LT(run_index, runs.size());
    const nlohmann::json& run = runs[run_index];
    const double ts = e["ts"], end = ts + e["dur"].get<double>();
    EXPECT_GE(ts, run["start_us"].get<double>() - 0.002) << e;
    EXPECT_LE(end, run["end_us"].get<double>() + 0.002) << e;
    const auto task = e["args"]["task"].get<std::uint64_t>();
    if (e["cat"] == "task") {
      ++slices_per_task[run_index][task];
      const std::vector<std::vector<int>> tracks = run["worker_tracks"];
      EXPECT_THAT(tracks, ::testing::Contains(std::vector<int>{e["pid"], e["tid"]}))
          << "task " << task << " of run " << run_index << " ran on a track that is not one of its executor's";
      task_starts.insert({e["pid"], e["tid"], ts});
    } else {
      ASSERT_EQ(e["cat"], "submit");
      EXPECT_EQ(e["pid"].get<int>(), parent) << "submits happen in the parent";
      EXPECT_TRUE(submits_per_run[run_index].insert(task).second) << "one submit per task";
      submit_starts.insert({e["pid"], e["tid"], ts});
    }
  }

  std::size_t tasks = 0;
  std::set<std::string> executors;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const nlohmann::json& run = runs[i];
    const std::string executor = run["executor"];
    const std::string scenario = run["scenario"];
    executors.insert(executor);
    SCOPED_TRACE(run["benchmark"].get<std::string>());
    const auto expected = static_cast<std::uint64_t>(scenario == "socket" ? 2 : 6);
    ASSERT_EQ(run["tasks"].get<std::uint64_t>(), expected);
    ASSERT_EQ(slices_per_task[i].size(), expected) << "a slice for every task";
    for (const auto& [task, count] : slices_per_task[i]) {
      EXPECT_LT(task, expected);
      EXPECT_EQ(count, 1) << "exactly one slice for task " << task;
    }
    EXPECT_EQ(submits_per_run[i].size(), expected);
    tasks += expected;
    const std::vector<std::vector<int>> tracks = run["worker_tracks"];
    if (executor == "thread-pool" || executor == "process-pool") {
      EXPECT_EQ(tracks.size(), 3u) << "a track for every worker, idle ones too";
    }
    for (const auto& t : tracks) {
      ASSERT_EQ(t.size(), 2u);
      EXPECT_TRUE(thread_names.count({t[0], t[1]})) << "every worker track is named";
      if (executor == "process-pool") {
        EXPECT_NE(t[0], parent) << "a worker process has its own pid";
        EXPECT_EQ(process_names[t[0]], "process-pool worker pid " + std::to_string(t[0]));
      } else if (executor == "thread-pool") {
        EXPECT_EQ(t[0], parent);
        const Track worker{t[0], t[1]};
        EXPECT_THAT(thread_names[worker], HasSubstr("thread-pool worker "));
      }
    }
  }
  EXPECT_EQ(executors,
            (std::set<std::string>{"sync", "thread-per-task", "thread-pool", "process-pool", "tbb", "asio"}));
  EXPECT_EQ(trace["otherData"]["traced_tasks"].get<std::size_t>(), tasks);
  EXPECT_FALSE(trace["otherData"]["stopped_at_limit"].get<bool>());

  EXPECT_EQ(flow_starts.size(), tasks) << "a flow per task";
  EXPECT_EQ(flow_ends.size(), tasks);
  for (const auto& [id, start] : flow_starts) {
    ASSERT_TRUE(flow_ends.count(id)) << "flow " << id << " has an end";
    EXPECT_TRUE(submit_starts.count(start)) << "flow " << id << " leaves from a submit";
    EXPECT_TRUE(task_starts.count(flow_ends[id])) << "flow " << id << " arrives at a task's start";
  }
  EXPECT_GT(counters, 0u) << "queue depth and busy workers are drawn";
}

TEST_F(Profiling, TraceKeepsWholeRunsUpToItsLimitAndSaysWhereItStopped) {
  const auto r =
      run("--scenarios sleep --pools thread-pool --workers 2 --tasks 4 --sleep-ms 1 "
          "--benchmark_min_time=0.05 --trace-limit 10 --trace " +
          path("t.json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("the trace stopped at 8 tasks (--trace-limit 10)"));
  const nlohmann::json trace = read(dir_ / "t.json");
  EXPECT_EQ(trace["otherData"]["traced_tasks"], 8) << "two whole runs of 4; the third would not fit";
  EXPECT_EQ(trace["otherData"]["runs"].size(), 2u);
  EXPECT_TRUE(trace["otherData"]["stopped_at_limit"].get<bool>());
  std::size_t slices = 0;
  for (const auto& e : trace["traceEvents"])
    if (e["ph"] == "X" && e["cat"] == "task") ++slices;
  EXPECT_EQ(slices, 8u);
}

TEST_F(Profiling, TuneTracesEveryMeasuredRunAndOnlyThose) {
  const auto r = run_command(shell_quote(poolbench) +
                             " tune --scenario sleep --tasks 4 --sleep-ms 1 --max-workers 2 --repetitions 2 --trace " +
                             path("t.json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json trace = read(dir_ / "t.json");
  const nlohmann::json& runs = trace["otherData"]["runs"];
  std::map<std::string, int> per_size;
  for (const auto& run : runs) {
    EXPECT_EQ(run["tasks"], 4);
    EXPECT_EQ(run["executor"], "thread-pool");
    ++per_size[run["benchmark"].get<std::string>()];
  }
  ASSERT_FALSE(per_size.empty());
  for (const auto& [benchmark, visits] : per_size)
    EXPECT_EQ(visits, 2) << benchmark << ": one measured run per visit, the warm-up and scouting runs left out";
  const auto objective = run_command(shell_quote(poolbench) +
                                     " tune --scenario sleep --rate 100 --slo-p99 50ms --trace " + path("slo.json"));
  EXPECT_EQ(objective.exit_code, 2) << objective.err;
  EXPECT_THAT(objective.err, HasSubstr("--trace follows tune's throughput sweep"));
  EXPECT_FALSE(fs::exists(dir_ / "slo.json"));
}

TEST_F(Profiling, TraceBadInputGetsOneLineExitTwoAndNoFile) {
  for (const auto& [args, named] : std::vector<std::pair<std::string, std::string>>{
           {"--trace /nonexistent-dir/t.json", "/nonexistent-dir/t.json"},
           {"--trace-limit 0 --trace " + path("t.json"), "--trace-limit 0"},
           {"--trace-limit -5 --trace " + path("t.json"), "--trace-limit"},
           {"--instrument off --trace " + path("t.json"), "--instrument off"},
       }) {
    SCOPED_TRACE(args);
    const auto r = run("--scenarios sleep --pools sync --tasks 2 --sleep-ms 1 " + args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_THAT(r.err, HasSubstr(named));
  }
  EXPECT_TRUE(files().empty()) << "no file, not even a temporary one";
}

TEST_F(Profiling, BreakdownOfEveryExecutorAddsUpToItsMeanLatency) {
  const auto r =
      run("--scenarios sleep,mixed --tasks 12 --sleep-ms 1 --compute-us 100 --wait-us 300 --workers 2 "
          "--benchmark_min_time=0.001 --out " +
          path("run.json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> executors;
  const nlohmann::json j = read(dir_ / "run.json");
  for (const auto& b : j["benchmarks"]) {
    const std::string name = b["name"];
    if (is_probe(b)) continue;
    SCOPED_TRACE(name);
    executors.insert(name.substr(name.find('/') + 1, name.find('/', name.find('/') + 1) - name.find('/') - 1));
    const double latency = b["latency_mean_us"];
    const double parts =
        b["queued_mean_us"].get<double>() + b["running_mean_us"].get<double>() + b["handback_mean_us"].get<double>();
    ASSERT_GT(latency, 0);
    EXPECT_NEAR(parts, latency, 0.05 * latency) << "queued + running + hand-back is the latency";
    EXPECT_GT(b["running_mean_us"].get<double>(), 300) << "sleep tasks run for 1 ms, mixed ones for 400 us on average";
    EXPECT_LE(b["wakeup_mean_us"].get<double>() * b["wakeup_share"].get<double>(),
              b["queued_mean_us"].get<double>() * 1.0001)
        << "wake-up is a part of queued";
    for (const char* key : {"queued_p50_us", "queued_p99_us", "wakeup_p50_us", "wakeup_p99_us", "running_p50_us",
                            "running_p99_us", "handback_p50_us", "handback_p99_us"})
      EXPECT_TRUE(b.contains(key)) << key;
  }
  EXPECT_EQ(executors.size(), 6u);
}

TEST_F(Profiling, AWorkerThatRanNoTaskCountsAsIdle) {
  // One 2 ms task per run on 8 workers: at most one worker per run is busy.
  const auto r =
      run("--scenarios sleep --pools thread-pool,process-pool --workers 8 --tasks 1 --sleep-ms 2 "
          "--benchmark_min_time=0.001 --out " +
          path("run.json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = read(dir_ / "run.json");
  std::size_t entries = 0;
  for (const auto& b : j["benchmarks"]) {
    if (is_probe(b)) continue;
    SCOPED_TRACE(b["name"].get<std::string>());
    ++entries;
    ASSERT_EQ(b["iterations"].get<int>(), 1) << "the test needs runs that leave workers idle";
    EXPECT_EQ(b["worker_busy_fraction_min"].get<double>(), 0) << "seven workers ran nothing";
    EXPECT_GT(b["worker_busy_fraction_max"].get<double>(), 0) << "one ran the task";
    EXPECT_NEAR(b["worker_busy_fraction_mean"].get<double>(), b["worker_busy_fraction_max"].get<double>() / 8, 1e-9)
        << "the mean is over all eight workers";
  }
  EXPECT_EQ(entries, 2u);
}

TEST_F(Profiling, KernelCountsCoverTheWorkerProcesses) {
  const auto r =
      run("--scenarios cpu --pools process-pool,thread-pool --workers 1 --tasks 8 --iterations 200000 "
          "--benchmark_min_time=0.001 --out " +
          path("run.json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = read(dir_ / "run.json");
  const std::string status = j["context"]["kernel_counters"];
  ASSERT_FALSE(status.empty()) << "the context says what is counted";
  const std::string counted = status.substr(0, status.find(';'));
  if (counted.rfind("counted", 0) != 0 || counted.find("task clock") == std::string::npos) {
    // Only where the kernel refuses (a container's seccomp, perf_event_paranoid 3): the
    // context must say why, and the entries must not hold zeros instead.
    EXPECT_THAT(status, HasSubstr("absent"));
    for (const auto& b : j["benchmarks"]) EXPECT_FALSE(b.contains("kernel_task_clock_us_per_task"));
    return;
  }
  for (const auto& b : j["benchmarks"]) {
    if (is_probe(b)) continue;
    SCOPED_TRACE(b["name"].get<std::string>());
    for (const char* key : {"kernel_context_switches_per_task", "kernel_cpu_migrations_per_task",
                            "kernel_page_faults_per_task", "kernel_task_clock_us_per_task"})
      EXPECT_TRUE(b.contains(key)) << key;
    // Each task computes 200,000 hash steps, in a worker process for process-pool: a count
    // of the parent alone would miss that CPU time.
    const double task_cpu_us = 200'000 / std::stod(j["context"]["hash_steps_per_us"].get<std::string>());
    EXPECT_GT(b["kernel_task_clock_us_per_task"].get<double>(), 0.7 * task_cpu_us);
    if (counted.find("cycles") == std::string::npos) {
      EXPECT_FALSE(b.contains("cycles_per_task")) << "absent, not 0";
    }
  }
}

}  // namespace
}  // namespace poolbench::testing
