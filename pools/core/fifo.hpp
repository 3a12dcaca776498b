#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>

#include <boost/circular_buffer.hpp>

namespace poolbench {

/// A first-in, first-out queue that keeps its memory: a ring buffer that doubles when
/// full, so a steady stream of pushes and pops allocates nothing (a std::deque allocates
/// and frees a block every few elements).
template <class T>
class Fifo {
 public:
  void push_back(T value) {
    if (items_.full()) grow();
    items_.push_back(std::move(value));
  }
  T& front() noexcept { return items_.front(); }
  void pop_front() noexcept { items_.pop_front(); }
  bool empty() const noexcept { return items_.empty(); }
  std::size_t size() const noexcept { return items_.size(); }
  void clear() noexcept { items_.clear(); }
  void swap(Fifo& other) noexcept { items_.swap(other.items_); }
  /// Removes the elements `pred` picks, keeping the others in order.
  template <class Pred>
  void erase_if(Pred pred) {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < items_.size(); ++i) {
      if (pred(items_[i])) continue;
      if (kept != i) items_[kept] = std::move(items_[i]);
      ++kept;
    }
    while (items_.size() > kept) items_.pop_back();
  }

  auto begin() noexcept { return items_.begin(); }
  auto end() noexcept { return items_.end(); }

 private:
  // Moves the elements over by hand: the buffer's own resize copies those whose move
  // constructor may throw, and some are move-only.
  void grow() {
    boost::circular_buffer<T> bigger(std::max<std::size_t>(16, 2 * items_.capacity()));
    for (auto& item : items_) bigger.push_back(std::move(item));
    items_.swap(bigger);
  }

  boost::circular_buffer<T> items_;
};

}  // namespace poolbench
