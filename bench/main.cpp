#include "bench/cli.hpp"
#include "pools/worker_main.hpp"

int main(int argc, char** argv) {
  if (auto code = poolbench::run_worker_if_requested(argc, argv)) return *code;
  return poolbench::bench::run_cli(argc, argv);
}
