#!/usr/bin/python3
"""Run weft's benchmarks beside their Go, Boost.Fiber and plain-threads twins
and print one comparison table.

All suites run in one invocation on the same machine, interleaved (by default
every benchmark is run once per suite, suite after suite, and the whole is
repeated --repetitions times), so that noise hits every side alike; the table
reports the median of the repetitions. Raw outputs, merged JSON and the table
go to an output folder (default bench/results/<timestamp>/).

    /usr/bin/python3 bench/compare.py                       # the default table
    /usr/bin/python3 bench/compare.py --against OLD/weft.json   # + weft-vs-weft

See bench/README.md for what each benchmark does and how to read the table.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent

# The default table, in order. Million is added by --million.
BENCHMARKS = ["PingPong", "SPSC", "MPMC4x4", "Select2Ready", "SelectDefault",
              "SpawnJoin", "Yield", "Blocked100k", "Blocked100kSelect", "Blocked100kWaitGroup",
              # sync, context and rate (issue 3: bench/weft/sync_bench.cpp and
              # bench/go/sync_bench_test.go; weft and Go only)
              "MutexUncontended", "Mutex4Way", "RWMutexReadMostly", "AtomicValueLoad", "AtomicValueBorrow", "AtomicValueBorrowAlone", "AtomicValueLoadAlone",
              "AtomicValueLoadShared", "AtomicValueLoadSharedAlone", "SharedPtrBuildDrop",
              "RWMutexRead", "RWMutexReadCycles", "WaitGroup", "ContextWithCancel", "OnceFast", "RateAllow",
              "RateAllowN"]
# Benchmarks whose op is a whole batch of goroutines: their time is shown per
# goroutine and they report resident memory per goroutine. (Every run is a
# fresh process for one benchmark and one procs value, which also makes the
# memory figure a cold one.)
BATCH = {"Blocked100k": 100_000, "Blocked100kSelect": 100_000, "Blocked100kWaitGroup": 100_000,
         "Million": 1_000_000}

SUITES = ["weft", "go", "boost_fiber", "threads"]
LABEL = {"weft": "weft", "go": "Go", "boost_fiber": "Boost.Fiber", "threads": "threads"}

TIME_UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
# A Google Benchmark JSON entry's own fields; any other number is a counter
# (rss_per_g has a table of its own).
GBENCH_FIELDS = {"family_index", "per_family_instance_index", "repetitions", "repetition_index",
                 "threads", "iterations", "real_time", "cpu_time", "bytes_per_second",
                 "items_per_second", "rss_per_g"}
# Go metrics that are not the benchmark's own counters (rss_bytes/g and
# cpu-ns/op have tables of their own).
GO_FIELDS = {"ns/op", "cpu-ns/op", "rss_bytes/g", "B/op", "allocs/op", "MB/s"}
GBENCH_NAME = re.compile(r"^BM_(?P<name>[A-Za-z0-9_]+)/procs:(?P<procs>\d+)(?:/|$)")
GO_LINE = re.compile(r"^Benchmark(?P<name>[^\s-]+)(?:-(?P<procs>\d+))?\s+(?P<n>\d+)\s+(?P<rest>.+)$")


class Failure(Exception):
    """An error the user can act on; printed without a traceback."""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Suites


class Suite:
    """One benchmark binary: a Google Benchmark executable or the Go twins."""

    def __init__(self, key, path, args):
        self.key = key
        self.path = path
        self.args = args
        self.available = set()  # (name without BM_/Benchmark, procs or None for any)

    def has(self, bench, procs=None):
        """Whether this suite registers `bench` (at `procs`, if given)."""
        return any(name == bench and (procs is None or p is None or p == procs)
                   for name, p in self.available)

    @property
    def label(self):
        return LABEL[self.key]

    def command(self, bench, procs, out_json):
        """The command that runs `bench` at `procs`."""
        raise NotImplementedError

    def parse(self, raw_path):
        """[(bench, procs, ns_per_op, rss_per_g or None, cpu_ns_per_op or None,
        counters)] from one run's output. cpu_ns_per_op is the process's CPU time (all
        threads) per op, for the benchmarks that measure it (weft's:
        MeasureProcessCPUTime; Go's: the cpu-ns/op metric). counters: the benchmark's
        own other figures by name (weft's state.counters, Go's ReportMetric), such as
        how many writes a reader benchmark's writer got in per op."""
        raise NotImplementedError


class GbenchSuite(Suite):
    kind = "gbench"

    def discover(self):
        out = run_checked([str(self.path), "--benchmark_list_tests=true"], f"listing {self.path}")
        for line in out.splitlines():
            m = GBENCH_NAME.match(line.strip())
            if m:
                self.available.add((m["name"], int(m["procs"])))

    def command(self, bench, procs, out_json):
        min_time = 0.01 if bench == "Million" else self.args.time
        return [str(self.path),
                f"--benchmark_filter=^BM_{bench}/procs:{procs}(/|$)",
                f"--benchmark_min_time={min_time}",
                "--benchmark_format=console",
                f"--benchmark_out={out_json}",
                "--benchmark_out_format=json"]

    def parse(self, raw_path):
        with open(raw_path) as f:
            data = json.load(f)
        rows = []
        for e in data.get("benchmarks", []):
            if e.get("run_type") == "aggregate":
                continue
            m = GBENCH_NAME.match(e["name"])
            if not m:
                continue
            if e.get("error_occurred"):
                raise Failure(f"{self.label}: {e['name']} failed: {e.get('error_message', '?')}")
            unit = TIME_UNIT_NS[e.get("time_unit", "ns")]
            ns = e["real_time"] * unit
            # Only a process-wide CPU time compares with Go's cpu-ns/op (by default
            # Google Benchmark measures the timing thread's alone).
            cpu = e["cpu_time"] * unit if "/process_time" in e["name"] else None
            counters = {k: float(v) for k, v in e.items()
                        if k not in GBENCH_FIELDS and isinstance(v, (int, float))
                        and not isinstance(v, bool)}
            rows.append((m["name"], int(m["procs"]), ns, e.get("rss_per_g"), cpu, counters))
        return rows


class GoSuite(Suite):
    kind = "go"

    def __init__(self, key, path, args):
        super().__init__(key, path, args)
        self.go = shutil.which("go")
        if not self.go:
            raise Failure("`go` not found on PATH: install Go >= 1.19 "
                          "(Debian/Ubuntu: apt-get install golang-go), or pass --no-go.")
        self.version = None

    def build(self):
        go = self.go
        build_dir = Path(self.args.go_build_dir).resolve()
        build_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ,
                   GOCACHE=str(build_dir / "cache"), GOPATH=str(build_dir / "path"),
                   GOPROXY="off", GOFLAGS="", GO111MODULE="on", GOENV="off",
                   GOTOOLCHAIN="local", GOTELEMETRY="off", CGO_ENABLED="0")
        self.path = build_dir / "weftbench.test"
        log(f"building the Go twins: go test -c ({BENCH_DIR / 'go'}) -> {self.path}")
        proc = subprocess.run([go, "test", "-c", "-o", str(self.path), "."],
                              cwd=BENCH_DIR / "go", env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise Failure(f"building the Go benchmarks failed:\n{proc.stdout}{proc.stderr}")
        self.version = subprocess.run([go, "version"], capture_output=True,
                                      text=True).stdout.strip()

    def discover(self):
        out = run_checked([str(self.path), "-test.list", "^Benchmark"], "listing the Go benchmarks")
        for line in out.splitlines():
            if line.startswith("Benchmark"):
                # Go runs every benchmark at any GOMAXPROCS.
                self.available.add((line[len("Benchmark"):].strip(), None))

    def command(self, bench, procs, out_json):
        benchtime = "1x" if bench == "Million" else f"{self.args.time}s"
        return [str(self.path), "-test.run", "^$", "-test.bench", f"^Benchmark{bench}$",
                "-test.cpu", str(procs),
                "-test.benchtime", benchtime, "-test.count", "1"]

    def parse(self, raw_path):
        rows = []
        for line in Path(raw_path).read_text().splitlines():
            m = GO_LINE.match(line.strip())
            if not m:
                continue
            tokens = m["rest"].split()
            metrics = {tokens[i + 1]: float(tokens[i]) for i in range(0, len(tokens) - 1, 2)}
            if "ns/op" not in metrics:
                continue
            procs = int(m["procs"]) if m["procs"] else 1
            counters = {k: v for k, v in metrics.items() if k not in GO_FIELDS}
            rows.append((m["name"], procs, metrics["ns/op"], metrics.get("rss_bytes/g"),
                         metrics.get("cpu-ns/op"), counters))
        return rows


def run_checked(cmd, what):
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except OSError as e:
        raise Failure(f"{what}: cannot run {cmd[0]}: {e}")
    if proc.returncode != 0:
        raise Failure(f"{what}: {' '.join(cmd)} exited with {proc.returncode}:\n{proc.stderr[-2000:]}")
    return proc.stdout


MISSING_HINT = {
    "weft": ("weft's benchmark binary",
             "build it (cmake --preset release && cmake --build --preset release "
             "--target weft_bench), pass --weft PATH, or pass --no-weft to run only the baselines"),
    "boost_fiber": ("the Boost.Fiber baseline",
                    "build it (cmake --build --preset release --target weft_bench_boost_fiber; "
                    "needs libboost-fiber-dev and libbenchmark-dev), pass --boost-fiber PATH, "
                    "or pass --no-boost-fiber"),
    "threads": ("the plain-threads baseline",
                "build it (cmake --build --preset release --target weft_bench_threads; "
                "needs libbenchmark-dev), pass --threads PATH, or pass --no-threads"),
}


def make_suites(args):
    build = Path(args.build_dir)
    if not build.is_absolute():
        build = REPO_ROOT / build
    paths = {
        "weft": args.weft or build / "bench" / "weft" / "weft_bench",
        "boost_fiber": args.boost_fiber or build / "bench" / "weft_bench_boost_fiber",
        "threads": args.threads or build / "bench" / "weft_bench_threads",
    }
    suites = []
    for key in SUITES:
        if getattr(args, f"no_{key}"):
            continue
        if key == "go":
            suites.append(GoSuite(key, None, args))
            continue
        path = Path(paths[key]).resolve()
        if not (path.is_file() and os.access(path, os.X_OK)):
            what, hint = MISSING_HINT[key]
            raise Failure(f"{what} not found at {path}: {hint}.")
        suites.append(GbenchSuite(key, path, args))
    if not suites:
        raise Failure("nothing to run: every suite was turned off")
    return suites


# --------------------------------------------------------------------------
# Running


def schedule(suites, benches, args):
    """Yields (repetition, suite, bench, procs) in the order they run."""
    if args.order == "aabb":
        for s in suites:
            for r in range(args.repetitions):
                for bench in benches:
                    for procs in args.procs:
                        if s.has(bench, procs):
                            yield r, s, bench, procs
        return
    for r in range(args.repetitions):
        order = list(suites)
        if args.order == "abba" and r % 2 == 1:
            order.reverse()
        if args.granularity == "benchmark":
            for bench in benches:
                for procs in args.procs:
                    for s in order:
                        if s.has(bench, procs):
                            yield r, s, bench, procs
        else:
            for s in order:
                for bench in benches:
                    for procs in args.procs:
                        if s.has(bench, procs):
                            yield r, s, bench, procs


def run_one(out_dir, r, suite, bench, procs, timeout):
    """Runs one job. Returns (rows, raw output path, seconds); rows is None
    when the run took longer than `timeout` seconds and was killed."""
    tag = f"r{r + 1}-{suite.key}-{bench}-p{procs}"
    raw_dir = out_dir / "raw"
    txt = raw_dir / f"{tag}.txt"
    js = raw_dir / f"{tag}.json"
    cmd = suite.command(bench, procs, js)
    t0 = time.monotonic()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        def text(b):
            return b.decode(errors="replace") if isinstance(b, bytes) else (b or "")
        txt.write_text(f"$ {' '.join(cmd)}\n{text(e.stdout)}{text(e.stderr)}\n"
                       f"[killed by compare.py after {timeout} s]\n")
        return None, txt, time.monotonic() - t0
    txt.write_text(f"$ {' '.join(cmd)}\n{proc.stdout}{proc.stderr}")
    if proc.returncode != 0:
        raise Failure(f"{suite.label} {bench} (procs {procs}) exited with {proc.returncode}; "
                      f"output in {txt}:\n{(proc.stdout + proc.stderr)[-3000:]}")
    rows = suite.parse(js if suite.kind == "gbench" else txt)
    if not rows:
        raise Failure(f"{suite.label} {bench} (procs {procs}) printed no result; output in {txt}")
    return rows, (js if suite.kind == "gbench" else txt), time.monotonic() - t0


# --------------------------------------------------------------------------
# Reporting


def median(xs):
    return statistics.median(xs) if xs else None


def best(xs):
    """The fastest repetition: on a host that runs in two speeds, the best of
    each suite compares the two at the same speed (see bench/README.md)."""
    return min(xs) if xs else None


def spread(xs):
    """Half the min-max range as a fraction of the median."""
    if not xs or len(xs) < 2:
        return None
    m = statistics.median(xs)
    return (max(xs) - min(xs)) / 2 / m if m else None


def fmt_ns(x):
    if x is None:
        return "—"
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def fmt_count(x):
    if x is None:
        return "—"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def fmt_bytes(x):
    return "—" if x is None else f"{x:,.0f}"


def fmt_cell(xs, fmt):
    m = median(xs)
    if m is None:
        return "—"
    s = spread(xs)
    return fmt(m) + (f" ±{s * 100:.0f}%" if s is not None else "")


def fmt_ratio(a, b):
    if a is None or b is None or b == 0:
        return "—"
    r = a / b
    if r >= 100:
        return f"{r:.0f}×"
    if r >= 10:
        return f"{r:.1f}×"
    return f"{r:.2f}×" if r >= 0.1 else f"{r:.3f}×"


def build_tables(results, benches, suites, args, timeouts):
    """results[(suite, bench, procs)] = {"ns": [...], "rss": [...]};
    timeouts[(suite, bench, procs)] = runs killed for running too long."""
    present = {s.key for s in suites}

    def get(key, bench, procs, field):
        return results.get((key, bench, procs), {}).get(field, [])

    lines = []
    time_cols = []
    for key in SUITES:
        if key in present:
            time_cols.append(key)
    header = ["benchmark", "procs"]
    for key in time_cols:
        header.append(f"{LABEL[key]} ns/op")
        if key == "go" and "weft" in present:
            header += ["weft/Go", "best/best"]
        if key == "boost_fiber" and "weft" in present:
            header.append("weft/Boost")
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join(["---", "--:"] + ["--:"] * (len(header) - 2)) + "|")
    for bench in benches:
        for procs in args.procs:
            per_g = BATCH.get(bench)
            row_ns = {}
            for key in time_cols:
                xs = get(key, bench, procs, "ns")
                row_ns[key] = [x / per_g for x in xs] if per_g else xs
            if not any(row_ns.values()) and not any(
                    (k, bench, procs) in timeouts for k in time_cols):
                continue
            name = f"{bench} (per goroutine)" if per_g else bench
            cells = [name, str(procs)]
            weft_m = median(row_ns.get("weft", []))
            for key in time_cols:
                cell = fmt_cell(row_ns[key], fmt_ns)
                if (key, bench, procs) in timeouts:
                    cell += f" ({timeouts[(key, bench, procs)]} killed)"
                cells.append(cell)
                if key == "go" and "weft" in present:
                    cells.append(fmt_ratio(weft_m, median(row_ns[key])))
                    cells.append(fmt_ratio(best(row_ns.get("weft", [])), best(row_ns[key])))
                if key == "boost_fiber" and "weft" in present:
                    cells.append(fmt_ratio(weft_m, median(row_ns[key])))
            lines.append("| " + " | ".join(cells) + " |")
    time_table = "\n".join(lines)

    mem_cols = [k for k in ("weft", "go", "boost_fiber") if k in present]
    lines = []
    header = ["benchmark", "procs"]
    for key in mem_cols:
        header.append(f"{LABEL[key]} B/g")
        if key in ("go", "boost_fiber") and "weft" in present:
            header.append("weft/" + ("Go" if key == "go" else "Boost"))
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join(["---", "--:"] + ["--:"] * (len(header) - 2)) + "|")
    any_mem = False
    for bench in benches:
        if bench not in BATCH:
            continue
        for procs in args.procs:
            row = {k: [x for x in get(k, bench, procs, "rss") if x is not None] for k in mem_cols}
            if not any(row.values()):
                continue
            any_mem = True
            cells = [f"{bench} RSS per blocked goroutine", str(procs)]
            weft_m = median(row.get("weft", []))
            for key in mem_cols:
                cells.append(fmt_cell(row[key], fmt_bytes))
                if key in ("go", "boost_fiber") and "weft" in present:
                    cells.append(fmt_ratio(weft_m, median(row[key])))
            lines.append("| " + " | ".join(cells) + " |")
    mem_table = "\n".join(lines) if any_mem else ""

    # Process CPU time per op, where a suite reports it (weft's and Go's sync,
    # context and rate benchmarks): on a loaded machine it is much steadier
    # than wall time, since time spent waiting for a CPU is not counted.
    cpu_cols = [k for k in ("weft", "go") if k in present]
    lines = []
    header = ["benchmark", "procs"]
    for key in cpu_cols:
        header.append(f"{LABEL[key]} CPU ns/op")
        if key == "go" and "weft" in present:
            header.append("weft/Go")
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join(["---", "--:"] + ["--:"] * (len(header) - 2)) + "|")
    any_cpu = False
    for bench in benches:
        for procs in args.procs:
            row = {k: get(k, bench, procs, "cpu") for k in cpu_cols}
            if not any(row.values()):
                continue
            any_cpu = True
            cells = [bench, str(procs)]
            weft_m = median(row.get("weft", []))
            for key in cpu_cols:
                cells.append(fmt_cell(row[key], fmt_ns))
                if key == "go" and "weft" in present:
                    cells.append(fmt_ratio(weft_m, median(row[key])))
            lines.append("| " + " | ".join(cells) + " |")
    cpu_table = "\n".join(lines) if any_cpu else ""

    # Each side's own counters: what a time cannot say, e.g. how many writes
    # the writer of a reader benchmark got in per op (weft and Go may do
    # different amounts of work in the same benchmark).
    cnt_cols = [k for k in ("weft", "go") if k in present]
    lines = ["| benchmark | procs | counter | " + " | ".join(LABEL[k] for k in cnt_cols) + " |",
             "|" + "|".join(["---", "--:", "---"] + ["--:"] * len(cnt_cols)) + "|"]
    any_cnt = False
    for bench in benches:
        for procs in args.procs:
            per_key = {k: results.get((k, bench, procs), {}).get("counters", {}) for k in cnt_cols}
            names = sorted(set().union(*per_key.values()))
            for c in names:
                any_cnt = True
                cells = [bench, str(procs), c]
                cells += [fmt_cell(per_key[k].get(c, []), fmt_count) for k in cnt_cols]
                lines.append("| " + " | ".join(cells) + " |")
    counter_table = "\n".join(lines) if any_cnt else ""
    return time_table, mem_table, cpu_table, counter_table


def merge_gbench(json_paths, reps, out_path):
    """One Google Benchmark JSON holding every repetition (and mean / median /
    stddev aggregates) of one suite, in the shape compare.py expects."""
    merged = None
    by_name = {}
    for r, path in json_paths:
        with open(path) as f:
            data = json.load(f)
        if merged is None:
            merged = {"context": data.get("context", {}), "benchmarks": []}
            merged["context"]["weft_compare_repetitions"] = reps
        for e in data.get("benchmarks", []):
            if e.get("run_type") == "aggregate":
                continue
            e = dict(e, repetitions=reps, repetition_index=r)
            merged["benchmarks"].append(e)
            by_name.setdefault(e["name"], []).append(e)
    if merged is None:
        return None
    for name, es in by_name.items():
        if len(es) < 2:
            continue
        for agg, fn in (("mean", statistics.mean), ("median", statistics.median),
                        ("stddev", statistics.stdev)):
            a = {k: v for k, v in es[0].items()
                 if k not in ("real_time", "cpu_time", "iterations", "repetition_index")}
            a.update(name=f"{name}_{agg}", run_name=name, run_type="aggregate",
                     aggregate_name=agg, iterations=len(es),
                     real_time=fn([e["real_time"] for e in es]),
                     cpu_time=fn([e["cpu_time"] for e in es]))
            merged["benchmarks"].append(a)
    with open(out_path, "w") as f:
        json.dump(merged, f, indent=2)
    return out_path


def restrict_to_common(old_path, new_path, out_dir):
    """Copies of two Google Benchmark JSONs holding only the benchmarks both
    ran, so that compare.py's OVERALL_GEOMEAN compares like with like."""
    try:
        with open(old_path) as f:
            old = json.load(f)
    except (OSError, ValueError) as e:
        raise Failure(f"--against {old_path}: not a Google Benchmark JSON file ({e})")
    with open(new_path) as f:
        new = json.load(f)

    def run_name(e):
        return e.get("run_name", e["name"])

    common = {run_name(e) for e in old.get("benchmarks", [])} & \
        {run_name(e) for e in new.get("benchmarks", [])}
    if not common:
        raise Failure(f"--against {old_path}: no benchmark in common with this run")
    paths = []
    for tag, data in (("old", old), ("new", new)):
        data = dict(data, benchmarks=[e for e in data["benchmarks"] if run_name(e) in common])
        path = out_dir / f"against-{tag}.json"
        path.write_text(json.dumps(data, indent=2))
        paths.append(path)
    return paths


def gbench_compare(args, old, new, out_txt, title):
    script = Path(args.gbench_compare)
    if not script.is_file():
        raise Failure(f"Google Benchmark's compare.py not found at {script}: install "
                      "libbenchmark-dev (it ships /usr/share/benchmark/compare.py) or pass "
                      "--gbench-compare PATH.")
    cmd = ["/usr/bin/python3", str(script), "--no-color", "benchmarks", str(old), str(new)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    text = f"$ {' '.join(cmd)}\n{proc.stdout}{proc.stderr}"
    Path(out_txt).write_text(text)
    if proc.returncode != 0:
        hint = ""
        if "scipy" in proc.stderr:
            hint = " (it needs scipy: apt-get install python3-scipy)"
        raise Failure(f"{title}: compare.py failed{hint}:\n{proc.stderr[-2000:]}")
    return proc.stdout


def machine_info():
    info = {"host": platform.node(), "kernel": platform.release(), "cpus": os.cpu_count()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        rev = subprocess.run(["git", "-C", str(REPO_ROOT), "describe", "--always", "--dirty"],
                             capture_output=True, text=True).stdout.strip()
        info["git"] = rev
    except OSError:
        pass
    return info


# --------------------------------------------------------------------------


def parse_args(argv):
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build-dir", default="build/release",
                   help="CMake build folder holding bench/ (default: build/release, relative "
                        "to the repository root)")
    p.add_argument("--weft", help="weft's benchmark binary (default: BUILD/bench/weft/weft_bench)")
    p.add_argument("--boost-fiber", help="Boost.Fiber baseline "
                   "(default: BUILD/bench/weft_bench_boost_fiber)")
    p.add_argument("--threads", help="plain-threads baseline "
                   "(default: BUILD/bench/weft_bench_threads)")
    for key in SUITES:
        p.add_argument(f"--no-{key.replace('_', '-')}", dest=f"no_{key}", action="store_true",
                       help=f"do not run the {LABEL[key]} suite")
    p.add_argument("--go-build-dir", default=str(REPO_ROOT / "build" / "go"),
                   help="where the Go test binary, GOCACHE and GOPATH go (default: build/go)")
    p.add_argument("-r", "--repetitions", type=int, default=3,
                   help="runs of every benchmark per suite; the table shows the median "
                        "(default: 3)")
    p.add_argument("-t", "--time", type=float, default=0.2,
                   help="seconds per benchmark run: --benchmark_min_time for Google "
                        "Benchmark, -benchtime for Go (default: 0.2)")
    p.add_argument("--order", choices=["abab", "abba", "aabb"], default="abab",
                   help="abab: each repetition runs every suite in turn (default); abba: the "
                        "same, with the suite order reversed every other repetition; aabb: "
                        "all repetitions of one suite, then the next (no interleaving)")
    p.add_argument("--granularity", choices=["benchmark", "suite"], default="benchmark",
                   help="with abab/abba, interleave the suites per benchmark (default: run "
                        "PingPong on every suite, then SPSC, ...) or per suite (all of one "
                        "suite's benchmarks, then the next suite's)")
    p.add_argument("-b", "--benchmarks",
                   help="comma-separated subset, e.g. PingPong,SPSC (default: the table)")
    p.add_argument("--million", action="store_true",
                   help="also run Million (1 000 000 blocked goroutines, ~1 GB+ each side)")
    p.add_argument("--procs", default="1,2",
                   help="procs values to run, comma-separated (default: 1,2)")
    p.add_argument("--run-timeout", type=float, default=30,
                   help="kill a run (one benchmark, one procs, one suite) after this many "
                        "seconds and leave that repetition out, marked 'killed' in the table "
                        "(default: 30; Million gets ten times as long)")
    p.add_argument("-o", "--out", help="output folder (default: bench/results/<timestamp>)")
    p.add_argument("--against", metavar="OLD_WEFT_JSON",
                   help="also compare this run's weft results with an older weft JSON (e.g. "
                        "a previous results folder's weft.json) using Google Benchmark's "
                        "compare.py")
    p.add_argument("--gbench-compare", default="/usr/share/benchmark/compare.py",
                   help="Google Benchmark's compare.py (default: %(default)s)")
    p.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    args = p.parse_args(argv)
    if args.repetitions < 1:
        p.error("--repetitions must be at least 1")
    if args.time <= 0:
        p.error("--time must be positive")
    try:
        args.procs = [int(x) for x in args.procs.split(",") if x.strip()]
    except ValueError:
        p.error("--procs takes comma-separated integers, e.g. 1,2")
    if not args.procs or any(x < 1 for x in args.procs):
        p.error("--procs takes comma-separated positive integers, e.g. 1,2")
    return args


def main(argv):
    args = parse_args(argv)
    benches = list(BENCHMARKS)
    if args.benchmarks:
        wanted = [b.strip() for b in args.benchmarks.split(",") if b.strip()]
        unknown = [b for b in wanted if b not in BENCHMARKS + ["Million"]]
        if unknown:
            raise Failure(f"unknown benchmark(s) {unknown}; known: {BENCHMARKS + ['Million']}")
        benches = wanted
    if args.million and "Million" not in benches:
        benches.append("Million")
    if args.against and not Path(args.against).is_file():
        raise Failure(f"--against {args.against}: no such file")
    if args.against and args.no_weft:
        raise Failure("--against compares weft with weft: it cannot be used with --no-weft")

    suites = make_suites(args)
    for s in suites:
        if isinstance(s, GoSuite):
            s.build()
        s.discover()
        missing = [b for b in benches if not s.has(b)]
        missing += [f"{b} at procs {p}" for b in benches if s.has(b)
                    for p in args.procs if not s.has(b, p)]
        if missing:
            log(f"{s.label}: has no {', '.join(missing)} (shown as —)")

    plan = list(schedule(suites, benches, args))
    if args.dry_run:
        for r, s, bench, procs in plan:
            print(f"r{r + 1} {s.label:12s} " + " ".join(s.command(bench, procs, "OUT.json")))
        return 0

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out_dir = Path(args.out) if args.out else BENCH_DIR / "results" / stamp
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "raw").mkdir(exist_ok=True)

    info = machine_info()
    load = os.getloadavg()[0]
    info["loadavg_at_start"] = load
    if load > 0.25 * (os.cpu_count() or 1):
        log(f"warning: load average is {load:.2f} on {os.cpu_count()} CPUs: other work is "
            "running and will add noise (the table header records it)")
    (out_dir / "command.txt").write_text(" ".join([sys.executable] + sys.argv) + "\n")
    results = {}
    gbench_jsons = {s.key: [] for s in suites}
    go_texts = []
    run_log = []
    timeouts = {}
    t_start = time.monotonic()
    for i, (r, s, bench, procs) in enumerate(plan):
        log(f"[{i + 1}/{len(plan)}] rep {r + 1}/{args.repetitions} {s.label}: {bench} "
            f"procs {procs}")
        timeout = args.run_timeout * (10 if bench == "Million" else 1)
        rows, raw, seconds = run_one(out_dir, r, s, bench, procs, timeout)
        run_log.append({"repetition": r + 1, "suite": s.key, "benchmark": bench,
                        "procs": procs, "seconds": round(seconds, 3), "raw": str(raw),
                        "timed_out": rows is None})
        if rows is None:
            log(f"warning: {s.label} {bench} procs {procs} ran past {timeout} s and was "
                f"killed; that repetition is left out (output in {raw})")
            timeouts.setdefault((s.key, bench, procs), 0)
            timeouts[(s.key, bench, procs)] += 1
            continue
        for name, p, ns, rss, cpu, counters in rows:
            slot = results.setdefault((s.key, name, p),
                                      {"ns": [], "rss": [], "cpu": [], "counters": {}})
            slot["ns"].append(ns)
            if rss is not None:
                slot["rss"].append(rss)
            if cpu is not None:
                slot["cpu"].append(cpu)
            for c, v in counters.items():
                slot["counters"].setdefault(c, []).append(v)
        if s.kind == "gbench":
            gbench_jsons[s.key].append((r, raw))
        else:
            go_texts.append(Path(raw).read_text())
    elapsed = time.monotonic() - t_start

    merged = {}
    for key, paths in gbench_jsons.items():
        if paths:
            merged[key] = merge_gbench(paths, args.repetitions, out_dir / f"{key}.json")
    if go_texts:
        # benchstat-ready: every repetition's lines, one file.
        (out_dir / "go.txt").write_text("".join(go_texts))

    time_table, mem_table, cpu_table, counter_table = build_tables(results, benches, suites,
                                                                  args, timeouts)
    settings = (f"{args.repetitions} repetitions, order {args.order} per {args.granularity}, "
                f"{args.time}s per run; cell = median ±half the min–max range")
    machine = (f"{info.get('cpu', '?')}, {info.get('cpus')} CPUs, Linux {info.get('kernel')}, "
               f"load average {info['loadavg_at_start']:.2f} at start, git {info.get('git', '?')}")
    go_version = next((s.version for s in suites if isinstance(s, GoSuite)), None)
    paths = ", ".join(f"{s.label}: {s.path}" for s in suites)
    md = [f"# weft benchmarks vs Go, Boost.Fiber and threads — {stamp}", "",
          f"- machine: {machine}",
          f"- settings: {settings}; took {elapsed:.0f} s",
          f"- binaries: {paths}" + (f"; {go_version}" if go_version else ""),
          "- ratios are weft ÷ other: below 1.00× weft is faster; per-goroutine rows are "
          "ns/op ÷ goroutines per op; best/best is weft's fastest repetition ÷ Go's fastest", "",
          "## Time", "", time_table, ""]
    if timeouts:
        md[-1:-1] = ["", f"(n killed): n repetitions ran past --run-timeout "
                     f"({args.run_timeout:g} s) and were left out."]
    if cpu_table:
        md += ["## CPU time (the whole process, every thread, per op; where reported)", "",
               cpu_table, ""]
    if mem_table:
        md += ["## Resident memory per blocked goroutine (bytes; cold batch, fresh process)",
               "", mem_table, ""]
    if counter_table:
        md += ["## Counters (each benchmark's own figures, median ±half the min–max range; "
               "— where that side reports none)", "",
               "Read these beside the times: where a counter differs (say writes/op in "
               "RWMutexRead), the two sides did different amounts of work per op.", "",
               counter_table, ""]

    if "weft" in merged and "boost_fiber" in merged and merged["weft"] and merged["boost_fiber"]:
        try:
            gbench_compare(args, merged["boost_fiber"], merged["weft"],
                           out_dir / "compare-boost_fiber-vs-weft.txt",
                           "Boost.Fiber vs weft")
            md += ["Google Benchmark's compare.py, Boost.Fiber (old) vs weft (new), with U "
                   "tests: compare-boost_fiber-vs-weft.txt", ""]
        except Failure as e:
            log(f"warning: {e}")
    if args.against:
        if not merged.get("weft"):
            raise Failure("--against: this run produced no weft results to compare")
        old, new = restrict_to_common(Path(args.against), merged["weft"], out_dir)
        text = gbench_compare(args, old, new, out_dir / "against.txt", "--against")
        md += ["## weft vs the older weft run (Google Benchmark compare.py)", "",
               f"old: {args.against}", "", "```", text.rstrip(), "```", ""]

    table = "\n".join(md)
    (out_dir / "table.md").write_text(table)
    summary = {"settings": vars(args), "machine": info, "elapsed_s": elapsed, "runs": run_log,
               "results": [{"suite": k[0], "benchmark": k[1], "procs": k[2],
                            "ns_per_op": v["ns"], "rss_per_g": v["rss"],
                            "cpu_ns_per_op": v["cpu"], "counters": v.get("counters", {}),
                            "median_ns_per_op": median(v["ns"]),
                            "median_cpu_ns_per_op": median(v["cpu"]),
                            "median_rss_per_g": median(v["rss"])}
                           for k, v in sorted(results.items())]}
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    print(table)
    log(f"results in {out_dir}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Failure as e:
        log(f"compare.py: error: {e}")
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
