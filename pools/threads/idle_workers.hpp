#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <oneapi/tbb/spin_mutex.h>

namespace poolbench {

/// Which workers of a pool are looking for a task and which are asleep, so that a
/// submit wakes a sleeper only for a task that no searching worker will take: a task a
/// spinning worker picks up wakes nobody, and a burst of N tasks wakes at most N workers.
/// A worker busy with a task counts as neither. Workers are woken most recently parked
/// first, whose caches are warmest. Every worker starts out searching.
class IdleWorkers {
 public:
  explicit IdleWorkers(std::size_t workers);

  /// Called after a task was published with a seq_cst operation: wakes one parked worker
  /// when fewer workers are searching than `queued()` tasks wait, so a burst wakes as
  /// many workers as it has tasks, at once rather than each woken worker waking the next.
  template <class Queued>
  void notify(Queued queued) noexcept {
    // The caller published its task with a seq_cst operation; a parking worker updates its
    // counts with seq_cst operations before it looks for work. In their single total order
    // either that worker sees the task, or these loads see the worker parked.
    if (parked_count_.load(std::memory_order_seq_cst) == 0) return;
    const std::uint32_t searching = searching_.load(std::memory_order_seq_cst);
    if (searching > 0 && searching >= queued()) return;
    wake_one(searching);
  }
  /// Wakes every parked worker, and keeps any from parking again: for shutdown.
  void close() noexcept;

  /// A searching worker took a task; it should then `notify` if tasks remain queued.
  void stop_searching() noexcept { searching_.fetch_sub(1, std::memory_order_seq_cst); }
  /// A worker found no task and starts looking (spinning, then parking).
  void start_searching() noexcept { searching_.fetch_add(1, std::memory_order_seq_cst); }
  /// A searching worker leaves the pool for good.
  void leave() noexcept { stop_searching(); }

  /// Puts searching worker `index` to sleep until `notify` or `close` picks it. It
  /// checks `has_work` (which must read with seq_cst loads) once it is counted as parked,
  /// so a task published meanwhile is never left behind; it then stays awake. Returns
  /// with the worker searching again.
  template <class HasWork>
  void park(std::size_t index, HasWork has_work) {
    announce_parked(index);
    if ((has_work() || closed_.load(std::memory_order_seq_cst)) && withdraw(index)) return;
    sleep(index);
  }

 private:
  struct alignas(64) Bell {
    std::atomic<std::uint32_t> rung{0};
  };

  /// Wakes the most recently parked worker unless searchers beyond `searching` appeared.
  void wake_one(std::uint32_t searching) noexcept;
  void announce_parked(std::size_t index) noexcept;
  /// Takes `index` back off the parked list; false when a waker already picked it.
  bool withdraw(std::size_t index) noexcept;
  void sleep(std::size_t index) noexcept;
  void ring(std::size_t index) noexcept;

  std::unique_ptr<Bell[]> bells_;
  oneapi::tbb::spin_mutex mutex_;
  std::vector<std::uint32_t> parked_;  ///< under mutex_; reserved up front, so parking never allocates
  alignas(64) std::atomic<std::uint32_t> searching_;
  std::atomic<std::uint32_t> parked_count_{0};
  std::atomic<bool> closed_{false};
};

}  // namespace poolbench
