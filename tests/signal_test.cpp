#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/run_command.hpp"

namespace poolbench::testing {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

/// A process as /proc shows it: its PID and start time (which tells it from a later
/// process that reuses the PID), its parent and its command line.
struct ProcessInfo {
  pid_t pid = -1;
  pid_t parent = -1;
  unsigned long long start_time = 0;
  std::string command_line;
};

/// The contents of /proc/<pid>/<file>, or nothing once the process is gone (reading it
/// can fail half-way with ESRCH, which an ifstream reports by throwing).
std::optional<std::string> read_proc(pid_t pid, const char* file) {
  const std::string path = "/proc/" + std::to_string(pid) + "/" + file;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<std::size_t>(n));
  ::close(fd);
  if (n < 0) return std::nullopt;
  return text;
}

std::optional<ProcessInfo> read_process(pid_t pid) {
  const auto text = read_proc(pid, "stat");
  if (!text) return std::nullopt;
  const auto paren = text->rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  // After "pid (comm)": state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
  // cmajflt utime stime cutime cstime priority nice num_threads itrealvalue starttime ...
  std::istringstream fields(text->substr(paren + 2));
  std::string state;
  ProcessInfo info;
  info.pid = pid;
  fields >> state >> info.parent;
  std::string skip;
  for (int i = 0; i < 17; ++i) fields >> skip;
  fields >> info.start_time;
  if (!fields) return std::nullopt;
  info.command_line = read_proc(pid, "cmdline").value_or("");
  std::replace(info.command_line.begin(), info.command_line.end(), '\0', ' ');
  return info;
}

std::vector<ProcessInfo> children_of(pid_t parent) {
  std::vector<ProcessInfo> children;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    if (auto info = read_process(std::stoi(name)); info && info->parent == parent) children.push_back(*info);
  }
  return children;
}

std::size_t workers_among(const std::vector<ProcessInfo>& processes) {
  return static_cast<std::size_t>(std::count_if(processes.begin(), processes.end(), [](const ProcessInfo& p) {
    return p.command_line.find("--poolbench-worker") != std::string::npos;
  }));
}

/// Whether the very process `p` (same PID, same start time) still exists, zombie or not.
bool still_exists(const ProcessInfo& p) {
  const auto now = read_process(p.pid);
  return now && now->start_time == p.start_time;
}

struct Interruption {
  const char* name;
  std::vector<std::string> args;  ///< after the binary; "{dir}" is the output directory
  std::size_t workers;            ///< the signal comes once this many workers run
  int signal;
};

void PrintTo(const Interruption& c, std::ostream* out) { *out << c.name; }

class SignalDuringACommand : public ::testing::TestWithParam<Interruption> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("poolbench-signal-" + std::to_string(::getpid()) + "-" + GetParam().name);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    // Should a worker have outlived the command (a failure), it must not outlive the test.
    for (const auto& p : recorded_)
      if (still_exists(p)) ::kill(p.pid, SIGKILL);
    fs::remove_all(dir_);
  }

  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
    return names;
  }

  fs::path dir_;
  std::vector<ProcessInfo> recorded_;
};

TEST_P(SignalDuringACommand, StopsAndReapsEveryChildLeavesNoFileAndExitsWith128PlusTheSignal) {
  const Interruption& c = GetParam();
  std::vector<std::string> argv{poolbench};
  for (auto arg : c.args) {
    if (const auto at = arg.find("{dir}"); at != std::string::npos) arg.replace(at, 5, dir_.string());
    argv.push_back(arg);
  }
  BackgroundCommand command(argv);
  // Interrupted while its process-pool workers run tasks that would last far longer.
  bool workers_up = false;
  const auto give_up = std::chrono::steady_clock::now() + 120s;
  while (!workers_up && std::chrono::steady_clock::now() < give_up) {
    recorded_ = children_of(command.pid());
    workers_up = workers_among(recorded_) >= c.workers;
    if (!workers_up) {
      if (auto early = command.wait_for(10ms)) FAIL() << "it ended before its workers started: " << early->err;
    }
  }
  ASSERT_TRUE(workers_up) << "its " << c.workers << " worker(s) did not start within 120 s";

  ASSERT_EQ(::kill(command.pid(), c.signal), 0);
  const auto sent = std::chrono::steady_clock::now();
  const auto ended = command.wait_for(10s);
  ASSERT_TRUE(ended) << "still running 10 s after the signal";
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
  RecordProperty("seconds_to_stop", std::to_string(seconds));

  EXPECT_EQ(ended->exit_code, std::optional<int>(128 + c.signal))
      << "killed by signal " << ended->signal << " (0: none); stderr:\n"
      << ended->err;
  const std::string signal_name = c.signal == SIGINT ? "SIGINT" : "SIGTERM";
  EXPECT_THAT(ended->err, HasSubstr("poolbench: interrupted by " + signal_name));
  const auto at = ended->err.rfind("poolbench: interrupted by ");
  const std::string line = at == std::string::npos ? std::string() : ended->err.substr(at);
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1)
      << "one line says what was not finished, and nothing follows it:\n"
      << ended->err;
  EXPECT_THAT(line, HasSubstr("not finished"));
  EXPECT_THAT(line, HasSubstr("nothing written"));
  EXPECT_EQ(files(), std::vector<std::string>{}) << "neither a temporary file nor a half-written output is left";
  for (const auto& p : recorded_)
    EXPECT_FALSE(still_exists(p)) << "child " << p.pid << " (" << p.command_line << ") outlived the command";
}

INSTANTIATE_TEST_SUITE_P(
    Interrupt, SignalDuringACommand,
    ::testing::Values(
        Interruption{"run_sigint",
                     {"run", "--scenarios", "sleep", "--pools", "process-pool", "--workers", "2", "--tasks", "100",
                      "--sleep-ms", "20000", "--benchmark_filter=sleep/", "--out", "{dir}/run.json"},
                     2,
                     SIGINT},
        Interruption{"run_sigterm",
                     {"run", "--scenarios", "sleep", "--pools", "process-pool", "--workers", "2", "--tasks", "100",
                      "--sleep-ms", "20000", "--benchmark_filter=sleep/", "--out", "{dir}/run.json"},
                     2,
                     SIGTERM},
        Interruption{"tune_sigint",
                     {"tune", "--scenario", "sleep", "--pool", "process-pool", "--max-workers", "2", "--tasks", "2",
                      "--sleep-ms", "1500", "--out", "{dir}/tune.json"},
                     1,
                     SIGINT},
        Interruption{"tune_sigterm",
                     {"tune", "--scenario", "sleep", "--pool", "process-pool", "--max-workers", "2", "--tasks", "2",
                      "--sleep-ms", "1500", "--out", "{dir}/tune.json"},
                     1,
                     SIGTERM}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace poolbench::testing
