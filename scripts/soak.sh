#!/usr/bin/env bash
# Usage: scripts/soak.sh [MINUTES] [pools_soak options: --seed N, --progress S]
# Builds pools_soak (tests/soak.cpp) with the release preset if needed, runs it for MINUTES
# (default 1; fractions allowed), prints its summary and exits with its code: 0 when every
# task ended exactly once as expected, the counts agree and nothing leaked; 1 when a check
# failed; 3 when a round hung. POOLBENCH_SOAK_PRESET=tsan runs the ThreadSanitizer build.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh
ensure_packages

minutes="${1:-1}"
[ $# -gt 0 ] && shift
if ! [[ "$minutes" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
  echo "soak.sh: MINUTES must be a number, not '$minutes'" >&2
  exit 2
fi
seconds=$(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 + 0.5 }')
preset="${POOLBENCH_SOAK_PRESET:-release}"

[ -f "build/$preset/CMakeCache.txt" ] || cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" --target pools_soak -j "$(nproc)" >&2
if [ "$preset" = tsan ]; then
  export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:handle_segv=0:suppressions=$PWD/tests/tsan.supp}"
fi
echo "=== soak: build/$preset/tests/pools_soak --seconds $seconds $*" >&2
exec "build/$preset/tests/pools_soak" --seconds "$seconds" "$@"
