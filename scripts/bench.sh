#!/usr/bin/env bash
# The one command for a new user: installs what is missing, builds the release preset,
# and shows what poolbench sees of this machine and what it can run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh
ensure_packages
build_preset release
bin=build/release/bench/poolbench
"$bin" info
echo
"$bin" list
