// Shared by the fuzz targets: what counts as a finding beyond a sanitizer report.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace poolbench::fuzz {

/// Stops the run with a message; libFuzzer keeps the input as a crash.
[[noreturn]] inline void finding(const char* what) {
  std::fprintf(stderr, "FUZZ FINDING: %s\n", what);
  std::abort();
}

/// Catches leaked descriptors: constructed at the start of an input, `check` at its end
/// finds no fd open that was not open before (one poll call looks at them all). Per
/// input, since libFuzzer itself opens fds between inputs (a symbolizer's pipes). New fds
/// take the lowest free numbers, so `window` need only exceed the fds an input opens.
template <int window>
class FdLeakCheck {
 public:
  FdLeakCheck() noexcept {
    poll_all();
    for (int i = 0; i < window; ++i) was_open_[i] = !(fds_[i].revents & POLLNVAL);
  }
  void check() noexcept {
    poll_all();
    for (int i = 0; i < window; ++i)
      if (!was_open_[i] && !(fds_[i].revents & POLLNVAL)) {
        std::fprintf(stderr, "fd %d is still open\n", i);
        finding("a file descriptor leaked");
      }
  }

 private:
  void poll_all() noexcept {
    for (int i = 0; i < window; ++i) fds_[i] = {i, 0, 0};
    ::poll(fds_, window, 0);
  }
  pollfd fds_[window];
  bool was_open_[window];
};

}  // namespace poolbench::fuzz
