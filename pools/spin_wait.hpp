#pragma once

#include <chrono>
#include <cstdint>

namespace poolbench::detail {

/// True when this process has more than one usable CPU (Topology::usable_cpus: bound PUs
/// and cgroup quota): only then can a thread that polls for an event leave a CPU free for
/// whoever produces it.
bool can_spin() noexcept;

/// Polls `ready` for at most `limit` before a caller goes to sleep: an event that comes
/// that soon then costs no wake-up (a futex call and a context switch on each side).
/// Returns whether `ready` became true. Polls not at all on a single CPU.
template <class Ready>
bool spin_until(Ready ready, std::chrono::nanoseconds limit) {
  if (!can_spin()) return ready();
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (std::uint32_t i = 1;; ++i) {
    if (ready()) return true;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
    if (i % 64 == 0 && std::chrono::steady_clock::now() >= deadline) return ready();
  }
}

/// `spin_until`, but only where spinning has been paying off: each thread remembers, per
/// call site, whether its last spin saw the event; after one that did not, the next 1,
/// 2, 4 ... 64 waits go straight to sleep. Waits for results that take milliseconds then
/// cost almost no CPU, while round trips that finish within `limit` keep costing no
/// wake-up.
template <class Ready>
bool spin_adaptively(Ready ready, std::chrono::nanoseconds limit) {
  struct Backoff {
    std::uint32_t skip = 0;
    std::uint32_t next = 1;
  };
  thread_local Backoff backoff;
  if (backoff.skip > 0) {
    --backoff.skip;
    return ready();
  }
  if (spin_until(ready, limit)) {
    backoff.next = 1;
    return true;
  }
  backoff.skip = backoff.next;
  backoff.next = backoff.next < 64 ? 2 * backoff.next : 64;
  return false;
}

}  // namespace poolbench::detail
