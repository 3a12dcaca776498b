#include <gtest/gtest.h>

#include "pools/process/worker_main.hpp"

// Process-pool workers re-execute this test binary; they must serve tasks, not run tests.
int main(int argc, char** argv) {
  if (auto code = poolbench::run_worker_if_requested(argc, argv)) return *code;
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
