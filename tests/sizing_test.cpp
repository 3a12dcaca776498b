#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pools/core/errors.hpp"
#include "pools/machine/sizing.hpp"
#include "pools/machine/topology.hpp"

namespace poolbench::testing {
namespace {

using ::testing::HasSubstr;

TEST(Sizing, RulesGiveTheDocumentedCounts) {
  const MachineSize two{2, 2};
  EXPECT_EQ(workers_for(parse_sizing_rule("auto"), two), 10u);
  EXPECT_EQ(workers_for(parse_sizing_rule("cpus"), two), 2u);
  EXPECT_EQ(workers_for(parse_sizing_rule("cores"), two), 2u);
  EXPECT_EQ(workers_for(parse_sizing_rule("py38"), two), 6u);
  EXPECT_EQ(workers_for(parse_sizing_rule("17"), two), 17u);
  const MachineSize big{64, 32};
  EXPECT_EQ(workers_for(parse_sizing_rule("py38"), big), 32u) << "py38 caps at 32";
  EXPECT_EQ(workers_for(parse_sizing_rule("cores"), big), 32u);
  EXPECT_EQ(workers_for(parse_sizing_rule("auto"), MachineSize{1, 1}), 5u);
}

TEST(Sizing, AutoNeverExceedsTheWorkerLimit) {
  EXPECT_EQ(workers_for(parse_sizing_rule("auto"), MachineSize{2000, 1000}), 4096u);
}

TEST(Sizing, BadRulesNameTheValueAndWhatIsAllowed) {
  for (const char* bad : {"0", "-3", "4097", "99999999999999999999", "1.5", "12abc"}) {
    try {
      parse_sizing_rule(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_THAT(e.what(), HasSubstr(std::string("'") + bad + "'"));
      EXPECT_THAT(e.what(), HasSubstr("1 to 4096"));
    }
  }
  try {
    parse_sizing_rule("lots");
    ADD_FAILURE();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("unknown sizing rule 'lots'"));
    EXPECT_THAT(e.what(), HasSubstr("auto, cpus, cores, py38"));
  }
}

TEST(Sizing, PinningNamesParse) {
  EXPECT_EQ(parse_pinning("none"), Pinning::none);
  EXPECT_EQ(parse_pinning("compact"), Pinning::compact);
  EXPECT_EQ(parse_pinning("scatter"), Pinning::scatter);
  EXPECT_THROW(parse_pinning("random"), ConfigError);
}

/// Two packages of two cores with two hardware threads each; OS indices as Linux numbers
/// them on such machines (siblings far apart).
Topology two_by_two_by_two() {
  Topology t;
  t.bound_pus = {{0, 0, 0}, {8, 0, 0}, {1, 1, 0}, {9, 1, 0}, {2, 2, 1}, {10, 2, 1}, {3, 3, 1}, {11, 3, 1}};
  return t;
}

std::vector<unsigned> first_pus(const Placement& placement) {
  std::vector<unsigned> out;
  for (const auto& set : placement.sets) out.push_back(set.pus.at(0));
  return out;
}

TEST(Placement, CompactFillsNeighbouringPus) {
  EXPECT_EQ(first_pus(two_by_two_by_two().placement(Pinning::compact, 4)), (std::vector<unsigned>{0, 8, 1, 9}));
}

TEST(Placement, ScatterSpreadsOverPackagesThenCores) {
  EXPECT_EQ(first_pus(two_by_two_by_two().placement(Pinning::scatter, 8)),
            (std::vector<unsigned>{0, 2, 1, 3, 8, 10, 9, 11}));
}

TEST(Placement, MoreWorkersThanPusWrapAround) {
  const Placement p = two_by_two_by_two().placement(Pinning::compact, 20);
  EXPECT_EQ(p.for_worker(8)->pus, p.for_worker(0)->pus);
  EXPECT_EQ(p.for_worker(19)->pus, p.for_worker(3)->pus);
}

TEST(Placement, NoneLeavesWorkersUnbound) {
  EXPECT_EQ(two_by_two_by_two().placement(Pinning::none, 4).for_worker(0), nullptr);
}

TEST(Topology, UsableCpusAreCappedByTheCgroupQuota) {
  Topology t = two_by_two_by_two();
  EXPECT_EQ(t.usable_cpus(), 8u);
  EXPECT_EQ(t.usable_cores(), 4u);
  t.cgroup_limit = CgroupCpuLimit{150000, 100000, "/fixture"};
  EXPECT_EQ(t.usable_cpus(), 2u);
  EXPECT_EQ(t.usable_cores(), 2u);
}

TEST(Topology, MachineHasAtLeastOneUsableCpu) {
  const Topology& t = Topology::machine();
  EXPECT_GE(t.usable_cpus(), 1u);
  EXPECT_GE(t.allowed_pus, t.usable_cpus());
  EXPECT_FALSE(t.hwloc_version.empty());
  EXPECT_EQ(t.binding.pus.size(), t.bound_pus.size());
}

}  // namespace
}  // namespace poolbench::testing
