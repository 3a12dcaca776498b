#!/usr/bin/env bash
# Checks the C++ style: clang-format (every source, in check mode) and clang-tidy (the checks
# in .clang-tidy) on the sources changed since POOLBENCH_TIDY_BASE (default: the previous
# commit), or on every source with --all. clang-tidy reads compile_commands.json from the
# `tidy` preset (the release flags, each source apart, where the build presets compile a few
# sources as one), which it configures without building. Prints each finding; exits 1 when
# there is any.
#   scripts/lint.sh [--all]
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t sources < <(git ls-files 'pools/*.cpp' 'pools/*.hpp' 'scenarios/*.cpp' 'scenarios/*.hpp' \
  'bench/*.cpp' 'bench/*.hpp' 'tests/*.cpp' 'tests/*.hpp')
failed=0

echo "=== lint: clang-format, ${#sources[@]} files" >&2
if ! clang-format --dry-run --Werror "${sources[@]}"; then
  echo "poolbench: clang-format: the files above differ from .clang-format (fix: clang-format -i FILE)" >&2
  failed=1
fi

# clang-tidy takes seconds per file: only translation units outside tests/, and by
# default only those the last commit changed.
if [ "${1:-}" = --all ]; then
  mapfile -t units < <(printf '%s\n' "${sources[@]}" | grep -E '^(pools|scenarios|bench)/.*\.cpp$')
else
  base="${POOLBENCH_TIDY_BASE:-HEAD~1}"
  if git rev-parse -q --verify "$base^{commit}" >/dev/null; then
    mapfile -t units < <(git diff --name-only "$base" -- 'pools/*.cpp' 'scenarios/*.cpp' 'bench/*.cpp' |
      while read -r f; do [ -f "$f" ] && echo "$f"; done)
  else
    echo "=== lint: no commit $base to compare with; clang-tidy skipped (scripts/lint.sh --all runs it on every file)" >&2
    units=()
  fi
fi
# A commit that touches everything (a reformat) would take most of CI's time: at most
# POOLBENCH_TIDY_MAX files (default 8) are checked, and the line says which were not.
max="${POOLBENCH_TIDY_MAX:-8}"
if [ "${1:-}" != --all ] && [ ${#units[@]} -gt "$max" ]; then
  echo "=== lint: clang-tidy on the first $max of ${#units[@]} changed files; not checked here: ${units[*]:$max}" >&2
  units=("${units[@]:0:$max}")
fi
if [ ${#units[@]} -gt 0 ]; then
  cmake --preset tidy >/dev/null
  echo "=== lint: clang-tidy, ${#units[@]} files" >&2
  for unit in "${units[@]}"; do
    if ! clang-tidy -p build/tidy --quiet --warnings-as-errors='*' "$unit" 2>/dev/null; then
      failed=1
    fi
  done
fi
exit "$failed"
