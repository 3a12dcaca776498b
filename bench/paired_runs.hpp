#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "bench/raw_libraries.hpp"
#include "scenarios/scenario.hpp"

namespace poolbench::bench {

/// An executor set against a library used directly, timed in alternating rounds of the
/// same empty tasks. Rows measured one after the other see different machines (oneTBB's
/// raw rate alone moved 6x between two runs of one bench.sh); a pair's ratio is taken
/// within each round, so what the machine does to both cancels.
struct LibraryPair {
  std::string_view pool;     ///< the executor, by registry name
  std::string_view library;  ///< the raw library path (raw_libraries.hpp)
  bool reference;            ///< a path that keeps a different contract: shown, not a target
};

/// Each adapter against the library under it (`tbb`: tbb_enqueue, `asio`: asio_post) and
/// `thread-pool` against oneTBB's outside submission (tbb_enqueue) and, as a reference,
/// its fork-join (tbb_task_group).
const std::vector<LibraryPair>& library_pairs();

/// Runs each batch through `pool`'s post (no future) or submit (a future each, all waited
/// for), each task the one the library paths run: one latch count-down. Throws ConfigError
/// as make_executor does, or when `pool` cannot run closures.
std::unique_ptr<TaskBatch> make_executor_batch(std::string_view pool, std::size_t workers,
                                               scenarios::Submission submission);

/// What `time_pair` measured.
struct PairedTiming {
  double ns_per_op = 0;          ///< ours: median over the rounds of wall time per task
  double library_ns_per_op = 0;  ///< the library's, the same way
  double ratio = 0;              ///< median over the rounds of ours ÷ the library's in that round
  double ratio_min = 0;          ///< the lowest round's ratio
  double ratio_max = 0;          ///< the highest round's ratio
  std::uint64_t rounds = 0;
  /// Context switches per task of the whole process during the timed batches (ours, the
  /// library's), median over the rounds: the usual reason one side is slower. Present when
  /// the kernel counts them (kernel_counters.hpp).
  std::optional<double> context_switches;
  std::optional<double> library_context_switches;
};

using MakeBatch = std::function<std::unique_ptr<TaskBatch>()>;

/// Times `rounds` rounds (at least 1) of one batch of `tasks` on each side. In every
/// round each side is built afresh and warmed by one untimed batch before its timed one,
/// and the sides take turns going first (ours, library; library, ours; ...), so neither
/// always inherits the other's leftovers (threads still spinning, a cold cache).
PairedTiming time_pair(const MakeBatch& ours, const MakeBatch& library, std::uint64_t tasks, std::uint64_t rounds);

}  // namespace poolbench::bench
