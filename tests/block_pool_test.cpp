#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "bench/heap_counter.hpp"
#include "pools/core/block_pool.hpp"
#include "tests/test_tasks.hpp"

namespace poolbench::testing {
namespace {

using bench::heap_allocations;

TEST(BlockPool, BlocksFreedOnAnotherThreadAreReusedWithoutTheHeap) {
  using Pool = detail::BlockPool<192>;
  std::vector<void*> blocks(1000);
  for (auto& b : blocks) b = Pool::allocate();
  std::thread([&] {
    for (void* b : blocks) Pool::deallocate(b);
  }).join();

  const std::uint64_t before = heap_allocations();
  for (auto& b : blocks) b = Pool::allocate();
  EXPECT_EQ(heap_allocations() - before, 0u) << "blocks freed by the other thread came back through the depot";
  for (void* b : blocks) Pool::deallocate(b);
}

}  // namespace
}  // namespace poolbench::testing
