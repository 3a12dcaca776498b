#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) into build/fuzz and runs each for
# POOLBENCH_FUZZ_SECONDS (default 20; 0 skips) on a copy of its seed corpus, so the
# committed corpus never grows. Prints one line per target; exits non-zero when a target
# crashes, leaks, times out or runs out of memory, naming it and the input that did it.
#   scripts/fuzz.sh [TARGET...]     targets: channel wire reply_ring worker
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh

seconds="${POOLBENCH_FUZZ_SECONDS:-20}"
if [ "$seconds" = 0 ]; then
  echo "=== fuzz: skipped (POOLBENCH_FUZZ_SECONDS=0)" >&2
  exit 0
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(channel wire reply_ring worker)

ensure_packages
started=$(date +%s)
echo "=== fuzz: build" >&2
cmake -S tests/fuzz -B build/fuzz -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build build/fuzz -j "$(nproc)" --target "${targets[@]/%/_fuzz}" >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
findings=build/fuzz/findings
logs=build/fuzz/logs
mkdir -p "$findings" "$logs"
failed=0
echo "=== fuzz: ${seconds} s per target" >&2
for target in "${targets[@]}"; do
  corpus="$work/$target"
  cp -r "tests/fuzz/corpus/$target" "$corpus"
  log="$logs/$target.log"
  status=0
  # libFuzzer's own -timeout catches a slow input; the outer limit, a fuzzer that hangs.
  timeout --kill-after=10 "$((seconds + 120))" "build/fuzz/${target}_fuzz" \
    -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -detect_leaks=1 \
    -print_final_stats=1 -artifact_prefix="$findings/$target-" "$corpus" >"$log" 2>&1 || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  [ -n "$runs" ] || runs=$(grep -o '^#[0-9]*' "$log" | tail -n 1 | tr -d '#')
  inputs=$(find "$corpus" -type f | wc -l)
  if [ "$status" -eq 0 ]; then
    echo "fuzz ${target}: ok, ${runs:-0} executions, corpus $(find "tests/fuzz/corpus/$target" -type f | wc -l) -> ${inputs} inputs"
  else
    failed=1
    crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    echo "fuzz ${target}: FAILED (exit ${status}) after ${runs:-?} executions; input: ${crash:-none written}; log: ${log}"
    grep -E 'ERROR|FUZZ FINDING|SUMMARY' "$log" | head -n 5 | sed 's/^/    /'
    [ -z "$crash" ] || echo "    reproduce: build/fuzz/${target}_fuzz ${crash}"
  fi
done
echo "=== fuzz: done in $(($(date +%s) - started)) s" >&2
exit "$failed"
