#include "bench/task_breakdown.hpp"

#include <algorithm>
#include <functional>
#include <queue>

namespace poolbench::bench {
namespace {

double us(double ns) { return ns / 1000.0; }

}  // namespace

std::vector<std::size_t> tasks_found(const std::vector<scenarios::TaskTiming>& timings) {
  std::vector<std::size_t> found;
  found.reserve(timings.size());
  std::priority_queue<std::uint64_t, std::vector<std::uint64_t>, std::greater<>> ends;
  for (const scenarios::TaskTiming& t : timings) {
    while (!ends.empty() && ends.top() <= t.submit_ns) ends.pop();
    found.push_back(ends.size());
    ends.push(t.end_ns);
  }
  return found;
}

void TaskBreakdown::add(const scenarios::RunRecord& record) {
  const auto stride = static_cast<double>(record.timing_stride);
  if (record.timing_stride > 1) every_task_timed_ = false;
  wall_ns_ += static_cast<double>(record.wall_ns);
  const std::vector<std::size_t> found = tasks_found(record.timings);
  for (std::size_t i = 0; i < record.timings.size(); ++i) {
    const scenarios::TaskTiming& t = record.timings[i];
    const std::uint64_t queued = t.queued_ns();
    queued_.record(queued);
    running_.record(t.end_ns - t.start_ns);
    handback_.record(t.done_ns - t.end_ns);
    // With one task in `stride` timed, each stands for `stride` tasks in the executor.
    if (workers_ == 0 || static_cast<double>(found[i]) * stride < static_cast<double>(workers_)) wakeup_.record(queued);
    busy_ns_[{t.pid, t.tid}] += stride * static_cast<double>(t.end_ns - t.start_ns);
  }
}

void TaskBreakdown::add_counters(Counters& c) const {
  const auto add_part = [&c](std::string_view mean, std::string_view p50, std::string_view p99, const LogHistogram& h) {
    c.emplace_back(mean, us(h.mean()));
    c.emplace_back(p50, us(static_cast<double>(h.percentile(50))));
    c.emplace_back(p99, us(static_cast<double>(h.percentile(99))));
  };
  add_part(counter_key("queued_mean_us"), counter_key("queued_p50_us"), counter_key("queued_p99_us"), queued_);
  add_part(counter_key("wakeup_mean_us"), counter_key("wakeup_p50_us"), counter_key("wakeup_p99_us"), wakeup_);
  c.emplace_back(counter_key("wakeup_share"),
                 queued_.count() ? static_cast<double>(wakeup_.count()) / static_cast<double>(queued_.count()) : 0);
  add_part(counter_key("running_mean_us"), counter_key("running_p50_us"), counter_key("running_p99_us"), running_);
  add_part(counter_key("handback_mean_us"), counter_key("handback_p50_us"), counter_key("handback_p99_us"), handback_);
  if (workers_ == 0) return;
  std::vector<double> fractions = fractions_;
  for (double f : executor_fractions({})) fractions.push_back(f);
  if (fractions.empty()) return;
  double sum = 0;
  for (double f : fractions) sum += f;
  c.emplace_back(counter_key("worker_busy_fraction_mean"), sum / static_cast<double>(fractions.size()));
  c.emplace_back(counter_key("worker_busy_fraction_min"), *std::min_element(fractions.begin(), fractions.end()));
  c.emplace_back(counter_key("worker_busy_fraction_max"), *std::max_element(fractions.begin(), fractions.end()));
}

std::vector<double> TaskBreakdown::executor_fractions(const std::vector<WorkerThread>& pool_threads) const {
  if (wall_ns_ <= 0) return {};
  std::map<WorkerKey, double> busy = busy_ns_;
  if (every_task_timed_)
    for (const WorkerThread& t : pool_threads) busy.try_emplace({t.pid, t.tid}, 0.0);
  std::vector<double> fractions;
  for (const auto& [worker, ns] : busy) fractions.push_back(std::min(1.0, ns / wall_ns_));
  return fractions;
}

void TaskBreakdown::end_executor(const std::vector<WorkerThread>& pool_threads) {
  for (double f : executor_fractions(pool_threads)) fractions_.push_back(f);
  busy_ns_.clear();
  wall_ns_ = 0;
  every_task_timed_ = true;
}

}  // namespace poolbench::bench
