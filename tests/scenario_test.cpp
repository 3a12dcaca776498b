#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <latch>

#include "pools/registry.hpp"
#include "pools/threads/thread_pool.hpp"
#include "scenarios/cpu_scenario.hpp"
#include "scenarios/echo_server.hpp"
#include "scenarios/load_client.hpp"
#include "scenarios/mixed_scenario.hpp"
#include "scenarios/open_loop.hpp"
#include "scenarios/scenario.hpp"
#include "scenarios/task_tracker.hpp"
#include "scenarios/tcp.hpp"

namespace poolbench::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

/// A task whose worker reports a start before any submit for task 2, as a broken or
/// hostile worker could.
scenarios::TaskSample clock_of_task(std::uint64_t index) {
  const scenarios::TaskClock clock;
  scenarios::TaskSample sample = clock.finish(index);
  if (index == 2) sample.start_ns = 1;
  return sample;
}

const RegisteredTask<&clock_of_task> clock_of_task_ref{"tests.clock_of_task"};

scenarios::ScenarioOptions tiny() {
  scenarios::ScenarioOptions o;
  o.tasks = 24;
  o.iterations = 2000;
  o.sleep = 1ms;
  o.compute = 200us;
  o.wait = 500us;
  o.connections = 3;
  o.round_trips = 5;
  o.io_timeout = 20s;
  return o;
}

class EveryScenarioOnEveryExecutor : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(EveryScenarioOnEveryExecutor, RunsCorrectlyAndCountsEveryTask) {
  const auto& [scenario_name, pool] = GetParam();
  auto scenario = scenarios::make_scenario(scenario_name, tiny());
  auto executor = make_executor(pool, {3, {}});
  for (int run = 0; run < 2; ++run) {
    const scenarios::RunRecord r = scenario->run(*executor);
    ASSERT_TRUE(r.ok()) << r.first_error;
    EXPECT_EQ(r.tasks, scenario->tasks_per_run());
    EXPECT_EQ(r.latency_ns.size(), r.tasks);
    EXPECT_EQ(r.timings.size(), r.tasks);
    EXPECT_GT(r.wall_ns, 0u);
    for (std::size_t i = 0; i < r.tasks; ++i) EXPECT_LE(r.timings[i].queued_ns(), r.latency_ns[i]);
    if (scenario_name == "socket") {
      EXPECT_EQ(r.requests, tiny().connections * tiny().round_trips);
      EXPECT_EQ(r.rtt_ns.size(), r.requests);
    }
  }
  executor->shutdown();
  const TaskCounts c = executor->counts();
  EXPECT_EQ(c.submitted, 2 * scenario->tasks_per_run());
  EXPECT_EQ(c.completed, c.submitted);
}

INSTANTIATE_TEST_SUITE_P(Grid, EveryScenarioOnEveryExecutor,
                         ::testing::Combine(::testing::Values("cpu", "sleep", "mixed", "socket"),
                                            ::testing::Values("sync", "thread-per-task", "thread-pool", "process-pool",
                                                              "tbb", "asio")),
                         [](const auto& info) {
                           std::string name = std::get<0>(info.param) + "_" + std::get<1>(info.param);
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(CpuScenario, EmptyTasksMeasurePureOverhead) {
  auto o = tiny();
  o.iterations = 0;
  auto scenario = scenarios::make_scenario("cpu", o);
  ThreadPool pool(2);
  const auto r = scenario->run(pool);
  ASSERT_TRUE(r.ok()) << r.first_error;
  EXPECT_EQ(r.tasks, o.tasks);
}

TEST(Scenarios, InFlightOneRunsTasksOneAtATimeSubmittedOrPosted) {
  for (auto submission : {scenarios::Submission::future, scenarios::Submission::post}) {
    auto o = tiny();
    o.tasks = 5;
    o.sleep = 20ms;
    o.flow = {submission, 1, true, {}};
    auto scenario = scenarios::make_scenario("sleep", o);
    ThreadPool pool(4);
    const auto r = scenario->run(pool);
    ASSERT_TRUE(r.ok()) << r.first_error;
    EXPECT_EQ(r.tasks, 5u);
    EXPECT_GE(r.wall_ns, 5u * 20'000'000u) << "with one task in flight the sleeps cannot overlap";
    EXPECT_EQ(scenario->flow().in_flight, 1u);
  }
}

class PostedScenarioOnInProcessExecutor : public ::testing::TestWithParam<std::string> {};

TEST_P(PostedScenarioOnInProcessExecutor, ChecksAndTimesEveryTaskWithoutFutures) {
  auto o = tiny();
  o.tasks = 300;
  o.flow.submission = scenarios::Submission::post;
  auto executor = make_executor(GetParam(), {3, {}});
  for (const char* name : {"cpu", "sleep"}) {
    auto scenario = scenarios::make_scenario(name, o);
    const auto r = scenario->run(*executor);
    ASSERT_TRUE(r.ok()) << name << ": " << r.first_error;
    EXPECT_EQ(r.tasks, 300u);
    EXPECT_EQ(r.latency_ns.size(), 300u);
    for (std::size_t i = 0; i < r.tasks; ++i) EXPECT_LE(r.timings[i].queued_ns(), r.latency_ns[i]);
  }
  executor->shutdown();
  EXPECT_EQ(executor->counts().completed, 600u);
}

INSTANTIATE_TEST_SUITE_P(InProcess, PostedScenarioOnInProcessExecutor,
                         ::testing::Values("sync", "thread-per-task", "thread-pool", "tbb", "asio"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(Scenarios, PostingToAProcessPoolFailsTheRunWithAReason) {
  auto o = tiny();
  o.flow.submission = scenarios::Submission::post;
  auto scenario = scenarios::make_scenario("cpu", o);
  auto pool = make_executor("process-pool", {1, {}});
  const auto r = scenario->run(*pool);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.first_error, HasSubstr("--submit future"));
}

TEST(Scenarios, PostedTasksCancelledByTheExecutorFailTheRun) {
  auto o = tiny();
  o.tasks = 50;
  o.flow.submission = scenarios::Submission::post;
  auto scenario = scenarios::make_scenario("sleep", o);
  ThreadPool pool(1);
  pool.shutdown(false);
  const auto r = scenario->run(pool);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.first_error, HasSubstr("could not be posted"));
}

TEST(Scenarios, ATaskReportingTimesOutOfOrderFailsAloneAndItsTimesAreNotUsed) {
  for (const char* pool : {"thread-pool", "process-pool"}) {
    SCOPED_TRACE(pool);
    auto executor = make_executor(pool, {2, {}});
    scenarios::TaskFlow flow;
    flow.time_every_task = true;
    const scenarios::RunRecord r = scenarios::run_tracked(
        *executor, 6, flow, [](std::uint64_t i, bool) { return clock_of_task(i); },
        [&](std::uint64_t i, bool) { return executor->submit(clock_of_task_ref, i); },
        [](std::size_t i, std::uint64_t value) { return value == i ? std::string() : std::string("wrong value"); });
    EXPECT_EQ(r.failures, 1u);
    EXPECT_THAT(r.first_error, HasSubstr("task 2 reported times out of order"));
    EXPECT_EQ(r.tasks, 5u) << "the other tasks count";
    ASSERT_EQ(r.timings.size(), 5u);
    for (const auto& t : r.timings) {
      EXPECT_NE(t.index, 2u);
      EXPECT_TRUE(t.consistent());
      EXPECT_NE(t.tid, 0) << "each timing names the thread that ran it";
    }
  }
}

TEST(EndCounter, WakesItsWaiterOnceTheAwaitedCountIsReachedAndNotBefore) {
  scenarios::EndCounter counter;
  std::latch started(1);
  std::jthread ender([&] {
    started.wait();
    for (int i = 0; i < 1000; ++i) counter.add();
  });
  EXPECT_FALSE(counter.wait_for(1, std::chrono::milliseconds(20))) << "nothing has ended yet";
  started.count_down();
  EXPECT_TRUE(counter.wait_for(1000, std::chrono::seconds(60))) << "the 1000th end wakes the waiter";
  EXPECT_EQ(counter.ended(), 1000u);
  EXPECT_FALSE(counter.wait_for(1001, std::chrono::milliseconds(20)));
}

TEST(Scenarios, UninstrumentedRunsCheckEveryValueButTimeOnlyTheRun) {
  for (auto submission : {scenarios::Submission::future, scenarios::Submission::post}) {
    auto o = tiny();
    o.flow = {submission, 0, false, {}};
    auto scenario = scenarios::make_scenario("cpu", o);
    ThreadPool pool(2);
    const auto r = scenario->run(pool);
    ASSERT_TRUE(r.ok()) << r.first_error;
    EXPECT_EQ(r.tasks, o.tasks);
    EXPECT_GT(r.wall_ns, 0u);
    EXPECT_TRUE(r.latency_ns.empty());
    EXPECT_TRUE(r.timings.empty());
  }
}

TEST(CpuScenario, HashChainIsDeterministicAndDependsOnEveryInput) {
  EXPECT_EQ(scenarios::hash_chain(7, 1000), scenarios::hash_chain(7, 1000));
  EXPECT_NE(scenarios::hash_chain(7, 1000), scenarios::hash_chain(8, 1000));
  EXPECT_NE(scenarios::hash_chain(7, 1000), scenarios::hash_chain(7, 1001));
}

TEST(Scenarios, IdealTimesFollowThePhysics) {
  auto o = tiny();
  o.tasks = 100;
  o.sleep = 10ms;
  auto sleep = scenarios::make_scenario("sleep", o);
  EXPECT_DOUBLE_EQ(sleep->ideal_seconds(10, 2), 0.1);
  EXPECT_DOUBLE_EQ(sleep->ideal_seconds(30, 2), 0.04);
  EXPECT_DOUBLE_EQ(sleep->ideal_seconds(1, 2), 1.0);
  auto cpu = scenarios::make_scenario("cpu", o);
  const double one = cpu->ideal_seconds(1, 2);
  EXPECT_GT(one, 0);
  EXPECT_DOUBLE_EQ(cpu->ideal_seconds(2, 2), one / 2);
  EXPECT_DOUBLE_EQ(cpu->ideal_seconds(10, 2), one / 2) << "no more parallelism than usable CPUs";
  EXPECT_EQ(scenarios::make_scenario("socket", o)->ideal_seconds(4, 2), 0.0);
}

TEST(MixedScenario, FixedTimesHaveTheIdealOfTheTightestBound) {
  auto o = tiny();
  o.tasks = 100;
  o.compute = 1ms;
  o.wait = 4ms;
  auto mixed = scenarios::make_scenario("mixed", o);
  // On 2 CPUs: 100 tasks of 1 ms compute need 50 ms at best, and 10 rounds of 5 ms tasks
  // also 50 ms at 10 workers, the size P × (1 + W ÷ C) where both bounds meet.
  EXPECT_NEAR(mixed->ideal_seconds(10, 2), 0.050, 1e-9);
  EXPECT_NEAR(mixed->ideal_seconds(5, 2), 0.100, 1e-9) << "20 rounds of 5 ms: too few workers to overlap the waits";
  EXPECT_NEAR(mixed->ideal_seconds(40, 2), 0.050, 1e-9) << "the CPUs bound it: more workers do not help";
  EXPECT_NEAR(mixed->ideal_seconds(1, 2), 0.500, 1e-9);
}

TEST(MixedScenario, DrawnTimesAreTheSameForTheSameSeedAndDifferForAnother) {
  auto o = tiny();
  o.tasks = 500;
  o.compute_distribution = scenarios::parse_distribution("--compute-dist", "exponential");
  o.wait_distribution = scenarios::parse_distribution("--wait-dist", "lognormal:1");
  o.seed = 42;
  const scenarios::MixedScenario a(o), b(o);
  EXPECT_EQ(a.compute_ns(), b.compute_ns());
  EXPECT_EQ(a.wait_ns(), b.wait_ns());
  o.seed = 43;
  const scenarios::MixedScenario c(o);
  EXPECT_NE(a.compute_ns(), c.compute_ns());
  EXPECT_NE(a.wait_ns(), c.wait_ns());
  const auto shape = a.task_shape();
  ASSERT_TRUE(shape);
  EXPECT_EQ(shape->seed, 42u);
  EXPECT_GT(shape->compute_cv, 0.5) << "exponential times vary about as much as their mean";
}

TEST(MixedScenario, DrawnTimesBoundTheIdealByTheLongestTaskAndTheTotal) {
  auto o = tiny();
  o.tasks = 50;
  o.compute = 100us;
  o.wait = 2ms;
  o.wait_distribution = scenarios::parse_distribution("--wait-dist", "lognormal:2");
  const scenarios::MixedScenario mixed(o);
  double total = 0, longest = 0;
  for (std::size_t i = 0; i < mixed.compute_ns().size(); ++i) {
    const double task = static_cast<double>(mixed.compute_ns()[i] + mixed.wait_ns()[i]) * 1e-9;
    total += task;
    longest = std::max(longest, task);
  }
  EXPECT_NEAR(mixed.ideal_seconds(1'000, 2), longest, 1e-12) << "with a worker per task, the longest task";
  EXPECT_NEAR(mixed.ideal_seconds(1, 2), total, 1e-9) << "with one worker, every task in turn";
}

scenarios::ScenarioOptions open_loop(double rate, std::chrono::milliseconds duration) {
  auto o = tiny();
  o.flow.arrivals.rate = rate;
  o.flow.arrivals.duration = duration;
  return o;
}

TEST(OpenLoop, EveryArrivalIsSubmittedCheckedAndTimedFromItsSchedule) {
  for (const char* name : {"cpu", "sleep", "mixed"}) {
    SCOPED_TRACE(name);
    auto scenario = scenarios::make_scenario(name, open_loop(2'000, 50ms));
    EXPECT_EQ(scenario->tasks_per_run(), 100u) << "rate x duration tasks, whatever --tasks says";
    auto executor = make_executor("thread-pool", {4, {}});
    const scenarios::RunRecord r = scenario->run(*executor);
    ASSERT_TRUE(r.ok()) << r.first_error;
    ASSERT_TRUE(r.open_loop);
    EXPECT_EQ(r.tasks, 100u);
    ASSERT_EQ(r.latency_ns.size(), 100u) << "every task of an open loop is timed";
    ASSERT_EQ(r.open_loop->uncorrected_latency_ns.size(), 100u);
    ASSERT_EQ(r.open_loop->submit_lag_ns.size(), 100u);
    for (std::size_t i = 0; i < 100; ++i) {
      // From the schedule = how late the submit was + from the submit.
      EXPECT_EQ(r.latency_ns[i], r.open_loop->submit_lag_ns[i] + r.open_loop->uncorrected_latency_ns[i]) << i;
    }
    EXPECT_GE(r.open_loop->schedule_span_ns, 40'000'000u) << "100 arrivals at 2,000/s span about 50 ms";
    executor->shutdown();
    EXPECT_EQ(executor->counts().completed, 100u);
  }
}

TEST(OpenLoop, EverySocketRequestIsSentOnItsConnectionsScheduleAndTimed) {
  for (const char* pool : {"thread-pool", "process-pool"}) {
    SCOPED_TRACE(pool);
    const auto o = open_loop(3'000, 50ms);  // 3 connections, 1,000 requests/s each
    auto scenario = scenarios::make_scenario("socket", o);
    auto executor = make_executor(pool, {3, {}});
    const scenarios::RunRecord r = scenario->run(*executor);
    ASSERT_TRUE(r.ok()) << r.first_error;
    ASSERT_TRUE(r.open_loop);
    EXPECT_EQ(r.tasks, 3u) << "one server task per connection";
    EXPECT_EQ(r.timings.size(), 3u);
    EXPECT_EQ(r.requests, 150u) << "3,000/s for 50 ms, whatever --round-trips says";
    ASSERT_EQ(r.latency_ns.size(), 150u) << "every request is timed from its schedule";
    ASSERT_EQ(r.open_loop->uncorrected_latency_ns.size(), 150u);
    ASSERT_EQ(r.rtt_ns.size(), 150u);
    for (std::size_t i = 0; i < 150; ++i)
      EXPECT_GE(r.latency_ns[i], r.open_loop->submit_lag_ns[i] + r.open_loop->uncorrected_latency_ns[i]) << i;
    executor->shutdown();
    EXPECT_EQ(executor->counts().completed, 3u);
  }
}

TEST(LoadClient, AStallDelaysTheNextSendsButNotTheirSchedule) {
  // Requests due every millisecond; the server holds the first reply 50 ms. A closed-loop
  // client would just send later and see fast replies; from the schedule, each request
  // due in the stall waited for it.
  UniqueFd listener = scenarios::listen_on_loopback(4);
  std::thread server([&] {
    UniqueFd c(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    scenarios::set_io_timeout(c.get(), 20s);
    char buffer[2];
    for (int request = 0; request < 20; ++request) {
      std::size_t got = 0;
      while (got < 2) got += scenarios::receive_some(c.get(), buffer + got, 2 - got);
      if (request == 0) std::this_thread::sleep_for(50ms);
      scenarios::send_all(c.get(), "HI");
    }
  });
  std::vector<std::uint64_t> schedule;
  for (std::uint64_t k = 0; k < 20; ++k) schedule.push_back(k * 1'000'000);
  const auto load = scenarios::run_open_load(scenarios::local_port(listener.get()), {schedule}, "hi", 20s);
  server.join();
  ASSERT_EQ(load.failures, 0u) << load.first_error;
  ASSERT_EQ(load.requests.size(), 20u);
  const auto start = load.requests[0].scheduled_ns;
  for (std::size_t k = 1; k < 20; ++k) {
    const auto& r = load.requests[k];
    EXPECT_EQ(r.scheduled_ns - start, schedule[k]) << "the schedule never moves";
    EXPECT_EQ(r.ready_ns, std::max(r.scheduled_ns, load.requests[k - 1].done_ns)) << "ready at its previous reply";
    EXPECT_GE(r.submitted_ns, r.ready_ns);
    EXPECT_GE(r.done_ns - r.scheduled_ns, 50'000'000 - schedule[k]) << k << ": waited out the stall";
  }
  scenarios::RunRecord record;
  scenarios::record_open_loop(record, load.requests);
  ASSERT_EQ(record.latency_ns.size(), 20u);
  EXPECT_GE(record.latency_ns[10], 40'000'000u) << "request 10 was due 10 ms in, the stall ended 50 ms in";
}

TEST(OpenLoop, ArrivalsThatOutrunTheExecutorQueueUpAndCountAgainstIt) {
  // One worker and 10 ms tasks serve 100 a second; 400 a second arrive. The submitter keeps
  // its schedule (it never waits for a task), so the tasks wait in the executor's queue.
  auto o = open_loop(400, 100ms);
  o.sleep = 10ms;
  auto scenario = scenarios::make_scenario("sleep", o);
  auto executor = make_executor("thread-pool", {1, {}});
  const scenarios::RunRecord r = scenario->run(*executor);
  ASSERT_TRUE(r.ok()) << r.first_error;
  ASSERT_TRUE(r.open_loop);
  ASSERT_EQ(r.tasks, 40u);
  // The last task arrives ~100 ms in and runs ~400 ms in: it waited some 200 ms or more.
  EXPECT_GT(*std::max_element(r.latency_ns.begin(), r.latency_ns.end()), 200'000'000u);
  EXPECT_GT(r.open_loop->late_in_system, r.open_loop->early_in_system) << "the backlog grew through the run";
}

TEST(OpenLoop, KnobsThatCannotGoWithARateAreRefused) {
  const auto refused = [](const std::string& name, scenarios::ScenarioOptions o) -> std::string {
    try {
      scenarios::make_scenario(name, o);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "accepted";
  };
  EXPECT_THAT(refused("socket", open_loop(200'000, 1s)), HasSubstr("50000 per connection"))
      << "3 connections keep at most 3 submitters' rates";
  EXPECT_EQ(refused("socket", open_loop(100'000, 1s)), "accepted");
  EXPECT_THAT(refused("cpu", open_loop(1e6, 1s)), HasSubstr("--rate 1000000"));
  EXPECT_THAT(refused("cpu", open_loop(100, std::chrono::hours(2))), HasSubstr("--duration 7200"));
  auto in_flight = open_loop(100, 1s);
  in_flight.flow.in_flight = 4;
  EXPECT_THAT(refused("sleep", in_flight), HasSubstr("--in-flight"));
  auto posted = open_loop(100, 1s);
  posted.flow.submission = scenarios::Submission::post;
  EXPECT_THAT(refused("sleep", posted), HasSubstr("--submit post"));
  EXPECT_THAT(refused("sleep", open_loop(40'000, std::chrono::hours(1))), HasSubstr("more than the 100000000"));
}

TEST(Scenarios, BadKnobsNameTheValue) {
  auto o = tiny();
  o.tasks = 0;
  EXPECT_THROW(scenarios::make_scenario("cpu", o), ConfigError);
  o = tiny();
  o.sleep = std::chrono::seconds(61);
  EXPECT_THROW(scenarios::make_scenario("sleep", o), ConfigError);
  o = tiny();
  o.connections = 100'000'000;
  try {
    scenarios::make_scenario("socket", o);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("--connections 100000000"));
    EXPECT_THAT(e.what(), HasSubstr("ulimit -n"));
  }
  EXPECT_THROW(scenarios::make_scenario("disk", tiny()), ConfigError);
  o = tiny();
  o.compute = std::chrono::seconds(61);
  EXPECT_THROW(scenarios::make_scenario("mixed", o), ConfigError);
  o = tiny();
  o.wait = std::chrono::seconds(61);
  try {
    scenarios::make_scenario("mixed", o);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("--wait-us 61000000"));
  }
}

TEST(EchoServer, ClientThatDisconnectsMidStreamEndsItsTask) {
  ThreadPool pool(2);
  scenarios::EchoServer server(pool, 1, 2s);
  {
    UniqueFd client = scenarios::connect_to_loopback(server.port(), 2s);
    scenarios::send_all(client.get(), "hel");
    char reply[3];
    std::size_t got = 0;
    while (got < 3) got += scenarios::receive_some(client.get(), reply + got, 3 - got);
    EXPECT_EQ(std::string(reply, 3), "HEL");
    scenarios::send_all(client.get(), "lo wor");
  }  // closed mid-message
  std::string accept_error;
  auto connections = server.finish(accept_error);
  EXPECT_EQ(accept_error, "");
  ASSERT_EQ(connections.size(), 1u);
  // Closing with a reply unread makes the kernel reset the connection, which the server
  // may see before or after it reads the rest: either way the task ends, and a reset is
  // a clear error for this connection alone.
  ASSERT_TRUE(connections[0].future.wait_for(10s));
  try {
    EXPECT_GE(connections[0].future.get().value, 3u);
  } catch (const ResourceError& e) {
    EXPECT_THAT(e.what(), HasSubstr("connection dropped after"));
  }
}

TEST(EchoServer, SilentClientFailsOnlyItsConnectionAndTheRunEnds) {
  ThreadPool pool(2);
  scenarios::EchoServer server(pool, 2, 300ms);
  UniqueFd silent = scenarios::connect_to_loopback(server.port(), 2s);
  const auto load = scenarios::run_load(server.port(), 1, 10, "hello world", 5s);
  EXPECT_EQ(load.failures, 0u) << load.first_error;
  std::string accept_error;
  auto connections = server.finish(accept_error);
  ASSERT_EQ(connections.size(), 2u);
  int failed = 0;
  for (auto& c : connections) {
    try {
      c.future.get();
    } catch (const ResourceError& e) {
      ++failed;
      EXPECT_THAT(e.what(), HasSubstr("timed out"));
      EXPECT_THAT(e.what(), HasSubstr("after 0 bytes"));
    }
  }
  EXPECT_EQ(failed, 1);
}

TEST(EchoServer, MissingClientsEndTheAcceptLoopWithAClearError) {
  ThreadPool pool(1);
  scenarios::EchoServer server(pool, 2, 200ms);
  const auto load = scenarios::run_load(server.port(), 1, 3, "abc", 5s);
  EXPECT_EQ(load.failures, 0u) << load.first_error;
  std::string accept_error;
  auto connections = server.finish(accept_error);
  EXPECT_EQ(connections.size(), 1u);
  EXPECT_THAT(accept_error, HasSubstr("accepted 1 of 2 connections"));
}

TEST(LoadClient, WrongReplyByteIsReported) {
  // A server that answers in lower case: every reply byte is checked.
  UniqueFd listener = scenarios::listen_on_loopback(4);
  std::thread server([&] {
    UniqueFd c(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    char buffer[16];
    const auto n = scenarios::receive_some(c.get(), buffer, sizeof buffer);
    scenarios::send_all(c.get(), std::string_view(buffer, n));
  });
  const auto load = scenarios::run_load(scenarios::local_port(listener.get()), 1, 1, "hi", 5s);
  server.join();
  EXPECT_EQ(load.failures, 1u);
  EXPECT_THAT(load.first_error, HasSubstr("wrong reply byte 0"));
}

}  // namespace
}  // namespace poolbench::testing
