#include "bench/schema.hpp"
#include "bench/kernel_counters.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "bench/benchmark_grid.hpp"
#include "bench/machine_info.hpp"
#include "bench/metrics.hpp"
#include "pools/registry.hpp"
#include "scenarios/scenario.hpp"

namespace poolbench::bench {
namespace {

using Names = std::set<std::string, std::less<>>;

/// The names the table defines in `where`.
Names schema_names(std::string_view where) {
  Names names;
  for (const SchemaKey& key : schema_keys())
    if (key.where == where) names.emplace(key.name);
  return names;
}

/// Small knobs: each scenario runs in milliseconds.
scenarios::ScenarioOptions small_knobs() {
  scenarios::ScenarioOptions knobs;
  knobs.tasks = 4;
  knobs.iterations = 100;
  knobs.sleep = std::chrono::microseconds(1000);
  knobs.connections = 2;
  knobs.round_trips = 2;
  return knobs;
}

/// The counter names the harness writes for `scenario_name` on `pool` with `knobs`, measured
/// as measure() and tune measure a cell: two runs, the executor read before it shuts down.
Names harness_counters(const std::string& scenario_name, const std::string& pool, scenarios::ScenarioOptions knobs) {
  const auto scenario = scenarios::make_scenario(scenario_name, knobs);
  const Topology& topology = Topology::machine();
  Metrics metrics({scenario_name, pool, 2}, *scenario, topology.usable_cpus());
  auto executor = make_executor(pool, {2, {}, std::chrono::seconds(30)});
  for (int run = 0; run < 2; ++run) {
    const scenarios::RunRecord record = scenario->run(*executor);
    EXPECT_TRUE(record.ok()) << scenario_name << " on " << pool << ": " << record.first_error;
    metrics.add(record);
  }
  metrics.before_shutdown(*executor);
  executor.reset();
  Names names;
  for (const auto& [name, value] : metrics.counters()) names.emplace(name);
  return names;
}

/// Every counter the harness can write: each scenario on a thread and a process pool, a
/// flow with every optional knob set, and a probe's, a raw library row's and a paired
/// row's entry.
Names every_written_counter() {
  Names names;
  for (const auto& scenario : scenarios::scenario_names())
    for (const std::string pool : {"thread-pool", "process-pool"})
      names.merge(harness_counters(scenario, pool, small_knobs()));
  scenarios::ScenarioOptions flow = small_knobs();
  flow.flow = {scenarios::Submission::post, 2, false, {}};
  names.merge(harness_counters("cpu", "thread-pool", flow));
  scenarios::ScenarioOptions traced = small_knobs();
  traced.flow.time_every_task = true;
  names.merge(harness_counters("cpu", "thread-pool", traced));
  scenarios::ScenarioOptions open = small_knobs();
  open.flow.arrivals.rate = 2'000;
  open.flow.arrivals.duration = std::chrono::milliseconds(5);
  names.merge(harness_counters("sleep", "thread-pool", open));
  for (const auto& [name, value] : probe_counters(ProbeResult{})) names.emplace(name);
  for (const auto& [name, value] : raw_library_counters(2, 10, 1, 1'000)) names.emplace(name);
  PairedTiming paired;
  paired.context_switches = 0.5;
  paired.library_context_switches = 1.5;
  for (const auto& [name, value] : paired_counters(2, 10, true, paired)) names.emplace(name);
  return names;
}

Names machine_context_keys() {
  const auto context = machine_context(Topology::machine(), parse_sizing_rule("auto"));
  Names names;
  for (const auto& [key, value] : context.items()) names.emplace(key);
  return names;
}

TEST(Schema, EveryCounterTheHarnessWritesIsDefined) {
  const Names defined = schema_names("counter");
  for (const auto& name : every_written_counter()) EXPECT_TRUE(defined.contains(name)) << name;
}

/// Whether this machine's kernel counts what counter `name` reports: the kernel event
/// counters are left out of a run where it does not.
bool counted_here(std::string_view name) {
  const std::pair<std::string_view, KernelEvent> events[] = {
      {"kernel_context_switches_per_task", KernelEvent::context_switches},
      {"kernel_cpu_migrations_per_task", KernelEvent::cpu_migrations},
      {"kernel_page_faults_per_task", KernelEvent::page_faults},
      {"kernel_task_clock_us_per_task", KernelEvent::task_clock_ns},
      {"cycles_per_task", KernelEvent::cycles},
      {"instructions_per_task", KernelEvent::instructions},
      {"cache_misses_per_task", KernelEvent::cache_misses}};
  for (const auto& [key, event] : events)
    if (key == name) return KernelCounters::process().counting(event);
  return true;
}

TEST(Schema, EveryCounterItDefinesIsWrittenInSomeRun) {
  const Names written = every_written_counter();
  for (const auto& name : schema_names("counter"))
    if (counted_here(name)) {
      EXPECT_TRUE(written.contains(name)) << name;
    }
}

TEST(Schema, EveryContextKeyTheHarnessWritesIsDefined) {
  const Names defined = schema_names("context");
  for (const auto& name : machine_context_keys()) EXPECT_TRUE(defined.contains(name)) << name;
}

TEST(Schema, EveryContextKeyItDefinesIsWritten) {
  const Names written = machine_context_keys();
  for (const auto& name : schema_names("context")) EXPECT_TRUE(written.contains(name)) << name;
}

TEST(Schema, EveryKeyIsCompleteAndNamedOnceWhereItIs) {
  std::set<std::pair<std::string_view, std::string_view>> seen;
  for (const SchemaKey& key : schema_keys()) {
    SCOPED_TRACE(std::string(key.where) + " " + std::string(key.name));
    EXPECT_THAT(key.where, ::testing::AnyOf("counter", "context", "tuning", "info"));
    EXPECT_TRUE(seen.emplace(key.where, key.name).second) << "defined twice";
    EXPECT_FALSE(key.unit.empty());
    EXPECT_FALSE(key.meaning.empty());
    EXPECT_FALSE(key.when.empty());
  }
}

TEST(Schema, KeysOfOnePlaceAreListedTogether) {
  std::set<std::string_view> closed;
  std::string_view current;
  for (const SchemaKey& key : schema_keys()) {
    if (key.where == current) continue;
    EXPECT_FALSE(closed.contains(key.where)) << key.name << ": its '" << key.where << "' group was already closed";
    closed.insert(current);
    current = key.where;
  }
}

TEST(Schema, JsonListsEveryKeyWithItsFiveFields) {
  const auto json = schema_json();
  ASSERT_EQ(json.size(), schema_keys().size());
  for (std::size_t i = 0; i < json.size(); ++i) {
    EXPECT_EQ(json[i]["name"], schema_keys()[i].name);
    EXPECT_EQ(json[i].size(), 5u);
    for (const char* field : {"name", "where", "unit", "meaning", "when"}) EXPECT_TRUE(json[i][field].is_string());
  }
}

}  // namespace
}  // namespace poolbench::bench
