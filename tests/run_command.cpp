#include "tests/run_command.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

extern char** environ;

namespace poolbench::testing {
namespace {

std::string slurp(const std::filesystem::path& file) {
  std::ifstream in(file);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::filesystem::path output_base() {
  static int counter = 0;
  return std::filesystem::temp_directory_path() /
         ("poolbench-cmd-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
}

}  // namespace

ScratchDirectory::ScratchDirectory(const std::string& prefix)
    : path_(std::filesystem::temp_directory_path() /
            (prefix + "-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

ScratchDirectory::~ScratchDirectory() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::vector<std::string> ScratchDirectory::files() const {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(path_)) names.push_back(e.path().filename().string());
  return names;
}

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

CommandResult run_command(const std::string& command) {
  const auto base = output_base();
  const auto out = base.string() + ".out";
  const auto err = base.string() + ".err";
  const int status = std::system((command + " > " + shell_quote(out) + " 2> " + shell_quote(err)).c_str());
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = slurp(out);
  result.err = slurp(err);
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return result;
}

BackgroundCommand::BackgroundCommand(const std::vector<std::string>& argv) {
  const auto base = output_base();
  out_path_ = base.string() + ".out";
  err_path_ = base.string() + ".err";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const int err = ::posix_spawn(&pid_, argv.at(0).c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(err));
  pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd_ < 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    throw std::runtime_error(std::string("cannot hold the started program by a pidfd: ") + std::strerror(errno));
  }
}

BackgroundCommand::~BackgroundCommand() {
  if (!reaped_) {
    ::syscall(SYS_pidfd_send_signal, pidfd_, SIGKILL, nullptr, 0);
    ::waitpid(pid_, nullptr, 0);
  }
  ::close(pidfd_);
  std::filesystem::remove(out_path_);
  std::filesystem::remove(err_path_);
}

std::optional<Ended> BackgroundCommand::wait_for(std::chrono::milliseconds limit) {
  if (reaped_) throw std::logic_error("the program has been waited for already");
  pollfd fd{pidfd_, POLLIN, 0};
  int r;
  while ((r = ::poll(&fd, 1, static_cast<int>(limit.count()))) < 0 && errno == EINTR) {
  }
  if (r == 0) return std::nullopt;
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  Ended ended;
  if (WIFEXITED(status)) ended.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) ended.signal = WTERMSIG(status);
  ended.out = slurp(out_path_);
  ended.err = slurp(err_path_);
  return ended;
}

}  // namespace poolbench::testing
