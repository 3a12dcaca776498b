#!/usr/bin/python3
"""The Python side of poolbench: the same four scenarios (cpu, sleep, mixed, socket) run with
Python's own tools, as the seed tutorial does it — inline calls, a threading.Thread per
task, concurrent.futures.ThreadPoolExecutor and ProcessPoolExecutor — with the same
knobs, the same checks (every result, every reply byte) and the same JSON schema as
`poolbench run`, executor names prefixed `py-`, so plot.py can overlay both worlds. With
--rate, tasks (socket: each connection's requests) arrive on a schedule, and latency counts
from it, as in poolbench's open loop.

It shares nothing with the C++ side but the protocol and the machine facts: it asks
`poolbench info --json` (--poolbench PATH, else $POOLBENCH_BINARY, else
build/release/bench/poolbench) for the usable CPUs and the workers each sizing rule gives,
and never runs poolbench's executors.
"""

import argparse
import bisect
import concurrent.futures as cf
import json
import math
import multiprocessing
import os
import platform
import random
import resource
import socket
import subprocess
import sys
import threading
import time

from result_files import BadInput, check_writable, strict_parser, write_atomically

MASK = (1 << 64) - 1
POOLS = ["py-sync", "py-thread-per-task", "py-thread-pool", "py-process-pool"]
SCENARIOS = ["cpu", "sleep", "mixed", "socket"]
MAX_WORKERS = 4096


def hash_chain(seed, iterations):
    """The same integer hash chain as the C++ cpu scenario, in 64-bit arithmetic."""
    x = seed ^ 0x9E3779B97F4A7C15
    for _ in range(iterations):
        x = (x * 6364136223846793005 + 1442695040888963407) & MASK
        x ^= x >> 29
    return x


def cpu_task(seed, iterations):
    start = time.monotonic_ns()
    return hash_chain(seed, iterations), start


def mixed_task(index, iterations, wait_seconds):
    """The mixed scenario's task: compute, then block, like a service's request."""
    start = time.monotonic_ns()
    value = hash_chain(index, iterations)
    time.sleep(wait_seconds)
    return value, start


def hash_steps_per_us():
    """Hash-chain steps this Python computes per microsecond: best of several short chains."""
    steps, best = 20_000, float("inf")
    for round_ in range(5):
        t0 = time.perf_counter_ns()
        hash_chain(round_, steps)
        best = min(best, time.perf_counter_ns() - t0)
    return steps / max(best, 1) * 1000


MAX_SIGMA = 4
TIME_CAP_NS = 60 * 10**9


def parse_distribution(flag, text):
    """("fixed"|"exponential"|"lognormal", sigma) from what was typed, as poolbench reads it."""
    if text in ("fixed", "exponential"):
        return text, 0.0
    if text.startswith("lognormal:"):
        try:
            sigma = float(text[len("lognormal:"):])
        except ValueError:
            raise BadInput(f"{flag} {text}: the sigma after 'lognormal:' is not a number")
        if not 0 < sigma <= MAX_SIGMA:
            raise BadInput(f"{flag} {text}: sigma must be above 0 and at most {MAX_SIGMA}")
        return "lognormal", sigma
    raise BadInput(f"{flag} {text} is not a distribution (allowed: fixed, exponential, lognormal:SIGMA)")


def draw_times(distribution, mean_ns, count, rng):
    """`count` draws with mean `mean_ns`, capped at 60 s; the mean is kept by every kind."""
    kind, sigma = distribution
    if kind == "fixed" or mean_ns <= 0:
        draws = [mean_ns] * count
    elif kind == "exponential":
        draws = [rng.expovariate(1 / mean_ns) for _ in range(count)]
    else:
        draws = [rng.lognormvariate(math.log(mean_ns) - sigma * sigma / 2, sigma) for _ in range(count)]
    return [round(min(max(d, 0), TIME_CAP_NS)) for d in draws]


def mean_and_cv(times):
    mean = sum(times) / len(times) if times else 0
    if not mean:
        return 0.0, 0.0
    return mean / 1000, math.sqrt(sum((t - mean) ** 2 for t in times) / len(times)) / mean


def sleep_task(index, seconds):
    start = time.monotonic_ns()
    time.sleep(seconds)
    return index, start


def serve_connection(conn, timeout):
    """The seed's conn_communication: receive, upper-case, send back, until EOF."""
    start = time.monotonic_ns()
    conn.settimeout(timeout)
    echoed = 0
    try:
        while True:
            data = conn.recv(1024)
            if not data:
                return echoed, start
            conn.sendall(data.upper())
            echoed += len(data)
    finally:
        conn.close()


# ---- arrivals --------------------------------------------------------------------------

MAX_RATE = 50_000
MAX_DURATION_S = 3600


def schedule(rate, kind, duration_s, seed):
    """Each arrival's time in ns from the run's start, as poolbench's Arrivals: rate x
    duration of them (at least one), evenly spaced or as a seeded Poisson process."""
    count = max(1, round(rate * duration_s))
    gap_ns = 1e9 / rate
    if kind == "uniform":
        return [round(i * gap_ns) for i in range(count)]
    rng = random.Random(seed ^ 0xA5A55A5AC3C33C3C)
    at, t = [], 0.0
    for _ in range(count):
        at.append(round(t))
        t += rng.expovariate(1 / gap_ns)
    return at


def split_schedule(rate, kind, duration_s, seed, parts):
    """One schedule per connection, each at rate / parts, as poolbench's split_schedule."""
    gap_ns = 1e9 / rate
    shares = []
    for part in range(parts):
        share = schedule(rate / parts, kind, duration_s, (seed + part * 0x9E3779B97F4A7C15) & MASK)
        if kind == "uniform":
            share = [t + round(part * gap_ns) for t in share]
        shares.append(share)
    return shares


def sleep_until(deadline_ns):
    wait = deadline_ns - time.monotonic_ns()
    if wait > 0:
        time.sleep(wait / 1e9)


# ---- machine facts ---------------------------------------------------------------------

def default_poolbench():
    """$POOLBENCH_BINARY, else the release build beside this script (where bench.sh builds it)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.environ.get("POOLBENCH_BINARY") or os.path.join(root, "build", "release", "bench", "poolbench")


# The context keys taken from `poolbench info --json`, written as strings like the custom
# context of `poolbench run`.
INFO_KEYS = ("allowed_pus", "cgroup_cpu_limit", "usable_cpus", "sizing_rule", "default_workers")


def poolbench_info(binary):
    """Asks `poolbench info --json` for the machine facts, so both sides count usable CPUs
    (binding and cgroup quota) and size pools the same way. Returns the context keys and
    the workers by sizing rule; raises BadInput, with one line, when it cannot."""
    command = f"'{binary} info --json'"
    try:
        done = subprocess.run([binary, "info", "--json"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as error:
        raise BadInput(f"cannot run {command} (set --poolbench or POOLBENCH_BINARY): {error}")
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        raise BadInput(f"{command} failed (set --poolbench or POOLBENCH_BINARY): {reason}")
    try:
        info = json.loads(done.stdout)
        facts = {key: str(info[key]) for key in INFO_KEYS}
        rules = {name: int(n) for name, n in info["workers_by_rule"].items()}
        usable, default_workers = int(info["usable_cpus"]), int(info["default_workers"])
    except KeyError as error:
        raise BadInput(f"{command} printed no {error} key")
    except (ValueError, TypeError, AttributeError) as error:
        raise BadInput(f"{command} printed no machine facts: {error}")
    if usable < 1 or default_workers < 1 or not rules:
        raise BadInput(f"{command} printed no usable CPUs")
    return facts, rules


def machine_context(facts):
    """The result file's context: this Python and host, and poolbench's machine facts."""
    return {
        "executable": "py_baseline.py",
        "python_version": platform.python_version(),
        "host_name": platform.node(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **facts,
    }


def resolve_workers(text, rules):
    """A worker count from a sizing rule poolbench knows (auto, cpus, ...) or a number."""
    if text in rules:
        return rules[text]
    try:
        n = int(text)
    except ValueError:
        raise BadInput(f"unknown sizing rule '{text}' (allowed: {', '.join(rules)}, or a number from 1 to {MAX_WORKERS})")
    if not 1 <= n <= MAX_WORKERS:
        raise BadInput(f"worker count '{text}' is out of range (allowed: 1 to {MAX_WORKERS})")
    return n


# ---- executors -------------------------------------------------------------------------

class InlineExecutor:
    """Runs each call inside submit, like the seed's synchronous submit."""

    def submit(self, fn, *args):
        future = cf.Future()
        try:
            future.set_result(fn(*args))
        except BaseException as error:  # the task's error belongs in its future
            future.set_exception(error)
        return future

    def shutdown(self, wait=True):
        pass


class ThreadPerTaskExecutor:
    """A new threading.Thread for every call, joined at shutdown (the seed's server)."""

    def __init__(self):
        self.threads = []
        self.created = 0

    def submit(self, fn, *args):
        future = cf.Future()

        def run():
            try:
                future.set_result(fn(*args))
            except BaseException as error:
                future.set_exception(error)

        thread = threading.Thread(target=run)
        thread.start()
        self.created += 1
        self.threads.append(thread)
        return future

    def shutdown(self, wait=True):
        for thread in self.threads:
            thread.join()


def make_executor(pool, workers):
    if pool == "py-sync":
        return InlineExecutor()
    if pool == "py-thread-per-task":
        return ThreadPerTaskExecutor()
    if pool == "py-thread-pool":
        return cf.ThreadPoolExecutor(max_workers=workers)
    # Python 3.11 forks workers lazily by default, so they would inherit whatever the
    # parent has open then — a load-client socket, say, whose close then never reaches
    # the server. forkserver starts workers clean, as poolbench's exec-based pool does.
    return cf.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver"))


# ---- scenarios -------------------------------------------------------------------------

class Record:
    def __init__(self):
        self.wall_ns = 0
        self.tasks = 0
        self.latency = []
        self.queue_wait = []
        self.requests = 0
        self.rtt = []
        self.errors = []
        self.timed = []  # open loop: (scheduled, ready, submitted, done) per arrival, in ns


def run_tasks(executor, calls, check, offsets=None):
    """Submits every call (all at once, or each at start + offsets[i] for an open loop,
    never waiting for a task in between), waits, and checks and times every result."""
    record = Record()
    futures, submitted, done = [], [], {}
    start = time.monotonic_ns() + (1_000_000 if offsets else 0)
    for index, (fn, args) in enumerate(calls):
        if offsets:
            sleep_until(start + offsets[index])
        submitted.append(time.monotonic_ns())
        future = executor.submit(fn, *args)
        future.add_done_callback(lambda _, i=index: done.__setitem__(i, time.monotonic_ns()))
        futures.append(future)
    cf.wait(futures)
    record.wall_ns = time.monotonic_ns() - start
    for index, future in enumerate(futures):
        try:
            value, task_start = future.result()
        except Exception as error:
            record.errors.append(f"task {index} failed: {error}")
            continue
        problem = check(index, value)
        if problem:
            record.errors.append(problem)
            continue
        record.tasks += 1
        finished = done.get(index, time.monotonic_ns())
        if offsets:
            scheduled = start + offsets[index]
            record.timed.append((scheduled, scheduled, submitted[index], finished))
        else:
            record.latency.append(finished - submitted[index])
        record.queue_wait.append(max(0, task_start - submitted[index]))
    if offsets and record.timed:
        record.wall_ns = max(t[3] for t in record.timed) - start
    return record


def load_client(port, trips, message, timeout, record):
    """One thread per connection; trips[c] is its round trips (closed loop: the next sent
    when the last reply is in) or its schedule of offsets in ns (open loop, as wrk2: sent
    when due, or when the previous reply comes if later; the schedule never moves)."""
    reply = message.upper()
    lock = threading.Lock()
    start = []
    ready = threading.Barrier(len(trips), action=lambda: start.append(time.monotonic_ns() + 1_000_000))

    def drive(c):
        rtts, timed = [], []
        try:
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
            finally:
                ready.wait()
            with s:
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                offsets = trips[c] if isinstance(trips[c], list) else None
                previous = 0
                for trip in range(len(offsets) if offsets else trips[c]):
                    if offsets:
                        scheduled = start[0] + offsets[trip]
                        sleep_until(scheduled)
                    t0 = time.monotonic_ns()
                    s.sendall(message)
                    got = b""
                    while len(got) < len(reply):
                        chunk = s.recv(len(reply) - len(got))
                        if not chunk:
                            raise ConnectionError(f"the server closed the connection after {trip} round trips")
                        got += chunk
                    replied = time.monotonic_ns()
                    rtts.append(replied - t0)
                    if offsets:
                        timed.append((scheduled, max(scheduled, previous), t0, replied))
                        previous = replied
                    if got != reply:
                        raise ValueError(f"wrong reply in round trip {trip}: expected {reply!r}, got {got!r}")
        except Exception as error:
            with lock:
                record.errors.append(f"client connection {c}: {error}")
        with lock:
            record.rtt.extend(rtts)
            record.timed.extend(timed)
            record.requests += len(rtts)

    clients = [threading.Thread(target=drive, args=(c,)) for c in range(len(trips))]
    for t in clients:
        t.start()
    for t in clients:
        t.join()


def run_socket(executor, knobs):
    record = Record()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(knobs.connections + 16)
    listener.settimeout(knobs.io_timeout)
    port = listener.getsockname()[1]
    accepted = []

    def accept_loop():
        try:
            for _ in range(knobs.connections):
                conn, _ = listener.accept()
                conn.settimeout(None)
                submitted = time.monotonic_ns()
                future = executor.submit(serve_connection, conn, knobs.io_timeout)
                # A process pool pickles (dups) the socket later, in its feeder thread: this
                # process's copy may close only once the task has ended.
                future.add_done_callback(lambda _, c=conn: c.close())
                accepted.append((submitted, future))
        except OSError as error:
            record.errors.append(f"accept loop: {error}")

    start = time.monotonic_ns()
    server = threading.Thread(target=accept_loop)
    server.start()
    if knobs.rate:
        trips = split_schedule(knobs.rate, knobs.arrivals, knobs.duration, knobs.seed, knobs.connections)
    else:
        trips = [knobs.round_trips] * knobs.connections
    load_client(port, trips, knobs.message.encode(), knobs.io_timeout, record)
    server.join()
    listener.close()
    for index, (submitted, future) in enumerate(accepted):
        try:
            _, task_start = future.result(timeout=knobs.io_timeout * 2)
        except Exception as error:
            record.errors.append(f"server task for connection {index} failed: {error}")
            continue
        record.tasks += 1
        if not knobs.rate:
            record.latency.append(time.monotonic_ns() - submitted)
        record.queue_wait.append(max(0, task_start - submitted))
    record.wall_ns = time.monotonic_ns() - start
    return record


class Scenario:
    def __init__(self, name, knobs):
        self.name, self.knobs = name, knobs
        if name == "cpu":
            t0 = time.perf_counter()
            self.expected = [hash_chain(i, knobs.iterations) for i in range(knobs.tasks)]
            self.single_thread = time.perf_counter() - t0
        if name == "mixed":
            rng = random.Random(knobs.seed)
            self.compute_ns = draw_times(knobs.compute_distribution, knobs.compute_us * 1000, knobs.tasks, rng)
            self.wait_ns = draw_times(knobs.wait_distribution, knobs.wait_us * 1000, knobs.tasks, rng)
            steps_per_ns = knobs.hash_steps_per_us / 1000
            self.iterations = [round(c * steps_per_ns) for c in self.compute_ns]
            self.expected = [hash_chain(i, n) for i, n in enumerate(self.iterations)]
            compute_us, compute_cv = mean_and_cv(self.compute_ns)
            wait_us, wait_cv = mean_and_cv(self.wait_ns)
            self.shape = {"compute_us": compute_us, "wait_us": wait_us, "compute_cv": compute_cv,
                          "wait_cv": wait_cv, "seed": knobs.seed}
        self.offsets = None
        if knobs.rate and name != "socket":
            self.offsets = schedule(knobs.rate, knobs.arrivals, knobs.duration, knobs.seed)

    def tasks_per_run(self):
        return self.knobs.connections if self.name == "socket" else self.knobs.tasks

    def run(self, executor):
        k = self.knobs
        if self.name == "cpu":
            return run_tasks(executor, [(cpu_task, (i, k.iterations)) for i in range(k.tasks)],
                             lambda i, v: "" if v == self.expected[i] else f"task {i} returned a wrong hash", self.offsets)
        if self.name == "sleep":
            return run_tasks(executor, [(sleep_task, (i, k.sleep_ms / 1000)) for i in range(k.tasks)],
                             lambda i, v: "" if v == i else f"sleep task {i} returned {v}", self.offsets)
        if self.name == "mixed":
            return run_tasks(executor, [(mixed_task, (i, n, w / 1e9))
                                        for i, (n, w) in enumerate(zip(self.iterations, self.wait_ns))],
                             lambda i, v: "" if v == self.expected[i] else f"mixed task {i} returned a wrong hash", self.offsets)
        return run_socket(executor, k)

    def ideal_seconds(self, workers, usable):
        if self.knobs.rate:
            return 0.0  # an open loop's time is its schedule's
        if self.name == "cpu":
            return self.single_thread / max(1, min(workers, usable))
        if self.name == "sleep":
            return math.ceil(self.knobs.tasks / max(1, workers)) * self.knobs.sleep_ms / 1000
        if self.name == "mixed":
            # The same bounds as poolbench's: the CPUs' share of the compute, then rounds of
            # whole tasks (fixed times) or the total and the longest task (drawn times).
            n = max(1, workers)
            bound = sum(self.compute_ns) / 1e9 / max(1, min(workers, usable))
            if self.knobs.compute_distribution[0] == "fixed" and self.knobs.wait_distribution[0] == "fixed":
                return max(bound, math.ceil(len(self.compute_ns) / n) * (self.compute_ns[0] + self.wait_ns[0]) / 1e9)
            tasks = [c + w for c, w in zip(self.compute_ns, self.wait_ns)]
            return max(bound, sum(tasks) / 1e9 / n, max(tasks) / 1e9)
        return 0.0


# ---- measurement -----------------------------------------------------------------------

def percentile(values, percent):
    if not values:
        return 0
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


def open_loop_counters(records, latency):
    """poolbench's open-loop counters from every run's timed arrivals; appends each
    arrival's latency from its schedule (corrected) to `latency`."""
    uncorrected, lag = [], []
    arrived = schedule_span = done_span = corrected_sum = in_system_sum = 0
    backlog_grew = False
    for r in records:
        timed = sorted(r.timed, key=lambda t: t[0])
        if not timed:
            continue
        for scheduled, ready, submitted, done in timed:
            latency.append(max(0, done - scheduled))
            corrected_sum += latency[-1]
            uncorrected.append(max(0, done - submitted))
            lag.append(max(0, submitted - ready))
        arrived += len(timed)
        schedule_span += timed[-1][0] - timed[0][0]
        dones = sorted(t[3] for t in timed)
        done_span += dones[-1] - dones[0]
        # What each arrival found in the system at its scheduled time: those before it not yet done.
        found = [i - bisect.bisect_right(dones, t[0]) for i, t in enumerate(timed)]
        found = [max(0, f) for f in found]
        in_system_sum += sum(found)
        quarter = len(timed) // 4
        if quarter:
            early = sum(found[quarter:2 * quarter]) / quarter
            late = sum(found[len(timed) - quarter:]) / quarter
            backlog_grew = backlog_grew or late > 1.5 * early + 1
    intervals = max(0, arrived - len(records))
    offered = intervals * 1e9 / schedule_span if schedule_span else 0
    achieved = intervals * 1e9 / done_span if done_span else 0
    littles = offered * (corrected_sum / arrived * 1e-9 if arrived else 0)
    mean_in_system = in_system_sum / arrived if arrived else 0
    return {
        "uncorrected_latency_mean_us": sum(uncorrected) / len(uncorrected) / 1000 if uncorrected else 0,
        "uncorrected_latency_p50_us": percentile(uncorrected, 50) / 1000,
        "uncorrected_latency_p90_us": percentile(uncorrected, 90) / 1000,
        "uncorrected_latency_p99_us": percentile(uncorrected, 99) / 1000,
        "uncorrected_latency_p999_us": percentile(uncorrected, 99.9) / 1000,
        "uncorrected_latency_max_us": max(uncorrected, default=0) / 1000,
        "offered_rate": offered, "achieved_rate": achieved,
        "submit_lag_p99_us": percentile(lag, 99) / 1000,
        "saturated": 1 if achieved < 0.99 * offered or backlog_grew else 0,
        "littles_law_error": (mean_in_system - littles) / littles if littles > 0 else 0,
    }


def usage():
    total_cpu, switches, rss = 0.0, 0, 0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        r = resource.getrusage(who)
        total_cpu += r.ru_utime + r.ru_stime
        switches += r.ru_nvcsw + r.ru_nivcsw
        rss += r.ru_maxrss
    return total_cpu, switches, rss


def measure(scenario, pool, workers, usable, min_time):
    """Runs the scenario until `min_time` seconds have been measured (at least once),
    after one warm-up run, and returns a Google-Benchmark-style entry."""
    cpu0, switches0, _ = usage()
    wall0 = time.monotonic_ns()
    executor = make_executor(pool, workers)
    records = []
    error = ""
    warm = scenario.run(executor)
    if warm.errors:
        error = f"{len(warm.errors)} failure(s); first: {warm.errors[0]}"
    measured = 0
    while not error and (not records or measured < min_time * 1e9):
        record = scenario.run(executor)
        if record.errors:
            error = f"{len(record.errors)} failure(s); first: {record.errors[0]}"
            break
        records.append(record)
        measured += record.wall_ns
    executor.shutdown(wait=True)
    cpu1, switches1, rss = usage()
    wall = (time.monotonic_ns() - wall0) / 1e9
    effective = scenario.tasks_per_run() if pool == "py-thread-per-task" else (1 if pool == "py-sync" else workers)
    name = f"{scenario.name}/{pool}/workers:{effective}/real_time"
    entry = {"name": name, "run_name": name, "run_type": "iteration", "repetitions": 1, "repetition_index": 0,
             "threads": 1, "iterations": len(records), "time_unit": "ms"}
    if error:
        entry.update({"error_occurred": True, "error_message": error})
        return entry
    run_s = sum(r.wall_ns for r in records) / 1e9
    tasks = sum(r.tasks for r in records)
    latency = [v for r in records for v in r.latency]
    open_loop = open_loop_counters(records, latency) if scenario.knobs.rate else {}
    queue_wait = [v for r in records for v in r.queue_wait]
    ideal = scenario.ideal_seconds(effective, usable) * len(records)
    entry.update({
        "real_time": run_s * 1000 / len(records), "cpu_time": run_s * 1000 / len(records),
        "workers": effective, "tasks": tasks // len(records),
        "tasks_per_second": tasks / run_s if run_s else 0,
        "latency_p50_us": percentile(latency, 50) / 1000, "latency_p90_us": percentile(latency, 90) / 1000,
        "latency_p99_us": percentile(latency, 99) / 1000, "latency_p999_us": percentile(latency, 99.9) / 1000,
        "latency_max_us": max(latency, default=0) / 1000,
        "queue_wait_p50_us": percentile(queue_wait, 50) / 1000, "queue_wait_p99_us": percentile(queue_wait, 99) / 1000,
        "cpu_utilization": (cpu1 - cpu0) / wall / usable if wall else 0,
        "ctx_switches_per_task": (switches1 - switches0) / max(1, tasks),
        "peak_rss_mib": rss / 1024,
        "threads_created": executor.created if pool == "py-thread-per-task" else (workers if pool == "py-thread-pool" else 0),
        "processes_created": workers if pool == "py-process-pool" else 0,
        "efficiency": ideal / run_s if ideal and run_s else 0,
    })
    entry.update(open_loop)
    if scenario.name == "mixed":
        entry.update(scenario.shape)
    if scenario.name == "socket":
        requests = sum(r.requests for r in records)
        rtt = [v for r in records for v in r.rtt]
        entry.update({"connections": scenario.tasks_per_run(), "requests_per_second": requests / run_s,
                      "rtt_p50_us": percentile(rtt, 50) / 1000, "rtt_p99_us": percentile(rtt, 99) / 1000})
    return entry


# ---- command line ----------------------------------------------------------------------

def parse_args(argv):
    p = strict_parser(__doc__.split("\n\n")[0])
    p.add_argument("--scenarios", default=",".join(SCENARIOS))
    p.add_argument("--pools", default=",".join(POOLS))
    p.add_argument("--workers", default="")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", default="")
    p.add_argument("--tasks", type=int)
    p.add_argument("--iterations", type=int)
    p.add_argument("--sleep-ms", type=float)
    p.add_argument("--compute-us", type=float, default=1000.0)
    p.add_argument("--wait-us", type=float, default=4000.0)
    p.add_argument("--compute-dist", default="fixed")
    p.add_argument("--wait-dist", default="fixed")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--rate", type=float, help="open loop: arrivals per second (socket: requests/s over all connections)")
    p.add_argument("--arrivals", default=None, help="poisson (default) or uniform")
    p.add_argument("--duration", type=float, default=None, help="seconds an open loop schedules arrivals for (default 5)")
    p.add_argument("--connections", type=int)
    p.add_argument("--round-trips", type=int)
    p.add_argument("--io-timeout-ms", type=int, default=10000)
    p.add_argument("--min-time", type=float, default=None, help="seconds measured per benchmark")
    p.add_argument("--poolbench", default=default_poolbench(), help="the poolbench binary asked for the machine facts")

    args = p.parse_args(argv)
    knobs = argparse.Namespace(
        tasks=args.tasks if args.tasks is not None else (200 if args.quick else 1000),
        iterations=args.iterations if args.iterations is not None else 200_000,
        sleep_ms=args.sleep_ms if args.sleep_ms is not None else 10.0,
        connections=args.connections if args.connections is not None else (8 if args.quick else 32),
        round_trips=args.round_trips if args.round_trips is not None else (200 if args.quick else 1000),
        io_timeout=args.io_timeout_ms / 1000, message="hello world",
        compute_us=args.compute_us, wait_us=args.wait_us, seed=args.seed,
        compute_distribution=parse_distribution("--compute-dist", args.compute_dist),
        wait_distribution=parse_distribution("--wait-dist", args.wait_dist),
        rate=args.rate, arrivals=args.arrivals or "poisson",
        duration=args.duration if args.duration is not None else 5.0)
    check_open_loop(args, knobs)
    for flag, value, low, high in (("--tasks", knobs.tasks, 1, 10**8), ("--iterations", knobs.iterations, 0, 10**10),
                                   ("--sleep-ms", knobs.sleep_ms, 0, 60000), ("--connections", knobs.connections, 1, 10**6),
                                   ("--round-trips", knobs.round_trips, 1, 10**8), ("--io-timeout-ms", args.io_timeout_ms, 1, 600000),
                                   ("--compute-us", knobs.compute_us, 0, 60 * 10**6), ("--wait-us", knobs.wait_us, 0, 60 * 10**6),
                                   ("--seed", knobs.seed, 0, 2**53)):
        if not low <= value <= high:
            raise BadInput(f"{flag} {value:g} is out of range (allowed: {low} to {high})")
    scenarios = [s for s in args.scenarios.split(",") if s]
    pools = [p for p in args.pools.split(",") if p]
    for s in scenarios:
        if s not in SCENARIOS:
            raise BadInput(f"unknown scenario '{s}' (allowed: {', '.join(SCENARIOS)})")
    for p_ in pools:
        if p_ not in POOLS:
            raise BadInput(f"unknown executor '{p_}' (allowed: {', '.join(POOLS)})")
    if args.out:
        check_writable(args.out)
    min_time = args.min_time if args.min_time is not None else (0.2 if args.quick else 0.5)
    # Python's own speed: what its mixed tasks turn --compute-us into.
    knobs.hash_steps_per_us = hash_steps_per_us() if "mixed" in scenarios else None
    return args, knobs, scenarios, pools, min_time


def check_open_loop(args, knobs):
    """The open-loop knobs, refused as poolbench refuses them; sets the task count."""
    if args.rate is None:
        if args.arrivals is not None or args.duration is not None:
            raise BadInput(f"{'--arrivals' if args.arrivals is not None else '--duration'} needs --rate: "
                           "without it a run is a closed batch")
        return
    if args.tasks is not None:
        raise BadInput("--rate cannot go with --tasks: an open loop runs rate x duration tasks")
    if args.round_trips is not None:
        raise BadInput("--rate cannot go with --round-trips: an open loop sends rate x duration requests")
    if knobs.arrivals not in ("poisson", "uniform"):
        raise BadInput(f"--arrivals {knobs.arrivals} is not a way tasks arrive (allowed: poisson, uniform)")
    if not 0.001 <= knobs.duration <= MAX_DURATION_S:
        raise BadInput(f"--duration {knobs.duration:g} is out of range (allowed: 0.001 to {MAX_DURATION_S})")
    scenarios = [s for s in args.scenarios.split(",") if s]
    most = MAX_RATE * knobs.connections if scenarios == ["socket"] else MAX_RATE
    if not 0.001 <= knobs.rate <= most:
        raise BadInput(f"--rate {knobs.rate:g} is out of range (allowed: 0.001 to {most:g}"
                       f"{f', {MAX_RATE} per connection' if scenarios == ['socket'] else ''})")
    knobs.tasks = max(1, round(knobs.rate * knobs.duration))
    if knobs.tasks > 10**8:
        raise BadInput(f"--rate {knobs.rate:g} x --duration {knobs.duration:g} s is {knobs.tasks} tasks, "
                       "more than the 100000000 a run may have")


def main(argv):
    try:
        args, knobs, scenario_names, pools, min_time = parse_args(argv)
        facts, rules = poolbench_info(args.poolbench)
        context = machine_context(facts)
        if knobs.hash_steps_per_us:
            context["hash_steps_per_us"] = f"{knobs.hash_steps_per_us:g}"
        usable = int(facts["usable_cpus"])
        if args.workers:
            sizes = sorted({resolve_workers(w, rules) for w in args.workers.split(",") if w})
        else:
            sizes = sorted({1, usable, int(facts["default_workers"])})
    except BadInput as error:
        print(f"py_baseline: {error}", file=sys.stderr)
        return 2

    entries, failed = [], False
    print(f"{'benchmark':<44}{'tasks/s':>13}{'p50 us':>11}{'p99 us':>11}{'eff':>7}")
    for name in scenario_names:
        scenario = Scenario(name, knobs)
        for pool in pools:
            for workers in ([1] if pool in ("py-sync", "py-thread-per-task") else sizes):
                entry = measure(scenario, pool, workers, usable, min_time)
                entries.append(entry)
                if entry.get("error_occurred"):
                    failed = True
                    print(f"{entry['name']:<44}ERROR: {entry['error_message']}", flush=True)
                else:
                    eff = f"{entry['efficiency']:.2f}" if entry["efficiency"] else "-"
                    print(f"{entry['name']:<44}{entry['tasks_per_second']:>13.0f}{entry['latency_p50_us']:>11.1f}"
                          f"{entry['latency_p99_us']:>11.1f}{eff:>7}", flush=True)
    if args.out:
        write_atomically(args.out, json.dumps({"context": context, "benchmarks": entries}, indent=2))
        print(f"py_baseline: wrote {args.out}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
