#!/usr/bin/env bash
# The one command for a new user. From a fresh Debian machine: installs what is missing,
# builds the release preset, then writes into results/<hostname>/:
#   run.json              poolbench run --quick: 3 scenarios x 6 executors x {1, CPUs, auto}
#   tune_<scenario>.json  poolbench tune --quick for sleep, cpu and socket (+ .txt tables)
#   py_baseline*.json     the same scenarios with Python's concurrent.futures
#   *.png, summary.md     plots and the C++ / Python table from scripts/plot.py
#   perf_*.json, performance.md   the performance targets: probes and per-task costs, as ratios
#   logs/<stage>.log      each stage's terminal output
# Extra arguments go to `poolbench run` (e.g. --benchmark_repetitions=3).
#
# Each run writes into a fresh hidden folder in results/ and, when every stage succeeded,
# replaces results/<hostname>/ with it, so that folder only ever holds one whole run. A
# failed stage is reported and the stages that do not need it still run; the run then goes
# to results/<hostname>.failed/ and the script exits 1. Ctrl-C stops the run and removes
# its folder.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh
source scripts/lib/stages.sh
bin=build/release/bench/poolbench
published="results/$(hostname)"
run_folder_begin "$published"
out=$RUN_DIR

stage_info() {
  "$bin" info | tee "$out/info.txt"
}

stage_run() {
  "$bin" run --quick --out "$out/run.json" "$@" | tee "$out/run.txt"
}

stage_tune() {
  local scenario
  for scenario in sleep cpu socket; do
    "$bin" tune --quick --scenario "$scenario" --out "$out/tune_$scenario.json" | tee "$out/tune_$scenario.txt"
  done
}

# Python runs the same knobs; only its cpu runs use 40 tasks instead of 200 (the same
# work per task, which is what tasks/s compares) to keep them short.
stage_baseline() {
  /usr/bin/python3 scripts/py_baseline.py --poolbench "$bin" --quick --scenarios sleep,socket \
    --out "$out/py_baseline.json" | tee "$out/py_baseline.txt"
  /usr/bin/python3 scripts/py_baseline.py --poolbench "$bin" --quick --scenarios cpu --tasks 40 \
    --out "$out/py_baseline_cpu.json" | tee "$out/py_baseline_cpu.txt"
}

# The folder is this run's own, so its globs find only this run's files.
stage_plots() {
  /usr/bin/python3 scripts/plot.py "$out"/run.json "$out"/tune_*.json "$out"/py_baseline*.json \
    --out-dir "$out" --summary "$out/summary.md"
}

# The performance report, medians of 3 repetitions: empty tasks (per-task cost, with the
# machine probes and the raw library rows: oneTBB and Boost.Asio used directly) submitted,
# then posted and submitted with no per-task timing, whose paired rows (each executor and
# its library in alternating rounds) divide the adapters and our pool by their libraries;
# one-at-a-time process-pool round trips; sleep and ~2 ms cpu efficiency; socket at 8, 32
# and 64 connections; then Python's process pool.
stage_performance() {
  local empty_tasks=(--scenarios cpu --iterations 0 --tasks 20000 --benchmark_repetitions=3)
  # Its paired rows would repeat perf_uninstrumented's: a pair times no harness code.
  "$bin" run "${empty_tasks[@]}" --pools sync,thread-per-task,thread-pool,process-pool,tbb,asio \
    --workers cpus,auto --benchmark_filter=-^paired/ --out "$out/perf_overhead.json"
  "$bin" run "${empty_tasks[@]}" --submit post --instrument off --pools thread-pool,tbb,asio --workers cpus,auto \
    --out "$out/perf_post.json"
  # The adapters' pairs again confined to one CPU, where the submitter and the worker take
  # turns and no hand-over waits on a wake-up: what each adapter adds to every task.
  local first_cpu c
  first_cpu=$(awk '/^Cpus_allowed_list/ { split($2, c, /[,-]/); print c[1] }' /proc/self/status)
  taskset -c "$first_cpu" "$bin" run "${empty_tasks[@]}" --submit post --instrument off --pools tbb,asio --workers 1 \
    --benchmark_filter=^paired/ --out "$out/perf_post_one_cpu.json"
  "$bin" run "${empty_tasks[@]}" --instrument off --pools sync,thread-pool,tbb,asio --workers cpus,auto \
    --out "$out/perf_uninstrumented.json"
  # What --trace costs: every task of one run of 10,000 timed and kept, against the same run
  # untraced (one run per repetition, so the trace keeps them all; the file itself goes).
  # Only the sync cell: the probes and library rows belong to the runs above.
  local traced=(--scenarios cpu --iterations 0 --tasks 10000 --pools sync --benchmark_min_time=0.001
    --benchmark_repetitions=5 --benchmark_filter=^cpu/)
  "$bin" run "${traced[@]}" --out "$out/perf_untraced.json"
  "$bin" run "${traced[@]}" --trace "$out/.trace.json" --out "$out/perf_traced.json"
  rm -f "$out/.trace.json"
  "$bin" run --scenarios cpu --iterations 0 --tasks 2000 --in-flight 1 --pools process-pool --workers 1 \
    --benchmark_repetitions=3 --out "$out/perf_round_trip.json"
  "$bin" run --scenarios sleep --tasks 100 --sleep-ms 10 --pools sync,thread-pool,asio --workers 1,2,4,10,20,100 \
    --benchmark_repetitions=3 --out "$out/perf_sleep.json"
  "$bin" run --scenarios cpu --iterations 1200000 --tasks 100 --pools thread-pool --workers cpus,auto \
    --benchmark_repetitions=3 --out "$out/perf_cpu.json"
  # Each socket size, then where its requests go: the run again confined to one CPU, and a
  # scheduler trace counting the wake-ups that cross CPUs (skipped, with a line, where perf
  # may not trace).
  for c in 8 32 64; do
    local socket=(--scenarios socket --workers "$c" --connections "$c" --round-trips 200)
    "$bin" run "${socket[@]}" --pools thread-pool,thread-per-task,asio --benchmark_repetitions=3 \
      --out "$out/perf_socket_$c.json"
    taskset -c "$first_cpu" "$bin" run "${socket[@]}" --pools thread-pool,thread-per-task --benchmark_repetitions=3 \
      --out "$out/perf_socket_${c}_one_cpu.json"
    /usr/bin/python3 scripts/wakeup_trace.py --pools thread-pool,thread-per-task,asio \
      --out "$out/perf_socket_${c}_wakeups.json" -- "$bin" run "${socket[@]}" --benchmark_filter=^socket/ ||
      echo "poolbench: performance.md goes without the wake-up trace for $c connections" >&2
  done
  /usr/bin/python3 scripts/py_baseline.py --poolbench "$bin" --scenarios cpu --iterations 0 --tasks 2000 \
    --pools py-process-pool --workers cpus --out "$out/perf_py.json"
  /usr/bin/python3 scripts/perf_report.py "$out"/perf_overhead.json "$out"/perf_post.json \
    "$out"/perf_post_one_cpu.json "$out"/perf_uninstrumented.json "$out"/perf_untraced.json \
    "$out"/perf_traced.json "$out"/perf_round_trip.json "$out"/perf_sleep.json "$out"/perf_cpu.json \
    "$out"/perf_socket_*.json "$out"/perf_py.json --command "scripts/bench.sh (its performance stage)" \
    --out "$out/performance.md"
}

run_stage install -- ensure_packages linux-perf
run_stage build install -- build_preset release
run_stage info build -- stage_info
run_stage run build -- stage_run "$@"
run_stage tune build -- stage_tune
run_stage baseline build -- stage_baseline
run_stage plots run tune baseline -- stage_plots
run_stage performance build -- stage_performance

echo
if stages_failed; then
  run_folder_publish "$published.failed"
  stage_summary "$published.failed/logs" || true
  echo "poolbench: this run is in $published.failed/; $published/ still holds the last complete run" >&2
  exit 1
fi
run_folder_publish "$published"
stage_summary "$published/logs"
echo "poolbench: results in $published/ (performance report: $published/performance.md)"
