#!/usr/bin/python3
"""Turns poolbench results into pictures: JSON in, PNG (and SVG on request) out.

Reads any mix of `poolbench run` files, `poolbench tune` files and py_baseline.py files
and writes, per scenario: throughput against workers (log2 axis, one line per executor),
latency p50/p99 against workers, efficiency against the ideal; for socket, requests/s and
round-trip p99 against connections; each tune file's curve with the best, the knee and
the auto default marked; C++ against Python when baseline results are given; and, for
open-loop runs (`poolbench run --rate`, one file or several at other rates), latency p50,
p99 and p99.9 against the offered rate per executor and size, from the schedule solid and
from the submit dashed, with the first saturated rate marked: the hockey stick.

    /usr/bin/python3 scripts/plot.py results/vm/*.json --out-dir results/vm
"""

import json
import os
import sys
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402

from result_files import BadInput, publish, strict_parser, write_atomically  # noqa: E402

SCENARIO_UNITS = {"cpu": "tasks/s", "sleep": "tasks/s", "mixed": "tasks/s", "socket": "requests/s"}
REFERENCE_POOLS = ("sync", "thread-per-task", "py-sync", "py-thread-per-task")


def load(path):
    try:
        with open(path) as f:
            text = f.read()
    except OSError as error:
        raise BadInput(f"{path}: {error.strerror}")
    if not text.strip():
        raise BadInput(f"{path}: the file is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise BadInput(f"{path}: not JSON ({error.msg} at line {error.lineno})")
    if not isinstance(data, dict) or not ("benchmarks" in data or "tuning" in data):
        raise BadInput(f"{path}: neither a run file (no 'benchmarks') nor a tune file (no 'tuning')")
    if "benchmarks" in data and not isinstance(data["benchmarks"], list):
        raise BadInput(f"{path}: 'benchmarks' is not a list")
    if "tuning" in data and not isinstance(data.get("sweep"), list) and not objective_tune(data):
        raise BadInput(f"{path}: a tune file without a 'sweep' list")
    return data


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
    try:
        args = parser.parse_args(argv)
        if not args.files:
            raise BadInput("no result files given")
        loaded = [(path, load(path)) for path in args.files]
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
