#!/usr/bin/python3
"""Counts how many of a poolbench run's thread wake-ups cross CPUs, one run per pool, from a
Linux scheduler trace (`perf record -e sched:sched_wakeup`). A wake-up that lands on the
other CPU costs an inter-processor interrupt and leaves the woken thread's partner on a
different cache; it is what separates two executors that do the same work per request.

    /usr/bin/python3 scripts/wakeup_trace.py --pools thread-pool,thread-per-task --out w.json -- \\
        build/release/bench/poolbench run --scenarios socket --connections 8 --workers 8 \\
        --benchmark_filter=^socket/

The command gets `--pools <pool>` appended for each pool. Needs perf (Debian: linux-perf)
and the right to trace (root, or kernel.perf_event_paranoid <= 1).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from result_files import BadInput, check_writable, strict_parser, write_atomically

WAKEUP = re.compile(r"\[(\d+)\]\s+[\d.]+:\s+sched:sched_wakeup:\s.*?comm=(\S+).*?target_cpu=(\d+)")


def count_wakeups(lines, comm):
    """Wake-ups of threads named `comm` in `perf script` output: (all, across CPUs). The
    event's own CPU is the waker's; target_cpu is where the woken thread will run."""
    total = cross = 0
    for line in lines:
        match = WAKEUP.search(line)
        if match and match.group(2) == comm:
            total += 1
            cross += int(match.group(1)) != int(match.group(3))
    return total, cross


def trace(command, pool, workdir):
    """Runs `command --pools pool` under perf and returns its wake-up counts."""
    data = os.path.join(workdir, f"{pool}.data")
    record = subprocess.run(["perf", "record", "-q", "-e", "sched:sched_wakeup", "-o", data, "--", *command,
                             "--pools", pool], capture_output=True, text=True)
    if record.returncode != 0:
        lines = (record.stderr or record.stdout).strip().splitlines()
        raise BadInput(f"tracing {pool} failed: {lines[-1] if lines else 'exit code ' + str(record.returncode)}")
    script = subprocess.run(["perf", "script", "-i", data], capture_output=True, text=True)
    if script.returncode != 0:
        raise BadInput(f"perf script could not read the {pool} trace: {script.stderr.strip()[:200]}")
    return count_wakeups(script.stdout.splitlines(), os.path.basename(command[0])[:15])


def main(argv):
    parser = strict_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--pools", required=True, help="comma-separated pools, one traced run each")
    parser.add_argument("--out", default="", help="JSON file to write (default: only the table on stdout)")
    parser.add_argument("command", nargs="+", help="the poolbench run command, after --")
    try:
        args = parser.parse_args(argv)
        pools = [p for p in args.pools.split(",") if p]
        if not pools:
            raise BadInput("--pools names no pool")
        if args.out:
            check_writable(args.out)
        if not shutil.which("perf"):
            raise BadInput("perf is not installed (Debian package: linux-perf)")
        if not shutil.which(args.command[0]):
            raise BadInput(f"cannot run '{args.command[0]}'")
        results = {}
        with tempfile.TemporaryDirectory(prefix="poolbench-trace-") as workdir:
            for pool in pools:
                total, cross = trace(args.command, pool, workdir)
                if total == 0:
                    raise BadInput(f"the {pool} trace holds no wake-up of the command's threads")
                results[pool] = {"wakeups": total, "cross_cpu": cross}
    except BadInput as e:
        print(f"wakeup_trace.py: {e}", file=sys.stderr)
        return 2
    print(f"{'pool':<18}{'wake-ups':>10}{'cross-CPU':>11}{'share':>8}")
    for pool, r in results.items():
        print(f"{pool:<18}{r['wakeups']:>10}{r['cross_cpu']:>11}{r['cross_cpu'] / r['wakeups']:>8.0%}")
    if args.out:
        write_atomically(args.out, json.dumps({"wakeup_trace": {"command": " ".join(args.command),
                                                                 "pools": results}}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
