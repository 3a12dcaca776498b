#include "bench/output_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>

#include "pools/core/errors.hpp"

namespace poolbench::bench {
namespace {

/// The temporary files of every OutputFile, and the outputs committed so far. Leaked on
/// purpose: an interrupt handler uses it until the process ends.
struct PendingOutputs {
  std::mutex mutex;
  std::set<std::string> temps;
  std::vector<std::string> written;
  bool abandoned = false;
};

PendingOutputs& pending() {
  static auto* outputs = new PendingOutputs;
  return *outputs;
}

constexpr const char* interrupted = "the program is being interrupted";

}  // namespace

OutputFile::OutputFile(std::string path) : path_(std::move(path)) {
  if (path_.empty()) return;
  if (std::filesystem::is_directory(path_))
    throw ConfigError(fmt::format("cannot write '{}': it is a directory", path_));
  const std::string temp = path_ + fmt::format(".tmp.{}", ::getpid());
  PendingOutputs& outputs = pending();
  // Created and registered at once, so an interrupt removes every temporary file it made.
  std::lock_guard lock(outputs.mutex);
  if (outputs.abandoned) throw Error(fmt::format("not writing '{}': {}", path_, interrupted));
  fd_.reset(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd_) throw ConfigError(fmt::format("cannot write '{}': {}", path_, std::strerror(errno)));
  temp_ = temp;
  outputs.temps.insert(temp_);
}

OutputFile::~OutputFile() {
  if (temp_.empty()) return;
  PendingOutputs& outputs = pending();
  std::lock_guard lock(outputs.mutex);
  if (outputs.temps.erase(temp_) != 0) ::unlink(temp_.c_str());
}

std::string OutputFile::writer_path() const { return fd_ ? fmt::format("/proc/self/fd/{}", fd_.get()) : std::string(); }

void OutputFile::write(const std::string& text) {
  if (temp_.empty()) return;
  const auto fail = [&](int err) {
    throw ResourceError(fmt::format("cannot write '{}': {}", temp_, std::strerror(err)));
  };
  if (::ftruncate(fd_.get(), 0) != 0) fail(errno);
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::pwrite(fd_.get(), text.data() + done, text.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(n < 0 ? errno : EIO);
    done += static_cast<std::size_t>(n);
  }
}

void OutputFile::commit() {
  if (temp_.empty()) return;
  PendingOutputs& outputs = pending();
  std::lock_guard lock(outputs.mutex);
  if (outputs.abandoned) throw Error(fmt::format("not writing '{}': {}", path_, interrupted));
  if (::rename(temp_.c_str(), path_.c_str()) != 0)
    throw ResourceError(fmt::format("cannot rename '{}' to '{}': {}", temp_, path_, std::strerror(errno)));
  outputs.temps.erase(temp_);
  outputs.written.push_back(path_);
  temp_.clear();
  fd_.reset();
}

AbandonedOutputs abandon_output_files() noexcept {
  PendingOutputs& outputs = pending();
  std::lock_guard lock(outputs.mutex);
  outputs.abandoned = true;
  AbandonedOutputs result;
  for (const auto& temp : outputs.temps)
    if (::unlink(temp.c_str()) == 0) ++result.removed;
  outputs.temps.clear();
  result.written = outputs.written;
  return result;
}

}  // namespace poolbench::bench
