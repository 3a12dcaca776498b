#!/usr/bin/env bash
# Installs what is missing, then builds and runs every test: the release build, then
# the same suite under ThreadSanitizer and AddressSanitizer + UBSan, then the fuzz
# targets for a short while (scripts/fuzz.sh).
# POOLBENCH_PRESETS="release" limits the run to the named presets;
# POOLBENCH_FUZZ_SECONDS sets the seconds per fuzz target (default 20; 0 skips fuzzing).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh
ensure_packages

read -r -a presets <<< "${POOLBENCH_PRESETS:-release tsan asan}"
for preset in "${presets[@]}"; do
  echo "=== ${preset}: build" >&2
  build_preset "$preset"
  echo "=== ${preset}: test" >&2
  ctest --preset "$preset" -j "$(nproc)"
done
scripts/fuzz.sh
