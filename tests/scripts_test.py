"""CTest checks of the scripts: plot.py on fixtures written from a tiny real run (plus a
hand-made file with a missing counter), its timeline and breakdown pictures on hand-written
trace and run files in poolbench's formats, py_baseline.py --quick and its JSON, its machine
facts taken from `poolbench info --json`, bad input to both (one line, exit 2, no file),
and scripts/lib/stages.sh (bench.sh's stages and run folder) with fake stages.
POOLBENCH_BINARY names the binary."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = "/usr/bin/python3"
PLOT = os.path.join(ROOT, "scripts", "plot.py")
PERF_REPORT = os.path.join(ROOT, "scripts", "perf_report.py")
BASELINE = os.path.join(ROOT, "scripts", "py_baseline.py")
WAKEUP_TRACE = os.path.join(ROOT, "scripts", "wakeup_trace.py")
TUNE_ACCURACY = os.path.join(ROOT, "scripts", "tune_accuracy.py")
STAGES = os.path.join(ROOT, "scripts", "lib", "stages.sh")
POOLBENCH = os.environ.get("POOLBENCH_BINARY", "")
COUNTERS = ["workers", "tasks", "tasks_per_second", "latency_p50_us", "latency_p90_us", "latency_p99_us",
            "latency_max_us", "queue_wait_p50_us", "queue_wait_p99_us", "cpu_utilization", "ctx_switches_per_task",
            "peak_rss_mib", "threads_created", "processes_created", "efficiency"]
SOCKET_COUNTERS = ["connections", "requests_per_second", "rtt_p50_us", "rtt_p99_us"]


def run(*args, timeout=600):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout)


class Fixtures:
    """Result files written once, by real runs of poolbench and py_baseline.py."""
    dir = None

    @classmethod
    def make(cls):
        if cls.dir:
            return cls
        cls.dir = tempfile.mkdtemp(prefix="poolbench-scripts-")
        cls.run_json = os.path.join(cls.dir, "run.json")
        r = run(POOLBENCH, "run", "--workers", "1,2", "--tasks", "8", "--iterations", "500", "--sleep-ms", "1",
                "--compute-us", "200", "--wait-us", "500", "--connections", "2", "--round-trips", "3",
                "--benchmark_min_time=0.001", "--out", cls.run_json)
        assert r.returncode == 0, r.stderr
        cls.tune_json = os.path.join(cls.dir, "tune.json")
        r = run(POOLBENCH, "tune", "--scenario", "sleep", "--tasks", "6", "--sleep-ms", "1", "--repetitions", "2",
                "--out", cls.tune_json)
        assert r.returncode == 0, r.stderr
        cls.baseline_json = os.path.join(cls.dir, "baseline.json")
        cls.baseline = run(PYTHON, BASELINE, "--quick", "--workers", "1,2", "--tasks", "6", "--iterations", "300",
                           "--sleep-ms", "1", "--compute-us", "200", "--wait-us", "500", "--connections", "2",
                           "--round-trips", "3", "--min-time", "0.001",
                           "--out", cls.baseline_json)
        # A hand-made file: one benchmark lacks its latency counters.
        cls.partial_json = os.path.join(cls.dir, "partial.json")
        with open(cls.run_json) as f:
            data = json.load(f)
        entry = next(e for e in data["benchmarks"] if not e["name"].startswith("probe/"))
        for key in ("latency_p50_us", "latency_p99_us"):
            entry.pop(key)
        data["benchmarks"] = [entry]
        with open(cls.partial_json, "w") as f:
            json.dump(data, f)
        return cls

    @classmethod
    def remove(cls):
        if cls.dir:
            shutil.rmtree(cls.dir, ignore_errors=True)


def tearDownModule():
    Fixtures.remove()


class PlotTest(unittest.TestCase):
    def setUp(self):
        self.f = Fixtures.make()
        self.out = tempfile.mkdtemp(prefix="poolbench-plots-")

    def tearDown(self):
        shutil.rmtree(self.out, ignore_errors=True)

    def plot(self, *files, extra=()):
        return run(PYTHON, PLOT, *files, "--out-dir", self.out, *extra)

    def test_writes_every_picture_from_run_tune_and_baseline(self):
        r = self.plot(self.f.run_json, self.f.tune_json, self.f.baseline_json, extra=["--svg"])
        self.assertEqual(r.returncode, 0, r.stderr)
        expected = []
        for scenario in ("cpu", "sleep", "mixed", "socket"):
            expected += [f"throughput_{scenario}", f"latency_{scenario}"]
        expected += ["efficiency_cpu", "efficiency_sleep", "efficiency_mixed", "socket_connections", "tune_sleep_thread-pool",
                     "cpp_vs_python"]
        for name in expected:
            for ext in ("png", "svg"):
                path = os.path.join(self.out, f"{name}.{ext}")
                self.assertTrue(os.path.isfile(path), path)
                self.assertGreater(os.path.getsize(path), 1000, path)
        with open(os.path.join(self.out, "throughput_cpu.png"), "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        self.assertFalse([n for n in os.listdir(self.out) if n.endswith(".tmp") or n.startswith("tmp")])

    def test_missing_counter_is_left_out_with_a_warning(self):
        r = self.plot(self.f.partial_json)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("no 'latency_p50_us'", r.stderr)
        self.assertTrue(os.path.isfile(os.path.join(self.out, "throughput_cpu.png")))

    def test_bad_inputs_get_one_line_exit_2_and_no_file(self):
        bad = os.path.join(self.out, "inputs")
        os.makedirs(bad)
        cases = {"empty.json": "", "broken.json": "{\"benchmarks\": [", "other.json": "{\"hello\": 1}",
                 "list.json": "[1, 2]"}
        for name, text in cases.items():
            with open(os.path.join(bad, name), "w") as f:
                f.write(text)
        pictures = os.path.join(self.out, "pictures")
        for name in list(cases) + ["missing.json"]:
            with self.subTest(name):
                r = run(PYTHON, PLOT, self.f.run_json, os.path.join(bad, name), "--out-dir", pictures)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
                self.assertIn(name, r.stderr)
                self.assertFalse(os.path.exists(pictures) and os.listdir(pictures))
        r = run(PYTHON, PLOT, "--out-dir", pictures)
        self.assertEqual(r.returncode, 2)
        self.assertIn("no result files", r.stderr)


class PerfReportTest(unittest.TestCase):
    def setUp(self):
        self.f = Fixtures.make()

    def test_report_lists_every_target_with_the_probes(self):
        r = run(PYTHON, PERF_REPORT, self.f.run_json, self.f.baseline_json)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("| what | target | measured | status |", r.stdout)
        statuses = sum(r.stdout.count(f" | {s} | ") for s in ("met", "short", "not measured"))
        self.assertEqual(statuses, 24, r.stdout)
        self.assertRegex(r.stdout, r"\d+ of 24 targets met")
        self.assertIn("| pipe_round_trip |", r.stdout)
        self.assertIn("not measured", r.stdout)

    def test_rows_are_measured_from_the_runs_that_match_them(self):
        r = run(PYTHON, PERF_REPORT, self.f.run_json, "--overhead-tasks", "8")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = {line.split(" | ")[0]: line for line in r.stdout.splitlines() if line.startswith("| `")}
        asio = next(v for k, v in rows.items() if "`thread-pool` / `asio` adapter throughput, submit, workers = 2" in k)
        self.assertRegex(asio, r"\| \d+\.\d\d \| (met|short) \|")
        submit = next(v for k, v in rows.items() if "`thread-pool` submit (a future each), workers = 2" in k)
        self.assertIn("not measured", submit, "run.json has no paired rows")
        rss = next(v for k, v in rows.items() if "RSS per idle worker" in k)
        self.assertRegex(rss, r"\| \d+\.\d\d MiB \| (met|short) \|")
        post = next(v for k, v in rows.items() if "post (no future)" in k)
        self.assertIn("not measured", post, "run.json has no posted run")

    def test_adapters_and_our_pool_are_divided_by_their_libraries_within_paired_rows(self):
        """A `paired/<pool>/<library>/workers:<n>` row's ratio (taken within each round) is the
        adapter's overhead and our pool's ratio to oneTBB, posted or submitted as its run
        handed tasks over; an adapter below its library says why; the fork-join row is a
        reference, not a target."""
        def entry(name, **counters):
            return dict(name=name, run_name=name, run_type="iteration", iterations=1, **counters)
        def paired(pool, library, ratio, posted=True, ours=220.0, theirs=200.0, switches=(0.01, 0.01)):
            return entry(f"paired/{pool}/{library}/workers:2/iterations:1/real_time", workers=2, tasks=8,
                         ns_per_op=ours, library_ns_per_op=theirs, ratio=ratio, ratio_min=ratio * 0.9,
                         ratio_max=ratio * 1.1, rounds=9, kernel_context_switches_per_task=switches[0],
                         library_context_switches_per_task=switches[1], **({"posted": 1} if posted else {}))
        benchmarks = [entry("raw/tbb_enqueue/workers:2/real_time", workers=2, tasks=8, ns_per_op=200.0,
                            tasks_per_second=5e6),
                      paired("tbb", "tbb_enqueue", 1.10),
                      paired("asio", "asio_post", 0.50, ours=500.0, theirs=1000.0, switches=(0.5, 1.5)),
                      paired("thread-pool", "tbb_enqueue", 0.75),
                      paired("thread-pool", "tbb_enqueue", 1.40, posted=False),
                      paired("thread-pool", "tbb_task_group", 1.50)]
        path = os.path.join(self.f.dir, "paired.json")
        with open(path, "w") as f:
            json.dump({"context": {"usable_cpus": "2", "default_workers": "10"}, "benchmarks": benchmarks}, f)
        r = run(PYTHON, PERF_REPORT, path, "--overhead-tasks", "8")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = {line.split(" | ")[0]: line for line in r.stdout.splitlines() if line.startswith("| ")}
        row = lambda text: next(v for k, v in rows.items() if text in k)
        self.assertIn("| 1.10 | met |", row("`tbb` adapter_overhead, workers = 2"))
        asio = row("`asio` adapter_overhead, workers = 2")
        self.assertIn("| 0.50 | met |", asio)
        self.assertIn("the library alone switched context more", asio)
        self.assertIn("| 0.75 | met |", row("`thread-pool` post (no future), workers = 2"))
        self.assertIn("| 1.40 | met |", row("`thread-pool` submit (a future each), workers = 2"))
        reference = row("reference: `thread-pool` post, workers = 2")
        self.assertIn("| 1.50 | reference |", reference)
        self.assertIn("spawns each task into its own deque", reference)
        self.assertIn("not measured", row("`tbb` adapter_overhead, workers = 10"), "no paired row at 10 workers")
        self.assertIn("| `raw/tbb_enqueue/workers:2` | 200 |", r.stdout)
        self.assertIn("| `tbb` post / `tbb_enqueue`, workers = 2 | 220 | 200 | 1.10 | 0.99 to 1.21 | 0.010 / 0.010 |",
                      r.stdout)
        self.assertRegex(r.stdout, r"\d+ of 24 targets met")

        benchmarks[1] = paired("tbb", "tbb_enqueue", 1.30)
        with open(path, "w") as f:
            json.dump({"context": {"usable_cpus": "2", "default_workers": "10"}, "benchmarks": benchmarks}, f)
        r = run(PYTHON, PERF_REPORT, path, "--overhead-tasks", "8")
        short = next(line for line in r.stdout.splitlines() if "`tbb` adapter_overhead, workers = 2" in line)
        self.assertIn("| 1.30 | short | ours 220 ns per task against 200 ns for `tbb_enqueue`", short)
        self.assertNotIn("confined to one CPU", short, "no run confined to one CPU was given")

        # The same pair confined to one CPU says what the adapter adds to every task.
        one_cpu = os.path.join(self.f.dir, "paired_one_cpu.json")
        with open(one_cpu, "w") as f:
            json.dump({"context": {"usable_cpus": "1", "default_workers": "5"}, "benchmarks": [
                entry("paired/tbb/tbb_enqueue/workers:1/iterations:1/real_time", workers=1, tasks=8, ns_per_op=130.0,
                      library_ns_per_op=80.0, ratio=1.6, ratio_min=1.5, ratio_max=1.7, rounds=9, posted=1,
                      kernel_context_switches_per_task=0.0002, library_context_switches_per_task=0.0001)]}, f)
        r = run(PYTHON, PERF_REPORT, path, one_cpu, "--overhead-tasks", "8")
        self.assertEqual(r.returncode, 0, r.stderr)
        short = next(line for line in r.stdout.splitlines() if "`tbb` adapter_overhead, workers = 2" in line)
        self.assertIn("| 1.30 | short |", short)
        self.assertIn("ours takes 130 ns per task against 80 ns (ratio 1.60)", short)
        self.assertIn("the adapter adds 50 ns to every task", short)
        self.assertIn("takes under 333 ns per task, as it did in this row (200 ns)", short)
        self.assertIn("with as few context switches as the library (0.0002 and 0.0001 per task)", short)
        self.assertIn("| `tbb` post / `tbb_enqueue`, workers = 1, 1 CPU (`taskset`) | 130 | 80 | 1.60 |", r.stdout)
        self.assertIn("| `tbb` post / `tbb_enqueue`, workers = 2 | 220 | 200 | 1.30 |", r.stdout,
                      "the one-CPU row is kept apart from the machine's")

        # Where ours switched context far more on one CPU, the difference is not all the adapter's code.
        with open(one_cpu) as f:
            data = json.load(f)
        data["benchmarks"][0]["kernel_context_switches_per_task"] = 0.037
        with open(one_cpu, "w") as f:
            json.dump(data, f)
        r = run(PYTHON, PERF_REPORT, path, one_cpu, "--overhead-tasks", "8")
        short = next(line for line in r.stdout.splitlines() if "`tbb` adapter_overhead, workers = 2" in line)
        self.assertIn("but it also switched context 0.037 times per task against the library's 0.000", short)
        self.assertNotIn("the adapter adds", short)

    def test_a_paired_row_with_repetitions_shows_its_median_repetition_whole(self):
        """Google Benchmark's median aggregate takes each counter's median on its own, so its
        two costs need not divide to its ratio: the report shows the repetition whose ratio is
        the median, with its own costs and rounds, and lists every repetition's ratio."""
        name = "paired/tbb/tbb_enqueue/workers:2/iterations:1/real_time"
        def repetition(ours, theirs, ratio, **extra):
            return dict(name=name, run_name=name, iterations=1, workers=2, tasks=8, ns_per_op=ours,
                        library_ns_per_op=theirs, ratio=ratio, ratio_min=ratio - 0.1, ratio_max=ratio + 0.1,
                        rounds=9, posted=1, **extra)
        benchmarks = [repetition(526.0, 549.0, 0.97, run_type="iteration"),
                      repetition(823.0, 878.0, 0.96, run_type="iteration"),
                      repetition(800.0, 626.0, 1.30, run_type="iteration"),
                      repetition(800.0, 626.0, 0.97, run_type="aggregate", aggregate_name="median")]
        path = os.path.join(self.f.dir, "repeated.json")
        with open(path, "w") as f:
            json.dump({"context": {"usable_cpus": "2", "default_workers": "10"}, "benchmarks": benchmarks}, f)
        r = run(PYTHON, PERF_REPORT, path, "--overhead-tasks", "8")
        self.assertEqual(r.returncode, 0, r.stderr)
        adapter = next(line for line in r.stdout.splitlines() if "`tbb` adapter_overhead, workers = 2" in line)
        self.assertIn("| 0.97 | met | ours 526 ns per task against 549 ns for `tbb_enqueue`", adapter)
        self.assertIn("the median repetition of 3, whose ratios were 0.96, 0.97, 1.30", adapter)
        self.assertIn("| `tbb` post / `tbb_enqueue`, workers = 2 | 526 | 549 | 0.97 | 0.87 to 1.07 |", r.stdout)

    def test_tracing_row_divides_a_traced_run_by_the_same_run_untraced(self):
        """The --trace cost row: sync's per-task cost with every task traced, less its cost
        untraced at the same task count, apart from the instrumentation row's runs."""
        def entry(**counters):
            name = "cpu/sync/workers:1/real_time"
            return dict(name=name, run_name=name, run_type="iteration", iterations=1, workers=1, **counters)
        untraced = os.path.join(self.f.dir, "untraced.json")
        traced = os.path.join(self.f.dir, "traced.json")
        for path, counters in ((untraced, dict(tasks=10000, tasks_per_second=1e9 / 150)),
                               (traced, dict(tasks=10000, traced=1, tasks_per_second=1e9 / 400))):
            with open(path, "w") as f:
                json.dump({"context": {"usable_cpus": "2", "default_workers": "10"},
                           "benchmarks": [entry(**counters)]}, f)
        r = run(PYTHON, PERF_REPORT, untraced, traced)
        self.assertEqual(r.returncode, 0, r.stderr)
        row = next(line for line in r.stdout.splitlines() if line.startswith("| tracing per task"))
        self.assertIn("| 250 ns | met |", row)
        r = run(PYTHON, PERF_REPORT, untraced)
        row = next(line for line in r.stdout.splitlines() if line.startswith("| tracing per task"))
        self.assertIn("not measured", row, "an untraced run alone measures no tracing cost")

    def socket_run_as_8_connections(self, cpus, requests_per_second):
        """The fixture's 2-connection socket entries relabelled as 8 connections on `cpus` CPUs,
        with requests/s set per pool."""
        with open(self.f.run_json) as f:
            data = json.load(f)
        socket = [e for e in data["benchmarks"] if e["name"].startswith("socket/") and e["workers"] == 2]
        for e in socket:
            e["name"] = e["name"].replace("workers:2", "workers:8")
            e["run_name"] = e.get("run_name", e["name"]).replace("workers:2", "workers:8")
            e["workers"], e["connections"] = 8, 8
            e["requests_per_second"] = requests_per_second.get(e["name"].split("/")[1], 1000.0)
        data["benchmarks"] = socket
        data["context"]["usable_cpus"] = cpus
        path = os.path.join(self.f.dir, f"socket8_{cpus}cpu.json")
        with open(path, "w") as f:
            json.dump(data, f)
        return path

    def test_socket_row_shows_the_one_cpu_run_and_the_wakeup_trace(self):
        trace = os.path.join(self.f.dir, "wakeups.json")
        with open(trace, "w") as f:
            json.dump({"wakeup_trace": {"command": "poolbench run --scenarios socket --connections 8",
                                        "pools": {"thread-pool": {"wakeups": 1000, "cross_cpu": 250},
                                                  "thread-per-task": {"wakeups": 1000, "cross_cpu": 30}}}}, f)
        two = self.socket_run_as_8_connections(2, {"thread-pool": 600.0, "thread-per-task": 1000.0})
        one = self.socket_run_as_8_connections(1, {"thread-pool": 900.0, "thread-per-task": 750.0})
        r = run(PYTHON, PERF_REPORT, two, one, trace)
        self.assertEqual(r.returncode, 0, r.stderr)
        row = next(line for line in r.stdout.splitlines() if line.startswith("| `socket` 8 connections"))
        self.assertIn("| 0.60 | short |", row)
        self.assertIn("confined to one CPU (`taskset`, the same knobs) the ratio is 1.20", row)
        self.assertIn("finds 25% of our wake-ups crossing CPUs against 3% for thread-per-task", row)

    def test_short_cpu_row_tells_slower_tasks_from_an_idle_pool_and_flags_unstable_repetitions(self):
        with open(self.f.run_json) as f:
            data = json.load(f)
        cpu = next(e for e in data["benchmarks"] if e["name"].startswith("cpu/thread-pool/") and e["workers"] == 2)
        cpu.update(tasks=100, latency_p50_us=5000.0, efficiency=0.90, tasks_per_second=900.0, cpu_utilization=0.99,
                   run_name="cpu/thread-pool/workers:2/real_time", run_type="iteration")
        repetitions = [dict(cpu, efficiency=e) for e in (0.97, 0.90, 0.85)]
        median = dict(cpu, name=cpu["run_name"] + "_median", run_type="aggregate", aggregate_name="median")
        data["benchmarks"] = repetitions + [median]
        data["context"]["usable_cpus"] = 2
        path = os.path.join(self.f.dir, "cpu_2ms.json")
        with open(path, "w") as f:
            json.dump(data, f)
        r = run(PYTHON, PERF_REPORT, path)
        self.assertEqual(r.returncode, 0, r.stderr)
        row = next(line for line in r.stdout.splitlines() if line.startswith("| `cpu` ~2 ms tasks, workers = 2"))
        self.assertIn("| 0.900 | short |", row)
        # 0.99 of 2 CPUs over 900 tasks/s is 2200 us per task; 0.90 x 2 CPUs / 900 tasks/s is 2000 us alone.
        self.assertIn("each task took 2200 us of CPU against 2000 us for the same work alone", row)
        self.assertIn("(10.0% more) while the CPUs were 99% busy", row)
        self.assertIn("unstable: its 3 repetitions gave efficiency 0.970, 0.900, 0.850 (spread 14%)", row)

    def test_bad_input_gets_one_line_and_exit_2(self):
        empty = os.path.join(self.f.dir, "empty.json")
        open(empty, "w").close()
        bad_trace = os.path.join(self.f.dir, "bad_trace.json")
        with open(bad_trace, "w") as f:
            json.dump({"wakeup_trace": {"pools": {"thread-pool": {"wakeups": "many"}}}}, f)
        for args in ([empty], [], ["/nonexistent.json"], [self.f.run_json, "--out", "/nonexistent-dir/p.md"],
                     [self.f.run_json, bad_trace]):
            with self.subTest(args):
                r = run(PYTHON, PERF_REPORT, *args)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)


class WakeupTraceTest(unittest.TestCase):
    LINES = [
        "       poolbench 17670 [000] 20350.153800:       sched:sched_wakeup: comm=poolbench pid=17656 prio=120 target_cpu=000",
        "       poolbench 17670 [000] 20350.153801:       sched:sched_wakeup: comm=poolbench pid=17657 prio=120 target_cpu=001",
        "       poolbench 17671 [001] 20350.153802:       sched:sched_wakeup: comm=kworker/1:0 pid=99 prio=120 target_cpu=000",
        "       poolbench 17672 [001] 20350.153803:       sched:sched_switch: prev_comm=poolbench prev_pid=17672 ==> next_pid=0",
    ]

    def test_counts_wakeups_of_the_command_threads_and_those_that_cross_cpus(self):
        sys.path.insert(0, os.path.join(ROOT, "scripts"))
        try:
            import wakeup_trace
        finally:
            sys.path.pop(0)
        self.assertEqual(wakeup_trace.count_wakeups(self.LINES, "poolbench"), (2, 1))
        self.assertEqual(wakeup_trace.count_wakeups([], "poolbench"), (0, 0))

    def test_bad_input_gets_one_line_exit_2_and_no_file(self):
        out = os.path.join(tempfile.mkdtemp(prefix="poolbench-trace-test-"), "w.json")
        try:
            for args in (["--pools", "", "--out", out, "--", "true"],
                         ["--pools", "thread-pool", "--out", out, "--", "/nonexistent/poolbench"],
                         ["--pools", "thread-pool", "--out", "/nonexistent-dir/w.json", "--", "true"],
                         ["--pools", "thread-pool"]):
                with self.subTest(args):
                    r = run(PYTHON, WAKEUP_TRACE, *args)
                    self.assertEqual(r.returncode, 2, r.stderr)
                    self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
                    self.assertFalse(os.path.exists(out))
        finally:
            shutil.rmtree(os.path.dirname(out), ignore_errors=True)


class TuneAccuracyTest(unittest.TestCase):
    def test_bad_input_gets_one_line_exit_2_and_no_file(self):
        work = tempfile.mkdtemp(prefix="poolbench-accuracy-")
        try:
            out = os.path.join(work, "a.md")
            for args, named in ((["--reruns", "0"], "--reruns 0"), (["--workloads", "disk"], "'disk'"),
                                (["--poolbench", "/nonexistent/poolbench"], "/nonexistent/poolbench"),
                                (["--bogus"], "--bogus")):
                with self.subTest(args):
                    r = run(PYTHON, TUNE_ACCURACY, *args, "--out", out)
                    self.assertEqual(r.returncode, 2, r.stderr)
                    self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
                    self.assertIn(named, r.stderr)
            self.assertEqual(os.listdir(work), [])
        finally:
            shutil.rmtree(work, ignore_errors=True)


class ObjectiveTunePlotTest(unittest.TestCase):
    def test_draws_a_tune_for_a_latency_objective_at_a_rate(self):
        work = tempfile.mkdtemp(prefix="poolbench-objective-")
        try:
            tune = os.path.join(work, "slo.json")
            r = run(POOLBENCH, "tune", "--scenario", "sleep", "--sleep-ms", "1", "--rate", "200", "--duration", "0.1",
                    "--slo-p99", "1s", "--max-workers", "2", "--out", tune)
            self.assertEqual(r.returncode, 0, r.stderr)
            r = run(PYTHON, PLOT, tune, "--out-dir", work)
            self.assertEqual(r.returncode, 0, r.stderr)
            picture = os.path.join(work, "tune_sleep_thread-pool_p99_at_a_rate.png")
            self.assertTrue(os.path.getsize(picture) > 0)
        finally:
            shutil.rmtree(work, ignore_errors=True)


class OpenLoopPlotTest(unittest.TestCase):
    def test_draws_latency_against_offered_rate_from_runs_at_several_rates(self):
        work = tempfile.mkdtemp(prefix="poolbench-open-")
        try:
            files = []
            for rate in ("500", "2000"):
                files.append(os.path.join(work, f"open_{rate}.json"))
                r = run(POOLBENCH, "run", "--scenarios", "sleep", "--pools", "thread-pool", "--workers", "2",
                        "--sleep-ms", "1", "--rate", rate, "--duration", "0.05", "--benchmark_min_time=0.001",
                        "--benchmark_filter=sleep/", "--out", files[-1])
                self.assertEqual(r.returncode, 0, r.stderr)
            r = run(PYTHON, PLOT, *files, "--out-dir", work)
            self.assertEqual(r.returncode, 0, r.stderr)
            picture = os.path.join(work, "open_loop_sleep.png")
            self.assertTrue(os.path.getsize(picture) > 0)
            umask = os.umask(0)
            os.umask(umask)
            self.assertEqual(os.stat(picture).st_mode & 0o777, 0o666 & ~umask, "a picture anyone may read")
            self.assertFalse(os.path.exists(os.path.join(work, "throughput_sleep.png")),
                             "open-loop entries are not drawn against workers")
        finally:
            shutil.rmtree(work, ignore_errors=True)


def trace_fixture():
    """A small `poolbench run --trace` file: run 0 on sync, runs 1 and 2 the two iterations of
    a 4-worker thread pool (worker 3 idle in both, worker 2 busy only in run 1), run 3 another
    2-worker thread pool whose workers share the first pool's names."""
    parent, submitter = 100, 100
    events = [{"ph": "M", "name": "process_name", "pid": parent, "args": {"name": "poolbench"}},
              {"ph": "M", "name": "thread_name", "pid": parent, "tid": submitter, "args": {"name": "submitter"}}]
    events += [{"ph": "M", "name": "thread_name", "pid": parent, "tid": tid, "args": {"name": f"thread-pool worker {i}"}}
               for pools in ((101, 102, 103, 104), (301, 302)) for i, tid in enumerate(pools)]
    runs = []
    for run, (benchmark, iteration, workers, tids) in enumerate((
            ("sleep/sync/workers:1", 0, 1, [submitter, submitter]),
            ("sleep/thread-pool/workers:4", 0, 4, [101, 102, 103] * 2),
            ("sleep/thread-pool/workers:4", 1, 4, [101, 102] * 2),
            ("sleep/thread-pool/workers:2", 0, 2, [301, 302] * 2))):
        start = 1_000_000.0 + 10_000 * run
        events.append({"ph": "X", "cat": "run", "name": f"{benchmark} #{iteration}", "pid": parent, "tid": submitter,
                       "ts": start, "dur": 5000.0, "args": {"run": run}})
        for task, tid in enumerate(tids):
            submit = start + 100 * task
            begin = submit + 50 + 400 * (task // 3)
            events += [{"ph": "X", "cat": "submit", "name": f"submit {task}", "pid": parent, "tid": submitter,
                        "ts": submit, "dur": 2.0, "args": {"run": run, "task": task}},
                       {"ph": "X", "cat": "task", "name": f"task {task}", "pid": parent, "tid": tid, "ts": begin,
                        "dur": 300.0,
                        "args": {"run": run, "task": task, "queued_us": begin - submit, "handback_us": 20.0}},
                       {"ph": "s", "cat": "flow", "name": "queued", "id": 1000 * run + task, "pid": parent,
                        "tid": submitter, "ts": submit},
                       {"ph": "f", "bp": "e", "cat": "flow", "name": "queued", "id": 1000 * run + task, "pid": parent,
                        "tid": tid, "ts": begin}]
            events += [{"ph": "C", "name": "queue depth", "pid": parent, "ts": submit, "args": {"tasks": task % 3}},
                       {"ph": "C", "name": "busy workers", "pid": parent, "ts": begin,
                        "args": {"workers": 1 + task % 3}}]
        runs.append({"run": run, "benchmark": benchmark, "scenario": "sleep", "executor": benchmark.split("/")[1],
                     "workers": workers, "iteration": iteration, "start_us": start, "end_us": start + 5000.0,
                     "tasks": len(tids)})
    return {"traceEvents": events, "displayTimeUnit": "ns",
            "otherData": {"tool": "poolbench", "trace_limit": 100000, "traced_tasks": 14, "stopped_at_limit": False,
                          "runs": runs}}


def svg_texts(path):
    """The texts of a picture matplotlib wrote as SVG (it keeps each one as a comment)."""
    with open(path) as f:
        return re.findall(r"<!-- (.*?) -->", f.read())


class PictureTest(unittest.TestCase):
    """Runs plot.py on hand-written fixtures in a temporary folder; no poolbench binary."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="poolbench-pictures-")
        self.out = os.path.join(self.dir, "out")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, name, content):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(content if isinstance(content, str) else json.dumps(content))
        return path

    def assertPicture(self, name):
        path = os.path.join(self.out, name)
        self.assertTrue(os.path.isfile(path), f"{name} not written; out dir has {os.listdir(self.out)}")
        with open(path, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n", name)

    def assertRejected(self, *args, named=""):
        r = run(PYTHON, PLOT, *args, "--out-dir", self.out)
        self.assertEqual(r.returncode, 2, r.stderr)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertTrue(lines[0].startswith("plot.py: "), r.stderr)
        self.assertIn(named, lines[0])
        self.assertFalse(os.path.exists(self.out) and os.listdir(self.out), "no file written on bad input")


class TimelinePlotTest(PictureTest):
    def setUp(self):
        super().setUp()
        self.trace = self.write("t.json", trace_fixture())

    def timeline_title(self, *extra):
        """Draws the timeline (PNG and SVG) and returns its title."""
        r = run(PYTHON, PLOT, "--trace", self.trace, *extra, "--svg", "--out-dir", self.out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split(), [os.path.join(self.out, f"timeline.{ext}") for ext in ("png", "svg")])
        self.assertPicture("timeline.png")
        self.assertFalse([n for n in os.listdir(self.out) if n.startswith("tmp")])
        texts = svg_texts(os.path.join(self.out, "timeline.svg"))
        titles = [t for t in texts if " tasks on " in t]
        self.assertEqual(len(titles), 1, texts)
        return titles[0], texts

    def test_draws_the_first_run_not_on_sync_with_its_idle_worker(self):
        title, texts = self.timeline_title()
        self.assertEqual(title, "sleep/thread-pool/workers:4, run 1 (iteration 0): 6 tasks on 4 workers, "
                                "1 of them ran nothing")
        self.assertIn("worker 3", texts, "the idle worker has its row")
        self.assertIn("busy workers", texts, "the counters' panel")

    def test_trace_run_selects_by_number_and_by_benchmark_name(self):
        title, _ = self.timeline_title("--trace-run", "2")
        self.assertEqual(title, "sleep/thread-pool/workers:4, run 2 (iteration 1): 4 tasks on 4 workers, "
                                "2 of them ran nothing")
        title, texts = self.timeline_title("--trace-run", "sleep/thread-pool/workers:2")
        self.assertEqual(title, "sleep/thread-pool/workers:2, run 3 (iteration 0): 4 tasks on 2 workers, "
                                "0 of them ran nothing")
        self.assertNotIn("worker 3", texts, "the other pool's workers are not this one's rows")
        title, texts = self.timeline_title("--trace-run", "0")
        self.assertIn("run 0 (iteration 0): 2 tasks on 1 worker, 0 of them", title)
        self.assertIn("submitter", texts, "sync runs its tasks on the submitter")

    def test_draws_the_timeline_beside_the_run_files_pictures(self):
        path = self.write("run.json", {"context": {}, "benchmarks": [breakdown_entry("sleep/thread-pool/workers:4")]})
        r = run(PYTHON, PLOT, path, "--trace", self.trace, "--out-dir", self.out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertPicture("timeline.png")
        self.assertPicture("breakdown_sleep.png")

    def test_bad_trace_gets_one_line_exit_2_and_no_file(self):
        no_tasks = trace_fixture()
        no_tasks["traceEvents"] = [e for e in no_tasks["traceEvents"] if e.get("cat") != "task"]
        cases = [(["--trace", self.write("broken.json", "{\"traceEvents\": [")], "not JSON"),
                 (["--trace", self.write("empty.json", "")], "the file is empty"),
                 (["--trace", self.write("other.json", {"benchmarks": []})], "traceEvents"),
                 (["--trace", self.write("dict.json", {"traceEvents": {}})], "traceEvents"),
                 (["--trace", self.write("list.json", [1, 2])], "traceEvents"),
                 (["--trace", os.path.join(self.dir, "missing.json")], "missing.json"),
                 (["--trace", self.write("no_tasks.json", no_tasks)], "no task slices"),
                 (["--trace", self.trace, "--trace-run", "9"], "'9' names no run"),
                 (["--trace", self.trace, "--trace-run", "sleep/tbb/workers:4"], "names no run"),
                 (["--trace-run", "1"], "--trace-run needs --trace")]
        for args, named in cases:
            with self.subTest(args):
                self.assertRejected(*args, named=named)


def breakdown_entry(name, queued=300.0, running=1000.0, handback=20.0, **extra):
    """A run entry with the per-task breakdown counters, its parts adding up to its latency."""
    entry = {"name": name + "/real_time", "run_name": name + "/real_time", "run_type": "iteration",
             "workers": int(name.split(":")[-1]), "tasks": 100, "tasks_per_second": 1000.0,
             "latency_mean_us": queued + running + handback, "queued_mean_us": queued, "queued_p50_us": queued,
             "queued_p99_us": 2 * queued, "wakeup_mean_us": 40.0, "wakeup_p50_us": 35.0, "wakeup_p99_us": 90.0,
             "wakeup_share": 0.5, "running_mean_us": running, "running_p50_us": running, "running_p99_us": running,
             "handback_mean_us": handback, "handback_p50_us": handback, "handback_p99_us": 3 * handback,
             "worker_busy_fraction_mean": 0.8, "worker_busy_fraction_min": 0.7, "worker_busy_fraction_max": 0.9,
             "latency_p50_us": 1300.0, "latency_p99_us": 1900.0, "efficiency": 0.9}
    entry.update(extra)
    return entry


class BreakdownPlotTest(PictureTest):
    def run_file(self):
        """Sleep entries with the breakdown (one open loop, one lacking queued_mean_us, one
        whose parts do not add up), and a cpu entry from before the breakdown existed."""
        lacking = breakdown_entry("sleep/thread-per-task/workers:4")
        del lacking["queued_mean_us"]
        open_loop = breakdown_entry("sleep/thread-pool/workers:4", offered_rate=500.0,
                                    uncorrected_latency_mean_us=1320.0, latency_mean_us=9000.0, latency_p999_us=2500.0,
                                    uncorrected_latency_p50_us=1200.0, uncorrected_latency_p99_us=1800.0,
                                    uncorrected_latency_p999_us=2400.0)
        return self.write("run.json", {"context": {"host_name": "fixture"}, "benchmarks": [
            breakdown_entry("sleep/sync/workers:1", queued=5.0), breakdown_entry("sleep/thread-pool/workers:1"),
            breakdown_entry("sleep/thread-pool/workers:4", queued=50.0),
            breakdown_entry("sleep/process-pool/workers:4", latency_mean_us=2000.0), lacking, open_loop,
            {"name": "cpu/thread-pool/workers:4/real_time", "run_type": "iteration", "workers": 4,
             "tasks_per_second": 10.0}]})

    def test_draws_a_stacked_bar_per_entry_with_the_breakdown(self):
        r = run(PYTHON, PLOT, self.run_file(), "--svg", "--out-dir", self.out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertPicture("breakdown_sleep.png")
        self.assertFalse(os.path.exists(os.path.join(self.out, "breakdown_cpu.png")), "cpu has no breakdown counters")
        texts = svg_texts(os.path.join(self.out, "breakdown_sleep.svg"))
        for label in ("sync/1", "thread-pool/1", "thread-pool/4", "process-pool/4", "thread-pool/4 @500/s",
                      "wake-up part of queued (share x its mean)"):
            self.assertIn(label, texts)
        self.assertNotIn("thread-per-task/4", texts, "an entry without the counters is left out")
        self.assertIn("sleep/thread-per-task/4: no 'queued_mean_us'; left out of that plot", r.stderr)
        self.assertIn("sleep/process-pool/4: queued + running + handback = 1320.0 us against latency_mean_us 2000.0 us",
                      r.stderr)
        self.assertNotIn("@500/s: queued", r.stderr, "open loop adds up to uncorrected_latency_mean_us")
        self.assertFalse([n for n in os.listdir(self.out) if n.startswith("tmp")])


class BaselineTest(unittest.TestCase):
    def setUp(self):
        self.f = Fixtures.make()

    def test_quick_run_checks_every_result_and_writes_the_same_schema(self):
        self.assertEqual(self.f.baseline.returncode, 0, self.f.baseline.stderr + self.f.baseline.stdout)
        umask = os.umask(0)
        os.umask(umask)
        self.assertEqual(os.stat(self.f.baseline_json).st_mode & 0o777, 0o666 & ~umask, "a file anyone may read")
        with open(self.f.baseline_json) as f:
            data = json.load(f)
        self.assertIn("usable_cpus", data["context"])
        names = set()
        pattern = re.compile(r"(cpu|sleep|mixed|socket)/py-(sync|thread-per-task|thread-pool|process-pool)/workers:\d+/.*")
        for entry in data["benchmarks"]:
            with self.subTest(entry["name"]):
                self.assertRegex(entry["name"], pattern)
                self.assertFalse(entry.get("error_occurred"), entry.get("error_message"))
                for counter in COUNTERS:
                    self.assertIsInstance(entry.get(counter), (int, float), counter)
                socket = entry["name"].startswith("socket/")
                for counter in SOCKET_COUNTERS:
                    self.assertEqual(counter in entry, socket, counter)
                self.assertGreater(entry["tasks_per_second"], 0)
                names.add(entry["name"].split("/workers:")[0])
        self.assertEqual(len(names), 16, "4 scenarios x 4 Python executors")

    def test_bad_input_gets_one_line_exit_2_and_no_file(self):
        out_dir = tempfile.mkdtemp(prefix="poolbench-baseline-")
        try:
            out = os.path.join(out_dir, "b.json")
            for args, named in ((["--pools", "py-fibers"], "'py-fibers'"), (["--scenarios", "disk"], "'disk'"),
                                (["--workers", "0"], "'0'"), (["--workers", "lots"], "'lots'"),
                                (["--tasks", "0"], "--tasks"), (["--sleep-ms", "70000"], "--sleep-ms"),
                                (["--wait-us", "61000000"], "--wait-us"), (["--compute-dist", "normal"], "normal"),
                                (["--wait-dist", "lognormal:0"], "sigma"),
                                (["--rate", "0"], "--rate 0"), (["--rate", "100", "--tasks", "5"], "--tasks"),
                                (["--rate", "100", "--arrivals", "bursty"], "bursty"),
                                (["--duration", "5"], "needs --rate"),
                                (["--rate", "100", "--duration", "4000"], "--duration 4000"),
                                (["--bogus"], "--bogus")):
                with self.subTest(args):
                    r = run(PYTHON, BASELINE, *args, "--out", out)
                    self.assertEqual(r.returncode, 2, r.stderr)
                    self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
                    self.assertIn(named, r.stderr)
            r = run(PYTHON, BASELINE, "--out", "/nonexistent-dir/b.json")
            self.assertEqual(r.returncode, 2)
            self.assertEqual(os.listdir(out_dir), [])
        finally:
            shutil.rmtree(out_dir, ignore_errors=True)

    def test_open_loop_runs_report_what_poolbench_reports_under_the_same_names(self):
        work = tempfile.mkdtemp(prefix="poolbench-open-baseline-")
        try:
            common = ["--scenarios", "sleep,socket", "--workers", "4", "--rate", "400", "--duration", "0.1",
                      "--arrivals", "uniform", "--sleep-ms", "1", "--connections", "2"]
            py_out, cpp_out = os.path.join(work, "py.json"), os.path.join(work, "cpp.json")
            r = run(PYTHON, BASELINE, *common, "--pools", "py-thread-pool", "--min-time", "0.001", "--out", py_out)
            self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
            r = run(POOLBENCH, "run", *common, "--pools", "thread-pool", "--benchmark_min_time=0.001", "--out", cpp_out)
            self.assertEqual(r.returncode, 0, r.stderr)
            keys = {}
            for path in (py_out, cpp_out):
                with open(path) as f:
                    for entry in json.load(f)["benchmarks"]:
                        if entry["name"].startswith("probe/"):
                            continue
                        scenario = entry["name"].split("/")[0]
                        with self.subTest(entry["name"]):
                            self.assertFalse(entry.get("error_occurred"), entry.get("error_message"))
                            self.assertEqual(entry["tasks"], 2 if scenario == "socket" else 40)
                            self.assertAlmostEqual(entry["offered_rate"], 400, delta=1)
                            self.assertGreaterEqual(entry["latency_p99_us"], entry["uncorrected_latency_p99_us"])
                            self.assertEqual(entry["efficiency"], 0)
                        open_keys = {k for k in entry if "rate" in k or "uncorrected" in k or k in
                                     ("saturated", "littles_law_error", "submit_lag_p99_us", "latency_p999_us")}
                        keys.setdefault(scenario, []).append(open_keys)
            for scenario, (py_keys, cpp_keys) in keys.items():
                with self.subTest(scenario):
                    self.assertEqual(py_keys, cpp_keys)
                    self.assertIn("submit_lag_p99_us", py_keys)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def test_machine_facts_are_those_poolbench_info_reports(self):
        self.assertEqual(self.f.baseline.returncode, 0, self.f.baseline.stderr)
        r = run(POOLBENCH, "info", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        info = json.loads(r.stdout)
        with open(self.f.baseline_json) as f:
            context = json.load(f)["context"]
        for key in ("allowed_pus", "cgroup_cpu_limit", "usable_cpus", "sizing_rule", "default_workers"):
            self.assertEqual(context[key], str(info[key]), key)

    def write_fake_poolbench(self, directory, body, name="poolbench"):
        """An executable shell script standing in for poolbench."""
        path = os.path.join(directory, name)
        with open(path, "w") as f:
            f.write("#!/bin/sh\n" + body + "\n")
        os.chmod(path, 0o755)
        return path

    def test_sizes_pools_by_what_the_binary_it_is_given_reports(self):
        facts = {"allowed_pus": 9, "cgroup_cpu_limit": "6.5", "usable_cpus": 7, "sizing_rule": "auto",
                 "default_workers": 35, "workers_by_rule": {"auto": 35, "cpus": 7, "cores": 3, "py38": 11}}
        work = tempfile.mkdtemp(prefix="poolbench-fake-info-")
        try:
            fake = self.write_fake_poolbench(work, f"""[ "$*" = "info --json" ] || exit 1\necho '{json.dumps(facts)}'""")
            out = os.path.join(work, "b.json")
            r = run(PYTHON, BASELINE, "--poolbench", fake, "--scenarios", "sleep", "--pools", "py-thread-pool",
                    "--workers", "cpus,cores", "--tasks", "2", "--sleep-ms", "1", "--min-time", "0.001", "--out", out)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(out) as f:
                data = json.load(f)
            self.assertEqual(data["context"]["usable_cpus"], "7")
            self.assertEqual(data["context"]["default_workers"], "35")
            self.assertEqual(data["context"]["cgroup_cpu_limit"], "6.5")
            self.assertEqual(sorted(e["name"] for e in data["benchmarks"]),
                             ["sleep/py-thread-pool/workers:3/real_time", "sleep/py-thread-pool/workers:7/real_time"])
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def test_a_poolbench_that_cannot_tell_the_machine_facts_gets_one_line_and_exit_2(self):
        work = tempfile.mkdtemp(prefix="poolbench-bad-info-")
        try:
            out = os.path.join(work, "b.json")
            missing = os.path.join(work, "nonexistent", "poolbench")
            failing = self.write_fake_poolbench(work, "echo 'poolbench: broken' >&2; exit 1", "failing")
            chatty = self.write_fake_poolbench(work, "echo 'not json'", "chatty")
            terse = self.write_fake_poolbench(work, "echo '{\"usable_cpus\": 2}'", "terse")
            cases = ((["--poolbench", missing], {}, missing), ([], {"POOLBENCH_BINARY": missing}, missing),
                     (["--poolbench", failing], {}, "poolbench: broken"),
                     (["--poolbench", chatty], {}, "no machine facts"),
                     (["--poolbench", terse], {}, "'allowed_pus'"))
            for args, env, named in cases:
                with self.subTest(args or env):
                    r = subprocess.run([PYTHON, BASELINE, *args, "--scenarios", "sleep", "--out", out],
                                       capture_output=True, text=True, timeout=60, env={**os.environ, **env})
                    self.assertEqual(r.returncode, 2, r.stderr)
                    self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
                    self.assertIn(named, r.stderr)
                    self.assertEqual(r.stdout, "")
                    self.assertFalse(os.path.exists(out))
        finally:
            shutil.rmtree(work, ignore_errors=True)


class StagesTest(unittest.TestCase):
    """scripts/lib/stages.sh, as bench.sh uses it, with fake stages."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="poolbench-stages-")
        self.results = os.path.join(self.dir, "results")
        self.published = os.path.join(self.results, "host")
        os.makedirs(self.published)
        with open(os.path.join(self.published, "old.txt"), "w") as f:
            f.write("the last run\n")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def pipeline(self, stages, publish_to="host"):
        """A bash script: the fake stage functions, then `stages` (run_stage lines), then the
        run folder published to results/`publish_to` and the summary, as bench.sh ends."""
        script = os.path.join(self.dir, "pipeline.sh")
        with open(script, "w") as f:
            f.write(f"""set -euo pipefail
source {STAGES}
run_folder_begin {self.published}
ok() {{ echo "ran $1"; echo "$1" > "$RUN_DIR/$1.txt"; }}
fail() {{ echo "about to fail"; (exit 3); echo "ran past the failure"; }}
slow() {{ echo started; touch "$RUN_DIR/started"; sleep 60; echo "slept through"; }}
{stages}
run_folder_publish {os.path.join(self.results, publish_to)}
stage_summary {os.path.join(self.results, publish_to, "logs")}
""")
        return script

    def leftovers(self):
        return [n for n in os.listdir(self.results) if n.startswith(".")]

    def test_a_failed_stage_is_reported_and_the_stages_not_after_it_still_run(self):
        r = run("bash", self.pipeline("""run_stage a -- ok a
run_stage b a -- fail
run_stage c b -- ok c
run_stage d c -- ok d
run_stage e a -- ok e""", publish_to="host.failed"))
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("ran a", r.stdout)
        self.assertIn("ran e", r.stdout)
        self.assertNotIn("ran c", r.stdout)
        self.assertNotIn("ran d", r.stdout)
        self.assertNotIn("ran past the failure", r.stdout, "a stage stops at its first failing command")
        failures = [line for line in r.stderr.splitlines() if "failed (exit code" in line]
        self.assertEqual(len(failures), 1, r.stderr)
        self.assertRegex(failures[0], r"^poolbench: stage b failed \(exit code 3\); its output is in \S+/logs/b\.log$")
        self.assertIn("stage d skipped: b failed", r.stderr)
        summary = r.stdout[r.stdout.index("poolbench: stages"):].splitlines()[1:]
        failed = os.path.join(self.results, "host.failed")
        self.assertEqual([line.split() for line in summary],
                         [["a", "ok"], ["b", "failed", "(exit", "code", "3,", "log", f"{failed}/logs/b.log)"],
                          ["c", "skipped", "because", "b", "failed"], ["d", "skipped", "because", "b", "failed"],
                          ["e", "ok"]])
        with open(os.path.join(failed, "logs", "b.log")) as f:
            self.assertEqual(f.read(), "about to fail\n")
        self.assertEqual(sorted(os.listdir(failed)), ["a.txt", "e.txt", "logs"])
        self.assertEqual(os.listdir(self.published), ["old.txt"], "the published run stays whole")
        self.assertEqual(self.leftovers(), [])

    def test_a_run_whose_stages_all_succeed_replaces_the_published_one(self):
        r = run("bash", self.pipeline("""run_stage a -- ok a
run_stage b a -- ok b"""))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(os.listdir(self.published)), ["a.txt", "b.txt", "logs"])
        self.assertEqual(sorted(os.listdir(os.path.join(self.published, "logs"))), ["a.log", "b.log"])
        self.assertEqual(self.leftovers(), [])

    def test_a_new_run_keeps_the_studies_made_by_hand(self):
        os.makedirs(os.path.join(self.published, "studies"))
        with open(os.path.join(self.published, "studies", "open_loop.json"), "w") as f:
            f.write("{}\n")
        r = run("bash", self.pipeline("run_stage a -- ok a"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(os.listdir(self.published)), ["a.txt", "logs", "studies"])
        self.assertEqual(os.listdir(os.path.join(self.published, "studies")), ["open_loop.json"])
        self.assertEqual(self.leftovers(), [])

    def test_an_interrupt_stops_the_run_and_removes_its_folder(self):
        script = self.pipeline("""run_stage a -- ok a
run_stage slow a -- slow
run_stage after -- ok after""")
        p = subprocess.Popen(["bash", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
        try:
            deadline = time.monotonic() + 30
            while not any(os.path.exists(os.path.join(self.results, n, "started")) for n in self.leftovers()):
                self.assertLess(time.monotonic(), deadline, "the slow stage never started")
                time.sleep(0.05)
            os.killpg(p.pid, signal.SIGINT)  # as Ctrl-C does: to the whole process group
            out, err = p.communicate(timeout=30)
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.assertEqual(p.returncode, 130, err)
        self.assertNotIn("slept through", out)
        self.assertNotIn("ran after", out)
        self.assertIn("interrupted", err)
        self.assertEqual(os.listdir(self.results), ["host"])
        self.assertEqual(os.listdir(self.published), ["old.txt"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
