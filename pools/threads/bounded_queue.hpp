#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>

namespace poolbench {

/// A fixed-capacity, lock-free, first-in first-out queue for many producers and many
/// consumers (Dmitry Vyukov's bounded MPMC queue). Producers and consumers never wait for
/// each other: each claims a cell with one compare-and-swap on its own end of the ring,
/// so when the queue holds work the two ends touch different cache lines.
/// Boost.Lockfree's queue would do, but it holds only trivially copyable values.
template <class T>
class BoundedQueue {
 public:
  /// Holds up to `capacity` values, rounded up to a power of two (at least 2).
  explicit BoundedQueue(std::size_t capacity)
      : mask_(std::bit_ceil(capacity < 2 ? std::size_t{2} : capacity) - 1),
        cells_(std::make_unique<Cell[]>(mask_ + 1)) {
    for (std::size_t i = 0; i <= mask_; ++i) cells_[i].turn.store(i, std::memory_order_relaxed);
  }

  std::size_t capacity() const noexcept { return mask_ + 1; }

  /// Moves `value` in and returns true, or returns false (leaving `value` alone) when full.
  /// A successful push is a seq_cst operation.
  bool try_push(T& value) noexcept(std::is_nothrow_move_assignable_v<T>) {
    std::size_t position = tail_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& cell = cells_[position & mask_];
      const std::size_t turn = cell.turn.load(std::memory_order_acquire);
      const auto lag = static_cast<std::ptrdiff_t>(turn - position);
      if (lag == 0) {
        // seq_cst, so a caller can pair the push with its next look at who is asleep.
        if (tail_.compare_exchange_weak(position, position + 1, std::memory_order_seq_cst, std::memory_order_relaxed)) {
          cell.value = std::move(value);
          cell.turn.store(position + 1, std::memory_order_release);
          return true;
        }
      } else if (lag < 0) {
        return false;  // the cell still holds the value pushed one lap ago: full
      } else {
        position = tail_.load(std::memory_order_relaxed);
      }
    }
  }

  /// Moves the oldest value into `out` and returns true, or returns false when empty
  /// (or when the oldest value's producer has claimed its cell but not yet filled it).
  bool try_pop(T& out) noexcept(std::is_nothrow_move_assignable_v<T>) {
    std::size_t position = head_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& cell = cells_[position & mask_];
      const std::size_t turn = cell.turn.load(std::memory_order_acquire);
      const auto lag = static_cast<std::ptrdiff_t>(turn - (position + 1));
      if (lag == 0) {
        if (head_.compare_exchange_weak(position, position + 1, std::memory_order_relaxed)) {
          out = std::move(cell.value);
          cell.turn.store(position + mask_ + 1, std::memory_order_release);
          return true;
        }
      } else if (lag < 0) {
        return false;
      } else {
        position = head_.load(std::memory_order_relaxed);
      }
    }
  }

  /// How many values are claimed by producers and not yet taken: a snapshot.
  std::size_t size() const noexcept {
    const std::size_t head = head_.load(std::memory_order_seq_cst);
    const std::size_t tail = tail_.load(std::memory_order_seq_cst);
    return tail > head ? tail - head : 0;
  }

  /// True when no value has been claimed by a producer and not yet taken: a snapshot, in
  /// the single total order of seq_cst operations with every push.
  bool empty() const noexcept { return tail_.load(std::memory_order_seq_cst) == head_.load(std::memory_order_seq_cst); }

 private:
  struct Cell {
    /// Whose turn the cell is: `position` for the producer of that position, `position + 1`
    /// for its consumer; a consumer hands it on to the producer one lap later.
    std::atomic<std::size_t> turn;
    T value;
  };

  std::size_t mask_;
  std::unique_ptr<Cell[]> cells_;
  alignas(64) std::atomic<std::size_t> tail_{0};
  alignas(64) std::atomic<std::size_t> head_{0};
};

}  // namespace poolbench
