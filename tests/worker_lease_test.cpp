#include "pools/process/worker_lease.hpp"

#include <gtest/gtest.h>

namespace poolbench::testing {
namespace {

using Holder = WorkerLease::Holder;
using Taken = WorkerLease::Taken;

const int call_a = 0;
const int call_b = 0;

TEST(WorkerLease, OnlyAnOfferedWorkerCanBeTaken) {
  WorkerLease lease;
  EXPECT_FALSE(lease.take()) << "the I/O thread holds a new lease";
  lease.offer();
  EXPECT_TRUE(lease.take());
  EXPECT_FALSE(lease.take()) << "one submitter at a time";
  EXPECT_EQ(lease.holder(), Holder::sending);
}

TEST(WorkerLease, OnlyTheWaiterOfTheLentCallDrivesIt) {
  WorkerLease lease;
  lease.offer();
  ASSERT_TRUE(lease.take());
  lease.lend(&call_a);
  EXPECT_EQ(lease.lends(), 1u);
  EXPECT_FALSE(lease.drive(&call_b)) << "a waiter for another call";
  EXPECT_TRUE(lease.drive(&call_a));
  EXPECT_FALSE(lease.drive(&call_a)) << "a second waiter of the same call";
  lease.release(/*call_ended=*/true);
  EXPECT_EQ(lease.holder(), Holder::offered) << "the worker is offered again, for the next call";
  EXPECT_EQ(lease.call(), nullptr);
}

TEST(WorkerLease, TheIoThreadWaitsForHoldersAndTakesBackTheCall) {
  WorkerLease lease;
  lease.offer();
  ASSERT_TRUE(lease.take());
  EXPECT_EQ(lease.take_back(), Taken::not_yet) << "a submitter is sending";
  lease.lend(&call_a);
  ASSERT_TRUE(lease.drive(&call_a));
  EXPECT_EQ(lease.take_back(), Taken::not_yet) << "a waiter is reading the reply";
  lease.release(/*call_ended=*/false);
  EXPECT_EQ(lease.holder(), Holder::abandoned);
  EXPECT_EQ(lease.take_back(), Taken::worker_and_call);
  EXPECT_EQ(lease.holder(), Holder::io);
  EXPECT_FALSE(lease.drive(&call_a)) << "a call taken back is the I/O thread's to finish";
}

TEST(WorkerLease, ALentCallNobodyDrivesIsTakenBack) {
  WorkerLease lease;
  lease.offer();
  ASSERT_TRUE(lease.take());
  lease.lend(&call_a);
  EXPECT_EQ(lease.take_back(), Taken::worker_and_call);
  EXPECT_EQ(lease.take_back(), Taken::worker) << "held already";
}

TEST(WorkerLease, AFailedSendLeavesTheCallToTheIoThread) {
  WorkerLease lease;
  lease.offer();
  ASSERT_TRUE(lease.take());
  lease.abandon_sending(&call_a);
  EXPECT_FALSE(lease.drive(&call_a));
  EXPECT_EQ(lease.take_back(), Taken::worker_and_call);
}

TEST(WorkerLease, ALendTellsWhetherTheIoThreadNaps) {
  WorkerLease lease;
  lease.offer();
  ASSERT_TRUE(lease.take());
  EXPECT_FALSE(lease.lend(&call_a));
  ASSERT_TRUE(lease.drive(&call_a));
  lease.release(true);
  lease.set_napping(true);
  ASSERT_TRUE(lease.take());
  EXPECT_TRUE(lease.lend(&call_b)) << "a napping I/O thread must be woken to watch the lent call";
}

TEST(WorkerLease, AClosedLeaseIsNeverTaken) {
  WorkerLease lease;
  lease.offer();
  ASSERT_EQ(lease.take_back(), Taken::worker);
  lease.close();
  EXPECT_FALSE(lease.take());
  EXPECT_FALSE(lease.drive(nullptr));
}

}  // namespace
}  // namespace poolbench::testing
