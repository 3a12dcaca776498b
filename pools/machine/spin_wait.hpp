#pragma once

#include <chrono>
#include <cstdint>
#include <thread>

namespace poolbench::detail {

/// True when this process has more than one usable CPU (Topology::usable_cpus: bound PUs
/// and cgroup quota): only then can a thread that polls for an event leave a CPU free for
/// whoever produces it.
bool can_spin() noexcept;
/// Settles `can_spin` without reading the topology, for a process whose parent already
/// did (a process-pool worker). Call before anything spins.
void set_can_spin(bool several_cpus) noexcept;

/// What a polling thread does between two polls.
enum class SpinPause {
  cpu,    ///< a pause instruction: the event is made by a thread running elsewhere
  yield,  ///< sched_yield: whoever makes the event may first need this very CPU
};

/// Polls `ready` for at most `limit` before a caller goes to sleep: an event that comes
/// that soon then costs no wake-up (a futex call and a context switch on each side).
/// Returns whether `ready` became true. Polls not at all on a single CPU.
template <class Ready>
bool spin_until(Ready ready, std::chrono::nanoseconds limit, SpinPause pause = SpinPause::cpu) {
  if (!can_spin()) return ready();
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (std::uint32_t i = 1;; ++i) {
    if (ready()) return true;
    if (pause == SpinPause::yield) {
      std::this_thread::yield();
    } else {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
      if (i % 64 != 0) continue;
    }
    if (std::chrono::steady_clock::now() >= deadline) return ready();
  }
}

/// `spin_until`, but only where spinning has been paying off: each thread remembers, per
/// call site, whether its last spin saw the event; after one that did not, the next 1,
/// 2, 4 ... 64 waits go straight to sleep. Waits for results that take milliseconds then
/// cost almost no CPU, while round trips that finish within `limit` keep costing no
/// wake-up.
template <class Ready>
bool spin_adaptively(Ready ready, std::chrono::nanoseconds limit, SpinPause pause = SpinPause::cpu) {
  struct Backoff {
    std::uint32_t skip = 0;
    std::uint32_t next = 1;
  };
  thread_local Backoff backoff;
  if (backoff.skip > 0) {
    --backoff.skip;
    return ready();
  }
  if (spin_until(ready, limit, pause)) {
    backoff.next = 1;
    return true;
  }
  backoff.skip = backoff.next;
  backoff.next = backoff.next < 64 ? 2 * backoff.next : 64;
  return false;
}

}  // namespace poolbench::detail
