#include "pools/threads/idle_workers.hpp"

#include <algorithm>

namespace poolbench {

IdleWorkers::IdleWorkers(std::size_t workers)
    : bells_(std::make_unique<Bell[]>(workers)), searching_(static_cast<std::uint32_t>(workers)) {
  parked_.reserve(workers);
}

void IdleWorkers::wake_one(std::uint32_t searching) noexcept {
  std::uint32_t picked;
  {
    oneapi::tbb::spin_mutex::scoped_lock lock(mutex_);
    // A waker counts the worker it picks as searching, so the next submit sees it.
    if (parked_.empty() || searching_.load(std::memory_order_seq_cst) > searching) return;
    picked = parked_.back();
    parked_.pop_back();
    parked_count_.fetch_sub(1, std::memory_order_seq_cst);
    searching_.fetch_add(1, std::memory_order_seq_cst);
  }
  ring(picked);
}

void IdleWorkers::close() noexcept {
  closed_.store(true, std::memory_order_seq_cst);
  oneapi::tbb::spin_mutex::scoped_lock lock(mutex_);
  searching_.fetch_add(static_cast<std::uint32_t>(parked_.size()), std::memory_order_seq_cst);
  parked_count_.store(0, std::memory_order_seq_cst);
  for (const auto index : parked_) ring(index);
  parked_.clear();
}

void IdleWorkers::announce_parked(std::size_t index) noexcept {
  {
    oneapi::tbb::spin_mutex::scoped_lock lock(mutex_);
    parked_.push_back(static_cast<std::uint32_t>(index));
    parked_count_.fetch_add(1, std::memory_order_seq_cst);
  }
  searching_.fetch_sub(1, std::memory_order_seq_cst);
}

bool IdleWorkers::withdraw(std::size_t index) noexcept {
  oneapi::tbb::spin_mutex::scoped_lock lock(mutex_);
  const auto it = std::find(parked_.begin(), parked_.end(), static_cast<std::uint32_t>(index));
  if (it == parked_.end()) return false;
  parked_.erase(it);
  parked_count_.fetch_sub(1, std::memory_order_seq_cst);
  searching_.fetch_add(1, std::memory_order_seq_cst);
  return true;
}

void IdleWorkers::sleep(std::size_t index) noexcept {
  auto& rung = bells_[index].rung;
  while (rung.load(std::memory_order_acquire) == 0) rung.wait(0, std::memory_order_acquire);
  rung.store(0, std::memory_order_relaxed);
}

void IdleWorkers::ring(std::size_t index) noexcept {
  auto& rung = bells_[index].rung;
  rung.store(1, std::memory_order_release);
  rung.notify_one();
}

}  // namespace poolbench
