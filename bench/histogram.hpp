#pragma once

#include <cstdint>
#include <vector>

namespace poolbench::bench {

/// A log-bucketed histogram of non-negative integers (nanoseconds, here): 64 buckets per
/// power of two, so any percentile is within 1/64 (1.6 %) of the exact order statistic,
/// with fixed memory whatever the count. Histograms merge exactly, so percentiles over
/// several runs come from all their samples, never from averaging percentiles.
class LogHistogram {
 public:
  LogHistogram();

  void record(std::uint64_t value) noexcept;
  void merge(const LogHistogram& other) noexcept;

  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
  std::uint64_t max() const noexcept { return max_; }
  /// The exact mean of the samples (0 when empty).
  double mean() const noexcept { return count_ ? sum_ / static_cast<double>(count_) : 0; }
  /// The value below which `percent` % of the samples lie (0 when empty).
  std::uint64_t percentile(double percent) const noexcept;

 private:
  static std::size_t bucket_of(std::uint64_t value) noexcept;
  static std::uint64_t bucket_low(std::size_t bucket) noexcept;
  static std::uint64_t bucket_high(std::size_t bucket) noexcept;

  std::vector<std::uint64_t> buckets_;
  std::uint64_t count_ = 0;
  double sum_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
};

}  // namespace poolbench::bench
