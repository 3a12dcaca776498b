// Paired rows: an executor and a library timed in alternating rounds. The order of the
// rounds is what makes their ratio fair, so it is checked event by event; each executor
// side must run every task it is given, posted or submitted.
#include "bench/paired_runs.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bench/benchmark_grid.hpp"
#include "pools/core/errors.hpp"

namespace poolbench::bench {
namespace {

/// A side that writes what happens to it into a shared log.
class LoggedBatch final : public TaskBatch {
 public:
  LoggedBatch(std::vector<std::string>& log, std::string side) : log_(log), side_(std::move(side)) {
    log_.push_back("build " + side_);
  }
  ~LoggedBatch() override { log_.push_back("drop " + side_); }
  LoggedBatch(const LoggedBatch&) = delete;
  LoggedBatch& operator=(const LoggedBatch&) = delete;
  void run(std::uint64_t tasks) override { log_.push_back(side_ + " " + std::to_string(tasks)); }

 private:
  std::vector<std::string>& log_;
  std::string side_;
};

TEST(PairedRuns, EachRoundBuildsWarmsAndTimesEachSideAfreshTakingTurnsToGoFirst) {
  std::vector<std::string> log;
  const PairedTiming timing = time_pair([&] { return std::make_unique<LoggedBatch>(log, "ours"); },
                                        [&] { return std::make_unique<LoggedBatch>(log, "library"); }, 5, 3);
  auto side = [](const std::string& s) {
    return std::vector<std::string>{"build " + s, s + " 5", s + " 5", "drop " + s};
  };
  std::vector<std::string> expected;
  for (const auto& s : {"ours", "library", "library", "ours", "ours", "library"})
    for (auto& event : side(s)) expected.push_back(event);
  EXPECT_EQ(log, expected) << "warm-up then timed batch, on a fresh side, ours first in even rounds";
  EXPECT_EQ(timing.rounds, 3u);
  EXPECT_LE(timing.ratio_min, timing.ratio);
  EXPECT_LE(timing.ratio, timing.ratio_max);
}

TEST(PairedRuns, AskedForNoRoundsItStillTimesOne) {
  std::vector<std::string> log;
  const PairedTiming timing = time_pair([&] { return std::make_unique<LoggedBatch>(log, "ours"); },
                                        [&] { return std::make_unique<LoggedBatch>(log, "library"); }, 1, 0);
  EXPECT_EQ(timing.rounds, 1u);
  EXPECT_EQ(log.size(), 8u);
}

TEST(PairedRuns, EveryPairedExecutorRunsEveryTaskPostedOrSubmitted) {
  for (const LibraryPair& pair : library_pairs()) {
    for (auto submission : {scenarios::Submission::post, scenarios::Submission::future}) {
      for (std::size_t workers : {1, 3}) {
        SCOPED_TRACE(std::string(pair.pool) + " at " + std::to_string(workers));
        // A lost task would leave the batch waiting on its latch or future forever.
        auto batch = make_executor_batch(pair.pool, workers, submission);
        for (std::uint64_t tasks : {1, 1000, 1000}) batch->run(tasks);
      }
    }
  }
}

TEST(PairedRuns, PairsEachAdapterWithItsLibraryAndOurPoolWithOneTbbsTwoPaths) {
  std::vector<std::string> pairs;
  for (const LibraryPair& pair : library_pairs())
    pairs.push_back(std::string(pair.pool) + "/" + std::string(pair.library) + (pair.reference ? " (reference)" : ""));
  EXPECT_EQ(pairs, (std::vector<std::string>{"tbb/tbb_enqueue", "asio/asio_post", "thread-pool/tbb_enqueue",
                                             "thread-pool/tbb_task_group (reference)"}));
  EXPECT_EQ(paired_row(library_pairs().front(), 2), "paired/tbb/tbb_enqueue/workers:2");
}

TEST(PairedRuns, AnExecutorThatRunsNoClosuresOrAnUnknownOneIsAConfigError) {
  EXPECT_THROW(make_executor_batch("process-pool", 1, scenarios::Submission::post), ConfigError);
  EXPECT_THROW(make_executor_batch("fiber-pool", 1, scenarios::Submission::post), ConfigError);
  EXPECT_THROW(make_executor_batch("tbb", 0, scenarios::Submission::post), ConfigError);
}

}  // namespace
}  // namespace poolbench::bench
