#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <string>

#include "pools/process/process_pool.hpp"
#include "pools/process/subprocess.hpp"
#include "tests/test_tasks.hpp"

namespace poolbench::testing {
namespace {

using ::testing::HasSubstr;

/// Ignores SIGCHLD for its lifetime, as some host programs do (the kernel then reaps
/// every child itself, so waitpid finds none), and restores the old disposition after.
class SigchldIgnored {
 public:
  SigchldIgnored() {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    if (::sigaction(SIGCHLD, &ignore, &saved_) != 0) ADD_FAILURE() << "cannot ignore SIGCHLD: errno " << errno;
  }
  ~SigchldIgnored() { ::sigaction(SIGCHLD, &saved_, nullptr); }
  SigchldIgnored(const SigchldIgnored&) = delete;
  SigchldIgnored& operator=(const SigchldIgnored&) = delete;

 private:
  struct sigaction saved_ {};
};

/// A child that exits at once: /bin/true, handed one end of a pipe as spawn requires.
Subprocess spawn_true() {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  UniqueFd read_end(ends[0]), write_end(ends[1]);
  return Subprocess::spawn("/bin/true", {"/bin/true"}, read_end.get(), 3);
}

constexpr const char* collected_elsewhere = "its exit status was collected elsewhere";

TEST(Subprocess, WaitSurvivesAHostThatIgnoresSigchld) {
  SigchldIgnored ignored;
  Subprocess child = spawn_true();
  std::string described;
  // `auto`: whatever wait() returns, describe_wait_status must accept it.
  ASSERT_NO_THROW(described = describe_wait_status(child.wait()));
  EXPECT_THAT(described, HasSubstr(collected_elsewhere));
  EXPECT_THAT(described, HasSubstr("SIGCHLD ignored or reaped by the host"));
  // Asked again, the answer is the same and nothing is waited for twice.
  EXPECT_EQ(describe_wait_status(child.wait()), described);
}

TEST(Subprocess, WaitSurvivesAHostThatReapsItsOwnChildren) {
  Subprocess child = spawn_true();
  int status = 0;
  ASSERT_EQ(::waitpid(child.pid(), &status, 0), child.pid()) << "the host reaps the child first";
  std::string described;
  ASSERT_NO_THROW(described = describe_wait_status(child.wait()));
  EXPECT_THAT(described, HasSubstr(collected_elsewhere));
}

TEST(Subprocess, WaitStillReportsTheExitStatusWhenItIsOurs) {
  Subprocess child = spawn_true();
  EXPECT_EQ(describe_wait_status(child.wait()), "exited with code 0");
}

TEST(Subprocess, ProcessPoolWorkerDeathWhileTheHostIgnoresSigchldFailsOnlyItsTask) {
  SigchldIgnored ignored;
  ProcessPool pool(1);
  auto crash = pool.submit(segfault_task);
  try {
    crash.get();
    FAIL() << "a task that crashed its worker completed";
  } catch (const WorkerDiedError& e) {
    EXPECT_THAT(e.what(), HasSubstr("worker process "));
    EXPECT_THAT(e.what(), HasSubstr(collected_elsewhere));
    EXPECT_THAT(e.what(), HasSubstr("while running task 'tests.crash_segfault'"));
  }
  EXPECT_EQ(pool.submit(square_task, 7).get(), 49) << "the replacement worker serves the next task";
  pool.shutdown();
  const TaskCounts c = pool.counts();
  EXPECT_EQ(c.failed, 1u);
  EXPECT_EQ(c.completed, 1u);
  EXPECT_EQ(pool.processes_created(), 2u);
}

/// Starts a spawned and a forked child, ends them all with kill_and_reap_all_subprocesses
/// and checks what follows; exits 0 when all holds, else with the number of the failed
/// check. Run in a child process of its own (a death test), since it closes that
/// process's registry of children for good.
[[noreturn]] void end_all_children_then_exit() {
  // Children must not hold the death test's pipe open, or a failure would hang the test
  // until they end, instead of failing it.
  ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) ::_exit(10);
  UniqueFd read_end(ends[0]), write_end(ends[1]);
  Subprocess sleeper = Subprocess::spawn("/bin/sleep", {"/bin/sleep", "100"}, read_end.get(), 3);
  auto block = [&] {
    char c;
    while (::read(read_end.get(), &c, 1) != 0) {
    }
  };
  Subprocess partner = Subprocess::fork(block);
  const pid_t pids[] = {sleeper.pid(), partner.pid()};
  if (kill_and_reap_all_subprocesses(std::chrono::seconds(5)) != 0) ::_exit(1);
  for (pid_t pid : pids)
    if (!process_is_gone(pid)) ::_exit(2);  // killed and reaped: not even a zombie
  try {
    Subprocess::spawn("/bin/true", {"/bin/true"}, read_end.get(), 3);
    ::_exit(3);
  } catch (const ResourceError& e) {
    if (std::string(e.what()).find("the program is ending") == std::string::npos) ::_exit(4);
  }
  try {
    Subprocess::fork(block);
    ::_exit(5);
  } catch (const ResourceError&) {
  }
  // Their owners find them reaped by someone else, and say so.
  if (describe_wait_status(sleeper.wait()).find(collected_elsewhere) == std::string::npos) ::_exit(6);
  if (describe_wait_status(partner.wait()).find(collected_elsewhere) == std::string::npos) ::_exit(7);
  ::_exit(0);
}

TEST(Subprocess, KillAndReapAllEndsEveryChildAndStartsNoMore) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(end_all_children_then_exit(), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace poolbench::testing
