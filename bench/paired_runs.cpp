#include "bench/paired_runs.hpp"

#include <algorithm>
#include <latch>

#include "bench/kernel_counters.hpp"
#include "bench/significance.hpp"
#include "pools/core/errors.hpp"
#include "pools/registry.hpp"

namespace poolbench::bench {
namespace {

class ExecutorBatch final : public TaskBatch {
 public:
  ExecutorBatch(std::string_view pool, std::size_t workers, scenarios::Submission submission)
      : submission_(submission) {
    if (!executor_traits(pool).in_process)
      throw ConfigError(std::string(pool) + " runs no closures, so it cannot be paired with a library");
    ExecutorOptions options;
    options.workers = workers;
    executor_ = make_executor(pool, options);
  }

  void run(std::uint64_t tasks) override {
    std::latch done(static_cast<std::ptrdiff_t>(tasks));
    auto count_down = [&done] { done.count_down(); };
    if (submission_ == scenarios::Submission::post) {
      for (std::uint64_t i = 0; i < tasks; ++i) executor_->post(count_down);
      done.wait();
      return;
    }
    futures_.clear();
    futures_.reserve(tasks);
    for (std::uint64_t i = 0; i < tasks; ++i) futures_.push_back(executor_->submit(count_down));
    wait_all(futures_);
  }

 private:
  scenarios::Submission submission_;
  std::unique_ptr<Executor> executor_;
  std::vector<Future<void>> futures_;
};

/// Per task of one timed batch on a fresh `make()`, after one untimed batch.
struct BatchTiming {
  double ns = 0;
  double context_switches = 0;
};

BatchTiming time_batch(const MakeBatch& make, std::uint64_t tasks) {
  const std::unique_ptr<TaskBatch> batch = make();
  batch->run(tasks);
  const KernelCounters& kernel = KernelCounters::process();
  const KernelCounts before = kernel.read();
  const std::uint64_t start = scenarios::now_ns();
  batch->run(tasks);
  const std::uint64_t wall = scenarios::now_ns() - start;
  const KernelCounts after = kernel.read();
  const double n = static_cast<double>(std::max<std::uint64_t>(tasks, 1));
  return {static_cast<double>(wall) / n,
          static_cast<double>(after[KernelEvent::context_switches] - before[KernelEvent::context_switches]) / n};
}

}  // namespace

const std::vector<LibraryPair>& library_pairs() {
  static const std::vector<LibraryPair> pairs{
      {"tbb", "tbb_enqueue", false},
      {"asio", "asio_post", false},
      {"thread-pool", "tbb_enqueue", false},
      {"thread-pool", "tbb_task_group", true},
  };
  return pairs;
}

std::unique_ptr<TaskBatch> make_executor_batch(std::string_view pool, std::size_t workers,
                                               scenarios::Submission submission) {
  return std::make_unique<ExecutorBatch>(pool, workers, submission);
}

PairedTiming time_pair(const MakeBatch& ours, const MakeBatch& library, std::uint64_t tasks, std::uint64_t rounds) {
  rounds = std::max<std::uint64_t>(rounds, 1);
  std::vector<double> ours_ns, library_ns, ratios, ours_switches, library_switches;
  for (std::uint64_t round = 0; round < rounds; ++round) {
    BatchTiming o;
    BatchTiming l;
    if (round % 2 == 0) {
      o = time_batch(ours, tasks);
      l = time_batch(library, tasks);
    } else {
      l = time_batch(library, tasks);
      o = time_batch(ours, tasks);
    }
    ours_ns.push_back(o.ns);
    library_ns.push_back(l.ns);
    ratios.push_back(l.ns > 0 ? o.ns / l.ns : 0);
    ours_switches.push_back(o.context_switches);
    library_switches.push_back(l.context_switches);
  }
  const auto [low, high] = std::minmax_element(ratios.begin(), ratios.end());
  PairedTiming timing{median_of(ours_ns), median_of(library_ns), median_of(ratios), *low, *high, rounds, {}, {}};
  if (KernelCounters::process().counting(KernelEvent::context_switches)) {
    timing.context_switches = median_of(ours_switches);
    timing.library_context_switches = median_of(library_switches);
  }
  return timing;
}

}  // namespace poolbench::bench
