#!/usr/bin/env bash
# Installs what is missing, then builds and runs every test: the release build, then
# the style check (scripts/lint.sh), the same suite under ThreadSanitizer and
# AddressSanitizer + UBSan, then the fuzz
# targets for a short while (scripts/fuzz.sh).
# POOLBENCH_PRESETS="release" limits the run to the named presets;
# POOLBENCH_FUZZ_SECONDS sets the seconds per fuzz target (default here 10; 0 skips fuzzing).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh
ensure_packages

read -r -a presets <<< "${POOLBENCH_PRESETS:-release tsan asan}"
for preset in "${presets[@]}"; do
  echo "=== ${preset}: build" >&2
  if [ "$preset" = release ] || [ "$preset" = debug ]; then
    build_preset "$preset"
  else
    # The soak runs only in release: sanitizer builds leave it out.
    build_preset "$preset" --target pools_tests cli_tests run_tests poolbench
  fi
  echo "=== ${preset}: test" >&2
  # Tests with timing margins (label `timing`) run alone, after the rest, and only in
  # builds without a sanitizer (whose presets leave them out).
  # Twice as many at once as there are CPUs: most tests wait on processes and sockets.
  ctest --preset "$preset" -j "$(($(nproc) * 2))" -LE timing
  if [ "$preset" = release ] || [ "$preset" = debug ]; then
    echo "=== ${preset}: tests with timing margins, one at a time" >&2
    ctest --preset "$preset" -L timing
  fi
  if [ "$preset" = release ]; then
    echo "=== release: style (scripts/lint.sh: clang-format on every source, clang-tidy on those the last commit changed)" >&2
    scripts/lint.sh
  fi
  if [ "$preset" = release ] && [ "${POOLBENCH_SOAK_SECONDS:-60}" != 0 ]; then
    echo "=== release: soak (scripts/soak.sh; POOLBENCH_SOAK_SECONDS=0 skips it)" >&2
    "build/release/tests/pools_soak" --seconds "${POOLBENCH_SOAK_SECONDS:-60}"
  fi
done
POOLBENCH_FUZZ_SECONDS="${POOLBENCH_FUZZ_SECONDS:-10}" scripts/fuzz.sh
