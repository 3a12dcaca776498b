"""CTest check of the JSON vocabulary outside C++: every key scripts/plot.py,
scripts/perf_report.py and scripts/py_baseline.py read (or py_baseline.py writes) is one
`poolbench schema --json` defines, every counter README.md's JSON paragraph names is one
too, and README.md names every counter the schema has. POOLBENCH_BINARY names the binary."""

import ast
import json
import os
import re
import subprocess
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = [os.path.join(ROOT, "scripts", name) for name in ("plot.py", "perf_report.py", "py_baseline.py",
                                                           "tune_accuracy.py")]
README = os.path.join(ROOT, "README.md")
POOLBENCH = os.environ.get("POOLBENCH_BINARY", "")

# Keys the scripts use that are not poolbench's, by whose they are.
NOT_POOLBENCH_KEYS = {
    # Google Benchmark's own fields of an entry.
    "name", "run_name", "run_type", "real_time", "cpu_time", "time_unit", "iterations", "error_occurred",
    "error_message", "aggregate_name", "repetitions", "family_index", "per_family_instance_index", "threads",
    "repetition_index",
    # Google Benchmark's own context keys.
    "date", "host_name", "executable", "num_cpus", "mhz_per_cpu", "cpu_scaling_enabled", "caches", "load_avg",
    "library_build_type", "library_version", "json_schema_version",
    # The sections of run and tune files.
    "context", "benchmarks", "tuning", "sweep",
    # py_baseline.py's own context field, and the environment variable naming the binary.
    "python_version", "POOLBENCH_BINARY",
    # scripts/wakeup_trace.py's files, which perf_report.py reads beside the runs.
    "wakeup_trace", "pools", "wakeups", "cross_cpu", "command",
    # perf_report.py's own notes on an entry, and the probe names it looks up in "_probes".
    "_probes", "_raw", "_repetitions", "pipe_round_trip", "thread_create_join", "condvar_round_trip",
    # The trace file plot.py draws (`poolbench run --trace`): Chrome's trace-event fields, and
    # poolbench's in it (otherData's runs, a task slice's args, the counter tracks' names).
    "traceEvents", "otherData", "ph", "cat", "pid", "tid", "ts", "dur", "args", "runs", "run", "benchmark",
    "executor", "iteration", "start_us", "end_us", "stopped_at_limit", "worker_tracks", "queued_us", "handback_us", "busy workers",
    "queue depth",
}

# Builtins whose result holds values, not JSON objects: `"socket" in sorted(...)` reads no key.
VALUE_BUILDERS = {"sorted", "set", "list", "tuple", "str", "zip", "range", "enumerate"}
LITERAL_CONTAINERS = (ast.Dict, ast.DictComp, ast.Set, ast.SetComp, ast.List, ast.ListComp, ast.Tuple)
SCOPES = (ast.FunctionDef, ast.Lambda)


def poolbench(*args):
    if not POOLBENCH:
        raise unittest.SkipTest("POOLBENCH_BINARY is not set")
    result = subprocess.run([POOLBENCH, *args], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise AssertionError(f"poolbench {' '.join(args)} exited {result.returncode}: {result.stderr}")
    return result.stdout


class KeyReader:
    """The string keys one script reads from JSON-like objects: `x["k"]`, `x.get("k")` and
    `"k" in x`, and where the key is a variable, the string constants it can hold, traced
    through assignments, loops over literal tuples and the arguments at call sites. Local
    literal dicts (COLORS, SCENARIO_UNITS) and builtins' results (sorted(...)) are no JSON."""

    def __init__(self, path):
        with open(path) as f:
            self.tree = ast.parse(f.read(), path)
        self.scope_of = {}
        self._scope(self.tree, self.tree)
        self.functions = {n.name: n for n in ast.walk(self.tree) if isinstance(n, ast.FunctionDef)}
        self.calls = [n for n in ast.walk(self.tree) if isinstance(n, ast.Call)]

    def _scope(self, node, scope):
        for child in ast.iter_child_nodes(node):
            self.scope_of[child] = scope
            self._scope(child, child if isinstance(child, SCOPES) else scope)

    def read_keys(self):
        keys = set()
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and self._is_data(node.value):
                keys |= self.values(node.slice, self.scope_of[node])
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" \
                    and node.args and self._is_data(node.func.value):
                keys |= self.values(node.args[0], self.scope_of[node])
            elif isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn)) \
                    and self._is_data(node.comparators[0]):
                keys |= self.values(node.left, self.scope_of[node])
        return keys

    def written_keys(self):
        """The string keys of each dict literal in the script, one list per literal."""
        return [[k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
                for node in ast.walk(self.tree) if isinstance(node, ast.Dict)]

    def _is_data(self, expr):
        if isinstance(expr, ast.Call):
            return isinstance(expr.func, ast.Attribute) and expr.func.attr == "get"
        if isinstance(expr, ast.Name):
            bound = [value for value, _ in self._bindings(expr.id, self.scope_of[expr]) if value is not None]
            return not any(isinstance(v, LITERAL_CONTAINERS) or (
                isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id in VALUE_BUILDERS) for v in bound)
        return isinstance(expr, (ast.Attribute, ast.Subscript))

    def values(self, expr, scope, seen=None):
        """The string constants `expr` can evaluate to, as far as the script shows."""
        seen = set() if seen is None else seen
        if isinstance(expr, ast.Constant):
            return {expr.value} if isinstance(expr.value, str) else set()
        if isinstance(expr, ast.IfExp):
            return self.values(expr.body, scope, seen) | self.values(expr.orelse, scope, seen)
        if isinstance(expr, ast.BoolOp):
            return set().union(*(self.values(v, scope, seen) for v in expr.values))
        if isinstance(expr, ast.Name) and (expr.id, scope) not in seen:
            seen.add((expr.id, scope))
            out = set()
            for value, value_scope in self._bindings(expr.id, scope, seen):
                if value is not None:
                    out |= self.values(value, value_scope, seen)
            return out
        return set()

    def _bindings(self, name, scope, seen=None):
        """(expression, its scope) pairs `name` may hold, from the innermost scope binding it."""
        seen = set() if seen is None else seen
        while True:
            found = []
            for node in ast.walk(scope):
                if self.scope_of.get(node) is not scope and node is not scope:
                    continue
                if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                    found.append((node.value, scope))
                elif isinstance(node, (ast.For, ast.comprehension)):
                    found += self._loop_bindings(name, node.target, node.iter, scope, seen)
            if isinstance(scope, SCOPES) and name in [a.arg for a in scope.args.args]:
                found += self._argument_bindings(name, scope)
            if found or scope is self.tree:
                return found
            scope = self.scope_of[scope]

    def _loop_bindings(self, name, target, iterable, scope, seen):
        if isinstance(target, ast.Name) and target.id == name:
            index = None
        elif isinstance(target, ast.Tuple) and any(isinstance(t, ast.Name) and t.id == name for t in target.elts):
            index = next(i for i, t in enumerate(target.elts) if isinstance(t, ast.Name) and t.id == name)
        else:
            return []
        return [(element, element_scope) for element, element_scope in self._elements(iterable, scope, index, seen)]

    def _elements(self, collection, scope, index, seen):
        """The expressions a loop over `collection` binds (element `index` of each tuple)."""
        if isinstance(collection, (ast.List, ast.Tuple, ast.Set)):
            if index is None:
                return [(e, scope) for e in collection.elts]
            return [(e.elts[index], scope) for e in collection.elts
                    if isinstance(e, ast.Tuple) and index < len(e.elts)]
        if isinstance(collection, ast.Name) and (collection.id, scope, "elements") not in seen:
            seen.add((collection.id, scope, "elements"))
            out = []
            for value, value_scope in self._bindings(collection.id, scope, seen):
                if value is not None:
                    out += self._elements(value, value_scope, index, seen)
            return out
        return []

    def _argument_bindings(self, name, function):
        if isinstance(function, ast.Lambda):
            return []
        params = [a.arg for a in function.args.args]
        position = params.index(name)
        found = []
        for call in self.calls:
            called = call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", None)
            if called != function.name:
                continue
            shift = 1 if params[0] == "self" and isinstance(call.func, ast.Attribute) else 0
            if 0 <= position - shift < len(call.args) and not isinstance(call.args[position - shift], ast.Starred):
                found.append((call.args[position - shift], self.scope_of[call]))
            found += [(k.value, self.scope_of[call]) for k in call.keywords if k.arg == name]
        return found


def readme_counters(text):
    """Backticked key names in `text`, with README's shorthand spelled out:
    `latency_p50_us`/`p90`/`max` names latency_p90_us and latency_max_us too."""
    names = set()
    for match in re.finditer(r"`([a-z][a-z0-9_]*)(?:: [^`]+)?`((?:/`[a-z0-9]+`)*)", text):
        base, shorthand = match.group(1), match.group(2)
        names.add(base)
        for suffix in re.findall(r"`([a-z0-9]+)`", shorthand):
            names.add(re.sub(r"_p50_", f"_{suffix}_", base))
    return names


class SchemaNames(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.schema = json.loads(poolbench("schema", "--json"))
        cls.defined = {key["name"] for key in cls.schema}
        cls.counters = {key["name"] for key in cls.schema if key["where"] == "counter"}
        listed = [line.split() for line in poolbench("list").splitlines()]
        cls.executors_and_scenarios = {words[1] for words in listed if len(words) > 1}
        with open(README) as f:
            cls.readme = f.read()

    def test_every_key_a_script_reads_is_defined(self):
        for path in SCRIPTS:
            with self.subTest(script=os.path.basename(path)):
                used = KeyReader(path).read_keys()
                self.assertTrue(used & self.defined, "found no schema key in the script: is the reader broken?")
                undefined = sorted(used - self.defined - NOT_POOLBENCH_KEYS)
                self.assertEqual(undefined, [], f"{os.path.basename(path)} reads keys `poolbench schema` does not "
                                                f"define: {', '.join(undefined)}")

    def test_every_key_py_baseline_writes_is_defined(self):
        written = [keys for keys in KeyReader(SCRIPTS[2]).written_keys() if set(keys) & self.defined]
        self.assertTrue(written, "found no object py_baseline.py writes")
        undefined = sorted({k for keys in written for k in keys} - self.defined - NOT_POOLBENCH_KEYS)
        self.assertEqual(undefined, [], f"py_baseline.py writes keys `poolbench schema` does not define: "
                                        f"{', '.join(undefined)}")

    def json_paragraph(self):
        paragraphs = [p for p in self.readme.split("\n\n") if "Socket entries add" in p]
        self.assertEqual(len(paragraphs), 1, "README.md has no one paragraph with 'Socket entries add'")
        return paragraphs[0]

    def test_every_counter_readme_lists_is_defined(self):
        named = readme_counters(self.json_paragraph()) - self.executors_and_scenarios
        self.assertTrue(named, "README.md's JSON paragraph names no counter")
        undefined = sorted(named - self.counters)
        self.assertEqual(undefined, [], f"README.md's JSON paragraph names counters `poolbench schema` does not "
                                        f"define: {', '.join(undefined)}")

    def test_readme_names_every_counter(self):
        missing = sorted(self.counters - readme_counters(self.readme))
        self.assertEqual(missing, [], f"README.md does not name (in backticks) these counters of `poolbench "
                                      f"schema`: {', '.join(missing)}")


if __name__ == "__main__":
    unittest.main()
