// The raw library rows: oneTBB and Boost.Asio used directly, which the yardstick adapters'
// rows are divided by. Each path must run every task it is given (a path that lost tasks
// would never return from its latch or join; one that ran none would look free).
#include <gtest/gtest.h>

#include <map>

#include "bench/benchmark_grid.hpp"
#include "bench/raw_libraries.hpp"
#include "pools/core/errors.hpp"

namespace poolbench::bench {
namespace {

TEST(RawLibraries, NamesEveryLibraryPathTheReportDividesBy) {
  EXPECT_EQ(raw_library_names(), (std::vector<std::string>{"tbb_enqueue", "tbb_task_group", "asio_post"}));
}

TEST(RawLibraries, EachPathRunsRepeatedBatchesAtEachSize) {
  for (const auto& name : raw_library_names()) {
    for (std::size_t workers : {1, 2, 10}) {
      SCOPED_TRACE(name + " at " + std::to_string(workers));
      auto run = make_raw_library_run(name, workers);
      for (std::uint64_t tasks : {1, 1000, 20000}) run->run(tasks);
    }
  }
}

TEST(RawLibraries, UnknownPathOrSizeIsAConfigError) {
  EXPECT_THROW(make_raw_library_run("tbb_spawn", 2), ConfigError);
  EXPECT_THROW(make_raw_library_run("asio_post", 0), ConfigError);
}

TEST(RawLibraries, RowsAreNamedAndCountedLikeCells) {
  EXPECT_EQ(raw_library_row("tbb_enqueue", 2), "raw/tbb_enqueue/workers:2");
  const Counters counters = raw_library_counters(2, 1000, 4, 2'000'000);
  std::map<std::string, double> by_name;
  for (const auto& [name, value] : counters) by_name[std::string(name)] = value;
  EXPECT_EQ(by_name.at("workers"), 2);
  EXPECT_EQ(by_name.at("tasks"), 1000);
  EXPECT_DOUBLE_EQ(by_name.at("ns_per_op"), 500);  // 2 ms over 4 runs of 1000 tasks
  EXPECT_DOUBLE_EQ(by_name.at("tasks_per_second"), 2e6);
}

TEST(RawLibraries, OnlyEmptyTaskClosedBatchesGetRawRows) {
  GridOptions grid;
  grid.scenarios = {"cpu"};
  grid.knobs.iterations = 0;
  EXPECT_TRUE(measures_empty_tasks(grid));
  grid.knobs.iterations = 1;
  EXPECT_FALSE(measures_empty_tasks(grid)) << "tasks that compute";
  grid.knobs.iterations = 0;
  grid.knobs.flow.arrivals.rate = 1000;
  EXPECT_FALSE(measures_empty_tasks(grid)) << "an open loop";
  grid.knobs.flow.arrivals.rate = 0;
  grid.scenarios = {"sleep"};
  EXPECT_FALSE(measures_empty_tasks(grid)) << "no cpu scenario";
}

}  // namespace
}  // namespace poolbench::bench
