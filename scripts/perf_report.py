#!/usr/bin/python3
"""Turns poolbench runs into the performance table: each target, the ratio measured
in one run, and whether it is met. Where a row is short, the row carries the profile
figures that say why (context switches and CPU use per task), never a quieter target;
where nothing measures a row yet, it says so.

    /usr/bin/python3 scripts/perf_report.py results/vm/perf_*.json --out results/vm/performance.md
"""

import json
import re
import sys

from result_files import BadInput, check_writable, strict_parser, write_atomically


def entry_key(parts, entry, cpus):
    return (parts[0], parts[1], int(parts[2].split(":")[1]), entry.get("connections"), entry.get("tasks"),
            entry.get("in_flight"), bool(entry.get("posted")), entry.get("instrumented", 1) != 0,
            bool(entry.get("traced")), cpus)


def paired_key(pool, library, workers, posted, cpus):
    """The key of a `paired/<pool>/<library>/workers:<n>` entry: the executor and the library
    timed in alternating rounds of one run (bench/paired_runs.hpp) on `cpus` usable CPUs."""
    return ("paired", pool, library, workers, posted, cpus)


def median_repetition(entry):
    """A paired row's repetition whose ratio is the median (the lower one of an even count), so
    its costs, ratio and rounds' range all come from the same rounds: a median aggregate
    takes each counter's median on its own, and its two costs need not divide to its ratio."""
    repetitions = sorted((r for r in entry["_repetitions"] if r.get("ratio") is not None), key=lambda r: r["ratio"])
    if not repetitions:
        return entry
    chosen = dict(repetitions[(len(repetitions) - 1) // 2])
    chosen["_repetitions"] = entry["_repetitions"]
    return chosen


def load_entries(paths):
    """Successful entries keyed by (scenario, pool, workers, connections, tasks, in_flight,
    posted, instrumented, usable CPUs): the median of repetitions where a file has them (with
    the repetitions themselves as "_repetitions"), else the run itself. Probes are keyed ("probe", name), from the first file that has them; paired rows by paired_key, as
    their median repetition (median_repetition); each
    entry remembers its file's probes as "_probes" and its file's raw library rows
    (`raw/<path>/workers:<n>`, oneTBB or Boost.Asio used directly) as "_raw", keyed
    "<path>/workers:<n>", so a ratio can use the probe or library row of its own run. Files from scripts/wakeup_trace.py are returned apart: by connection count, then by
    pool."""
    entries, context, wakeups = {}, {}, {}
    for path in paths:
        try:
            with open(path) as f:
                data = json.load(f)
        except OSError as error:
            raise BadInput(f"{path}: {error.strerror}")
        except json.JSONDecodeError as error:
            raise BadInput(f"{path}: not JSON ({error.msg} at line {error.lineno})")
        if isinstance(data, dict) and "wakeup_trace" in data:
            trace = data["wakeup_trace"]
            if not isinstance(trace, dict) or not isinstance(trace.get("pools"), dict) or not all(
                    isinstance(r, dict) and isinstance(r.get("wakeups"), int) and isinstance(r.get("cross_cpu"), int)
                    for r in trace["pools"].values()):
                raise BadInput(f"{path}: not a wakeup_trace.py file (each pool needs wakeups and cross_cpu counts)")
            connections = re.search(r"--connections[ =](\d+)", str(trace.get("command", "")))
            if connections:
                wakeups[int(connections.group(1))] = trace["pools"]
            continue
        if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
            raise BadInput(f"{path}: not a run file (no 'benchmarks' list)")
        context = context or data.get("context", {})
        cpus = int(data.get("context", {}).get("usable_cpus", 1))
        medians = {e.get("run_name") for e in data["benchmarks"] if e.get("aggregate_name") == "median"}
        file_probes, file_raw = {}, {}
        for entry in data["benchmarks"]:
            name = str(entry.get("name", ""))
            if entry.get("error_occurred") or \
                    not (entry.get("aggregate_name") == "median" or entry.get("run_name") not in medians):
                continue
            if name.startswith("probe/"):
                file_probes[name.split("/")[1]] = entry.get("ns_per_op")
            elif name.startswith("raw/") and len(name.split("/")) > 2:
                file_raw["/".join(name.split("/")[1:3])] = entry
        repetitions = {}
        for entry in data["benchmarks"]:
            if entry.get("run_name") in medians and entry.get("run_type", "iteration") == "iteration" \
                    and not entry.get("error_occurred"):
                repetitions.setdefault(entry["run_name"], []).append(entry)
        for entry in data["benchmarks"]:
            entry["_probes"] = file_probes
            entry["_raw"] = file_raw
            entry["_repetitions"] = repetitions.get(entry.get("run_name"), [])
            if entry.get("error_occurred"):
                continue
            if entry.get("run_name") in medians:
                if entry.get("aggregate_name") != "median":
                    continue
            elif entry.get("run_type", "iteration") != "iteration":
                continue
            parts = str(entry.get("name", "")).split("/")
            if parts[0] == "probe" and len(parts) > 1:
                # Probes divide the ratios of the run they came with: the first file's win.
                entries.setdefault(("probe", parts[1]), entry)
            elif parts[0] == "paired" and len(parts) >= 4 and parts[3].startswith("workers:"):
                entries[paired_key(parts[1], parts[2], int(parts[3].split(":")[1]), bool(entry.get("posted")),
                                   cpus)] = median_repetition(entry)
            elif len(parts) >= 3 and parts[2].startswith("workers:"):
                entries[entry_key(parts, entry, cpus)] = entry
    return entries, context, wakeups


class Report:
    def __init__(self, entries, context, wakeups):
        self.entries, self.context, self.wakeups, self.rows = entries, context, wakeups, []
        self.cpus = int(context.get("usable_cpus", 1))
        self.auto = int(context.get("default_workers", self.cpus * 5))

    def matching(self, scenario, pool, workers=None, tasks=None, in_flight=None, posted=False, instrumented=True,
                 connections=None, cpus=None, traced=False, test=lambda e: True):
        """Every entry matching every given field (None = any; cpus None = the machine's)."""
        for key, e in self.entries.items():
            if key[0] in ("probe", "paired"):
                continue
            sc, pl, w, conn, t, fl, po, ins, tr, c = key
            if (sc, pl, po, ins, tr, c) == (scenario, pool, posted, instrumented, traced, cpus or self.cpus) \
                    and fl == in_flight \
                    and (workers is None or w == workers) and (tasks is None or t == tasks) \
                    and (connections is None or conn == connections) and test(e):
                yield e

    def find(self, scenario, pool, workers=None, **fields):
        """The first entry `matching` the fields, or None."""
        return next(self.matching(scenario, pool, workers, **fields), None)

    @staticmethod
    def per_task_ns(entry):
        return 1e9 / entry["tasks_per_second"] if entry and entry.get("tasks_per_second") else None

    def add(self, what, target, measured, ok, why="", note=""):
        """One target's row; `why` is shown where it is short, `note` whatever its status."""
        status = "not measured" if measured is None else ("met" if ok else "short")
        if measured is None:
            why = "no run among the given files measures it (bench.sh's performance stage does)"
        shown = "; ".join(x for x in (note if measured is not None else "", "" if ok else why) if x)
        self.rows.append((what, target, "-" if measured is None else measured, status, shown))

    def profile(self, entry, label=""):
        """Context switches and CPU use per task: the figures that say where time went."""
        if not entry:
            return ""
        per_task_cpu_us = entry.get("cpu_utilization", 0) * self.cpus * 1e6 / entry["tasks_per_second"] \
            if entry.get("tasks_per_second") else 0
        head = f"{label}: " if label else ""
        return (f"{head}{entry.get('ctx_switches_per_task', 0):.2f} context switches, "
                f"{per_task_cpu_us:.2f} us CPU per task, {entry.get('cpu_utilization', 0) * 100:.0f}% of the CPUs")

    @staticmethod
    def unstable(entry, field, digits=3, label="its"):
        """Where a median's repetitions spread by more than 5%, says so with each of them:
        that figure is then a sample of a noisy machine, not a property of the code."""
        values = [r[field] for r in entry.get("_repetitions", []) if r.get(field)] if entry else []
        if len(values) < 2 or max(values) <= min(values) * 1.05:
            return ""
        listed = ", ".join(f"{v:,.{digits}f}" for v in values)
        return (f"unstable: {label} {len(values)} repetitions gave {field} {listed} "
                f"(spread {(max(values) / min(values) - 1) * 100:.0f}%)")

    def slower_tasks(self, entry):
        """For a cpu row: how much more CPU each task took in the pool than the same hash chain
        did alone (the best of the scenario's 3 single-threaded rounds before the run), which
        with the CPUs' busy share tells lost time inside the tasks from time the pool idled."""
        if not entry or not entry.get("efficiency") or not entry.get("tasks_per_second"):
            return ""
        parallel = max(1, min(int(entry["workers"]), self.cpus))
        alone_us = entry["efficiency"] * parallel * 1e6 / entry["tasks_per_second"]
        in_pool_us = entry.get("cpu_utilization", 0) * self.cpus * 1e6 / entry["tasks_per_second"]
        if in_pool_us <= alone_us:
            return ""
        return (f"each task took {in_pool_us:.0f} us of CPU against {alone_us:.0f} us for the same work alone, best of 3 rounds, "
                f"before the run ({(in_pool_us / alone_us - 1) * 100:.1f}% more) while the CPUs were "
                f"{entry.get('cpu_utilization', 0) * 100:.0f}% busy: the time went to tasks running slower side by "
                "side, not to the pool idling")

    def ratio_row(self, what, limit, ours, ref, at_most, why_extra="", digits=2, throughput=False):
        if ours and ref:
            if throughput:
                ratio = ours["tasks_per_second"] / ref["tasks_per_second"]
            else:
                ratio = self.per_task_ns(ours) / self.per_task_ns(ref)
        else:
            ratio = None
        ok = ratio is not None and (ratio <= limit if at_most else ratio >= limit)
        why = "; ".join(x for x in (self.unstable(ours, "tasks_per_second", 0, "our"),
                                    self.unstable(ref, "tasks_per_second", 0, "the reference's"), why_extra,
                                    self.profile(ours, "ours"), self.profile(ref, "reference")) if x)
        self.add(what, f"{'<=' if at_most else '>='} {limit}", None if ratio is None else f"{ratio:.{digits}f}",
                 ok, why)

    def paired(self, pool, library, workers, posted, cpus=None):
        """The `paired/<pool>/<library>/workers:<n>` entry of the run that handed tasks over
        as `posted` says, on `cpus` usable CPUs (None: the machine's), or None."""
        return self.entries.get(paired_key(pool, library, workers, posted, cpus or self.cpus))

    def fixed_cost(self, pool, library, limit, library_ns):
        """Why an adapter is short: its own cost per task, measured where it cannot hide. The
        same pair confined to one CPU (`taskset`, one worker) takes turns between the submitter
        and the worker, so no hand-over waits on a wake-up and what each side does per task
        adds up; ours less the library's is then what the adapter adds to every task, and a
        library faster than that cost over (limit - 1) cannot be matched within `limit`."""
        one = self.paired(pool, library, 1, True, cpus=1) if self.cpus > 1 else None
        if not one or one["ns_per_op"] <= one["library_ns_per_op"]:
            return ""
        added = one["ns_per_op"] - one["library_ns_per_op"]
        head = (f"confined to one CPU (`taskset`, 1 worker), where the submitter and the worker take turns, ours "
                f"takes {one['ns_per_op']:.0f} ns per task against {one['library_ns_per_op']:.0f} ns (ratio "
                f"{one['ratio']:.2f})")
        ours, theirs = one.get("kernel_context_switches_per_task", 0), one.get("library_context_switches_per_task", 0)
        if ours > max(1.5 * theirs, theirs + 0.005):
            return (f"{head}, but it also switched context {ours:.3f} times per task against the library's "
                    f"{theirs:.3f}: each hand-over that finds the worker asleep wakes it, so part of that "
                    "difference is scheduling, not the adapter's code")
        bound = added / (limit - 1)
        here = (f"as it did in this row ({library_ns:.0f} ns)" if library_ns < bound else
                f"though in this row it took {library_ns:.0f} ns")
        return (f"{head}, with as few context switches as the library ({ours:.4f} and {theirs:.4f} per task): the "
                f"adapter adds {added:.0f} ns to every task, the Executor's count of each task submitted and ended, "
                "the admission check and the type-erased job with its error capture, none of which the raw row "
                f"does; against a library that takes under {bound:.0f} ns per task, {here}, that cost alone exceeds "
                f"{limit:.2f}x")

    @staticmethod
    def paired_story(e, library):
        """What a paired row measured and where its time went: both sides' cost, how far
        single rounds strayed, and the context switches each side caused."""
        parts = [f"ours {e['ns_per_op']:.0f} ns per task against {e['library_ns_per_op']:.0f} ns for `{library}`, "
                 f"the median of {e.get('rounds', 0):.0f} alternating rounds of {e.get('tasks', 0):,.0f} tasks"]
        ratios = sorted(r["ratio"] for r in e.get("_repetitions", []) if r.get("ratio") is not None)
        if len(ratios) > 1:
            parts[0] += (f" (the median repetition of {len(ratios)}, whose ratios were "
                         f"{', '.join(f'{r:.2f}' for r in ratios)})")
        low, high = e.get("ratio_min", 0), e.get("ratio_max", 0)
        if low > 0 and high > 1.5 * low:
            parts.append(f"unstable: single rounds gave {low:.2f}x to {high:.2f}x")
        ours, theirs = e.get("kernel_context_switches_per_task"), e.get("library_context_switches_per_task")
        if ours is not None and theirs is not None:
            parts.append(f"context switches per task: ours {ours:.3f}, the library's {theirs:.3f}")
        return "; ".join(parts)

    def paired_row(self, what, limit, pool, library, workers, posted):
        """Our cost over a library's own, taken within each round of one paired row, with
        both costs beside it. An adapter below its library is met, but says why, as no
        adapter can make its library faster."""
        e = self.paired(pool, library, workers, posted)
        ratio = e.get("ratio") if e else None
        story = self.paired_story(e, library) if e else ""
        note = story
        adapter = pool != "thread-pool"  # an adapter over its own library, not our pool against another's
        if ratio is not None and round(ratio, 2) < 1 and adapter:
            ours, theirs = e.get("kernel_context_switches_per_task", 0), e.get("library_context_switches_per_task", 0)
            note += "; below 1: " + (
                "the library alone switched context more; its empty tasks end before the next is handed over, so "
                "its threads go idle and each hand-over wakes one, while ours, each a little longer (the "
                "Executor's counts), keep them busy" if theirs > max(1.5 * ours, 0.05) else
                "the adapter's cost is lost in the rounds' spread")
        why = self.fixed_cost(pool, library, limit, e["library_ns_per_op"]) if e and adapter else ""
        self.add(what, f"<= {limit}", None if ratio is None else f"{ratio:.2f}", ratio is not None and ratio <= limit,
                 why=why, note=note)

    def fork_join_row(self, workers, label):
        """oneTBB's fork-join beside the targets: a reference for the in-arena path, not a target."""
        e = self.paired("thread-pool", "tbb_task_group", workers, True)
        ratio = e.get("ratio") if e else None
        self.rows.append((
            f"reference: `thread-pool` post, workers = {workers} ({label}): per-task cost / `raw/tbb_task_group`",
            "none: the in-arena reference", "-" if ratio is None else f"{ratio:.2f}", "reference",
            (self.paired_story(e, "tbb_task_group") + ": " if e else "") +
            "the caller runs inside the arena, spawns each task into its own deque (no shared queue, no wake-up "
            "of a sleeping thread per task) and joins the work while it waits, so the submitting thread is one "
            "more worker; an executor's caller stays outside and only hands tasks over, as `raw/tbb_enqueue` does"))

    def placement(self, connections):
        """Where a socket row's requests went: the same run confined to one CPU, and the share
        of wake-ups that crossed CPUs in a scheduler trace (scripts/wakeup_trace.py)."""
        parts = []
        one = [self.find("socket", pool, connections=connections, cpus=1,
                         test=lambda e: e["workers"] >= connections) for pool in ("thread-pool", "thread-per-task")]
        if self.cpus > 1 and all(one):
            ratio = one[0]["requests_per_second"] / one[1]["requests_per_second"]
            parts.append(f"confined to one CPU (`taskset`, the same knobs) the ratio is {ratio:.2f}"
                         + (", so per request the pool does no more work" if ratio >= 1 else "")
                         + f" (ours: {one[0]['requests_per_second']:,.0f} requests/s on one CPU)")
        traced = {pool: r for pool, r in self.wakeups.get(connections, {}).items() if r.get("wakeups")}
        if {"thread-pool", "thread-per-task"} <= traced.keys():
            share = {pool: r["cross_cpu"] / r["wakeups"] for pool, r in traced.items()}
            others = ", ".join(f"`{p}` {v:.0%}" for p, v in share.items() if p not in ("thread-pool", "thread-per-task"))
            split = share["thread-pool"] > 1.5 * share["thread-per-task"]
            parts.append(f"a scheduler trace of the same knobs (`scripts/wakeup_trace.py`) finds {share['thread-pool']:.0%}"
                         f" of our wake-ups crossing CPUs against {share['thread-per-task']:.0%} for thread-per-task"
                         + (f" ({others})" if others else "") +
                         (": a pool thread, started before its connection, is woken where it last slept, so a "
                          "client and its server thread can sit on different CPUs for the whole connection and "
                          "each request pays two cross-CPU wake-ups, while a fresh thread is placed beside the "
                          "client that woke it" if split else ""))
        return "; ".join(parts)

    def build(self, overhead_tasks, trace_tasks=10000):
        cpus, auto = self.cpus, self.auto
        empty = lambda pool, w, **kw: self.find("cpu", pool, w, tasks=overhead_tasks, **kw)
        # Against the libraries used directly, each ratio taken within the rounds of one paired
        # row (paired/<pool>/<library>/workers:<n>): first what each adapter adds over its
        # library, then our pool against oneTBB's enqueue, with its fork-join beside it.
        sizes = ((cpus, "usable CPUs"), (auto, "auto"))
        for pool, library in (("tbb", "tbb_enqueue"), ("asio", "asio_post")):
            for workers, label in sizes:
                self.paired_row(f"`{pool}` adapter_overhead, workers = {workers} ({label}): `{pool}` post "
                                f"(no future) / `raw/{library}`", 1.15, pool, library, workers, True)
        for workers, label in sizes:
            self.paired_row(f"`thread-pool` post (no future), workers = {workers} ({label}): per-task cost / "
                            "`raw/tbb_enqueue`", 1.0, "thread-pool", "tbb_enqueue", workers, True)
            self.paired_row(f"`thread-pool` submit (a future each), workers = {workers} ({label}): per-task cost / "
                            "`raw/tbb_enqueue`", 1.5, "thread-pool", "tbb_enqueue", workers, False)
            self.fork_join_row(workers, label)
        for workers in (cpus, auto):
            self.ratio_row(f"`thread-pool` / `asio` adapter throughput, submit, workers = {workers}", 2,
                           empty("thread-pool", workers), empty("asio", workers), False, throughput=True)
        trip = self.find("cpu", "process-pool", in_flight=1)
        pipe = trip["_probes"].get("pipe_round_trip") if trip else None
        ratio = self.per_task_ns(trip) / pipe if trip and pipe else None
        why = ""
        if trip and pipe:
            why = (f"a pipe round trip is 2 context switches, {pipe / 1000:.1f} us; ours takes "
                   f"{self.per_task_ns(trip) / 1000:.1f} us and {trip.get('ctx_switches_per_task', 0):.1f} context "
                   "switches: the submitter sends the call to the idle worker itself and, while it waits, polls "
                   "shared memory for the reply, so only the worker is woken; what remains over the probe is "
                   "encoding, a socket send and receive and the future; "
                   f"{self.profile(trip, 'ours')}")
        self.add("`process-pool` one task at a time (`--in-flight 1`): round trip / pipe probe of the same run",
                 "<= 1.0", None if ratio is None else f"{ratio:.2f}", ratio is not None and ratio <= 1.0, why)
        py = self.find("cpu", "py-process-pool")
        many = empty("process-pool", cpus)
        why = ""
        if many and py:
            why = (f"100x Python's {py['tasks_per_second']:,.0f} tasks/s allows {1e6 / (100 * py['tasks_per_second']):.2f}"
                   f" us per task; ours takes {self.per_task_ns(many) / 1000:.2f} us: each task still costs an "
                   "encode and a decode on each side and a future completion in the I/O thread (requests "
                   "already go in batches, replies through shared memory)")
        self.ratio_row("`process-pool` many in flight / `py-process-pool` throughput", 100,
                       many, py, False, why_extra=why, digits=1, throughput=True)
        tpt = empty("thread-per-task", None)
        probe = tpt["_probes"].get("thread_create_join") if tpt else None
        ratio = self.per_task_ns(tpt) / probe if tpt and probe else None
        self.add("`thread-per-task` per-task cost / thread create + join probe", "<= 1.1",
                 None if ratio is None else f"{ratio:.2f}", ratio is not None and ratio <= 1.1, self.profile(tpt, "ours"))
        sleeps = {int(e["workers"]): e for e in self.matching("sleep", "thread-pool")}
        small = sorted((e["efficiency"], w) for w, e in sleeps.items() if w <= 20)
        sync = self.find("sleep", "sync")
        ceiling = ""
        if sync:
            ceiling = (f"`sync`, with no pool and no wake-ups, reaches {sync['efficiency']:.3f} in the same run: each "
                       f"10 ms sleep itself overruns by ~{(1 / sync['efficiency'] - 1) * 10000:.0f} us on this machine")
        asio_sleep = lambda w: self.find("sleep", "asio", w)
        yardstick = lambda w: (f"`asio` with the same {w} threads reaches {asio_sleep(w)['efficiency']:.3f}"
                               if asio_sleep(w) else "")
        self.add("`sleep` 100 x 10 ms, workers <= 20: lowest efficiency", ">= 0.98",
                 f"{small[0][0]:.3f} (at {small[0][1]} workers)" if small else None,
                 bool(small) and small[0][0] >= 0.98,
                 "; ".join(x for x in (self.unstable(sleeps[small[0][1]], "efficiency") if small else "",
                                       ceiling, yardstick(small[0][1]) if small else "",
                                       self.profile(sleeps[small[0][1]], "ours") if small else "") if x))
        big = sleeps.get(100)
        why = ""
        if big:
            late_ms = (1 / big["efficiency"] - 1) * 10
            condvar = big["_probes"].get("condvar_round_trip")
            why = (f"the run lasts {late_ms:.1f} ms beyond its one 10 ms round, {late_ms * 10:.0f} us for each of "
                   "the 100 wake-ups"
                   + (f", where the condvar probe (two wake-ups) costs {condvar / 1000:.0f} us" if condvar else "")
                   + ": the submitter and every woken worker each wake one more, but on 2 CPUs at most 2 of them "
                   "wake threads at a time")
            why = "; ".join(x for x in (self.unstable(big, "efficiency"), why, yardstick(100), ceiling,
                                        self.profile(big, "ours")) if x)
        self.add("`sleep` 100 x 10 ms, 100 workers: efficiency", ">= 0.95",
                 f"{big['efficiency']:.3f}" if big else None, bool(big) and big["efficiency"] >= 0.95, why)
        for workers, limit in ((cpus, 0.97), (auto, 0.95)):
            e = self.find("cpu", "thread-pool", workers,
                          test=lambda e: e.get("tasks") != overhead_tasks and e.get("latency_p50_us", 0) > 1000)
            self.add(f"`cpu` ~2 ms tasks, workers = {workers}: efficiency", f">= {limit}",
                     f"{e['efficiency']:.3f}" if e else None, bool(e) and e["efficiency"] >= limit,
                     "; ".join(x for x in (self.unstable(e, "efficiency"), self.slower_tasks(e),
                                           self.profile(e, "ours")) if x))
        for connections in (8, 32, 64):
            pool = self.find("socket", "thread-pool", connections=connections, test=lambda e: e["workers"] >= connections)
            tpt = self.find("socket", "thread-per-task", connections=connections)
            asio = self.find("socket", "asio", connections=connections)
            ratio = pool["requests_per_second"] / tpt["requests_per_second"] if pool and tpt else None
            self.add(f"`socket` {connections} connections: `thread-pool` / `thread-per-task` requests/s", ">= 1.0",
                     None if ratio is None else f"{ratio:.2f}", ratio is not None and ratio >= 1.0,
                     "; ".join(x for x in (
                         f"round trip p50 {pool.get('rtt_p50_us', 0):.0f} us against {tpt.get('rtt_p50_us', 0):.0f} us"
                         if pool and tpt else "",
                         f"`asio` with the same threads: {asio['requests_per_second'] / tpt['requests_per_second']:.2f}"
                         f" of `thread-per-task`" if asio and tpt else "",
                         self.placement(connections),
                         self.profile(pool, "ours"), self.profile(tpt, "thread-per-task")) if x))
        on, off = empty("sync", 1), empty("sync", 1, instrumented=False)
        cost = self.per_task_ns(on) - self.per_task_ns(off) if on and off else None
        pool_on, pool_off = empty("thread-pool", cpus), empty("thread-pool", cpus, instrumented=False)
        pool_cost = self.per_task_ns(pool_on) - self.per_task_ns(pool_off) if pool_on and pool_off else None
        self.add("harness instrumentation per task (on - off), on `sync` where nothing else varies", "<= 20 ns",
                 None if cost is None else f"{cost:.1f} ns", cost is not None and cost <= 20,
                 "" if pool_cost is None else f"on `thread-pool` at {cpus} workers: {pool_cost:.0f} ns, within its "
                                              "run-to-run noise")
        traced, untraced = (self.find("cpu", "sync", 1, tasks=trace_tasks, traced=t) for t in (True, False))
        trace_cost = self.per_task_ns(traced) - self.per_task_ns(untraced) if traced and untraced else None
        self.add("tracing per task (`--trace` on - off), on `sync` where nothing else varies: every task timed and "
                 "kept for the trace", "<= 1000 ns",
                 None if trace_cost is None else f"{trace_cost:.0f} ns", trace_cost is not None and trace_cost <= 1000,
                 "a trace is for looking at a run, not for timing it: its figures are a little slower than the "
                 "untraced run's")
        allocs = [(e["heap_allocs_per_task"], label) for e, label in (
            (empty("thread-pool", cpus), "submit"), (empty("thread-pool", cpus, posted=True, instrumented=False), "post"),
            (empty("thread-pool", cpus, instrumented=False), "submit, uninstrumented")) if e and "heap_allocs_per_task" in e]
        worst = max(allocs) if allocs else None
        self.add("heap allocations per task, `thread-pool`, callables <= 48 bytes (once warm)", "0",
                 None if worst is None else f"{worst[0]:.4f} ({worst[1]})", worst is not None and worst[0] < 0.01,
                 "per-run allocations (result vectors) spread over the run's tasks" if worst else "")
        workers = [e for k, e in self.entries.items() if k[1] == "process-pool" and "idle_worker_rss_mib" in e]
        worst = max(workers, key=lambda e: e["idle_worker_rss_mib"]) if workers else None
        self.add("`process-pool` RSS per idle worker", "<= 4 MiB",
                 f"{worst['idle_worker_rss_mib']:.2f} MiB" if worst else None,
                 bool(worst) and worst["idle_worker_rss_mib"] <= 4,
                 "RSS counts every library page the worker maps, most of them shared with the parent and the "
                 "other workers (libstdc++, libc, libtbb, ...); its proportional share (PSS) is "
                 f"{worst.get('idle_worker_pss_mib', 0):.2f} MiB" if worst else "")

    def markdown(self, command):
        probes = [(k[1], e["ns_per_op"]) for k, e in sorted(self.entries.items(), key=lambda kv: str(kv[0]))
                  if k[0] == "probe"]
        targets = [r for r in self.rows if r[3] != "reference"]
        met = sum(1 for r in targets if r[3] == "met")
        out = ["# poolbench performance against its targets", "",
               f"Machine: {self.context.get('host_name', '?')}, {self.cpus} usable CPU(s), cgroup limit "
               f"{self.context.get('cgroup_cpu_limit', '?')}. Made by: `{command}`.", "",
               f"{met} of {len(targets)} targets met. Every ratio comes from one run, so machine drift cancels (and "
               "against a library, from within each round of a paired row); "
               "rows marked reference are shown beside the targets, not counted among them.", "",
               "| what | target | measured | status | why, where short |", "|---|---|---:|---|---|"]
        for what, target, measured, status, why in self.rows:
            out.append(f"| {what} | {target} | {measured} | {status} | {why} |")
        out += ["", "Machine probes from the first file (the empty-task run), median ns per operation:", "",
                "| probe | ns |", "|---|---:|"]
        out += [f"| {name} | {ns:,.0f} |" for name, ns in probes]
        out += self.raw_table()
        return "\n".join(out) + "\n"

    def raw_table(self):
        """Each raw library row of the empty-task runs, then each paired row: an executor and a
        library in alternating rounds, where the ratios above come from."""
        raw = [f"| `raw/{key[1]}/workers:{key[2]}` | {e['ns_per_op']:,.0f} |"
               for key, e in sorted(self.entries.items(), key=lambda kv: str(kv[0]))
               if key[0] == "raw" and e.get("ns_per_op") is not None]
        paired = []
        for key, e in sorted(self.entries.items(), key=lambda kv: str(kv[0])):
            if key[0] != "paired":
                continue
            _, pool, library, workers, posted, cpus = key
            switches = (f"{e['kernel_context_switches_per_task']:.3f} / {e['library_context_switches_per_task']:.3f}"
                        if "library_context_switches_per_task" in e else "-")
            where = "" if cpus == self.cpus else f", {cpus} CPU{'s' if cpus > 1 else ''} (`taskset`)"
            paired.append(f"| `{pool}` {'post' if posted else 'submit'} / `{library}`, workers = {workers}{where} | "
                          f"{e['ns_per_op']:,.0f} | {e['library_ns_per_op']:,.0f} | {e['ratio']:.2f} | "
                          f"{e.get('ratio_min', 0):.2f} to {e.get('ratio_max', 0):.2f} | {switches} |")
        out = []
        if raw:
            out += ["", "The libraries used directly, each row measured on its own after the executors "
                    "(`raw/<path>/workers:<n>`, no poolbench code per task), median ns per task:", "",
                    "| raw library row | ns per task |", "|---|---:|"] + raw
        if paired:
            out += ["", "Paired rows (`paired/<pool>/<library>/workers:<n>`): the executor and the library, each "
                    "built afresh and warmed every round, one batch each, taking turns to go first; the ratio is "
                    "the median of the rounds' own ratios, so what the machine did during a round reaches both "
                    "sides; of a row's repetitions, the one whose ratio is the median is shown:", "",
                    "| pair | ours, ns per task | library, ns per task | ratio | rounds' range | "
                    "context switches per task, ours / library |", "|---|---:|---:|---:|---|---|"] + paired
        return out


def main(argv):
    parser = strict_parser(__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*")
    parser.add_argument("--out", default="", help="Markdown file to write (default: stdout)")
    parser.add_argument("--overhead-tasks", type=int, default=20000,
                        help="task count of the empty-task cpu run that measures per-task cost")
    parser.add_argument("--trace-tasks", type=int, default=10000,
                        help="task count of the empty-task cpu runs with and without --trace that measure its cost")
    parser.add_argument("--command", default="scripts/bench.sh", help="the command to name in the report")
    try:
        args = parser.parse_args(argv)
        if not args.files:
            raise BadInput("no result files given")
        entries, context, wakeups = load_entries(args.files)
        if args.out:
            check_writable(args.out)
    except BadInput as e:
        print(f"perf_report.py: {e}", file=sys.stderr)
        return 2
    report = Report(entries, context, wakeups)
    report.build(args.overhead_tasks, args.trace_tasks)
    text = report.markdown(args.command)
    if args.out:
        write_atomically(args.out, text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
