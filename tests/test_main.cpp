#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string_view>
#include <thread>

#include "pools/process/worker_main.hpp"
#include "tests/test_tasks.hpp"

// Process-pool workers re-execute this test binary; they must serve tasks, not run tests.
int main(int argc, char** argv) {
  // A test that needs a worker slow to start (a loaded machine, a sanitizer's start-up)
  // names the delay in the environment its workers inherit.
  if (argc > 1 && std::string_view(argv[1]) == poolbench::worker_flag) {
    if (const char* delay = std::getenv(poolbench::testing::slow_worker_start_variable))
      std::this_thread::sleep_for(std::chrono::milliseconds(std::atoi(delay)));
  }
  if (auto code = poolbench::run_worker_if_requested(argc, argv)) return *code;
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
