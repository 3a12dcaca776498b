#include "bench/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace poolbench::bench {
namespace {

constexpr unsigned sub_bits = 6;
constexpr std::uint64_t sub_buckets = std::uint64_t{1} << sub_bits;
constexpr std::size_t bucket_count = sub_buckets + (64 - sub_bits) * sub_buckets;

}  // namespace

LogHistogram::LogHistogram() : buckets_(bucket_count, 0) {}

std::size_t LogHistogram::bucket_of(std::uint64_t value) noexcept {
  if (value < sub_buckets) return static_cast<std::size_t>(value);
  const unsigned msb = 63u - static_cast<unsigned>(std::countl_zero(value));
  const unsigned shift = msb - sub_bits;
  const std::uint64_t mantissa = (value >> shift) & (sub_buckets - 1);
  return static_cast<std::size_t>(sub_buckets + shift * sub_buckets + mantissa);
}

std::uint64_t LogHistogram::bucket_low(std::size_t bucket) noexcept {
  if (bucket < sub_buckets) return bucket;
  const std::uint64_t shift = (bucket - sub_buckets) / sub_buckets;
  const std::uint64_t mantissa = (bucket - sub_buckets) % sub_buckets;
  return (sub_buckets + mantissa) << shift;
}

std::uint64_t LogHistogram::bucket_high(std::size_t bucket) noexcept {
  if (bucket < sub_buckets) return bucket;
  const std::uint64_t shift = (bucket - sub_buckets) / sub_buckets;
  return bucket_low(bucket) + ((std::uint64_t{1} << shift) - 1);
}

void LogHistogram::record(std::uint64_t value) noexcept {
  ++buckets_[bucket_of(value)];
  ++count_;
  sum_ += static_cast<double>(value);
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

void LogHistogram::merge(const LogHistogram& other) noexcept {
  for (std::size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

std::uint64_t LogHistogram::percentile(double percent) const noexcept {
  if (count_ == 0) return 0;
  const double clamped = std::clamp(percent, 0.0, 100.0);
  const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(clamped / 100.0 * count_)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      const std::uint64_t mid = bucket_low(i) + (bucket_high(i) - bucket_low(i)) / 2;
      return std::clamp(mid, min(), max_);
    }
  }
  return max_;
}

}  // namespace poolbench::bench
