#include <cstdio>
#include <optional>

#include "bench/cli.hpp"
#include "bench/interrupt.hpp"
#include "pools/core/errors.hpp"
#include "pools/process/worker_main.hpp"

int main(int argc, char** argv) {
  if (auto code = poolbench::run_worker_if_requested(argc, argv)) return *code;
  // Before any other thread starts, so that all of them leave SIGINT and SIGTERM to it.
  std::optional<poolbench::bench::InterruptGuard> interrupts;
  try {
    interrupts.emplace();
  } catch (const poolbench::Error& e) {
    std::fprintf(stderr, "poolbench: %s\n", e.what());
    return 1;
  }
  return poolbench::bench::run_cli(argc, argv);
}
