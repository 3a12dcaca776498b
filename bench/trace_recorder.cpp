#include "bench/trace_recorder.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "pools/core/errors.hpp"

namespace poolbench::bench {
namespace {

/// A trace timestamp: microseconds since `origin`, to the nanosecond.
std::string us(std::uint64_t ns, std::uint64_t origin) {
  return fmt::format("{:.3f}", static_cast<double>(ns - origin) / 1000.0);
}

std::string quoted(const std::string& text) { return nlohmann::json(text).dump(); }

/// `path`, once `limit` is known to be one a trace can keep.
std::string checked_path(std::string path, long long limit) {
  if (limit < 1) throw ConfigError(fmt::format("--trace-limit {} is out of range (allowed: 1 or more tasks)", limit));
  return path;
}

}  // namespace

TraceRecorder::TraceRecorder(std::string path, std::size_t limit)
    : file_(checked_path(path, static_cast<long long>(limit))), path_(std::move(path)), limit_(limit) {}

bool TraceRecorder::add_run(const std::string& benchmark, const std::string& executor, std::size_t workers,
                            const scenarios::RunRecord& record, const std::vector<WorkerThread>& pool_threads) {
  if (stopped_) return false;
  if (record.timing_stride != 1 || traced_tasks_ + record.timings.size() > limit_) {
    stopped_ = true;
    return false;
  }
  const int pid = ::getpid();
  const int runner = static_cast<int>(::gettid());
  names_.try_emplace({pid, runner}, "submitter");
  Run run{benchmark, executor,       workers, iterations_[benchmark]++, record.start_ns, record.end_ns,
          runner,    record.timings, {}};
  const auto name_worker = [&](int worker_pid, int tid, std::size_t index) {
    if (worker_pid != pid) {
      const std::string name = fmt::format("{} worker pid {}", executor, worker_pid);
      process_names_[worker_pid] = name;
      names_[{worker_pid, tid}] = name;
    } else {
      names_[{worker_pid, tid}] = fmt::format("{} worker {}", executor, index);
    }
    run.worker_tracks.emplace_back(worker_pid, tid);
  };
  for (const WorkerThread& t : pool_threads) name_worker(t.pid, t.tid, run.worker_tracks.size());
  for (const scenarios::TaskTiming& t : run.tasks) {
    if (t.submitter_tid != 0 && t.submitter_tid != runner) names_.try_emplace({pid, t.submitter_tid}, "submitter");
    const std::pair<int, int> track{t.pid, t.tid};
    if (std::find(run.worker_tracks.begin(), run.worker_tracks.end(), track) != run.worker_tracks.end()) continue;
    if (t.pid == pid && (t.tid == runner || t.tid == t.submitter_tid))
      run.worker_tracks.push_back(track);  // an inline executor runs tasks on the submitter's track
    else
      name_worker(t.pid, t.tid, run.worker_tracks.size());
  }
  traced_tasks_ += run.tasks.size();
  runs_.push_back(std::move(run));
  return true;
}

std::string TraceRecorder::events() const {
  const int pid = ::getpid();
  const std::uint64_t origin = runs_.empty() ? 0 : runs_.front().start_ns;
  std::string out;
  auto event = [&out](const std::string& text) {
    if (!out.empty()) out += ",\n";
    out += text;
  };
  event(fmt::format(R"({{"ph":"M","name":"process_name","pid":{},"args":{{"name":"poolbench"}}}})", pid));
  for (const auto& [worker_pid, name] : process_names_)
    event(fmt::format(R"({{"ph":"M","name":"process_name","pid":{},"args":{{"name":{}}}}})", worker_pid, quoted(name)));
  for (const auto& [track, name] : names_)
    event(fmt::format(R"({{"ph":"M","name":"thread_name","pid":{},"tid":{},"args":{{"name":{}}}}})", track.first,
                      track.second, quoted(name)));
  std::uint64_t flow = 0;
  for (std::size_t r = 0; r < runs_.size(); ++r) {
    const Run& run = runs_[r];
    const int runner = run.runner_tid;
    event(fmt::format(R"({{"ph":"X","cat":"run","name":{},"pid":{},"tid":{},"ts":{},"dur":{},"args":{{"run":{}}}}})",
                      quoted(fmt::format("{} #{}", run.benchmark, run.iteration)), pid, runner,
                      us(run.start_ns, origin), us(run.end_ns, run.start_ns), r));
    // Queue depth and busy workers change at each submit, start and end.
    std::vector<std::pair<std::uint64_t, int>> changes;  // time, 0 submit / 1 start / 2 end
    for (const scenarios::TaskTiming& t : run.tasks) {
      const int submitter = t.submitter_tid != 0 ? t.submitter_tid : runner;
      event(fmt::format(
          R"({{"ph":"X","cat":"submit","name":"submit {}","pid":{},"tid":{},"ts":{},"dur":{},"args":{{"run":{},"task":{}}}}})",
          t.index, pid, submitter, us(t.submit_ns, origin), us(t.submitted_ns, t.submit_ns), r, t.index));
      event(fmt::format(R"({{"ph":"s","cat":"flow","name":"queued","id":{},"pid":{},"tid":{},"ts":{}}})", flow, pid,
                        submitter, us(t.submit_ns, origin)));
      event(fmt::format(
          R"({{"ph":"X","cat":"task","name":"task {}","pid":{},"tid":{},"ts":{},"dur":{},"args":{{"run":{},"task":{},"queued_us":{},"handback_us":{}}}}})",
          t.index, t.pid, t.tid, us(t.start_ns, origin), us(t.end_ns, t.start_ns), r, t.index,
          us(t.start_ns, t.submit_ns), us(t.done_ns, t.end_ns)));
      event(fmt::format(R"({{"ph":"f","bp":"e","cat":"flow","name":"queued","id":{},"pid":{},"tid":{},"ts":{}}})", flow,
                        t.pid, t.tid, us(t.start_ns, origin)));
      ++flow;
      changes.emplace_back(t.submit_ns, 0);
      changes.emplace_back(t.start_ns, 1);
      changes.emplace_back(t.end_ns, 2);
    }
    std::sort(changes.begin(), changes.end());
    long queued = 0, busy = 0;
    for (std::size_t i = 0; i < changes.size(); ++i) {
      const auto [at, kind] = changes[i];
      if (kind == 0) ++queued;
      if (kind == 1) --queued, ++busy;
      if (kind == 2) --busy;
      if (i + 1 < changes.size() && changes[i + 1].first == at) continue;  // one sample per instant
      event(fmt::format(R"({{"ph":"C","name":"queue depth","pid":{},"ts":{},"args":{{"tasks":{}}}}})", pid,
                        us(at, origin), queued));
      event(fmt::format(R"({{"ph":"C","name":"busy workers","pid":{},"ts":{},"args":{{"workers":{}}}}})", pid,
                        us(at, origin), busy));
    }
  }
  return out;
}

void TraceRecorder::commit_and_say(const char* program) {
  commit();
  std::fprintf(stderr, "%s: wrote %s (%zu tasks in %zu runs)\n", program, path_.c_str(), traced_tasks_, runs_.size());
  if (stopped_)
    std::fprintf(stderr, "%s: the trace stopped at %zu tasks (--trace-limit %zu): the runs after it are not in it\n",
                 program, traced_tasks_, limit_);
}

void time_every_task_for_trace(scenarios::TaskFlow& flow) {
  if (!flow.instrumented) throw ConfigError("--trace needs the tasks timed: leave out --instrument off");
  flow.time_every_task = true;
}

std::unique_ptr<TraceRecorder> open_trace(const std::string& path, long long limit) {
  if (path.empty()) return nullptr;
  checked_path(path, limit);
  return std::make_unique<TraceRecorder>(path, static_cast<std::size_t>(limit));
}

void TraceRecorder::commit() {
  const std::uint64_t origin = runs_.empty() ? 0 : runs_.front().start_ns;
  nlohmann::ordered_json runs = nlohmann::ordered_json::array();
  for (std::size_t r = 0; r < runs_.size(); ++r) {
    const Run& run = runs_[r];
    nlohmann::ordered_json tracks = nlohmann::ordered_json::array();
    for (const auto& [worker_pid, tid] : run.worker_tracks) tracks.push_back({worker_pid, tid});
    runs.push_back({{"run", r},
                    {"benchmark", run.benchmark},
                    {"scenario", run.benchmark.substr(0, run.benchmark.find('/'))},
                    {"executor", run.executor},
                    {"workers", run.workers},
                    {"iteration", run.iteration},
                    {"start_us", static_cast<double>(run.start_ns - origin) / 1000.0},
                    {"end_us", static_cast<double>(run.end_ns - origin) / 1000.0},
                    {"tasks", run.tasks.size()},
                    {"worker_tracks", std::move(tracks)}});
  }
  const nlohmann::ordered_json other{{"tool", "poolbench"},           {"clock", "CLOCK_MONOTONIC"},
                                     {"clock_origin_ns", origin},     {"trace_limit", limit_},
                                     {"traced_tasks", traced_tasks_}, {"stopped_at_limit", stopped_},
                                     {"runs", std::move(runs)}};
  file_.write("{\"traceEvents\":[\n" + events() + "\n],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":" + other.dump() +
              "}\n");
  file_.commit();
}

}  // namespace poolbench::bench
