#include "scenarios/arrivals.hpp"

#include <fmt/format.h>

#include <cmath>
#include <random>

#include "pools/core/errors.hpp"

namespace poolbench::scenarios {

std::uint64_t Arrivals::count() const noexcept {
  const double tasks = std::round(rate * std::chrono::duration<double>(duration).count());
  return tasks < 1 ? 1 : static_cast<std::uint64_t>(tasks);
}

std::vector<std::uint64_t> Arrivals::schedule() const {
  const std::uint64_t n = count();
  std::vector<std::uint64_t> at(n);
  const double gap_ns = 1e9 / rate;
  if (kind == Kind::uniform) {
    for (std::uint64_t i = 0; i < n; ++i)
      at[i] = static_cast<std::uint64_t>(std::llround(static_cast<double>(i) * gap_ns));
    return at;
  }
  // A stream of its own, so that arrivals do not shift the task times drawn from `seed`.
  std::mt19937_64 random(seed ^ 0xA5A5'5A5A'C3C3'3C3Cull);
  std::exponential_distribution<double> gap(1.0 / gap_ns);
  double t = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    at[i] = static_cast<std::uint64_t>(std::llround(t));
    t += gap(random);
  }
  return at;
}

std::vector<std::vector<std::uint64_t>> split_schedule(const Arrivals& arrivals, std::uint64_t parts) {
  std::vector<std::vector<std::uint64_t>> schedules(parts);
  const double gap_ns = 1e9 / arrivals.rate;
  for (std::uint64_t part = 0; part < parts; ++part) {
    Arrivals share = arrivals;
    share.rate = arrivals.rate / static_cast<double>(parts);
    share.seed = arrivals.seed + part * 0x9E37'79B9'7F4A'7C15ull;
    schedules[part] = share.schedule();
    if (arrivals.kind == Arrivals::Kind::uniform) {
      const auto phase = static_cast<std::uint64_t>(std::llround(static_cast<double>(part) * gap_ns));
      for (auto& at : schedules[part]) at += phase;
    }
  }
  return schedules;
}

Arrivals::Kind parse_arrival_kind(std::string_view text) {
  if (text == "poisson") return Arrivals::Kind::poisson;
  if (text == "uniform") return Arrivals::Kind::uniform;
  throw ConfigError(fmt::format("--arrivals {} is not a way tasks arrive (allowed: poisson, uniform)", text));
}

}  // namespace poolbench::scenarios
