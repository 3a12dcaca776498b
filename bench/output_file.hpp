#pragma once

#include <string>

namespace poolbench::bench {

/// A result file that appears whole or not at all: the constructor checks that `path`
/// can be written (ConfigError naming it otherwise), writers fill `temp_path()`, and
/// `commit()` renames it into place. Without a commit the temporary file is removed.
/// An empty path means "no output" and every call is a no-op.
class OutputFile {
 public:
  explicit OutputFile(std::string path);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  const std::string& temp_path() const noexcept { return temp_; }
  /// Writes `text` to the temporary file; throws ResourceError on a short write.
  void write(const std::string& text);
  void commit();

 private:
  std::string path_;
  std::string temp_;
};

}  // namespace poolbench::bench
