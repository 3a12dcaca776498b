#!/usr/bin/python3
"""How often `poolbench tune` picks a good size, on workloads whose best size is known.

For each workload it runs `tune` K times (each with its own --seed, so each shuffles its
visits differently) and once an exhaustive measurement of every size, then prints, as
Markdown, how often the pick was good and how many sizes each tune measured:

- mixed: closed batches of 1 ms compute + 4 ms wait, best at P x (1 + W / C) workers
  (P usable CPUs); a pick is good when the exhaustive sweep measured it within 5 % of the
  best throughput.
- cpu: closed batches of pure computation, best at P; the same test.
- sleep-slo: 10 ms sleeps arriving at 400 a second, objective p99 <= 20 ms; by Little's
  law at least 400 x 10 ms = 4 workers are busy. A pick is good when it is within one
  worker of the smallest size the exhaustive probes (every size from 1 up) found meeting
  the objective: the size at the boundary meets it for some arrival schedules and not others.

The budget for the throughput tunes is log2 of the largest size + 3 sizes per tune. Bad
input gets one line and exit code 2.
"""

import json
import math
import os
import subprocess
import sys
import tempfile

from result_files import BadInput, check_writable, strict_parser, write_atomically

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKLOADS = ["mixed", "cpu", "sleep-slo"]
MAX_WORKERS = 64

CLOSED = {
    "mixed": ["--scenario", "mixed", "--compute-us", "1000", "--wait-us", "4000", "--tasks", "200"],
    "cpu": ["--scenario", "cpu", "--tasks", "200"],
}
SLO = ["--scenario", "sleep", "--sleep-ms", "10", "--rate", "400", "--duration", "2"]
SLO_P99 = "20ms"
SLO_P99_US = 20_000


def poolbench(binary, *args):
    """Runs poolbench; returns its stdout, or raises with its stderr."""
    r = subprocess.run([binary, *args], capture_output=True, text=True, timeout=3600)
    if r.returncode != 0:
        raise RuntimeError(f"poolbench {' '.join(args)} exited {r.returncode}: {r.stderr.strip()[-500:]}")
    return r.stdout


def read_json(binary, args, work, name):
    out = os.path.join(work, name)
    poolbench(binary, *args, "--out", out)
    with open(out) as f:
        return json.load(f)


def exhaustive_throughput(binary, workload, work):
    """Tasks per second at every size from 1 to MAX_WORKERS' neighbourhood, by `poolbench run`."""
    sizes = list(range(1, 33)) + [40, 48, 64]
    args = ["run", "--scenarios", CLOSED[workload][1], "--pools", "thread-pool", "--workers",
            ",".join(map(str, sizes)), *CLOSED[workload][2:], "--benchmark_min_time=0.5",
            f"--benchmark_filter={CLOSED[workload][1]}/"]
    data = read_json(binary, args, work, f"exhaustive_{workload}.json")
    return {int(b["workers"]): b["tasks_per_second"] for b in data["benchmarks"] if "tasks_per_second" in b}


def exhaustive_smallest_meeting(binary, work):
    """The smallest size whose p99 meets the objective at the rate: one open loop at every
    size from 1 to 16, by `poolbench run`."""
    sizes = list(range(1, 17))
    args = ["run", "--scenarios", "sleep", "--pools", "thread-pool", "--workers", ",".join(map(str, sizes)),
            *SLO[2:], "--benchmark_min_time=0.001", "--benchmark_filter=sleep/"]
    data = read_json(binary, args, work, "exhaustive_slo.json")
    meets = {int(b["workers"]): not b["saturated"] and b["latency_p99_us"] <= SLO_P99_US
             for b in data["benchmarks"] if "latency_p99_us" in b}
    return next((n for n in sizes if meets.get(n)), None), meets


def usl_peak(t):
    """Where the tune's scalability fit peaks, or why there is no fit."""
    if t.get("usl_fit") != "ok":
        return t.get("usl_fit", "-")
    peak = t.get("usl_peak_workers")
    return f"{peak:.1f}" if isinstance(peak, (int, float)) else str(peak)


def accuracy_closed(binary, workload, reruns, work, log):
    exhaustive = exhaustive_throughput(binary, workload, work)
    best_size = max(exhaustive, key=exhaustive.get)
    best = exhaustive[best_size]
    rows, good, budget = [], 0, math.log2(MAX_WORKERS) + 3
    for k in range(reruns):
        data = read_json(binary, ["tune", *CLOSED[workload], "--max-workers", str(MAX_WORKERS), "--seed",
                                  str(k + 1)], work, f"tune_{workload}_{k}.json")
        t = data["tuning"]
        pick = t["pick_workers"]
        sizes = len(data["sweep"])
        ratio = exhaustive.get(pick, 0) / best
        ok = ratio >= 0.95
        good += ok
        rows.append(f"| {k + 1} | {pick} | {ratio:.3f} | {'yes' if ok else 'no'} | {sizes} | "
                    f"{'yes' if sizes <= budget else 'no'} | {usl_peak(t)} |")
        log(f"{workload} rerun {k + 1}: pick {pick} ({ratio:.3f} of the best), {sizes} sizes")
    lines = [f"### {workload}: closed batches (`poolbench tune {' '.join(CLOSED[workload])} --max-workers "
             f"{MAX_WORKERS} --seed K`)", "",
             f"Exhaustive sweep (`poolbench run --pools thread-pool --workers 1,2,...,32,40,48,64 "
             f"{' '.join(CLOSED[workload][2:])} --benchmark_min_time=0.5`): best {best:.1f} tasks/s at {best_size} "
             f"workers; within 5 % of it: {sorted(n for n, x in exhaustive.items() if x >= 0.95 * best)}.", "",
             f"**Picks within 5 % of the best: {good} of {reruns}.** Sizes per tune against the budget of "
             f"log2({MAX_WORKERS}) + 3 = {budget:g}:", "",
             "| rerun (seed) | pick | its throughput / best | within 5 % | sizes measured | within budget | USL peak |",
             "|---:|---:|---:|---|---:|---|---:|", *rows, ""]
    return good, lines


def accuracy_slo(binary, reruns, work, log):
    truth, meets = exhaustive_smallest_meeting(binary, work)
    rows, good = [], 0
    for k in range(reruns):
        data = read_json(binary, ["tune", *SLO, "--slo-p99", SLO_P99, "--max-workers", str(MAX_WORKERS), "--seed",
                                  str(k + 1)], work, f"tune_slo_{k}.json")
        t = data["tuning"]
        pick = t.get("pick_workers")
        probes = len(t["probes"])
        ok = truth is not None and pick is not None and abs(pick - truth) <= 1
        good += ok
        rows.append(f"| {k + 1} | {pick} | {'yes' if ok else 'no'} | {probes} |")
        log(f"sleep-slo rerun {k + 1}: pick {pick}, {probes} probes")
    lines = [f"### sleep-slo: open loop (`poolbench tune {' '.join(SLO)} --slo-p99 {SLO_P99} --max-workers "
             f"{MAX_WORKERS} --seed K`)", "",
             f"Exhaustive probes (`poolbench run --scenarios sleep --pools thread-pool --workers 1,2,...,16 "
             f"{' '.join(SLO[2:])}`): the smallest size meeting p99 <= {SLO_P99_US} us at 400/s is {truth} (Little's "
             f"law: 4 busy on average); sizes that met it: {sorted(n for n, m in meets.items() if m)}.", "",
             f"**Picks within one worker of it: {good} of {reruns}.** (Each tune draws its arrivals from its own "
             f"seed and the exhaustive probes from seed 1; the size at the boundary meets the objective for some "
             f"schedules and not others.)", "",
             "| rerun (seed) | pick | good | probes |", "|---:|---:|---|---:|", *rows, ""]
    return good, lines


def main(argv):
    p = strict_parser(__doc__.split("\n\n")[0])
    p.add_argument("--reruns", type=int, default=10, help="tunes per workload (default 10)")
    p.add_argument("--workloads", default=",".join(WORKLOADS))
    p.add_argument("--poolbench", default=os.environ.get("POOLBENCH_BINARY",
                                                         os.path.join(ROOT, "build", "release", "bench", "poolbench")))
    p.add_argument("--out", default="", help="write the Markdown report here too")
    try:
        args = p.parse_args(argv)
        if not 1 <= args.reruns <= 100:
            raise BadInput(f"--reruns {args.reruns} is out of range (allowed: 1 to 100)")
        workloads = [w for w in args.workloads.split(",") if w]
        for w in workloads:
            if w not in WORKLOADS:
                raise BadInput(f"unknown workload '{w}' (allowed: {', '.join(WORKLOADS)})")
        if not os.access(args.poolbench, os.X_OK):
            raise BadInput(f"cannot run --poolbench '{args.poolbench}'")
        if args.out:
            check_writable(args.out)
    except BadInput as error:
        print(f"tune_accuracy.py: {error}", file=sys.stderr)
        return 2

    def log(line):
        print(f"tune_accuracy: {line}", file=sys.stderr, flush=True)

    info = json.loads(poolbench(args.poolbench, "info", "--json"))
    report = ["# How often `tune` picks a good size", "",
              f"`scripts/tune_accuracy.py --reruns {args.reruns} --workloads {','.join(workloads)}` on "
              f"{info.get('usable_cpus')} usable CPU(s) (cgroup limit {info.get('cgroup_cpu_limit')}).", ""]
    with tempfile.TemporaryDirectory(prefix="poolbench-tune-accuracy-") as work:
        for w in workloads:
            _, lines = accuracy_slo(args.poolbench, args.reruns, work, log) if w == "sleep-slo" else \
                accuracy_closed(args.poolbench, w, args.reruns, work, log)
            report += lines
    text = "\n".join(report) + "\n"
    print(text)
    if args.out:
        write_atomically(args.out, text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
