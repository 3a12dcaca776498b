#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <vector>

namespace poolbench::bench {

/// One open-loop measurement of a pool size at an offered rate, against a latency objective.
struct SloProbe {
  std::size_t workers = 0;
  double rate = 0;         ///< asked for, per second
  double offered = 0;      ///< what the schedule offered (a short Poisson run strays from the rate)
  double p99_us = 0;       ///< corrected: from each arrival's scheduled time
  bool saturated = false;  ///< it did not keep up with the rate
  bool meets = false;      ///< not saturated, and p99 within the objective
};

/// The search for the smallest size that meets the objective at one rate: the probes made,
/// in order, and the size found (none when no size up to the cap meets it).
struct SizeSearch {
  std::vector<SloProbe> probes;
  std::optional<std::size_t> pick;

  /// The probe with the lowest p99 among those that kept up (else among all): what to
  /// show when nothing meets the objective.
  const SloProbe* closest() const;
};

/// Sizes 1, 2, 4, ... up to `cap` until one meets the objective, then bisection between
/// the last that failed and the first that met: log2(cap) probes or so, each one
/// `measure(workers)`. Assumes more workers never make the latency worse, as a pool below
/// its knee behaves.
SizeSearch smallest_meeting_size(std::size_t cap, const std::function<SloProbe(std::size_t)>& measure);

/// The highest rate one size sustains within the objective, and the probes made.
struct RateSearch {
  std::vector<SloProbe> probes;
  double sustained = 0;  ///< the highest rate that met it; 0 when not even the lowest tried did
};

/// Rates from `start`, doubled while they meet the objective (up to `most`), or halved
/// while they do not (at most 10 times), then bisected until the highest that met and the
/// lowest that failed are within 5 % of each other: each step one `measure(rate)`.
RateSearch highest_sustained_rate(double start, double most, const std::function<SloProbe(double)>& measure);

}  // namespace poolbench::bench
