#!/usr/bin/python3
"""Turns poolbench results into pictures: JSON in, PNG (and SVG on request) out.

Reads any mix of `poolbench run` files, `poolbench tune` files and py_baseline.py files
and writes, per scenario: throughput against workers (log2 axis, one line per executor),
latency p50/p99 against workers, efficiency against the ideal; for socket, requests/s and
round-trip p99 against connections; each tune file's curve with the best, the knee and
the auto default marked; C++ against Python when baseline results are given; and, for
open-loop runs (`poolbench run --rate`, one file or several at other rates), latency p50,
p99 and p99.9 against the offered rate per executor and size, from the schedule solid and
from the submit dashed, with the first saturated rate marked: the hockey stick. Where the
run entries carry the per-task breakdown (queued, running, hand-back means), it writes
breakdown_<scenario>.png, a stacked bar per executor and size with the wake-up part of
queued hatched and the mean latency ticked, to show where a task's time goes and that the
parts add up. Given a `poolbench run --trace` file, it writes timeline.png: one run's
workers as rows, each task's queued and running time as bars, idle workers as empty rows,
to show how the executor spreads the work.

    /usr/bin/python3 scripts/plot.py results/vm/*.json --out-dir results/vm
    /usr/bin/python3 scripts/plot.py --trace t.json --trace-run sleep/thread-pool/workers:100 --out-dir pictures
"""

import collections
import json
import os
import re
import sys
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.lines  # noqa: E402
import matplotlib.patches  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402

from result_files import BadInput, publish, strict_parser, write_atomically  # noqa: E402

SCENARIO_UNITS = {"cpu": "tasks/s", "sleep": "tasks/s", "mixed": "tasks/s", "socket": "requests/s"}
REFERENCE_POOLS = ("sync", "thread-per-task", "py-sync", "py-thread-per-task")


def read_json(path, label):
    """The JSON in `path`; BadInput naming it as `label` when it cannot be read, is empty or
    is not JSON."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError as error:
        raise BadInput(f"{label}: {error.strerror}")
    if not text.strip():
        raise BadInput(f"{label}: the file is empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise BadInput(f"{label}: not JSON ({error.msg} at line {error.lineno})")


def load(path):
    data = read_json(path, path)
    if not isinstance(data, dict) or not ("benchmarks" in data or "tuning" in data):
        raise BadInput(f"{path}: neither a run file (no 'benchmarks') nor a tune file (no 'tuning')")
    if "benchmarks" in data and not isinstance(data["benchmarks"], list):
        raise BadInput(f"{path}: 'benchmarks' is not a list")
    if "tuning" in data and not isinstance(data.get("sweep"), list) and not objective_tune(data):
        raise BadInput(f"{path}: a tune file without a 'sweep' list")
    return data


def load_trace(path):
    """A `poolbench run --trace` file: Chrome trace-event JSON with a 'traceEvents' list."""
    data = read_json(path, f"--trace {path}")
    if not isinstance(data, dict) or not isinstance(data.get("traceEvents"), list):
        raise BadInput(f"--trace {path}: not a trace file (no 'traceEvents' list)")
    return data


def number(event, key):
    """event[key] as a float, or None when it is missing or not a number."""
    value = event.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def trace_runs(data):
    """The traced runs, in time order: otherData's 'runs', or else one per 'run' slice."""
    other = data.get("otherData")
    listed = other.get("runs") if isinstance(other, dict) else None
    if isinstance(listed, list) and listed and \
            all(isinstance(r, dict) and isinstance(r.get("run"), int) for r in listed):
        return sorted(listed, key=lambda r: (number(r, "start_us") or 0, r["run"]))
    runs = []
    for event in data["traceEvents"]:
        if isinstance(event, dict) and event.get("ph") == "X" and event.get("cat") == "run" and \
                isinstance(event.get("args"), dict) and isinstance(event["args"].get("run"), int) and \
                number(event, "ts") is not None and number(event, "dur") is not None:
            benchmark, _, iteration = str(event.get("name", "")).rpartition(" #")
            parts = benchmark.split("/")
            runs.append({"run": event["args"]["run"], "benchmark": benchmark,
                         "executor": parts[1] if len(parts) > 1 else "",
                         "iteration": int(iteration) if iteration.isdigit() else 0,
                         "start_us": event["ts"], "end_us": event["ts"] + event["dur"]})
    return sorted(runs, key=lambda r: (r["start_us"], r["run"]))


def select_run(runs, wanted, path):
    """The run to draw: --trace-run as a run number or a benchmark name (its first iteration),
    by default the first run whose executor is not sync, else the first run."""
    if not runs:
        raise BadInput(f"--trace {path}: no runs (neither otherData 'runs' nor 'run' slices)")
    if wanted is None:
        return next((r for r in runs if r.get("executor") != "sync"), runs[0])
    if wanted.isdigit():
        found = [r for r in runs if r["run"] == int(wanted)]
    else:
        found = sorted((r for r in runs if r.get("benchmark") == wanted), key=lambda r: r.get("iteration", 0))
    if not found:
        raise BadInput(f"--trace-run '{wanted}' names no run in {path} (runs {runs[0]['run']} to {runs[-1]['run']}, "
                       f"e.g. {runs[0].get('benchmark')})")
    return found[0]


def name_number(name):
    """The number in a track's name ('thread-pool worker 12' -> 12), for ordering rows."""
    digits = re.findall(r"\d+", name)
    return int(digits[-1]) if digits else -1


class Timeline:
    """One traced run, ready to draw: rows of worker tracks with their tasks' queued,
    running and handback spans (ms from the run's start), and the counters over that time."""

    def __init__(self, data, runs, run, path):
        self.run = run
        self.siblings = {r["run"] for r in runs if r.get("benchmark") == run.get("benchmark")}
        self.start = number(run, "start_us") or 0.0
        self.counters = {"busy workers": [], "queue depth": []}
        names, tasks_by_track, other_runs_by_track = self.read_events(data, path)
        if not tasks_by_track and not other_runs_by_track:
            raise BadInput(f"--trace {path}: no task slices (cat 'task') in the trace")
        if not tasks_by_track:
            raise BadInput(f"--trace {path}: run {run['run']} ({run.get('benchmark')}) has no task slices"
                           f"{' (the trace stopped at its limit)' if self.stopped_at_limit(data) else ''}")
        self.rows = self.worker_rows(names, tasks_by_track, other_runs_by_track)
        prefix = f"{run.get('executor', '')} "
        self.labels = [names.get(t, f"pid {t[0]} tid {t[1]}").removeprefix(prefix) for t in self.rows]
        self.tasks = [sorted(tasks_by_track.get(t, [])) for t in self.rows]

    def read_events(self, data, path):
        """Each track's thread name, this run's tasks per track as (start, running, queued,
        handback) in us, the other runs each track ran tasks in; and this run's counters."""
        names, tasks_by_track, other_runs_by_track = {}, {}, {}
        end = number(self.run, "end_us")
        for event in data["traceEvents"]:
            if not isinstance(event, dict):
                continue
            track = (event.get("pid"), event.get("tid"))
            args = event.get("args") if isinstance(event.get("args"), dict) else {}
            if event.get("ph") == "M" and event.get("name") == "thread_name":
                names[track] = str(args.get("name", ""))
            elif event.get("ph") == "X" and event.get("cat") == "task":
                ts, dur = number(event, "ts"), number(event, "dur")
                if ts is None or dur is None:
                    raise BadInput(f"--trace {path}: a task slice without numeric 'ts' and 'dur'")
                if args.get("run") == self.run["run"]:
                    tasks_by_track.setdefault(track, []).append(
                        (ts, dur, number(args, "queued_us") or 0.0, number(args, "handback_us") or 0.0))
                else:
                    other_runs_by_track.setdefault(track, set()).add(args.get("run"))
            elif event.get("ph") == "C" and event.get("name") in self.counters:
                ts = number(event, "ts")
                value = next((v for v in args.values() if isinstance(v, (int, float))), None)
                if ts is not None and value is not None and ts >= self.start and (end is None or ts <= end):
                    self.counters[event["name"]].append(((ts - self.start) / 1000, value))
        return names, tasks_by_track, other_runs_by_track

    @staticmethod
    def stopped_at_limit(data):
        """Whether poolbench stopped tracing at its trace_limit (later runs have no tasks)."""
        other = data.get("otherData")
        return isinstance(other, dict) and other.get("stopped_at_limit") is True

    def worker_rows(self, names, tasks_by_track, other_runs_by_track):
        """The tracks to draw, in order of their name's number: the run's own 'worker_tracks'
        when poolbench listed them (its executor's workers, idle ones included), else those
        that ran this run's tasks, then the executor's named workers idle in it: first those
        that ran tasks in other iterations of the same benchmark, then those that ran no
        task at all (a track that ran another benchmark's tasks is another pool's), up to the
        run's 'workers' when it says."""
        listed = self.run.get("worker_tracks")
        if isinstance(listed, list) and listed and \
                all(isinstance(t, list) and len(t) == 2 and all(isinstance(v, int) for v in t) for t in listed):
            rows = {tuple(t) for t in listed} | set(tasks_by_track)
            return sorted(rows, key=lambda t: (t not in names, name_number(names.get(t, "")), str(t)))
        executor = str(self.run.get("executor", ""))
        named = [t for t, n in names.items() if executor and n.startswith(f"{executor} worker")]
        busy = set(tasks_by_track)
        idle = sorted((t for t in named if t not in busy and other_runs_by_track.get(t, set()) <= self.siblings),
                      key=lambda t: (t not in other_runs_by_track, name_number(names[t]), str(t)))
        size = self.run.get("workers")
        if isinstance(size, int) and size >= len(busy):
            idle = idle[:size - len(busy)]
        return sorted(busy | set(idle), key=lambda t: (t not in names, name_number(names.get(t, "")), str(t)))

    def spans(self, part):
        """Per row, (start, width) in ms from the run's start of each task's `part`."""
        out = []
        for tasks in self.tasks:
            row = []
            for ts, dur, queued, handback in tasks:
                begin = {"queued": ts - queued, "running": ts, "handback": ts + dur}[part]
                width = {"queued": queued, "running": dur, "handback": handback}[part]
                if width > 0:
                    row.append(((begin - self.start) / 1000, width / 1000))
            out.append(row)
        return out


def plot_timeline(timeline):
    """One row per worker of the run (idle ones empty): each task's running time as a bar,
    its queued time (submit -> start) as a thin bar below it ending at the start, and its
    hand-back (end -> the submitter has the result) as a thin bar after it; below, the
    busy-workers and queue-depth counters when the trace has them."""
    rows = len(timeline.rows)
    counters = any(timeline.counters.values())
    height = min(max(3.0, 0.11 * rows + 1.5), 16.0)
    fig, axes = plt.subplots(2 if counters else 1, 1, figsize=(11, height + (1.8 if counters else 0)), sharex=True,
                             gridspec_kw={"height_ratios": [height, 1.8], "hspace": 0.6 / height} if counters else None,
                             squeeze=False)
    ax = axes[0][0]
    handles = []
    for part, label, color, y, h in (("running", "running", "tab:blue", -0.4, 0.6),
                                     ("queued", "queued (submit -> start)", "tab:orange", 0.22, 0.18),
                                     ("handback", "hand-back (end -> result seen)", "tab:green", 0.22, 0.18)):
        alpha = 1.0 if part == "running" else 0.6
        edge = 0.4 if part == "running" and sum(len(t) for t in timeline.tasks) <= 20 * rows else 0
        for i, spans in enumerate(timeline.spans(part)):
            if spans:
                ax.broken_barh(spans, (i + y, h), facecolors=color, alpha=alpha, edgecolor="white", linewidth=edge)
        handles.append(matplotlib.patches.Patch(color=color, alpha=alpha, label=label))
    step = max(1, -(-rows // 40))
    ax.set_yticks(range(0, rows, step))
    ax.set_yticklabels([timeline.labels[i] for i in range(0, rows, step)], fontsize=7 if rows > 20 else 8)
    ax.set_ylim(rows - 0.5, -0.6)
    ax.set_ylabel(f"{timeline.run.get('executor', '')} workers" + (f" (one label in {step})" if step > 1 else ""))
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(handles=handles, fontsize=7, loc="lower right", bbox_to_anchor=(1, 1), ncol=3, frameon=False)
    run = timeline.run
    tasks = sum(len(t) for t in timeline.tasks)
    idle = sum(1 for t in timeline.tasks if not t)
    ax.set_title(f"{run.get('benchmark', '?')}, run {run['run']} (iteration {run.get('iteration', '?')}): "
                 f"{tasks} tasks on {rows} worker{'s' if rows != 1 else ''}, {idle} of them ran nothing",
                 fontsize=10, pad=18)
    if counters:
        panel = axes[1][0]
        for name, color in (("busy workers", "tab:blue"), ("queue depth", "tab:orange")):
            points = sorted(timeline.counters[name])
            if points:
                panel.step([p[0] for p in points], [p[1] for p in points], where="post", color=color, label=name)
        panel.set_ylabel("count", fontsize=8)
        panel.grid(True, alpha=0.3)
        panel.legend(fontsize=7, loc="upper right")
    axes[-1][0].set_xlabel("time from the run's start (ms)")
    return fig


def objective_tune(data):
    """A tune for a latency objective (--slo-p99): probes, and a frontier without --rate."""
    t = data.get("tuning")
    return isinstance(t, dict) and t.get("objective") in ("p99 at a rate", "frontier") and \
        isinstance(t.get("probes"), list)


def parse_entry(entry):
    """(scenario, pool, workers) from `<scenario>/<pool>/workers:<n>/...`, or None."""
    parts = str(entry.get("name", "")).split("/")
    if len(parts) < 3 or not parts[2].startswith("workers:"):
        return None
    try:
        return parts[0], parts[1], int(parts[2].split(":")[1])
    except ValueError:
        return None


def machine_label(context):
    usable = context.get("usable_cpus", "?")
    limit = context.get("cgroup_cpu_limit", "none")
    host = context.get("host_name", "")
    return f"{host + ': ' if host else ''}{usable} usable CPU(s), cgroup limit {limit}"


class Results:
    """Every plottable measurement, grouped: (scenario, pool) -> {workers: entry}; open-loop
    entries apart, (scenario, pool, workers) -> [entries at each offered rate]."""

    def __init__(self):
        self.series = {}
        self.open_loop = {}
        self.tunes = []
        self.context = {}
        self.warnings = []

    def add(self, path, data):
        if "tuning" in data:
            self.tunes.append((path, data))
            self.context = self.context or data.get("context", {})
            return
        if not self.context or "py_baseline" in str(data.get("context", {}).get("executable", "")):
            self.context = self.context or data.get("context", {})
        for entry in data["benchmarks"]:
            key = parse_entry(entry)
            if key is None or entry.get("error_occurred") or entry.get("run_type", "iteration") != "iteration":
                continue
            scenario, pool, workers = key
            if "offered_rate" in entry:
                self.open_loop.setdefault((scenario, pool, workers), []).append(entry)
                continue
            self.series.setdefault((scenario, pool), {})[workers] = entry

    def value(self, entry, counter, where):
        if counter not in entry or not isinstance(entry[counter], (int, float)):
            self.warnings.append(f"{where}: no '{counter}'; left out of that plot")
            return None
        return float(entry[counter])


def save(fig, out_dir, name, formats):
    written = []
    for ext in formats:
        target = os.path.join(out_dir, f"{name}.{ext}")
        with tempfile.NamedTemporaryFile(dir=out_dir, suffix=f".{ext}", delete=False) as tmp:
            fig.savefig(tmp.name, format=ext, dpi=110, bbox_inches="tight")
        publish(tmp.name, target)
        written.append(target)
    plt.close(fig)
    return written


def integer_log2_axis(ax, xs):
    """A log2 x axis labelled with the worker counts themselves (1, 2, 4, 10), not 2^n."""
    ax.set_xscale("log", base=2)
    ticks = sorted(set(xs))
    ax.set_xticks(ticks)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())


COLORS = {"sync": "dimgray", "thread-per-task": "black", "thread-pool": "tab:blue", "process-pool": "tab:orange",
          "tbb": "tab:green", "asio": "tab:red"}


def style(pool):
    """One colour per kind of executor; Python's counterpart is dotted in the same colour."""
    python = pool.startswith("py-")
    return {"linestyle": ":" if python else "-", "marker": "s" if python else "o",
            "color": COLORS.get(pool[3:] if python else pool, "tab:purple")}


def plot_against_workers(results, scenario, counters, ylabel, title, log_y):
    fig, ax = plt.subplots(figsize=(8, 5))
    drawn = 0
    all_workers = []
    for (s, pool), by_workers in sorted(results.series.items()):
        if s != scenario:
            continue
        all_workers += list(by_workers)
        for counter, dash in counters:
            points = [(w, results.value(e, counter, f"{scenario}/{pool}/workers:{w}")) for w, e in sorted(by_workers.items())]
            points = [(w, v) for w, v in points if v is not None and v > 0]
            if not points:
                continue
            label = pool if len(counters) == 1 else f"{pool} {counter.split('_')[1]}"
            if pool in REFERENCE_POOLS and len(points) == 1:
                ax.axhline(points[0][1], linestyle=":" if pool.startswith("py-") else "--", linewidth=1,
                           color=style(pool)["color"], label=f"{label} (one size)")
            else:
                kwargs = style(pool)
                if dash:
                    kwargs["linestyle"] = "--"
                ax.plot([w for w, _ in points], [v for _, v in points], label=label, **kwargs)
            drawn += 1
    if not drawn:
        plt.close(fig)
        return None
    integer_log2_axis(ax, all_workers)
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel("workers (log2)")
    ax.set_ylabel(ylabel)
    ax.set_title(f"{title} - {machine_label(results.context)}", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    return fig


def plot_socket(results):
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    drawn = 0
    for (s, pool), by_workers in sorted(results.series.items()):
        if s != "socket":
            continue
        best = {}
        for w, e in by_workers.items():
            c = results.value(e, "connections", f"socket/{pool}/workers:{w}")
            rps = results.value(e, "requests_per_second", f"socket/{pool}/workers:{w}")
            rtt = results.value(e, "rtt_p99_us", f"socket/{pool}/workers:{w}")
            if None in (c, rps, rtt):
                continue
            if c not in best or rps > best[c][0]:
                best[c] = (rps, rtt)
        if not best:
            continue
        xs = sorted(best)
        left.plot(xs, [best[x][0] for x in xs], label=pool, **style(pool))
        right.plot(xs, [best[x][1] for x in xs], label=pool, **style(pool))
        drawn += 1
    if not drawn:
        plt.close(fig)
        return None
    left.set_xlabel("connections")
    left.set_ylabel("requests/s (best size)")
    right.set_xlabel("connections")
    right.set_ylabel("round trip p99 (us)")
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
    left.legend(fontsize=7)
    fig.suptitle(f"socket echo - {machine_label(results.context)}", fontsize=10)
    return fig


def plot_tune(data):
    t = data["tuning"]
    sweep = sorted(data["sweep"], key=lambda e: e.get("workers", 0))
    xs = [e["workers"] for e in sweep if "throughput_median" in e]
    ys = [e["throughput_median"] for e in sweep if "throughput_median" in e]
    if not xs:
        raise BadInput("a tune file whose sweep has no 'throughput_median'")
    lows = [m - min(e.get("throughput_runs", [m])) for e, m in zip(sweep, ys)]
    highs = [max(e.get("throughput_runs", [m])) - m for e, m in zip(sweep, ys)]
    fig, ax = plt.subplots(figsize=(8, 5))
    ax.errorbar(xs, ys, yerr=[lows, highs], marker="o", capsize=3, label="median (bars: min-max of repetitions)")
    by_workers = dict(zip(xs, ys))
    if t.get("usl_fit") == "ok":
        # The Universal Scalability Law fitted by tune, drawn through the measured points.
        lam, sigma, kappa = t["usl_lambda"], t["usl_sigma"], t["usl_kappa"]
        grid = [min(xs) * (max(xs) / min(xs)) ** (i / 200) for i in range(201)]
        ax.plot(grid, [lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1)) for n in grid], color="gray",
                linewidth=1, label=f"USL fit (R2 {t['usl_r2']:.3f})")
    for key, marker, label in (("pick_workers", "s", "pick (smallest tied with the best)"), ("best_workers", "*", "best"),
                               ("knee_workers", "D", "knee (within 5%)"), ("formula_workers", "^", "formula")):
        w = t.get(key)
        if w in by_workers:
            ax.plot([w], [by_workers[w]], marker=marker, markersize=13, linestyle="none", label=f"{label}: {w}")
    if t.get("default_workers"):
        ax.axvline(t["default_workers"], linestyle="--", color="gray", label=f"auto default: {t['default_workers']}")
    integer_log2_axis(ax, xs)
    ax.set_xlabel("workers (log2)")
    ax.set_ylabel(t.get("throughput_unit", "tasks/s"))
    ax.set_title(f"tune {t.get('scenario')} on {t.get('pool')} - {machine_label(data.get('context', {}))}\n"
                 f"{t.get('recommendation', '')}", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def plot_objective_tune(data):
    """A tune for a latency objective: at a rate, each probed size's p99 against the
    objective; without one, the frontier: the highest rate each size sustains within it."""
    t = data["tuning"]
    unit = t.get("throughput_unit", "tasks/s")
    slo = t.get("slo_p99_us", 0)
    fig, ax = plt.subplots(figsize=(8, 5))
    if t["objective"] == "frontier":
        frontier = sorted(t.get("frontier", []), key=lambda e: e["workers"])
        if not frontier:
            raise BadInput("a frontier tune file with no 'frontier' entries")
        xs = [e["workers"] for e in frontier]
        ax.plot(xs, [e["sustained_rate"] for e in frontier], marker="o", label=f"highest rate with p99 <= {slo:g} us")
        per = ax.twinx()
        per.plot(xs, [e["sustained_rate_per_worker"] for e in frontier], marker="s", linestyle="--", color="gray",
                 label="per worker")
        per.set_ylabel(f"{unit} per worker")
        per.legend(loc="lower right", fontsize=8)
        ax.set_ylabel(f"sustained {unit}")
        title = f"tune {t.get('scenario')} on {t.get('pool')}: the latency-throughput frontier"
    else:
        probes = sorted(t["probes"], key=lambda e: e["workers"])
        xs = [e["workers"] for e in probes]
        ax.plot(xs, [e["latency_p99_us"] for e in probes], marker="o", label="p99 from the schedule")
        for e in probes:
            if e.get("saturated"):
                ax.plot([e["workers"]], [e["latency_p99_us"]], marker="x", color="red", markersize=10, linestyle="none")
        ax.axhline(slo, color="gray", linestyle="--", label=f"objective: p99 <= {slo:g} us")
        if t.get("pick_workers"):
            ax.axvline(t["pick_workers"], color="green", linestyle=":", label=f"pick: {t['pick_workers']}")
        ax.set_yscale("log")
        ax.set_ylabel("latency p99 (us); x: saturated")
        title = f"tune {t.get('scenario')} on {t.get('pool')} at {t.get('slo_rate', 0):g} {unit}"
    integer_log2_axis(ax, xs)
    ax.set_xlabel("workers (log2)")
    ax.set_title(f"{title} - {machine_label(data.get('context', {}))}\n{t.get('recommendation', '')}", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    return fig


def plot_hockey_stick(results, scenario):
    """Latency against offered rate for the open-loop runs of `scenario`: one colour per
    executor and size, p50 / p99 / p99.9 from the schedule solid, from the submit dashed."""
    series = {k: v for k, v in results.open_loop.items() if k[0] == scenario}
    if not series:
        return None
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5), sharey=True)
    for (_, pool, workers), entries in sorted(series.items()):
        entries = sorted(entries, key=lambda e: e["offered_rate"])
        where = f"{scenario}/{pool}/workers:{workers}"
        rates = [e["offered_rate"] for e in entries]
        color = None
        for ax, (corrected, uncorrected, label) in zip(axes, (
                ("latency_p50_us", "uncorrected_latency_p50_us", "p50"),
                ("latency_p99_us", "uncorrected_latency_p99_us", "p99"),
                ("latency_p999_us", "uncorrected_latency_p999_us", "p99.9"))):
            values = [results.value(e, corrected, where) for e in entries]
            raw = [results.value(e, uncorrected, where) for e in entries]
            if None in values or None in raw:
                continue
            line, = ax.plot(rates, values, marker="o", color=color, label=f"{pool} x{workers}")
            color = line.get_color()
            ax.plot(rates, raw, linestyle="--", color=color)
            saturated = [r for r, e in zip(rates, entries) if e.get("saturated")]
            if saturated:
                ax.axvline(saturated[0], color=color, linestyle=":", linewidth=1)
            ax.set_title(f"{label}: from the schedule (solid), from the submit (dashed)", fontsize=9)
    for ax in axes:
        ax.set_yscale("log")
        ax.set_xlabel(f"offered rate ({SCENARIO_UNITS[scenario]}); dotted: first saturated rate")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("latency (us)")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"{scenario}, open loop: latency against offered rate - {machine_label(results.context)}",
                 fontsize=10)
    return fig


def plot_cpp_vs_python(results):
    pairs = []
    for scenario in SCENARIO_UNITS:
        for pool in ("sync", "thread-per-task", "thread-pool", "process-pool"):
            cpp = results.series.get((scenario, pool), {})
            py = results.series.get((scenario, "py-" + pool), {})
            counter = "requests_per_second" if scenario == "socket" else "tasks_per_second"
            best_cpp = max((e.get(counter, 0) for e in cpp.values()), default=0)
            best_py = max((e.get(counter, 0) for e in py.values()), default=0)
            if best_cpp > 0 and best_py > 0:
                pairs.append((f"{scenario}\n{pool}", best_cpp / best_py))
    if not pairs:
        return None
    fig, ax = plt.subplots(figsize=(max(6, len(pairs) * 0.9), 4.5))
    bars = ax.bar([p[0] for p in pairs], [p[1] for p in pairs])
    for bar, (_, ratio) in zip(bars, pairs):
        ax.annotate(f"{ratio:.1f}x", (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center",
                    va="bottom", fontsize=8)
    ax.set_yscale("log")
    ax.axhline(1, color="gray", linewidth=1)
    ax.set_ylabel("C++ throughput / Python throughput (best size each)")
    ax.set_title(f"poolbench (C++) against concurrent.futures (Python) - {machine_label(results.context)}", fontsize=9)
    ax.tick_params(axis="x", labelsize=7)
    return fig


BREAKDOWN_PARTS = (("queued_mean_us", "queued (submit -> start)", "tab:orange"),
                   ("running_mean_us", "running", "tab:blue"),
                   ("handback_mean_us", "hand-back (end -> result seen)", "tab:green"))
EXECUTOR_ORDER = ("sync", "thread-per-task", "thread-pool", "process-pool", "tbb", "asio")
BreakdownBar = collections.namedtuple("BreakdownBar", "label workers parts wakeup total busy")


def breakdown_entries(results, scenario):
    """(label, workers, entry) of every entry of `scenario`, closed and open loop, grouped
    by workers, executors in a fixed order; open-loop ones labelled with their rate."""
    found = [(pool, w, e) for (s, pool), by_workers in results.series.items() if s == scenario
             for w, e in by_workers.items()]
    found += [(pool, w, e) for (s, pool, w), entries in results.open_loop.items() if s == scenario for e in entries]
    if not any(part in e for _, _, e in found for part, _, _ in BREAKDOWN_PARTS):
        return []
    order = {pool: i for i, pool in enumerate(EXECUTOR_ORDER)}
    found.sort(key=lambda f: (f[1], order.get(f[0], len(order)), f[0], f[2].get("offered_rate", 0)))
    return [(f"{pool}/{w}" + (f" @{e['offered_rate']:g}/s" if "offered_rate" in e else ""), w, e)
            for pool, w, e in found]


def breakdown_bars(results, scenario):
    """Per entry with every part: its label, workers, the queued / running / handback means,
    the wake-up part of queued (share x mean), the latency the parts should add up to
    (from the submit, for open loop) and the mean busy fraction; a warning for the others,
    and for parts that do not add up to the latency within 5 %."""
    bars = []
    for label, workers, entry in breakdown_entries(results, scenario):
        where = f"{scenario}/{label}"
        total_key = "uncorrected_latency_mean_us" if "offered_rate" in entry else "latency_mean_us"
        keys = [key for key, _, _ in BREAKDOWN_PARTS] + [total_key]
        values = []
        for key in keys:
            if (value := results.value(entry, key, where)) is None:
                break
            values.append(value)
        if len(values) < len(keys):
            continue
        *parts, total = values
        share, wakeup = entry.get("wakeup_share"), entry.get("wakeup_mean_us")
        wakeup_part = min(parts[0], share * wakeup) if isinstance(share, (int, float)) and \
            isinstance(wakeup, (int, float)) else None
        if total > 0 and abs(sum(parts) - total) > 0.05 * total:
            results.warnings.append(f"{where}: queued + running + handback = {sum(parts):.1f} us against "
                                    f"{total_key} {total:.1f} us (over 5 % apart)")
        bars.append(BreakdownBar(label, workers, parts, wakeup_part, total, entry.get("worker_busy_fraction_mean")))
    return bars


def plot_breakdown(results, scenario):
    """Where each task's time goes, per executor and size: a stacked bar of the mean queued,
    running and hand-back times with the wake-up part of queued hatched, and the mean
    latency ticked on each bar to show the parts add up. One panel per worker count; the
    panels share a linear y axis unless one bar is over 10 times another, then each has
    its own (the title says so)."""
    bars = breakdown_bars(results, scenario)
    if not bars:
        return None
    groups = {}
    for bar in sorted(bars, key=lambda b: b.workers):
        groups.setdefault(bar.workers, []).append(bar)
    heights = [max(sum(b.parts), b.total) for b in bars]
    shared = max(heights) <= 10 * max(min(heights), 1e-9)
    fig, axes = plt.subplots(1, len(groups), figsize=(max(6.0, 1.0 + 0.55 * len(bars) + 0.3 * len(groups)), 5.5),
                             sharey=shared, squeeze=False,
                             gridspec_kw={"width_ratios": [len(g) for g in groups.values()]})
    for ax, (workers, group) in zip(axes[0], groups.items()):
        xs = range(len(group))
        bottom = [0.0] * len(group)
        for i, (_, label, color) in enumerate(BREAKDOWN_PARTS):
            values = [b.parts[i] for b in group]
            ax.bar(xs, values, bottom=bottom, color=color, width=0.7, label=label)
            bottom = [a + v for a, v in zip(bottom, values)]
        wakeups = [(x, b.wakeup) for x, b in zip(xs, group) if b.wakeup]
        if wakeups:
            ax.bar([x for x, _ in wakeups], [w for _, w in wakeups], width=0.7, fill=False, hatch="///",
                   edgecolor="black", linewidth=0)
        ax.plot(list(xs), [b.total for b in group], linestyle="none", marker="_", markersize=22,
                markeredgewidth=2, color="black")
        for x, b in zip(xs, group):
            if isinstance(b.busy, (int, float)):
                ax.annotate(f"busy {b.busy:.0%}", (x, max(bottom[x], b.total)), ha="center", va="bottom",
                            fontsize=6, xytext=(0, 3), textcoords="offset points")
        ax.set_xticks(list(xs))
        ax.set_xticklabels([b.label for b in group], rotation=60, ha="right", fontsize=7)
        ax.set_title(f"{workers} worker{'s' if workers != 1 else ''}", fontsize=8)
        ax.grid(True, axis="y", alpha=0.3)
        ax.margins(y=0.12)
    axes[0][0].set_ylabel("mean time per task (us)")
    handles = [matplotlib.patches.Patch(color=color, label=label) for _, label, color in BREAKDOWN_PARTS]
    handles += [matplotlib.patches.Patch(fill=False, hatch="///", label="wake-up part of queued (share x its mean)"),
                matplotlib.lines.Line2D([], [], linestyle="none", marker="_", markersize=12, markeredgewidth=2,
                                        color="black",
                                        label="latency mean, which the parts add up to (open loop: from the submit)")]
    fig.legend(handles=handles, fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 0.97), ncol=3, frameon=False)
    axes_note = "" if shared else " (y axes differ per panel)"
    fig.suptitle(f"{scenario}: where a task's time goes, per executor and size{axes_note} - "
                 f"{machine_label(results.context)}", fontsize=10, y=1.07)
    return fig


def summary_table(results):
    """Best throughput of each executor per scenario, C++ beside Python, as Markdown."""
    lines = ["| scenario | executor | C++ best | at workers | Python best | at workers | C++ / Python |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for scenario in SCENARIO_UNITS:
        counter = "requests_per_second" if scenario == "socket" else "tasks_per_second"
        unit = SCENARIO_UNITS[scenario]
        for pool in ("sync", "thread-per-task", "thread-pool", "process-pool", "tbb", "asio"):
            def best(name):
                entries = results.series.get((scenario, name), {})
                return max(((e.get(counter, 0), w) for w, e in entries.items()), default=(0, 0))
            cpp, cpp_w = best(pool)
            py, py_w = best("py-" + pool)
            if not cpp and not py:
                continue
            ratio = f"{cpp / py:.1f}x" if cpp and py else "-"
            lines.append(f"| {scenario} | {pool} | {cpp:,.0f} {unit} | {cpp_w or '-'} | "
                         f"{f'{py:,.0f} {unit}' if py else '-'} | {py_w or '-'} | {ratio} |")
    return "\n".join(lines) + "\n"


def main(argv):
    parser = strict_parser(__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", help="result files from poolbench run, poolbench tune, py_baseline.py")
    parser.add_argument("--out-dir", default="plots", help="folder for the pictures (created if missing)")
    parser.add_argument("--svg", action="store_true", help="also write SVG")
    parser.add_argument("--summary", default="", help="also write a Markdown table of best throughputs and ratios")
    parser.add_argument("--trace", default="", help="a `poolbench run --trace` file: draw timeline.png of one run")
    parser.add_argument("--trace-run", help="the run --trace draws: its number, or a benchmark name (its first "
                                            "iteration); default: the first run not on sync")
    try:
        args = parser.parse_args(argv)
        if args.trace_run is not None and not args.trace:
            raise BadInput("--trace-run needs --trace")
        if not args.files and not args.trace:
            raise BadInput("no result files given (nor a --trace)")
        loaded = [(path, load(path)) for path in args.files]
        timeline = None
        if args.trace:
            trace = load_trace(args.trace)
            runs = trace_runs(trace)
            timeline = Timeline(trace, runs, select_run(runs, args.trace_run, args.trace), args.trace)
        os.makedirs(args.out_dir, exist_ok=True)
        if not os.access(args.out_dir, os.W_OK):
            raise BadInput(f"cannot write to --out-dir '{args.out_dir}'")
    except BadInput as e:
        print(f"plot.py: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"plot.py: cannot create --out-dir '{args.out_dir}': {e.strerror}", file=sys.stderr)
        return 2

    results = Results()
    for path, data in loaded:
        results.add(path, data)
    formats = ["png"] + (["svg"] if args.svg else [])
    written = []
    try:
        scenarios = sorted({s for s, _ in results.series})
        for scenario in scenarios:
            unit = SCENARIO_UNITS.get(scenario, "tasks/s")
            counter = "requests_per_second" if scenario == "socket" else "tasks_per_second"
            for name, fig in (
                (f"throughput_{scenario}", plot_against_workers(results, scenario, [(counter, False)], unit,
                                                                f"{scenario}: throughput", True)),
                (f"latency_{scenario}", plot_against_workers(results, scenario,
                                                             [("latency_p50_us", False), ("latency_p99_us", True)],
                                                             "latency submit -> done (us)", f"{scenario}: latency", True)),
                (f"efficiency_{scenario}", None if scenario == "socket" else plot_against_workers(
                    results, scenario, [("efficiency", False)], "efficiency (ideal time / measured)",
                    f"{scenario}: efficiency against the ideal", False)),
            ):
                if fig is not None:
                    written += save(fig, args.out_dir, name, formats)
        for scenario in sorted({k[0] for k in results.open_loop}):
            if (fig := plot_hockey_stick(results, scenario)) is not None:
                written += save(fig, args.out_dir, f"open_loop_{scenario}", formats)
        if ("socket" in scenarios) and (fig := plot_socket(results)) is not None:
            written += save(fig, args.out_dir, "socket_connections", formats)
        for path, data in results.tunes:
            t = data["tuning"]
            if objective_tune(data):
                written += save(plot_objective_tune(data), args.out_dir,
                                f"tune_{t.get('scenario')}_{t.get('pool')}_{t['objective'].replace(' ', '_')}", formats)
            else:
                written += save(plot_tune(data), args.out_dir, f"tune_{t.get('scenario')}_{t.get('pool')}", formats)
        if (fig := plot_cpp_vs_python(results)) is not None:
            written += save(fig, args.out_dir, "cpp_vs_python", formats)
        for scenario in sorted({s for s, _ in results.series} | {k[0] for k in results.open_loop}):
            if (fig := plot_breakdown(results, scenario)) is not None:
                written += save(fig, args.out_dir, f"breakdown_{scenario}", formats)
        if timeline is not None:
            written += save(plot_timeline(timeline), args.out_dir, "timeline", formats)
    except BadInput as e:
        print(f"plot.py: {e}", file=sys.stderr)
        return 2
    if args.summary:
        write_atomically(args.summary, summary_table(results))
        written.append(args.summary)
    for warning in sorted(set(results.warnings)):
        print(f"plot.py: warning: {warning}", file=sys.stderr)
    if not written:
        print("plot.py: nothing to plot: no successful benchmark entries in the files given", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
