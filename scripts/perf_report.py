#!/usr/bin/python3
"""Turns poolbench runs into issue 5's performance table: each target, the ratio measured
in one run, and whether it is met. Where a row is short, the row carries the profile
figures that say why (context switches and CPU use per task), never a quieter target;
where nothing measures a row yet, it says so.

    /usr/bin/python3 scripts/perf_report.py results/vm/perf_*.json --out results/vm/performance.md
"""

import json
import sys

from result_files import BadInput, check_writable, strict_parser, write_atomically


def load_entries(paths):
    """Successful entries keyed by (scenario, pool, workers, connections, tasks, in_flight),
    probes by ("probe", name) from the first file that has them; each entry remembers its
    file's probes as "_probes", so a ratio can use the probe of its own run."""
    entries, context = {}, {}
    for path in paths:
        try:
            with open(path) as f:
                data = json.load(f)
        except OSError as error:
            raise BadInput(f"{path}: {error.strerror}")
        except json.JSONDecodeError as error:
            raise BadInput(f"{path}: not JSON ({error.msg} at line {error.lineno})")
        if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
            raise BadInput(f"{path}: not a run file (no 'benchmarks' list)")
        context = context or data.get("context", {})
        file_probes = {str(e.get("name", "")).split("/")[1]: e.get("ns_per_op") for e in data["benchmarks"]
                       if str(e.get("name", "")).startswith("probe/") and not e.get("error_occurred")}
        for entry in data["benchmarks"]:
            entry["_probes"] = file_probes
            if entry.get("error_occurred") or entry.get("run_type", "iteration") != "iteration":
                continue
            parts = str(entry.get("name", "")).split("/")
            if parts[0] == "probe" and len(parts) > 1:
                # Probes divide the ratios of the run they came with: the first file's win.
                entries.setdefault(("probe", parts[1]), entry)
            elif len(parts) >= 3 and parts[2].startswith("workers:"):
                key = (parts[0], parts[1], int(parts[2].split(":")[1]), entry.get("connections"),
                       entry.get("tasks"), entry.get("in_flight"))
                entries[key] = entry
    return entries, context


class Report:
    def __init__(self, entries, context):
        self.entries, self.context, self.rows = entries, context, []
        self.cpus = int(context.get("usable_cpus", 1))
        self.auto = int(context.get("default_workers", self.cpus * 5))

    def per_task_ns(self, entry):
        return 1e9 / entry["tasks_per_second"] if entry and entry.get("tasks_per_second") else None

    def probe(self, name):
        entry = self.entries.get(("probe", name))
        return entry.get("ns_per_op") if entry else None

    def add(self, what, target, measured, ok, why=""):
        status = "not measured" if measured is None else ("met" if ok else "short")
        self.rows.append((what, target, "-" if measured is None else measured, status, why))

    @staticmethod
    def profile(entry):
        if not entry:
            return ""
        return (f"{entry.get('ctx_switches_per_task', 0):.2f} context switches and "
                f"{entry.get('cpu_utilization', 0) * 100:.0f}% CPU per task run")

    def build(self, overhead_tasks):
        cpus, auto = self.cpus, self.auto
        empty = lambda pool, w: next((e for k, e in self.entries.items() if k[0] == "cpu" and k[1] == pool
                                      and k[2] == w and e.get("tasks") == overhead_tasks
                                      and not e.get("in_flight")), None)
        for workers, limit, label in ((cpus, 1.0, "usable CPUs"), (auto, 1.5, "auto, oversubscribed")):
            ours, tbb = empty("thread-pool", workers), empty("tbb", workers)
            ratio = self.per_task_ns(ours) / self.per_task_ns(tbb) if ours and tbb else None
            self.add(f"`thread-pool` submit, workers = {workers} ({label}): per-task cost / `tbb`", f"<= {limit}",
                     None if ratio is None else f"{ratio:.2f}", ratio is not None and ratio <= limit,
                     "" if ratio is None or ratio <= limit else self.profile(ours))
        self.add("`thread-pool` post (no future): per-task cost / `tbb`", "<= 0.8", None, False,
                 "no scenario posts without futures yet")
        for workers in (cpus, auto):
            ours, asio = empty("thread-pool", workers), empty("asio", workers)
            ratio = ours["tasks_per_second"] / asio["tasks_per_second"] if ours and asio else None
            self.add(f"`thread-pool` / `asio` throughput, workers = {workers}", ">= 2",
                     None if ratio is None else f"{ratio:.2f}", ratio is not None and ratio >= 2,
                     "" if ratio is None or ratio >= 2 else self.profile(ours))
        trip = next((e for k, e in self.entries.items() if k[0] == "cpu" and k[1] == "process-pool"
                     and e.get("in_flight") == 1), None)
        pipe = trip["_probes"].get("pipe_round_trip") if trip else None
        ratio = self.per_task_ns(trip) / pipe if trip and pipe else None
        self.add("`process-pool` one task at a time (`--in-flight 1`): round trip / pipe probe of the same run",
                 "<= 1.0", None if ratio is None else f"{ratio:.2f}", ratio is not None and ratio <= 1.0,
                 "" if ratio is None or ratio <= 1.0 else self.profile(trip))
        ours = empty("process-pool", cpus)
        py = next((e for k, e in self.entries.items() if k[0] == "cpu" and k[1] == "py-process-pool"), None)
        ratio = ours["tasks_per_second"] / py["tasks_per_second"] if ours and py else None
        self.add("`process-pool` many in flight / `py-process-pool` throughput", ">= 100",
                 None if ratio is None else f"{ratio:.1f}", ratio is not None and ratio >= 100,
                 "" if ratio is None or ratio >= 100 else self.profile(ours))
        tpt = next((e for k, e in self.entries.items() if k[0] == "cpu" and k[1] == "thread-per-task"
                    and e.get("tasks") == overhead_tasks and not e.get("in_flight")), None)
        probe = self.probe("thread_create_join")
        ratio = self.per_task_ns(tpt) / probe if tpt and probe else None
        self.add("`thread-per-task` per-task cost / thread create + join probe", "<= 1.1",
                 None if ratio is None else f"{ratio:.2f}", ratio is not None and ratio <= 1.1,
                 "" if ratio is None or ratio <= 1.1 else self.profile(tpt))
        sleeps = {k[2]: e for k, e in self.entries.items() if k[0] == "sleep" and k[1] == "thread-pool"}
        small = [e["efficiency"] for w, e in sleeps.items() if w <= 20]
        self.add("`sleep` 100 x 10 ms, workers <= 20: lowest efficiency", ">= 0.98",
                 f"{min(small):.3f}" if small else None, bool(small) and min(small) >= 0.98)
        big = sleeps.get(100)
        self.add("`sleep` 100 x 10 ms, 100 workers: efficiency", ">= 0.95",
                 f"{big['efficiency']:.3f}" if big else None, bool(big) and big["efficiency"] >= 0.95,
                 "" if not big or big["efficiency"] >= 0.95 else self.profile(big))
        for workers, limit in ((cpus, 0.97), (auto, 0.95)):
            e = next((e for k, e in self.entries.items() if k[0] == "cpu" and k[1] == "thread-pool" and k[2] == workers
                      and e.get("tasks") != overhead_tasks and e.get("latency_p50_us", 0) > 1000), None)
            self.add(f"`cpu` ~2 ms tasks, workers = {workers}: efficiency", f">= {limit}",
                     f"{e['efficiency']:.3f}" if e else None, bool(e) and e["efficiency"] >= limit,
                     "" if not e or e["efficiency"] >= limit else self.profile(e))
        for connections in (8, 32, 64):
            pool = next((e for k, e in self.entries.items() if k[0] == "socket" and k[1] == "thread-pool"
                         and e.get("connections") == connections and k[2] >= connections), None)
            tpt = next((e for k, e in self.entries.items() if k[0] == "socket" and k[1] == "thread-per-task"
                        and e.get("connections") == connections), None)
            ratio = pool["requests_per_second"] / tpt["requests_per_second"] if pool and tpt else None
            self.add(f"`socket` {connections} connections: `thread-pool` / `thread-per-task` requests/s", ">= 1.0",
                     None if ratio is None else f"{ratio:.2f}", ratio is not None and ratio >= 1.0,
                     "" if ratio is None or ratio >= 1.0 else self.profile(pool))
        self.add("harness instrumentation per task (on - off)", "<= 20 ns", None, False,
                 "the harness cannot switch its timestamps off yet")
        self.add("heap allocations per task, callables <= 48 bytes", "0", None, False,
                 "not counted yet; by construction one future state is allocated per submit")
        self.add("`process-pool` RSS per idle worker", "<= 4 MiB", None, False, "idle worker RSS is not measured yet")

    def markdown(self, command):
        probes = [(k[1], e["ns_per_op"]) for k, e in sorted(self.entries.items(), key=lambda kv: str(kv[0]))
                  if k[0] == "probe"]
        met = sum(1 for r in self.rows if r[3] == "met")
        out = ["# poolbench performance against issue 5's targets", "",
               f"Machine: {self.context.get('host_name', '?')}, {self.cpus} usable CPU(s), cgroup limit "
               f"{self.context.get('cgroup_cpu_limit', '?')}. Made by: `{command}`.", "",
               f"{met} of {len(self.rows)} targets met. Every ratio comes from one run, so machine drift cancels.", "",
               "| what | target | measured | status | why, where short |", "|---|---|---:|---|---|"]
        for what, target, measured, status, why in self.rows:
            out.append(f"| {what} | {target} | {measured} | {status} | {why} |")
        out += ["", "Machine probes from the first file (the empty-task run), median ns per operation:", "",
                "| probe | ns |", "|---|---:|"]
        out += [f"| {name} | {ns:,.0f} |" for name, ns in probes]
        return "\n".join(out) + "\n"


def main(argv):
    parser = strict_parser(__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*")
    parser.add_argument("--out", default="", help="Markdown file to write (default: stdout)")
    parser.add_argument("--overhead-tasks", type=int, default=20000,
                        help="task count of the empty-task cpu run that measures per-task cost")
    parser.add_argument("--command", default="scripts/bench.sh", help="the command to name in the report")
    try:
        args = parser.parse_args(argv)
        if not args.files:
            raise BadInput("no result files given")
        entries, context = load_entries(args.files)
        if args.out:
            check_writable(args.out)
    except BadInput as e:
        print(f"perf_report.py: {e}", file=sys.stderr)
        return 2
    report = Report(entries, context)
    report.build(args.overhead_tasks)
    text = report.markdown(args.command)
    if args.out:
        write_atomically(args.out, text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
