#pragma once

#include <string>
#include <vector>

#include "pools/core/unique_fd.hpp"

namespace poolbench::bench {

/// A result file that appears whole or not at all: the constructor checks that `path`
/// can be written (ConfigError naming it otherwise) by creating a temporary file beside
/// it, writers fill that file, and `commit()` renames it into place. Without a commit the
/// temporary file is removed. An empty path means "no output" and every call is a no-op.
/// Every pending temporary file is known to abandon_output_files, which an interrupted
/// program calls.
class OutputFile {
 public:
  explicit OutputFile(std::string path);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  const std::string& temp_path() const noexcept { return temp_; }
  /// A path that reaches the temporary file through this process's open fd
  /// (/proc/self/fd/N), for a writer that opens it by name (Google Benchmark's
  /// --benchmark_out): once the name has been removed, opening this creates no new file.
  std::string writer_path() const;
  /// Replaces the temporary file's contents with `text`; throws ResourceError on failure.
  void write(const std::string& text);
  /// Renames the temporary file into place; throws ResourceError if that fails, or Error
  /// if the program is being interrupted (the file is then already removed).
  void commit();

 private:
  std::string path_;
  std::string temp_;
  UniqueFd fd_;
};

/// What abandon_output_files found.
struct AbandonedOutputs {
  std::size_t removed = 0;           ///< temporary files removed
  std::vector<std::string> written;  ///< outputs committed before
};

/// For an interrupted program, from any thread: removes every OutputFile's temporary file
/// and makes every later OutputFile (and commit) throw Error, so nothing is written from
/// now on. A commit in progress finishes first.
AbandonedOutputs abandon_output_files() noexcept;

}  // namespace poolbench::bench
