#include "pools/threads/bounded_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

namespace poolbench {
namespace {

TEST(BoundedQueue, KeepsOrderAcrossLapsAndRefusesWhenFullOrEmpty) {
  BoundedQueue<std::unique_ptr<int>> queue(3);  // rounded up to 4
  ASSERT_EQ(queue.capacity(), 4u);
  std::unique_ptr<int> out;
  EXPECT_FALSE(queue.try_pop(out));
  EXPECT_TRUE(queue.empty());
  int next_in = 0, next_out = 0;
  for (int lap = 0; lap < 10; ++lap) {
    for (int i = 0; i < 4; ++i) {
      auto value = std::make_unique<int>(next_in++);
      ASSERT_TRUE(queue.try_push(value));
      EXPECT_EQ(value, nullptr) << "a pushed value is moved in";
    }
    auto extra = std::make_unique<int>(-1);
    EXPECT_FALSE(queue.try_push(extra));
    ASSERT_NE(extra, nullptr) << "a refused value stays with the caller";
    EXPECT_EQ(*extra, -1);
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(queue.try_pop(out));
      EXPECT_EQ(*out, next_out++);
    }
    EXPECT_FALSE(queue.empty());
    ASSERT_TRUE(queue.try_pop(out));
    EXPECT_EQ(*out, next_out++);
    EXPECT_TRUE(queue.empty());
  }
}

TEST(BoundedQueue, ManyProducersAndConsumersHandEveryValueOverExactlyOnce) {
  constexpr int producers = 3, consumers = 3, per_producer = 20000;
  BoundedQueue<std::uint64_t> queue(64);  // small, so producers often find it full
  std::vector<std::atomic<int>> seen(producers * per_producer);
  std::atomic<int> taken{0};
  // A value lost or stuck would keep the consumers (and then the producers) polling for
  // ever: past this bound they give up, and the count below fails instead.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  auto in_time = [&] { return std::chrono::steady_clock::now() < give_up; };
  std::vector<std::jthread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < per_producer; ++i) {
        std::uint64_t value = static_cast<std::uint64_t>(p) * per_producer + i;
        while (!queue.try_push(value)) {
          if (!in_time()) return;
          std::this_thread::yield();
        }
      }
    });
  }
  for (int c = 0; c < consumers; ++c) {
    threads.emplace_back([&] {
      std::uint64_t value;
      std::vector<int> last(producers, -1);
      while (taken.load() < producers * per_producer) {
        if (!queue.try_pop(value)) {
          if (!in_time()) return;
          std::this_thread::yield();
          continue;
        }
        taken.fetch_add(1);
        seen[value].fetch_add(1);
        // Each consumer sees any one producer's values in the order they were pushed.
        const int producer = static_cast<int>(value / per_producer), index = static_cast<int>(value % per_producer);
        EXPECT_GT(index, last[producer]);
        last[producer] = index;
      }
    });
  }
  threads.clear();
  for (std::size_t v = 0; v < seen.size(); ++v) ASSERT_EQ(seen[v].load(), 1) << "value " << v;
  EXPECT_TRUE(queue.empty());
}

}  // namespace
}  // namespace poolbench
