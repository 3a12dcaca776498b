#include "bench/slo_search.hpp"

#include <algorithm>

namespace poolbench::bench {

const SloProbe* SizeSearch::closest() const {
  const SloProbe* best = nullptr;
  for (const auto& p : probes) {
    const bool better =
        !best || (best->saturated && !p.saturated) || (best->saturated == p.saturated && p.p99_us < best->p99_us);
    if (better) best = &p;
  }
  return best;
}

SizeSearch smallest_meeting_size(std::size_t cap, const std::function<SloProbe(std::size_t)>& measure) {
  SizeSearch search;
  std::size_t failed = 0;  // the largest size known to fail
  std::size_t met = 0;     // the smallest size known to meet
  for (std::size_t n = 1;; n = std::min(cap, 2 * n)) {
    search.probes.push_back(measure(n));
    if (search.probes.back().meets) {
      met = n;
      break;
    }
    failed = n;
    if (n == cap) return search;
  }
  while (met - failed > 1) {
    const std::size_t mid = failed + (met - failed) / 2;
    search.probes.push_back(measure(mid));
    (search.probes.back().meets ? met : failed) = mid;
  }
  search.pick = met;
  return search;
}

RateSearch highest_sustained_rate(double start, double most, const std::function<SloProbe(double)>& measure) {
  RateSearch search;
  double met = 0;     // the highest rate known to meet
  double failed = 0;  // the lowest rate known to fail
  double rate = std::min(start, most);
  for (int halvings = 0; halvings <= 10; ++halvings) {
    search.probes.push_back(measure(rate));
    if (search.probes.back().meets) {
      met = rate;
      break;
    }
    failed = rate;
    rate /= 2;
  }
  if (met == 0) return search;
  while (failed == 0 && met < most) {
    rate = std::min(most, 2 * met);
    search.probes.push_back(measure(rate));
    (search.probes.back().meets ? met : failed) = rate;
  }
  while (failed > 0 && failed > 1.05 * met) {
    rate = (met + failed) / 2;
    search.probes.push_back(measure(rate));
    (search.probes.back().meets ? met : failed) = rate;
  }
  search.sustained = met;
  return search;
}

}  // namespace poolbench::bench
