#include "bench/output_file.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "pools/errors.hpp"

namespace poolbench::bench {

OutputFile::OutputFile(std::string path) : path_(std::move(path)) {
  if (path_.empty()) return;
  if (std::filesystem::is_directory(path_)) throw ConfigError(fmt::format("cannot write '{}': it is a directory", path_));
  temp_ = path_ + fmt::format(".tmp.{}", ::getpid());
  std::ofstream probe(temp_);
  if (!probe) {
    const int err = errno;
    temp_.clear();
    throw ConfigError(fmt::format("cannot write '{}': {}", path_, std::strerror(err)));
  }
}

OutputFile::~OutputFile() {
  if (temp_.empty()) return;
  std::error_code ec;
  std::filesystem::remove(temp_, ec);
}

void OutputFile::write(const std::string& text) {
  if (temp_.empty()) return;
  std::ofstream out(temp_, std::ios::trunc);
  out << text;
  out.flush();
  if (!out) throw ResourceError(fmt::format("cannot write '{}': {}", temp_, std::strerror(errno)));
}

void OutputFile::commit() {
  if (temp_.empty()) return;
  std::filesystem::rename(temp_, path_);
  temp_.clear();
}

}  // namespace poolbench::bench
