#!/usr/bin/env bash
# Installs what is missing, then builds and runs every test: the release build, then
# the style check (scripts/lint.sh), the same suite under ThreadSanitizer and
# AddressSanitizer + UBSan, then the fuzz
# targets for a short while (scripts/fuzz.sh).
# POOLBENCH_PRESETS="release" limits the run to the named presets;
# POOLBENCH_FUZZ_SECONDS sets the seconds per fuzz target (default here 5; 0 skips fuzzing).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh
ensure_packages

# Each stage's line carries the seconds since the start, so a slow stage shows in CI's log.
stage() { echo "=== [${SECONDS}s] $*" >&2; }

read -r -a presets <<< "${POOLBENCH_PRESETS:-release tsan asan}"
for preset in "${presets[@]}"; do
  sanitized=true
  [ "$preset" = release ] || [ "$preset" = debug ] && sanitized=false
  stage "${preset}: build"
  if ! $sanitized; then
    build_preset "$preset"
  else
    # The soak runs only in release: sanitizer builds leave it out.
    build_preset "$preset" --target pools_tests cli_tests run_tests poolbench
  fi
  stage "${preset}: test"
  # Tests with timing margins (label `timing`) run alone, after the rest, and only in
  # builds without a sanitizer; those also leave out the Python scripts' tests (label
  # `scripts`), as their presets say: a label given here replaces the preset's.
  # Twice as many at once as there are CPUs: most tests wait on processes and sockets.
  left_out=timing
  $sanitized && left_out="timing|scripts"
  ctest --preset "$preset" -j "$(($(nproc) * 2))" -LE "$left_out"
  if ! $sanitized; then
    stage "${preset}: tests with timing margins, one at a time"
    ctest --preset "$preset" -L timing
  fi
  if [ "$preset" = release ]; then
    stage "release: style (scripts/lint.sh: clang-format on every source, clang-tidy on those the last commit changed)"
    scripts/lint.sh
  fi
  if [ "$preset" = release ] && [ "${POOLBENCH_SOAK_SECONDS:-60}" != 0 ]; then
    stage "release: soak (scripts/soak.sh; POOLBENCH_SOAK_SECONDS=0 skips it)"
    "build/release/tests/pools_soak" --seconds "${POOLBENCH_SOAK_SECONDS:-60}"
  fi
done
stage "fuzz (scripts/fuzz.sh)"
POOLBENCH_FUZZ_SECONDS="${POOLBENCH_FUZZ_SECONDS:-5}" scripts/fuzz.sh
stage "done"
