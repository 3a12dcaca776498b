#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace poolbench::testing {

/// The poolbench binary this build made (CMake passes its path as POOLBENCH_BINARY).
inline const std::string poolbench = POOLBENCH_BINARY;

/// A `poolbench run` argument that leaves out the machine probes (seconds of forks and
/// threads per run, more under a sanitizer). A later --benchmark_filter replaces it.
inline const std::string without_probes = "--benchmark_filter=-^probe/";

/// What a finished command printed and how it exited.
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs `command` with /bin/sh, capturing stdout and stderr separately.
CommandResult run_command(const std::string& command);

/// A fresh directory for one test's files, named for the running test, removed with all
/// it holds when the object goes.
class ScratchDirectory {
 public:
  explicit ScratchDirectory(const std::string& prefix);
  ~ScratchDirectory();
  ScratchDirectory(const ScratchDirectory&) = delete;
  ScratchDirectory& operator=(const ScratchDirectory&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }
  /// The names of the files in it: a test of bad input checks that none was left.
  std::vector<std::string> files() const;

 private:
  std::filesystem::path path_;
};

/// Quotes `text` for /bin/sh.
std::string shell_quote(const std::string& text);

/// How a background command ended: an exit code, or the signal that killed it.
struct Ended {
  std::optional<int> exit_code;  ///< empty when a signal ended it
  int signal = 0;
  std::string out;
  std::string err;
};

/// A program started in the background, without a shell (so `pid()` is the program's own),
/// its stdout and stderr going to files. Destroying it kills (SIGKILL) and reaps it if it
/// is still running, and removes the files.
class BackgroundCommand {
 public:
  explicit BackgroundCommand(const std::vector<std::string>& argv);
  ~BackgroundCommand();
  BackgroundCommand(const BackgroundCommand&) = delete;
  BackgroundCommand& operator=(const BackgroundCommand&) = delete;

  pid_t pid() const noexcept { return pid_; }
  /// Waits at most `limit` for the program to end: how it ended, or nothing if it still runs.
  std::optional<Ended> wait_for(std::chrono::milliseconds limit);

 private:
  pid_t pid_ = -1;
  int pidfd_ = -1;
  bool reaped_ = false;
  std::string out_path_;
  std::string err_path_;
};

}  // namespace poolbench::testing
