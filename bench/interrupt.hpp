#pragma once

#include <cstddef>
#include <string>
#include <thread>

#include "pools/core/unique_fd.hpp"

namespace poolbench::bench {

/// Ends the program cleanly on SIGINT or SIGTERM. Construct it in main before any other
/// thread starts: it blocks both signals in the calling thread, so every thread started
/// later inherits the block (worker processes start with none blocked), and a thread of
/// its own waits for them on a signalfd. On a signal that thread, in ordinary thread
/// context, within about a second: sends the program's further output to /dev/null,
/// removes every pending OutputFile's temporary file (abandon_output_files), SIGKILLs and
/// reaps every child process (kill_and_reap_all_subprocesses), prints one line saying
/// what was not finished, and _exits with 128 + the signal's number (130 for SIGINT, 143
/// for SIGTERM). Destroying the guard stops its thread, or, if a signal is being
/// handled, waits for it to end the program. A signal the program was started with
/// ignored (`nohup`, a shell's background job) stays ignored. Throws ResourceError when
/// it cannot watch.
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  void watch();

  UniqueFd signals_;
  UniqueFd stop_;
  std::thread thread_;
};

/// What the program is working through, for the line an interruption prints ("7 of 12
/// benchmarks not finished (was running: cpu/thread-pool/workers:2)"). The commands
/// call these from their own threads; all are thread-safe.
/// `total` items called `noun` are to be done (0: not known; `at_most`: an upper bound).
void progress_begin(const std::string& noun, std::size_t total, bool at_most = false);
/// Item `name` has started (again: a benchmark's body runs several times).
void progress_started(const std::string& name);
/// Item `name` has finished; each name counts once.
void progress_finished(const std::string& name);
/// "7 of 12 benchmarks not finished (was running: ...)", or "nothing finished" before
/// progress_begin.
std::string describe_unfinished();

}  // namespace poolbench::bench
