#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "tests/quota_cgroup.hpp"
#include "tests/run_command.hpp"

namespace poolbench::testing {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

/// `poolbench run` and `tune`, each test with a fresh directory for its output files.
class RunTest : public ::testing::Test {
 protected:
  /// `poolbench run` with `args`, leaving out the machine probes unless `args` filters itself.
  CommandResult run(const std::string& args) { return run_with_probes(without_probes + " " + args); }
  CommandResult run_with_probes(const std::string& args) {
    return run_command(shell_quote(poolbench) + " run " + args);
  }
  std::vector<std::string> files() const { return scratch_.files(); }

  ScratchDirectory scratch_{"poolbench-run"};
  const fs::path dir_ = scratch_.path();
};

constexpr const char* tiny_knobs =
    " --tasks 12 --iterations 1000 --sleep-ms 1 --compute-us 100 --wait-us 300 --connections 2 --round-trips 3 "
    "--benchmark_min_time=0.001";

const char* const every_counter[] = {
    "workers",           "tasks",           "tasks_per_second",      "latency_p50_us",
    "latency_p90_us",    "latency_p99_us",  "latency_max_us",        "queue_wait_p50_us",
    "queue_wait_p99_us", "cpu_utilization", "ctx_switches_per_task", "peak_rss_mib",
    "throttled_periods", "throttled_ms",    "threads_created",       "processes_created",
    "efficiency"};

TEST_F(RunTest, EveryScenarioOnEveryExecutorWritesWellFormedJson) {
  const auto out = dir_ / "run.json";
  const auto r = run_with_probes("--workers 1,2 --out " + shell_quote(out.string()) + tiny_knobs);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("cpu/thread-pool/workers:2"));
  EXPECT_EQ(files(), std::vector<std::string>{"run.json"}) << "no temporary file is left behind";

  std::ifstream in(out);
  const auto j = nlohmann::json::parse(in);
  for (const char* key :
       {"poolbench_version", "hwloc_version", "topology_packages", "topology_numa_nodes", "topology_cores",
        "topology_pus", "allowed_pus", "cgroup_cpu_limit", "usable_cpus", "sizing_rule", "default_workers"})
    EXPECT_TRUE(j["context"].contains(key)) << key;

  nlohmann::json benchmarks = nlohmann::json::array();
  std::set<std::string> probes;
  for (const auto& b : j["benchmarks"]) {
    const std::string name = b["name"];
    if (name.rfind("probe/", 0) != 0) {
      benchmarks.push_back(b);
      continue;
    }
    EXPECT_GT(b["ns_per_op"].get<double>(), 0) << name;
    probes.insert(name.substr(6, name.find('/', 6) - 6));
  }
  EXPECT_EQ(probes, (std::set<std::string>{"thread_create_join", "condvar_round_trip", "pipe_round_trip",
                                           "socketpair_round_trip", "shm_futex_round_trip", "fork_exit_wait",
                                           "tcp_round_trip"}))
      << "every run's JSON carries the machine probes";
  // Per scenario: sync once, thread-per-task once, four pools at two sizes.
  EXPECT_EQ(benchmarks.size(), 4u * (2 + 4 * 2));
  const std::regex name_pattern(
      R"((cpu|sleep|mixed|socket)/(sync|thread-per-task|thread-pool|process-pool|tbb|asio)/workers:\d+/.*)");
  std::set<std::string> seen;
  for (const auto& b : benchmarks) {
    const std::string name = b["name"];
    SCOPED_TRACE(name);
    EXPECT_TRUE(std::regex_match(name, name_pattern));
    EXPECT_FALSE(b.value("error_occurred", false)) << b.value("error_message", "");
    for (const char* counter : every_counter) EXPECT_TRUE(b.contains(counter) && b[counter].is_number()) << counter;
    const bool socket = name.rfind("socket/", 0) == 0;
    for (const char* counter : {"connections", "requests_per_second", "rtt_p50_us", "rtt_p99_us"})
      EXPECT_EQ(b.contains(counter), socket) << counter;
    if (socket) {
      EXPECT_EQ(b["connections"], 2);
    } else {
      EXPECT_EQ(b["tasks"], 12);
    }
    EXPECT_GT(b["tasks_per_second"].get<double>(), 0);
    if (name.find("/process-pool/") != std::string::npos) {
      EXPECT_GE(b["processes_created"].get<double>(), 1);
      EXPECT_GT(b["idle_worker_rss_mib"].get<double>(), 0);
      EXPECT_GT(b["idle_worker_pss_mib"].get<double>(), 0);
      EXPECT_LE(b["idle_worker_pss_mib"].get<double>(), b["idle_worker_rss_mib"].get<double>());
    } else {
      EXPECT_FALSE(b.contains("idle_worker_rss_mib"));
    }
    if (name.find("/thread-per-task/") != std::string::npos) {
      EXPECT_GE(b["threads_created"].get<double>(), 2);
    }
    seen.insert(name.substr(0, name.find("/workers:")));
  }
  EXPECT_EQ(seen.size(), 24u) << "4 scenarios x 6 executors";
}

TEST_F(RunTest, PostedUninstrumentedRunLeavesOutProcessPoolAndSaysHowItRan) {
  const auto out = dir_ / "post.json";
  const auto r =
      run("--scenarios cpu --submit post --instrument off --workers 2 --tasks 500 --iterations 0 "
          "--benchmark_min_time=0.2 --out " +
          shell_quote(out.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(out);
  const auto j = nlohmann::json::parse(in);
  std::set<std::string> pools;
  for (const auto& b : j["benchmarks"]) {
    const std::string name = b["name"];
    if (name.rfind("cpu/", 0) != 0) continue;
    SCOPED_TRACE(name);
    pools.insert(name.substr(4, name.find("/workers:") - 4));
    EXPECT_FALSE(b.value("error_occurred", false)) << b.value("error_message", "");
    EXPECT_EQ(b["posted"], 1);
    EXPECT_EQ(b["instrumented"], 0);
    EXPECT_EQ(b["latency_p50_us"], 0) << "no task was timed";
    // Allocations are counted from the second run on, once pools have warmed up.
    EXPECT_EQ(b.contains("heap_allocs_per_task"), b["iterations"].get<int>() > 1);
    if (name.find("/thread-pool/") != std::string::npos) {
      ASSERT_GT(b["iterations"].get<int>(), 1);
      EXPECT_LT(b["heap_allocs_per_task"].get<double>(), 0.05) << "posting a small closure allocates nothing";
    }
  }
  EXPECT_EQ(pools, (std::set<std::string>{"sync", "thread-per-task", "thread-pool", "tbb", "asio"}))
      << "process-pool cannot take posted closures and is left out";
}

TEST_F(RunTest, EmptyTaskRunCarriesTheRawLibraryRowsAtEverySize) {
  const auto out = dir_ / "empty.json";
  const auto r =
      run("--scenarios cpu --iterations 0 --tasks 300 --pools tbb --workers 1,3 "
          "--benchmark_min_time=0.001 --out " +
          shell_quote(out.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("ns per task, the library alone"));
  std::ifstream in(out);
  const auto j = nlohmann::json::parse(in);
  std::set<std::string> raw;
  for (const auto& b : j["benchmarks"]) {
    const std::string name = b["name"];
    if (name.rfind("raw/", 0) != 0) continue;
    SCOPED_TRACE(name);
    EXPECT_FALSE(b.value("error_occurred", false)) << b.value("error_message", "");
    EXPECT_GT(b["ns_per_op"].get<double>(), 0);
    EXPECT_GT(b["tasks_per_second"].get<double>(), 0);
    EXPECT_EQ(b["tasks"], 300) << "as many tasks per run as the executors' cells";
    raw.insert(name.substr(0, name.rfind("/real_time")));
  }
  EXPECT_EQ(raw, (std::set<std::string>{"raw/tbb_enqueue/workers:1", "raw/tbb_enqueue/workers:3",
                                        "raw/tbb_task_group/workers:1", "raw/tbb_task_group/workers:3",
                                        "raw/asio_post/workers:1", "raw/asio_post/workers:3"}));
  std::set<std::string> paired;
  for (const auto& b : j["benchmarks"]) {
    const std::string name = b["name"];
    if (name.rfind("paired/", 0) != 0) continue;
    SCOPED_TRACE(name);
    EXPECT_FALSE(b.value("error_occurred", false)) << b.value("error_message", "");
    EXPECT_GT(b["ns_per_op"].get<double>(), 0);
    EXPECT_GT(b["library_ns_per_op"].get<double>(), 0);
    EXPECT_LE(b["ratio_min"].get<double>(), b["ratio"].get<double>());
    EXPECT_LE(b["ratio"].get<double>(), b["ratio_max"].get<double>());
    EXPECT_EQ(b["tasks"], 300);
    EXPECT_FALSE(b.contains("posted")) << "this run submits";
    paired.insert(name.substr(0, name.rfind("/iterations:")));
  }
  EXPECT_EQ(paired, (std::set<std::string>{"paired/tbb/tbb_enqueue/workers:1", "paired/tbb/tbb_enqueue/workers:3"}))
      << "only the pairs of the run's pools";
  EXPECT_THAT(r.out, HasSubstr("for the library alone"));

  const auto busy = dir_ / "busy.json";
  ASSERT_EQ(run("--scenarios cpu --iterations 10 --tasks 30 --pools tbb --workers 1 --benchmark_min_time=0.001 "
                "--out " +
                shell_quote(busy.string()))
                .exit_code,
            0);
  std::ifstream busy_in(busy);
  const auto busy_run = nlohmann::json::parse(busy_in);
  ASSERT_FALSE(busy_run["benchmarks"].empty());
  for (const auto& b : busy_run["benchmarks"])
    EXPECT_NE(b["name"].get<std::string>().rfind("raw/", 0), 0u) << "only empty-task runs measure the libraries";
}

TEST_F(RunTest, TimedOutConnectionMarksItsBenchmarkErroredAndTheRunGoesOn) {
  // One worker serves one connection at a time: the second client waits for its first
  // reply longer than the 100 ms timeout allows.
  const auto out = dir_ / "run.json";
  const auto r =
      run("--scenarios socket --pools thread-pool --workers 1,4 --connections 2 --round-trips 20000 "
          "--io-timeout-ms 100 --benchmark_min_time=0.001 --out " +
          shell_quote(out.string()));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("some benchmarks failed"));
  EXPECT_THAT(r.out, HasSubstr("ERROR:"));
  std::ifstream in(out);
  const auto j = nlohmann::json::parse(in);
  nlohmann::json socket = nlohmann::json::array();
  for (const auto& b : j["benchmarks"])
    if (b["name"].get<std::string>().rfind("socket/", 0) == 0) socket.push_back(b);
  ASSERT_EQ(socket.size(), 2u) << "the run went on to the next benchmark";
  EXPECT_TRUE(socket[0].value("error_occurred", false));
  EXPECT_THAT(socket[0].value("error_message", ""), HasSubstr("timed out"));
  EXPECT_FALSE(socket[1].value("error_occurred", false)) << socket[1].value("error_message", "");
}

TEST_F(RunTest, ATaskOverTheTaskTimeoutMarksItsBenchmarkErroredAndTheRunGoesOn) {
  // 50 ms sleeps against a 10 ms task timeout: the process pool kills the worker and fails
  // the task; the run marks that benchmark errored and goes on to the next size.
  const auto out = dir_ / "run.json";
  const auto r =
      run("--scenarios sleep --pools process-pool --workers 1,2 --tasks 4 --sleep-ms 50 "
          "--task-timeout 0.01 --benchmark_min_time=0.001 --out " +
          shell_quote(out.string()));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  std::ifstream in(out);
  const auto j = nlohmann::json::parse(in);
  std::vector<nlohmann::json> sleep;
  for (const auto& b : j["benchmarks"])
    if (b["name"].get<std::string>().rfind("sleep/", 0) == 0) sleep.push_back(b);
  ASSERT_EQ(sleep.size(), 2u) << "the run went on to the next benchmark";
  for (const auto& b : sleep) {
    EXPECT_TRUE(b.value("error_occurred", false)) << b["name"];
    EXPECT_THAT(b.value("error_message", ""), HasSubstr("task timeout")) << b["name"];
  }
}

TEST_F(RunTest, AnOpenLoopRunReportsItsScheduleForEveryScenario) {
  const auto out = dir_ / "open.json";
  const auto r =
      run("--rate 2000 --duration 0.05 --arrivals uniform --workers 4 --pools thread-pool,process-pool "
          "--sleep-ms 1 --compute-us 100 --wait-us 300 --iterations 1000 --connections 4 --benchmark_min_time=0.001 "
          "--out " +
          shell_quote(out.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(out);
  const auto j = nlohmann::json::parse(in);
  std::set<std::string> scenarios;
  for (const auto& b : j["benchmarks"]) {
    const std::string name = b["name"];
    if (name.rfind("probe/", 0) == 0) continue;
    SCOPED_TRACE(name);
    scenarios.insert(name.substr(0, name.find('/')));
    EXPECT_EQ(b["tasks"], name.rfind("socket/", 0) == 0 ? 4 : 100)
        << "2,000/s for 50 ms; socket: a task per connection";
    for (const char* counter :
         {"offered_rate", "achieved_rate", "submit_lag_p99_us", "saturated", "littles_law_error",
          "uncorrected_latency_p50_us", "uncorrected_latency_p99_us", "uncorrected_latency_p999_us", "latency_p999_us"})
      EXPECT_TRUE(b.contains(counter) && b[counter].is_number()) << counter;
    EXPECT_NEAR(b["offered_rate"].get<double>(), 2000, 1) << "uniform arrivals keep the rate exactly";
    EXPECT_GE(b["latency_p99_us"].get<double>(), b["uncorrected_latency_p99_us"].get<double>())
        << "from the schedule is never shorter than from the submit";
    EXPECT_EQ(b["efficiency"], 0) << "an open loop's time is its schedule's";
  }
  EXPECT_EQ(scenarios, (std::set<std::string>{"cpu", "sleep", "mixed", "socket"}));
}

/// Bad input: exit 2, one line naming the value, and no file at all in the output folder.
void expect_rejected(RunTest& test, const CommandResult& r, const std::string& named) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr(named));
  (void)test;
}

TEST_F(RunTest, BadInputIsRejectedBeforeAnythingRuns) {
  const std::string out = " --out " + shell_quote((dir_ / "x.json").string());
  const std::vector<std::pair<std::string, std::string>> cases{
      {"--pools bogus", "'bogus'"},
      {"--scenarios disk", "'disk'"},
      {"--workers 0", "'0'"},
      {"--workers 5000", "'5000'"},
      {"--workers=-2", "'-2'"},
      {"--workers lots", "'lots'"},
      {"--tasks 0", "--tasks 0"},
      {"--tasks 200000000", "--tasks 200000000"},
      {"--sleep-ms 70000", "--sleep-ms 70000"},
      {"--compute-us 61000000", "--compute-us 61000000"},
      {"--wait-us -1", "--wait-us -1"},
      {"--compute-dist normal", "--compute-dist normal"},
      {"--wait-dist lognormal:0", "sigma must be above 0"},
      {"--wait-dist lognormal:x", "not a number"},
      {"--seed -1", "--seed -1"},
      {"--rate 0", "--rate 0"},
      {"--rate 1000000", "--rate 1000000"},
      {"--rate 100 --duration 4000", "--duration 4000"},
      {"--rate 100 --arrivals bursty", "--arrivals bursty"},
      {"--rate 100 --in-flight 2", "--in-flight"},
      {"--rate 100 --tasks 50", "--tasks"},
      {"--duration 5", "needs --rate"},
      {"--rate 100 --round-trips 5", "--round-trips"},
      {"--rate 300000 --scenarios socket --connections 4", "50000 per connection"},
      {"--connections 900000", "--connections 900000"},
      {"--round-trips 0", "--round-trips 0"},
      {"--submit later", "--submit later"},
      {"--instrument maybe", "--instrument maybe"},
      {"--submit post --pools thread-pool,process-pool", "process-pool"},
      {"--pinning diagonal", "'diagonal'"},
      {"--task-timeout 0", "--task-timeout 0"},
      {"--task-timeout 100000", "--task-timeout 100000"},
      {"--frobnicate", "--frobnicate"},
      {"--benchmark_no_such_flag=1", "--benchmark_"},
  };
  for (const auto& [args, named] : cases) {
    SCOPED_TRACE(args);
    expect_rejected(*this, run(args + out), named);
  }
  EXPECT_TRUE(files().empty()) << "no file is written for bad input";
}

TEST_F(RunTest, TenBusyWorkersUnderAQuotaOfOneCpuAreThrottledAndRunAndTuneSaySo) {
  // One CPU's worth every 10 ms: two busy CPUs use it up in 5 ms of any period.
  const QuotaCgroup one_cpu(10'000, 10'000);
  if (!one_cpu.why().empty()) GTEST_SKIP() << "skipped: " << one_cpu.why();
  const auto out = dir_ / "quota.json";
  const auto r = one_cpu.run_inside(shell_quote(poolbench) +
                                    " run --scenarios cpu --pools thread-pool --workers 10 --tasks 400 "
                                    "--benchmark_filter=cpu/ --benchmark_min_time=0.3 --out " +
                                    shell_quote(out.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(out);
  const auto j = nlohmann::json::parse(in);
  ASSERT_EQ(j["benchmarks"].size(), 1u);
  const auto& b = j["benchmarks"][0];
  EXPECT_GT(b["throttled_periods"].get<double>(), 0) << "10 busy threads on 2 CPUs use up a 1-CPU quota every period";
  EXPECT_GT(b["throttled_ms"].get<double>(), 0);
  EXPECT_EQ(j["context"]["cgroup_cpu_limit"], "1") << "and the run knows its limit";

  const auto tune_out = dir_ / "tune.json";
  const auto t = one_cpu.run_inside(shell_quote(poolbench) +
                                    " tune --scenario cpu --tasks 400 --max-workers 2 --repetitions 2 --out " +
                                    shell_quote(tune_out.string()));
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_THAT(t.err, HasSubstr("workers: the CPU quota throttled the run")) << "tune warns of it";
  std::ifstream tune_in(tune_out);
  const auto tuning = nlohmann::json::parse(tune_in)["tuning"];
  EXPECT_THAT(tuning["recommendation"].get<std::string>(), HasSubstr("peak RSS"));
}

TEST_F(RunTest, UnwritableOutputIsRejected) {
  const auto r = run("--scenarios cpu --pools sync --out /nonexistent-dir/run.json");
  expect_rejected(*this, r, "/nonexistent-dir/run.json");
}

TEST_F(RunTest, TuneRecommendsASizeAndWritesItsJson) {
  const auto out = dir_ / "tune.json";
  const auto r =
      run_command(shell_quote(poolbench) + " tune --scenario sleep --tasks 8 --sleep-ms 2 --repetitions 2 --out " +
                  shell_quote(out.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("recommendation: use "));
  EXPECT_THAT(r.out, HasSubstr("tied:"));
  EXPECT_THAT(r.out, HasSubstr("knee:"));
  EXPECT_THAT(r.out, HasSubstr("formula:"));
  EXPECT_THAT(r.err, HasSubstr("tune: sleep on thread-pool, 1 workers")) << "progress goes to stderr";
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("tune: sleep on"))) << "stdout holds only the result";

  std::ifstream in(out);
  const auto j = nlohmann::json::parse(in);
  EXPECT_TRUE(j["context"].contains("usable_cpus"));
  const auto& t = j["tuning"];
  for (const char* key :
       {"scenario", "pool", "best_workers", "pick_workers", "tied_with_best", "pick_p_value", "order_seed",
        "measurement_order", "knee_workers", "default_workers", "default_vs_best", "formula_workers", "recommendation"})
    EXPECT_TRUE(t.contains(key)) << key;
  EXPECT_LE(t["pick_workers"].get<int>(), t["best_workers"].get<int>());
  EXPECT_EQ(t["tied_with_best"][0], t["pick_workers"]) << "the smallest size tied with the best";
  // Every size once before any size twice: the first half of the order holds each size once.
  const auto order = t["measurement_order"].get<std::vector<int>>();
  ASSERT_EQ(order.size(), 2 * j["sweep"].size());
  const std::set<int> first_round(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(j["sweep"].size()));
  EXPECT_EQ(first_round.size(), j["sweep"].size());
  EXPECT_EQ(t["scenario"], "sleep");
  EXPECT_EQ(t["pool"], "thread-pool");
  EXPECT_LE(t["knee_workers"].get<int>(), t["best_workers"].get<int>());
  std::set<int> sizes;
  for (const auto& entry : j["sweep"]) {
    for (const char* counter : every_counter) EXPECT_TRUE(entry.contains(counter)) << counter;
    EXPECT_EQ(entry["throughput_runs"].size(), 2u);
    sizes.insert(entry["workers"].get<int>());
  }
  EXPECT_TRUE(sizes.count(1));
  EXPECT_TRUE(sizes.count(t["default_workers"].get<int>())) << "the auto size is always measured";
  EXPECT_TRUE(sizes.count(t["best_workers"].get<int>()));
}

TEST_F(RunTest, TuneForAnObjectiveAtARatePicksTheSmallestSizeThatKeepsUp) {
  // 10 ms tasks at 300 a second: two workers serve at most 200 a second, so they cannot
  // keep up, whatever the machine; an objective of 1 s leaves keeping up as the question.
  const auto out = dir_ / "slo.json";
  const auto r = run_command(shell_quote(poolbench) +
                             " tune --scenario sleep --sleep-ms 10 --rate 300 --duration 0.5 --slo-p99 1s "
                             "--max-workers 16 --out " +
                             shell_quote(out.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("recommendation: use "));
  std::ifstream in(out);
  const auto t = nlohmann::json::parse(in)["tuning"];
  EXPECT_EQ(t["objective"], "p99 at a rate");
  EXPECT_EQ(t["slo_p99_us"], 1e6);
  EXPECT_EQ(t["slo_rate"], 300);
  ASSERT_TRUE(t["pick_workers"].is_number()) << t.dump();
  const int pick = t["pick_workers"];
  EXPECT_GE(pick, 3) << "below 3 workers the tasks arrive faster than they can be served";
  std::map<int, bool> meets;
  for (const auto& p : t["probes"]) {
    const bool met = p["meets"] == 1;
    EXPECT_EQ(met, p["saturated"] == 0 && p["latency_p99_us"].get<double>() <= 1e6) << p.dump();
    meets[p["workers"].get<int>()] = met;
  }
  EXPECT_TRUE(meets.at(pick));
  EXPECT_FALSE(meets.at(pick - 1)) << "the size below the pick was tried and missed";
  EXPECT_FALSE(meets.at(2));
}

TEST_F(RunTest, TuneForAnObjectiveWithoutARateDrawsTheFrontier) {
  // Evenly spaced arrivals: a 0.2 s probe offers exactly its rate (a Poisson one, ±15 %).
  const auto out = dir_ / "frontier.json";
  const auto r = run_command(shell_quote(poolbench) +
                             " tune --scenario sleep --sleep-ms 10 --duration 0.2 --arrivals uniform --slo-p99 1s "
                             "--max-workers 2 --out " +
                             shell_quote(out.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(out);
  const auto t = nlohmann::json::parse(in)["tuning"];
  EXPECT_EQ(t["objective"], "frontier");
  ASSERT_EQ(t["frontier"].size(), 2u) << "sizes 1 and 2";
  for (const auto& point : t["frontier"]) {
    const double workers = point["workers"];
    const double rate = point["sustained_rate"];
    EXPECT_GT(rate, 0);
    EXPECT_LE(rate, 1.2 * 100 * workers) << "a 10 ms task's worker serves 100 a second at most";
    EXPECT_DOUBLE_EQ(point["sustained_rate_per_worker"].get<double>(), rate / workers);
  }
  EXPECT_TRUE(t["pick_workers"] == 1 || t["pick_workers"] == 2);
  EXPECT_GE(t["probes"].size(), 4u);
}

TEST_F(RunTest, TuneRejectsBadInput) {
  const std::string tune = shell_quote(poolbench) + " tune ";
  const std::string out = " --out " + shell_quote((dir_ / "t.json").string());
  const std::vector<std::pair<std::string, std::string>> cases{
      {"--pool thread-pool", "--scenario"},
      {"--scenario disk", "'disk'"},
      {"--scenario cpu --pool sync", "'sync'"},
      {"--scenario cpu --pool fibers", "'fibers'"},
      {"--scenario cpu --max-workers 0", "--max-workers 0"},
      {"--scenario cpu --max-workers 5000", "--max-workers 5000"},
      {"--scenario cpu --repetitions 0", "--repetitions 0"},
      {"--scenario cpu --repetitions 1", "--repetitions 1"},
      {"--scenario sleep --slo-p99 50", "--slo-p99 50 needs a number and a unit"},
      {"--scenario sleep --slo-p99 0ms", "--slo-p99 0ms must be above 0"},
      {"--scenario sleep --rate 100", "tune --rate needs --slo-p99"},
      {"--scenario sleep --slo-p99 20ms --rate 0", "--rate 0"},
      {"--scenario sleep --sleep-ms 90000", "--sleep-ms 90000"},
  };
  for (const auto& [args, named] : cases) {
    SCOPED_TRACE(args);
    expect_rejected(*this, run_command(tune + args + out), named);
  }
  expect_rejected(*this, run_command(tune + "--scenario cpu --out /nonexistent-dir/t.json"), "/nonexistent-dir/t.json");
  EXPECT_TRUE(files().empty());
}

}  // namespace
}  // namespace poolbench::testing
