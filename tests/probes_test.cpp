#include <gtest/gtest.h>

#include <cmath>

#include "bench/probes.hpp"
#include "pools/errors.hpp"

namespace poolbench::testing {
namespace {

TEST(Probes, EveryProbeMeasuresAPositiveFiniteCost) {
  for (const auto& name : bench::probe_names()) {
    SCOPED_TRACE(name);
    const auto r = bench::run_probe(name, 3, 5);
    EXPECT_EQ(r.name, name);
    EXPECT_FALSE(r.description.empty());
    EXPECT_GT(r.ns_per_op, 0);
    EXPECT_TRUE(std::isfinite(r.ns_per_op));
    EXPECT_EQ(r.operations, 15);
  }
}

TEST(Probes, UnknownProbeIsAConfigError) { EXPECT_THROW(bench::run_probe("teleport"), ConfigError); }

}  // namespace
}  // namespace poolbench::testing
