#include "scenarios/socket_scenario.hpp"

#include "scenarios/echo_server.hpp"
#include "scenarios/load_client.hpp"
#include "scenarios/open_loop.hpp"

namespace poolbench::scenarios {

SocketScenario::SocketScenario(const ScenarioOptions& options) : options_(options) {}

TaskFlow SocketScenario::flow() const noexcept {
  TaskFlow flow;
  flow.arrivals = options_.flow.arrivals;
  return flow;
}

RunRecord SocketScenario::run(Executor& executor) {
  RunRecord record;
  const std::uint64_t start = now_ns();
  EchoServer server(executor, options_.connections, options_.io_timeout);
  const Arrivals& arrivals = options_.flow.arrivals;
  LoadResult load = arrivals.open() ? run_open_load(server.port(), split_schedule(arrivals, options_.connections),
                                                    options_.message, options_.io_timeout)
                                    : run_load(server.port(), options_.connections, options_.round_trips,
                                               options_.message, options_.io_timeout);
  std::string accept_error;
  auto connections = server.finish(accept_error);
  for (std::size_t i = 0; i < connections.size(); ++i) {
    auto& connection = connections[i];
    TaskSample sample;
    try {
      sample = connection.future.get();
    } catch (const std::exception& e) {
      record.fail("server task for connection " + std::to_string(i) + " failed: " + e.what());
      continue;
    }
    const std::uint64_t done = await_time(*connection.done_ns);
    if (!record.add_timing({i, connection.submit_ns, connection.submitted_ns, sample.start_ns, sample.end_ns, done,
                            sample.pid, sample.tid, connection.submitter_tid}))
      continue;
    record.add_task(sample, {});
    if (!arrivals.open()) record.latency_ns.push_back(done - connection.submit_ns);
  }
  record.wall_ns = now_ns() - start;
  record.start_ns = start;
  record.end_ns = now_ns();
  if (!accept_error.empty()) record.fail(accept_error);
  if (load.failures > 0) {
    record.failures += load.failures - 1;
    record.fail("client " + load.first_error);
  }
  record.requests = load.round_trips;
  record.rtt_ns = std::move(load.rtt_ns);
  if (arrivals.open()) record_open_loop(record, std::move(load.requests));
  return record;
}

}  // namespace poolbench::scenarios
