#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/quota_cgroup.hpp"
#include "tests/run_command.hpp"

namespace poolbench::testing {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

CommandResult run(const std::string& args) { return run_command(shell_quote(poolbench) + " " + args); }

int count_lines(const std::string& text) { return static_cast<int>(std::count(text.begin(), text.end(), '\n')); }

/// Bad input: exit code 2, one line on stderr that names the bad value, nothing on stdout.
void expect_rejected(const std::string& args, const std::string& named) {
  SCOPED_TRACE("poolbench " + args);
  const auto r = run(args);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr(named));
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(Cli, InfoJsonHasEveryContextKey) {
  const auto r = run("info --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"poolbench_version", "hwloc_version", "topology_packages", "topology_numa_nodes",
                          "topology_cores", "topology_pus", "allowed_pus", "cgroup_cpu_limit", "usable_cpus",
                          "sizing_rule", "default_workers", "workers_by_rule"})
    EXPECT_TRUE(j.contains(key)) << key;
  const int usable = j["usable_cpus"];
  EXPECT_GE(usable, 1);
  EXPECT_EQ(j["default_workers"], usable * 5);
  EXPECT_EQ(j["workers_by_rule"]["auto"], usable * 5);
  EXPECT_EQ(j["workers_by_rule"]["cpus"], usable);
  EXPECT_EQ(j["workers_by_rule"]["py38"], std::min(32, usable + 4));
  EXPECT_EQ(j["sizing_rule"], "auto");
}

TEST(Cli, InfoUnderTasksetReportsOneUsableCpu) {
  const auto r = run_command("taskset -c 0 " + shell_quote(poolbench) + " info --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["usable_cpus"], 1);
  EXPECT_EQ(j["default_workers"], 5);
  EXPECT_EQ(j["cpu_binding"], "0");
}

TEST(Cli, InfoInsideAHalfCpuCgroupReportsOneUsableCpu) {
  const QuotaCgroup half_cpu(50'000, 100'000);
  if (!half_cpu.why().empty()) GTEST_SKIP() << "skipped: " << half_cpu.why();
  const auto r = half_cpu.run_inside(shell_quote(poolbench) + " info --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["cgroup_cpu_limit"], "0.5");
  EXPECT_EQ(j["usable_cpus"], 1);
  EXPECT_EQ(j["default_workers"], 5);
}

TEST(Cli, InfoForPeopleNamesTheMachine) {
  const auto r = run("info --pinning compact --sizing cpus");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("usable CPUs:"));
  EXPECT_THAT(r.out, HasSubstr("cgroup limit:"));
  EXPECT_THAT(r.out, HasSubstr("worker 0 -> PU"));
}

TEST(Cli, ListNamesAllSixExecutors) {
  const auto r = run("list");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* name : {"sync", "thread-per-task", "thread-pool", "process-pool", "tbb", "asio"})
    EXPECT_THAT(r.out, HasSubstr(std::string("executor  ") + name + " ")) << name;
}

TEST(Cli, ProbeMeasuresThePrimitives) {
  const auto r = run("probe --probes pipe_round_trip,condvar_round_trip --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["name"], "pipe_round_trip");
  EXPECT_GT(j[0]["ns_per_op"].get<double>(), 0);
}

/// The names `poolbench schema --json` defines in `where`.
/// Tuning keys only a tune for a latency objective (--slo-p99) writes.
bool objective_only(const std::string& key) {
  static const std::set<std::string> keys{
      "slo_p99_us", "slo_rate",       "probes",          "meets",
      "frontier",   "sustained_rate", "closest_workers", "sustained_rate_per_worker"};
  return keys.contains(key);
}

std::set<std::string> schema_names(const std::string& where) {
  const auto r = run("schema --json");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> names;
  for (const auto& key : nlohmann::json::parse(r.out))
    if (key["where"] == where) names.insert(key["name"].get<std::string>());
  return names;
}

TEST(Cli, SchemaJsonGivesEachKeyItsPlaceUnitMeaningAndWhen) {
  const auto r = run("schema --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.is_array());
  ASSERT_FALSE(j.empty());
  for (const auto& key : j) {
    EXPECT_THAT(key["where"].get<std::string>(), ::testing::AnyOf("counter", "context", "tuning", "info"))
        << key.dump();
    for (const char* field : {"name", "unit", "meaning", "when"}) EXPECT_TRUE(key[field].is_string()) << key.dump();
  }
}

TEST(Cli, SchemaTableNamesEveryKey) {
  const auto r = run("schema");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* where : {"counter", "context", "tuning", "info"})
    for (const auto& name : schema_names(where)) EXPECT_THAT(r.out, HasSubstr(" " + name + " ")) << where;
}

TEST(Cli, InfoJsonHoldsExactlyTheSchemasContextAndInfoKeys) {
  const auto r = run("info --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto info = nlohmann::json::parse(r.out);
  std::set<std::string> written;
  for (const auto& [key, value] : info.items()) written.insert(key);
  std::set<std::string> defined = schema_names("context");
  defined.merge(schema_names("info"));
  EXPECT_EQ(written, defined);
}

TEST(Cli, SchemaUnknownFlagIsRejected) { expect_rejected("schema --bogus", "--bogus"); }

TEST(Cli, TuneFileHoldsExactlyTheSchemasTuningKeysAndCounters) {
  const fs::path out = fs::temp_directory_path() / ("poolbench-schema-tune-" + std::to_string(::getpid()) + ".json");
  // 1, 2, 4, 8, 16 and the rules' 6 and 10 (on 2 CPUs): enough sizes for a scalability fit.
  const auto r =
      run("tune --scenario sleep --tasks 16 --sleep-ms 1 --repetitions 2 --out " + shell_quote(out.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(std::ifstream(out));
  fs::remove(out);
  std::set<std::string> tuning;
  for (const auto& [key, value] : j["tuning"].items()) tuning.insert(key);
  std::set<std::string> entry_keys;
  for (const auto& entry : j["sweep"])
    for (const auto& [key, value] : entry.items()) entry_keys.insert(key);
  const std::set<std::string> counters = schema_names("counter");
  std::set<std::string> sweep_tuning;
  for (const auto& key : entry_keys)
    if (!counters.contains(key)) sweep_tuning.insert(key);
  tuning.insert(sweep_tuning.begin(), sweep_tuning.end());
  std::set<std::string> expected = schema_names("tuning");
  std::erase_if(expected, [](const std::string& key) { return objective_only(key); });
  if (j["tuning"]["usl_fit"] != "ok")  // the fit's figures are there only when it fits
    std::erase_if(expected, [](const std::string& key) { return key.starts_with("usl_") && key != "usl_fit"; });
  EXPECT_EQ(tuning, expected);
  std::set<std::string> context;
  for (const auto& [key, value] : j["context"].items()) context.insert(key);
  EXPECT_EQ(context, schema_names("context"));
}

TEST(Cli, UnknownProbeIsRejected) { expect_rejected("probe --probes teleport", "'teleport'"); }

TEST(Cli, HelpExitsZero) { EXPECT_EQ(run("--help").exit_code, 0); }

TEST(Cli, UnknownCommandIsRejected) { expect_rejected("frobnicate", "'frobnicate'"); }
TEST(Cli, MissingCommandIsRejected) { expect_rejected("", "subcommand"); }
TEST(Cli, ZeroWorkersIsRejected) { expect_rejected("info --sizing 0", "'0'"); }
TEST(Cli, NegativeWorkersIsRejected) { expect_rejected("info --sizing=-4", "'-4'"); }
TEST(Cli, AbsurdWorkersIsRejected) { expect_rejected("info --sizing 5000", "'5000'"); }
TEST(Cli, UnknownSizingRuleIsRejected) { expect_rejected("info --sizing lots", "'lots'"); }
TEST(Cli, UnknownPinningIsRejected) { expect_rejected("info --pinning diagonal", "'diagonal'"); }
TEST(Cli, UnknownFlagIsRejected) { expect_rejected("info --bogus", "--bogus"); }

}  // namespace
}  // namespace poolbench::testing
