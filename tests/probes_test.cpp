#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <exception>
#include <fstream>
#include <future>
#include <memory>
#include <thread>

#include "bench/probes.hpp"
#include "pools/core/errors.hpp"
#include "tests/test_tasks.hpp"

namespace poolbench::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

TEST(Probes, EveryProbeMeasuresAPositiveFiniteCost) {
  for (const auto& name : bench::probe_names()) {
    SCOPED_TRACE(name);
    const auto r = bench::run_probe(name, 3, 5);
    EXPECT_EQ(r.name, name);
    EXPECT_FALSE(r.description.empty());
    EXPECT_GT(r.ns_per_op, 0);
    EXPECT_TRUE(std::isfinite(r.ns_per_op));
    EXPECT_EQ(r.operations, 15);
  }
}

TEST(Probes, UnknownProbeIsAConfigError) { EXPECT_THROW(bench::run_probe("teleport"), ConfigError); }

/// A probe asked for far more round trips than a test lasts, on a thread of its own, that
/// tells the test its partner's PID and, later, what ended it. Its wait for either is
/// bounded: a probe that never ends fails the test, and its thread is left behind (detached,
/// owning what it touches) rather than hanging the test.
class ProbeInBackground {
 public:
  ProbeInBackground(const std::string& name, bench::ProbeOptions options) : state_(std::make_shared<State>()) {
    options.on_partner_started = [state = state_](pid_t pid) {
      if (!state->started.exchange(true)) state->partner.set_value(pid);
    };
    thread_ = std::thread([state = state_, name, options] {
      try {
        bench::run_probe(name, 1'000'000, 1'000, options);
        state->ended.set_value(nullptr);
      } catch (...) {
        state->ended.set_value(std::current_exception());
      }
    });
  }
  ~ProbeInBackground() {
    if (thread_.joinable()) thread_.detach();
  }
  ProbeInBackground(const ProbeInBackground&) = delete;
  ProbeInBackground& operator=(const ProbeInBackground&) = delete;

  /// The partner's PID, or -1 if it did not start within `limit`.
  pid_t partner(std::chrono::seconds limit) {
    auto f = state_->partner.get_future();
    return f.wait_for(limit) == std::future_status::ready ? f.get() : -1;
  }
  /// What the probe threw, once it ended within `limit`; false if it did not end in time.
  bool ended_within(std::chrono::seconds limit, std::exception_ptr& error) {
    auto f = state_->ended.get_future();
    if (f.wait_for(limit) != std::future_status::ready) return false;
    // Joined before the error is looked at: the thread's references to it are then gone,
    // so it is read and destroyed in this thread alone.
    thread_.join();
    error = f.get();
    return true;
  }

 private:
  struct State {
    std::atomic<bool> started{false};
    std::promise<pid_t> partner;
    std::promise<std::exception_ptr> ended;
  };
  std::shared_ptr<State> state_;
  std::thread thread_;
};

std::string message_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const ResourceError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("not a ResourceError: ") + e.what();
  }
}

/// How often `pid` has blocked of its own accord: a partner blocks once per round trip.
long voluntary_switches(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("voluntary_ctxt_switches:", 0) == 0) return std::stol(line.substr(line.find(':') + 1));
  return -1;
}

class PartnerProbe : public ::testing::TestWithParam<const char*> {};

TEST_P(PartnerProbe, PartnerKilledMidProbeFailsItWithAnErrorNamingTheDeath) {
  ProbeInBackground probe(GetParam(), {});
  const pid_t partner = probe.partner(30s);
  ASSERT_GT(partner, 0) << "the partner did not start";
  ASSERT_TRUE(eventually([&] { return voluntary_switches(partner) > 100; }, 30)) << "the partner never answered";
  ASSERT_EQ(::kill(partner, SIGKILL), 0);  // mid-probe: it has answered a hundred times
  std::exception_ptr error;
  ASSERT_TRUE(probe.ended_within(30s, error)) << "the probe still waits for a partner killed 30 s ago";
  ASSERT_TRUE(error) << "the probe succeeded without its partner";
  const std::string message = message_of(error);
  EXPECT_THAT(message, HasSubstr(GetParam()));
  EXPECT_THAT(message, HasSubstr("partner process " + std::to_string(partner)));
  EXPECT_THAT(message, HasSubstr("SIGKILL"));
  EXPECT_TRUE(process_is_gone(partner)) << "the dead partner was reaped";
}

TEST_P(PartnerProbe, SilentPartnerIsKilledAndFailsTheProbe) {
  bench::ProbeOptions options;
  options.partner_timeout = 1000ms;
  ProbeInBackground probe(GetParam(), options);
  const pid_t partner = probe.partner(30s);
  ASSERT_GT(partner, 0) << "the partner did not start";
  ASSERT_TRUE(eventually([&] { return voluntary_switches(partner) > 100; }, 30)) << "the partner never answered";
  ASSERT_EQ(::kill(partner, SIGSTOP), 0);
  std::exception_ptr error;
  const bool ended = probe.ended_within(30s, error);
  if (!ended) ::kill(partner, SIGKILL);  // the stopped partner must not outlive the test
  ASSERT_TRUE(ended) << "the probe still waits for a partner stopped 30 s ago";
  ASSERT_TRUE(error) << "the probe succeeded without its partner";
  const std::string message = message_of(error);
  EXPECT_THAT(message, HasSubstr(GetParam()));
  EXPECT_THAT(message, HasSubstr("partner process " + std::to_string(partner) + " did not answer for 1 s"));
  EXPECT_TRUE(process_is_gone(partner)) << "the silent partner was killed and reaped";
}

INSTANTIATE_TEST_SUITE_P(TwoProcessProbes, PartnerProbe,
                         ::testing::Values("pipe_round_trip", "socketpair_round_trip", "shm_futex_round_trip"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace poolbench::testing
