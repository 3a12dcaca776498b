#include <gmock/gmock.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <string>

#include "pools/process_pool.hpp"
#include "pools/subprocess.hpp"
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

}  // namespace
}  // namespace poolbench::testing
