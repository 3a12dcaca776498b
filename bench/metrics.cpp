#include "bench/metrics.hpp"

#include <algorithm>

#include "bench/schema.hpp"
#include "pools/registry.hpp"

namespace poolbench::bench {
namespace {

double us(std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

/// Adds to `total` what was used between `from` and `to`.
void add_since(ResourceUsage& total, const ResourceUsage& from, const ResourceUsage& to) {
  const auto delta = [](std::uint64_t a, std::uint64_t b) { return b > a ? b - a : 0; };
  total.cpu_seconds += to.cpu_seconds - from.cpu_seconds;
  total.context_switches += delta(from.context_switches, to.context_switches);
  total.throttled_periods += delta(from.throttled_periods, to.throttled_periods);
  total.throttled_ns += delta(from.throttled_ns, to.throttled_ns);
  for (std::size_t i = 0; i < kernel_event_count; ++i)
    total.kernel.values[i] += delta(from.kernel.values[i], to.kernel.values[i]);
}

/// The counter of each kernel event, per task, in KernelEvent order.
constexpr std::array<std::string_view, kernel_event_count> kernel_keys{counter_key("kernel_context_switches_per_task"),
                                                                       counter_key("kernel_cpu_migrations_per_task"),
                                                                       counter_key("kernel_page_faults_per_task"),
                                                                       counter_key("kernel_task_clock_us_per_task"),
                                                                       counter_key("cycles_per_task"),
                                                                       counter_key("instructions_per_task"),
                                                                       counter_key("cache_misses_per_task")};

}  // namespace

Metrics::Metrics(Cell cell, const scenarios::Scenario& scenario, unsigned usable_cpus)
    : cell_(std::move(cell)),
      scenario_(scenario),
      traits_(scenarios::scenario_traits(scenario.name())),
      usable_cpus_(usable_cpus),
      breakdown_(executor_traits(cell_.pool).worker_per_task ? 0 : cell_.workers),
      open_loop_(scenario.flow().arrivals.open()) {
  reset_peak_rss();
  start_usage_ = ResourceUsage::now();
  start_ns_ = scenarios::now_ns();
}

void Metrics::add(const scenarios::RunRecord& record, std::uint64_t heap_allocations) {
  if (runs_ > 0) {
    warm_allocations_ += heap_allocations;
    warm_tasks_ += record.tasks;
  }
  for (auto v : record.latency_ns) latency_.record(v);
  breakdown_.add(record);
  for (auto v : record.rtt_ns) rtt_.record(v);
  if (record.open_loop) add_open_loop(*record.open_loop);
  tasks_ += record.tasks;
  requests_ += record.requests;
  run_ns_ += record.wall_ns;
  ++runs_;
  const auto done = traits_.over_connections ? record.requests : record.tasks;
  if (record.open_loop) {
    run_throughputs_.push_back(record.open_loop->done_span_ns ? static_cast<double>(done - 1) * 1e9 /
                                                                    static_cast<double>(record.open_loop->done_span_ns)
                                                              : 0);
  } else {
    run_throughputs_.push_back(record.wall_ns ? static_cast<double>(done) * 1e9 / static_cast<double>(record.wall_ns)
                                              : 0);
  }
}

void Metrics::add_open_loop(const scenarios::OpenLoopRecord& open) {
  for (auto v : open.uncorrected_latency_ns) uncorrected_.record(v);
  for (auto v : open.submit_lag_ns) submit_lag_.record(v);
  open_.schedule_span_ns += static_cast<double>(open.schedule_span_ns);
  open_.done_span_ns += static_cast<double>(open.done_span_ns);
  open_.corrected_sum_ns += static_cast<double>(open.corrected_sum_ns);
  open_.in_system_sum += static_cast<double>(open.in_system_sum);
  // A backlog that grows through the run: the last quarter's arrivals find clearly more
  // in the system than the second quarter's (the first is left out as the warm-up).
  if (open.quarter > 0) {
    const double early = static_cast<double>(open.early_in_system) / static_cast<double>(open.quarter);
    const double late = static_cast<double>(open.late_in_system) / static_cast<double>(open.quarter);
    if (late > 1.5 * early + 1) open_.backlog_grew = true;
  }
}

void Metrics::add_open_loop_counters(Counters& c) const {
  // Arrivals are tasks, or requests over connections. The spans run from each run's first
  // arrival to its last: arrivals − 1 gaps per run.
  const std::uint64_t arrived = traits_.over_connections ? requests_ : tasks_;
  const auto intervals = static_cast<double>(arrived > runs_ ? arrived - runs_ : 0);
  const auto rate = [intervals](double span_ns) { return span_ns > 0 ? intervals * 1e9 / span_ns : 0; };
  const double offered = rate(open_.schedule_span_ns);
  const double achieved = rate(open_.done_span_ns);
  const auto tasks = static_cast<double>(arrived);
  // Little's law, L = λW: what arrivals found in the system at their scheduled times
  // (Poisson arrivals see time averages) against the offered rate times the mean time from
  // schedule to done; two measurements that must agree.
  const double mean_in_system = tasks > 0 ? open_.in_system_sum / tasks : 0;
  const double mean_latency_s = tasks > 0 ? open_.corrected_sum_ns / tasks * 1e-9 : 0;
  const double littles = offered * mean_latency_s;
  c.emplace_back(counter_key("uncorrected_latency_mean_us"), uncorrected_.mean() / 1000.0);
  c.emplace_back(counter_key("uncorrected_latency_p50_us"), us(uncorrected_.percentile(50)));
  c.emplace_back(counter_key("uncorrected_latency_p90_us"), us(uncorrected_.percentile(90)));
  c.emplace_back(counter_key("uncorrected_latency_p99_us"), us(uncorrected_.percentile(99)));
  c.emplace_back(counter_key("uncorrected_latency_p999_us"), us(uncorrected_.percentile(99.9)));
  c.emplace_back(counter_key("uncorrected_latency_max_us"), us(uncorrected_.max()));
  c.emplace_back(counter_key("offered_rate"), offered);
  c.emplace_back(counter_key("achieved_rate"), achieved);
  c.emplace_back(counter_key("submit_lag_p99_us"), us(submit_lag_.percentile(99)));
  c.emplace_back(counter_key("saturated"), achieved < 0.99 * offered || open_.backlog_grew ? 1 : 0);
  c.emplace_back(counter_key("littles_law_error"), littles > 0 ? (mean_in_system - littles) / littles : 0);
}

void Metrics::pause() {
  if (paused_) return;
  const ResourceUsage now = ResourceUsage::now();
  before_.wall_ns += static_cast<double>(scenarios::now_ns() - start_ns_);
  add_since(before_.used, start_usage_, now);
  before_.peak_rss = std::max(before_.peak_rss, peak_rss_bytes());
  paused_ = true;
}

void Metrics::resume() {
  if (!paused_) return;
  reset_peak_rss();
  start_usage_ = ResourceUsage::now();
  start_ns_ = scenarios::now_ns();
  paused_ = false;
}

void Metrics::before_shutdown(const Executor& executor) {
  // A size visited more than once (tune) keeps its biggest executor's worker memory.
  std::uint64_t worker_rss = 0;
  for (int pid : executor.worker_processes()) {
    worker_rss += peak_rss_bytes(pid);
    idle_worker_rss_ += resident_bytes(pid);
    idle_worker_pss_ += proportional_bytes(pid);
    ++idle_workers_;
  }
  worker_rss_ = std::max(worker_rss_, worker_rss);
  breakdown_.end_executor(executor.worker_threads());
  threads_ = executor.threads_created();
  processes_ = executor.processes_created();
}

Counters Metrics::counters() const {
  ResourceUsage used = before_.used;
  double wall_ns = before_.wall_ns;
  std::uint64_t peak_rss = before_.peak_rss;
  if (!paused_) {
    add_since(used, start_usage_, ResourceUsage::now());
    wall_ns += static_cast<double>(scenarios::now_ns() - start_ns_);
    peak_rss = std::max(peak_rss, peak_rss_bytes());
  }
  const double wall = wall_ns * 1e-9;
  const double run_seconds = static_cast<double>(run_ns_) * 1e-9;
  const double tasks = static_cast<double>(std::max<std::uint64_t>(tasks_, 1));
  const double ideal = scenario_.ideal_seconds(cell_.workers, usable_cpus_) * static_cast<double>(runs_);
  Counters c{
      {counter_key("workers"), static_cast<double>(cell_.workers)},
      {counter_key("tasks"), static_cast<double>(runs_ ? tasks_ / runs_ : 0)},
      {counter_key("tasks_per_second"), run_seconds > 0 ? static_cast<double>(tasks_) / run_seconds : 0},
      {counter_key("latency_mean_us"), latency_.mean() / 1000.0},
      {counter_key("latency_p50_us"), us(latency_.percentile(50))},
      {counter_key("latency_p90_us"), us(latency_.percentile(90))},
      {counter_key("latency_p99_us"), us(latency_.percentile(99))},
      {counter_key("latency_p999_us"), us(latency_.percentile(99.9))},
      {counter_key("latency_max_us"), us(latency_.max())},
      {counter_key("queue_wait_p50_us"), us(breakdown_.queued().percentile(50))},
      {counter_key("queue_wait_p99_us"), us(breakdown_.queued().percentile(99))},
      {counter_key("cpu_utilization"), wall > 0 ? used.cpu_seconds / wall / usable_cpus_ : 0},
      {counter_key("ctx_switches_per_task"), static_cast<double>(used.context_switches) / tasks},
      {counter_key("peak_rss_mib"), static_cast<double>(peak_rss + worker_rss_) / (1024.0 * 1024.0)},
      {counter_key("throttled_periods"), static_cast<double>(used.throttled_periods)},
      {counter_key("throttled_ms"), static_cast<double>(used.throttled_ns) / 1e6},
      {counter_key("threads_created"), static_cast<double>(threads_)},
      {counter_key("processes_created"), static_cast<double>(processes_)},
      // An open loop's time is its schedule's, not the executor's: no efficiency.
      {counter_key("efficiency"), ideal > 0 && run_seconds > 0 && !open_loop_ ? ideal / run_seconds : 0},
  };
  breakdown_.add_counters(c);
  const KernelCounters& kernel = KernelCounters::process();
  for (std::size_t i = 0; i < kernel_event_count; ++i) {
    const auto event = static_cast<KernelEvent>(i);
    if (!kernel.counting(event)) continue;
    const double scale = event == KernelEvent::task_clock_ns ? 1e-3 : 1.0;  // reported in us
    c.emplace_back(kernel_keys[i], static_cast<double>(used.kernel[event]) * scale / tasks);
  }
  if (warm_tasks_ > 0)
    c.emplace_back(counter_key("heap_allocs_per_task"),
                   static_cast<double>(warm_allocations_) / static_cast<double>(warm_tasks_));
  if (idle_workers_ > 0) {
    const double per_worker_mib = static_cast<double>(idle_workers_) * 1024.0 * 1024.0;
    c.emplace_back(counter_key("idle_worker_rss_mib"), static_cast<double>(idle_worker_rss_) / per_worker_mib);
    c.emplace_back(counter_key("idle_worker_pss_mib"), static_cast<double>(idle_worker_pss_) / per_worker_mib);
  }
  const scenarios::TaskFlow flow = scenario_.flow();
  if (flow.in_flight > 0) c.emplace_back(counter_key("in_flight"), static_cast<double>(flow.in_flight));
  if (flow.submission == scenarios::Submission::post) c.emplace_back(counter_key("posted"), 1);
  if (!flow.instrumented) c.emplace_back(counter_key("instrumented"), 0);
  if (flow.time_every_task) c.emplace_back(counter_key("traced"), 1);
  if (open_loop_ && runs_ > 0) add_open_loop_counters(c);
  if (const auto shape = scenario_.task_shape()) {
    c.emplace_back(counter_key("compute_us"), shape->compute_us);
    c.emplace_back(counter_key("wait_us"), shape->wait_us);
    c.emplace_back(counter_key("compute_cv"), shape->compute_cv);
    c.emplace_back(counter_key("wait_cv"), shape->wait_cv);
    c.emplace_back(counter_key("seed"), static_cast<double>(shape->seed));
  }
  if (traits_.over_connections) {
    c.emplace_back(counter_key("connections"), static_cast<double>(scenario_.tasks_per_run()));
    c.emplace_back(counter_key("requests_per_second"),
                   run_seconds > 0 ? static_cast<double>(requests_) / run_seconds : 0);
    c.emplace_back(counter_key("rtt_p50_us"), us(rtt_.percentile(50)));
    c.emplace_back(counter_key("rtt_p99_us"), us(rtt_.percentile(99)));
  }
  return c;
}

double counter(const Counters& counters, std::string_view name) {
  for (const auto& [key, value] : counters)
    if (key == name) return value;
  return 0;
}

}  // namespace poolbench::bench
