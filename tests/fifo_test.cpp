#include "pools/core/fifo.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace poolbench {
namespace {

std::vector<int> contents(Fifo<std::unique_ptr<int>>& fifo) {
  std::vector<int> out;
  for (auto& item : fifo) out.push_back(*item);
  return out;
}

TEST(Fifo, KeepsOrderWhileGrowingWithMoveOnlyElements) {
  Fifo<std::unique_ptr<int>> fifo;
  int next_in = 0, next_out = 0;
  // Pops between pushes make the ring wrap before each growth.
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 7; ++i) fifo.push_back(std::make_unique<int>(next_in++));
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(*fifo.front(), next_out++);
      fifo.pop_front();
    }
  }
  EXPECT_EQ(fifo.size(), static_cast<std::size_t>(next_in - next_out));
  while (!fifo.empty()) {
    ASSERT_EQ(*fifo.front(), next_out++);
    fifo.pop_front();
  }
  EXPECT_EQ(next_out, next_in);
}

TEST(Fifo, EraseIfKeepsTheRestInOrderAndAsksOncePerElement) {
  Fifo<std::unique_ptr<int>> fifo;
  for (int i = 0; i < 5; ++i) fifo.push_back(std::make_unique<int>(-1));
  for (int i = 0; i < 5; ++i) fifo.pop_front();  // the ring now starts mid-buffer
  for (int i = 0; i < 20; ++i) fifo.push_back(std::make_unique<int>(i));
  int asked = 0;
  fifo.erase_if([&](const std::unique_ptr<int>& item) {
    ++asked;
    return *item % 3 == 0 || *item >= 17;
  });
  EXPECT_EQ(asked, 20);
  EXPECT_EQ(contents(fifo), (std::vector<int>{1, 2, 4, 5, 7, 8, 10, 11, 13, 14, 16}));
  fifo.erase_if([](const std::unique_ptr<int>&) { return true; });
  EXPECT_TRUE(fifo.empty());
}

}  // namespace
}  // namespace poolbench
