#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace poolbench::detail {

/// Sleeps while `word` still holds `expected`, for at most `timeout` (forever when
/// negative or absent): Linux's futex, which unlike std::atomic::wait takes a timeout.
/// May return early or spuriously; callers re-check their condition.
void futex_wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
                std::chrono::nanoseconds timeout = std::chrono::nanoseconds(-1)) noexcept;

/// Wakes every thread sleeping in `futex_wait` on `word`.
void futex_wake_all(const std::atomic<std::uint32_t>& word) noexcept;

}  // namespace poolbench::detail
