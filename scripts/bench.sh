#!/usr/bin/env bash
# The one command for a new user: installs what is missing, builds the release preset,
# and runs the quick suite (3 scenarios x 6 executors x {1, usable CPUs, auto} workers)
# into results/<hostname>/run.json.
# Extra arguments go to `poolbench run` (e.g. --benchmark_repetitions=3).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh
ensure_packages
build_preset release
bin=build/release/bench/poolbench
out="results/$(hostname)"
mkdir -p "$out"

"$bin" info
echo
"$bin" run --quick --out "$out/run.json" "$@"
echo
echo "poolbench: results in $out/run.json"
