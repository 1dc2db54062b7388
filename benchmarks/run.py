"""Benchmark driver: runs each program in benchmarks/ on ember (``python -m ember run FILE``) and on
PyTorch (``python FILE``), interleaved in fresh processes, and reports medians, ranges, ember/PyTorch
ratios and PASS/MISS against the targets. Usage: ``python -m benchmarks [--quick] [--only NAME]
[--threads N ...]``.

Every figure is taken in each thread regime asked for (by default one thread and all cores). Both sides
get the same threads (``torch.set_num_threads`` and the OMP/OpenBLAS/MKL variables) and otherwise the
same environment: PyTorch runs with its default settings, as its users run it."""
import argparse
import dataclasses
import datetime
import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SUBJECTS = {"ember": [sys.executable, "-m", "ember", "run"], "torch": [sys.executable]}
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
               "NUMEXPR_NUM_THREADS")


@dataclasses.dataclass(frozen=True)
class Target:
    """A pass mark on ember's figure: its ratio to PyTorch's or NumPy's, or its absolute value."""
    against: str  # "torch", "numpy" or "absolute"
    op: str       # "<=", ">=" or "<"
    bound: float

    def text(self):
        """The target as the table shows it."""
        return f"{self.op} {self.bound}" + (" x NumPy" if self.against == "numpy" else "")

    def met(self, value):
        """Whether ``value`` (a ratio or ember's figure, per ``against``) meets the mark."""
        return {"<=": value <= self.bound, ">=": value >= self.bound, "<": value < self.bound}[self.op]


@dataclasses.dataclass(frozen=True)
class Figure:
    """One reported measurement: its name as the program prints it, unit and target."""
    name: str
    unit: str
    target: Target = None


@dataclasses.dataclass(frozen=True)
class Benchmark:
    """A program in benchmarks/ and the figures it prints (``threaded``: its figures depend on the thread
    count, so it runs in every regime; otherwise once, with all the threads asked for)."""
    name: str
    figures: tuple
    threaded: bool = True

    @property
    def path(self):
        """The program's file."""
        return os.path.join(HERE, f"bench_{self.name}.py")


def _ratio(op, bound):
    """A target on the ember/PyTorch ratio."""
    return Target("torch", op, bound)


BENCHMARKS = (
    Benchmark("ops", (
        Figure("per-op forward (4,)", "us/op", _ratio("<=", 1.0)),
        Figure("per-op forward (4,4)", "us/op", _ratio("<=", 1.0)),
        Figure("per-op forward+backward (4,)", "us/op", _ratio("<=", 0.5)),
        Figure("per-op forward+backward (4,4)", "us/op", _ratio("<=", 0.5)),
        Figure("per-op forward+backward 16-op chain (4,4)", "us/op", _ratio("<=", 0.5)),
        Figure("per-op forward+backward 256-op chain (4,4)", "us/op", _ratio("<=", 0.5)))),
    Benchmark("linreg", (Figure("linear regression", "us/iter", _ratio("<=", 0.8)),)),
    Benchmark("mlp", (Figure("MLP batch 64", "ms/iter"),
                      Figure("MLP batch 512", "ms/iter", _ratio("<=", 1.1)))),
    Benchmark("lenet", (
        Figure("LeNet batch 4", "ms/iter", _ratio("<=", 1.0)),
        Figure("LeNet batch 4 epoch", "s/epoch", _ratio("<=", 1.0)),
        Figure("LeNet batch 64", "ms/iter", _ratio("<=", 1.5)),
        Figure("LeNet batch 64 epoch", "s/epoch", _ratio("<=", 1.5)))),
    Benchmark("memory", (
        Figure("LeNet batch 4 peak memory", "MB", _ratio("<=", 1.0)),
        Figure("LeNet batch 64 peak memory", "MB", _ratio("<=", 1.0)))),
    Benchmark("matmul", tuple(Figure(f"matmul {n}", "GFLOP/s", Target("numpy", ">=", 0.95))
                              for n in (256, 1024, 2048))),
    Benchmark("dataloader", (Figure("DataLoader 0 workers", "images/s"),
                             Figure("DataLoader 2 workers", "images/s"))),
    Benchmark("bigbatch", (Figure("DataLoader 256 MB batch 2 workers", "ms/batch", _ratio("<=", 1.5)),),
              threaded=False),
    Benchmark("random", tuple(Figure(name, "ms", _ratio("<=", 2.0)) for name in (
        "randn 10^6", "rand 10^6", "randperm 60000", "shuffled sampler epoch 60000"))),
    Benchmark("import", (Figure("import time", "ms", _ratio("<=", 0.1)),
                         Figure("installed size", "MB", Target("absolute", "<", 2.0))), threaded=False),
    Benchmark("gpt", (Figure("GPT step", "ms/iter", _ratio("<=", 1.0)),)),
    Benchmark("mnist", (Figure("MNIST CNN batch 64", "ms/iter", _ratio("<=", 1.0)),)),
    Benchmark("dcgan", (Figure("DCGAN step 32x32", "ms/iter", _ratio("<=", 1.0)),)),
    Benchmark("resnet", (Figure("ResNet-18 32x32 batch 8", "ms/iter", _ratio("<=", 1.0)),)),
    Benchmark("lstm", (Figure("LSTM LM step", "ms/iter", _ratio("<=", 1.0)),)),
    Benchmark("ddp", (Figure("DDP MLP batch 64 step, 1 process", "ms/iter"),
                      Figure("DDP MLP batch 64 step, 2 processes", "ms/iter"),
                      Figure("DDP MLP 2-process scaling efficiency", "%")), threaded=False),
)
HIGHER_IS_BETTER = {"GFLOP/s", "images/s", "%"}
BUSY_WARNING = 0.25  # cores used by other processes beyond which the context line warns

# The host check taken in a child before each timed multi-threaded run: two threads each making transposing copies
# and adds of their own 2.6 MB float32 arrays, timed against one thread doing one share (median of 5). On the shared
# 2-vCPU VM this ratio flips between about 1.1-1.4 and 1.9-2.1 (two threads' memory-bound passes serialized exactly,
# one thread's at full speed) for 0.5 to tens of seconds at a time, whatever runs in the guest ("others" near 0 in
# both), and every 2-thread figure flips with it. Session 34 (/work/prof/dcgan2t/notes.md), DCGAN's step at 2
# threads in one process, 5-step medians between checks: ember 40-45 ms beside 1.1-1.3, 61-75 beside 2.0-2.3
# (its 1-thread step 59-66 throughout); PyTorch 29-33 against 40-49. Single-threaded sgemm on both threads scaled
# alike in both states (1.1 against 1.2), THP-backed arrays flipped as the others did. A fresh process reads a
# little higher than a long-lived one (medians 1.5 against 1.3 in one stretch), as the benchmark programs would.
HOST_CHECK = """
import threading, time, statistics, numpy as np
arrays = [(np.random.rand(32, 64, 18, 18).astype(np.float32), np.empty((64, 18, 18, 32), np.float32)) for _ in '12']
def work(i):
    src, dst = arrays[i]
    for _ in range(10):
        np.copyto(dst, src.transpose(1, 2, 3, 0))
        np.add(src, 1.0, out=src)
def ratio():
    began = time.perf_counter(); work(0); one = time.perf_counter() - began
    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    began = time.perf_counter()
    for t in threads: t.start()
    for t in threads: t.join()
    return (time.perf_counter() - began) / one
print(statistics.median(ratio() for _ in range(5)))
"""
HOST_WARNING = 1.6  # host check ratio beyond which the context line warns


def parse_args(argv):
    """The driver's options."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 2 repetitions, no warm-up run, short inner loops")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="run only these benchmarks (repeat or comma-separate): "
                             + ", ".join(b.name for b in BENCHMARKS))
    parser.add_argument("--reps", type=int, help="repetitions per side (default 5, quick 2)")
    parser.add_argument("--warmup", type=int, help="untimed runs per side first (default 1, quick 0)")
    parser.add_argument("--threads", type=int, action="append",
                        help="threads for both sides; repeat for several regimes (default: 1 and all cores)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds allowed per program run")
    parser.add_argument("--host-wait", type=float, default=0, metavar="S",
                        help="before each timed multi-threaded run, retake the host check until it reads at most "
                        f"{HOST_WARNING} or S seconds have passed (default 0: take it once)")
    parser.add_argument("--output-dir", help="write results.md and results.json here (default: "
                        "benchmarks/ for a full run; a --quick or --only run writes nothing unless given)")
    args = parser.parse_args(argv)
    args.only = _selected(parser, args.only)
    args.threads = sorted(set(args.threads or (1, _cores())))
    args.reps = args.reps or (2 if args.quick else 5)
    args.warmup = (0 if args.quick else 1) if args.warmup is None else args.warmup
    if args.output_dir is None and not args.quick and args.only is None:
        args.output_dir = HERE
    return args


def _cores():
    """CPU cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _selected(parser, only):
    """The benchmark names ``--only`` asks for (None: all), checked against BENCHMARKS."""
    if not only:
        return None
    names = [n for item in only for n in item.split(",") if n]
    unknown = sorted(set(names) - {b.name for b in BENCHMARKS})
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from "
                     + ", ".join(b.name for b in BENCHMARKS))
    return names


def child_env(args, threads):
    """The environment both sides run in: the same threads, the quick flag, nothing else added."""
    env = dict(os.environ, BENCH_THREADS=str(threads), BENCH_QUICK="1" if args.quick else "0")
    env.update({var: str(threads) for var in THREAD_VARS})
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, env.get("PYTHONPATH")) if p)
    return env


def run_program(bench, subject, env, timeout):
    """Run ``bench`` once on ``subject``; returns (records, meta, error or None, cores other processes
    kept busy meanwhile)."""
    cmd = SUBJECTS[subject] + [bench.path]
    before, began = cpu_seconds(), time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        error = None
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        error = f"timed out after {timeout:g} s"
    busy = busy_others(before, cpu_seconds(), time.perf_counter() - began)
    records, meta = parse_output(out)
    return records, meta, error or _failure(proc.returncode, err, meta, subject), busy


def parse_output(text):
    """The measurement records and the meta record among a program's stdout lines."""
    records, meta = [], {}
    for line in text.splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict) and "figure" in item and "value" in item:
            records.append(item)
        elif isinstance(item, dict) and isinstance(item.get("meta"), dict):
            meta = item["meta"]
    return records, meta


def _failure(returncode, stderr, meta, subject):
    """What went wrong in a finished run (a crash, or the wrong framework behind ``torch``), or None."""
    if returncode != 0:
        lines = [line.strip() for line in stderr.splitlines() if line.strip()]
        return lines[-1] if lines else f"exit status {returncode}"
    if meta.get("framework") != subject:
        return f"torch resolved to {meta.get('framework')!r}, not {subject!r}"
    return None


class Collector:
    """Values, NumPy references, metadata and errors gathered per benchmark, side and figure."""

    def __init__(self):
        self.values, self.numpy, self.units, self.errors, self.meta, self.busy = {}, {}, {}, {}, {}, {}
        self.host = {}

    def add(self, bench, subject, records, meta, error):
        """File one run's results."""
        for rec in records:
            key = (bench.name, rec["figure"], subject)
            self.values.setdefault(key, []).append(float(rec["value"]))
            self.units[(bench.name, rec["figure"])] = rec.get("unit", "")
            if "numpy" in rec:
                self.numpy.setdefault(key, []).append(float(rec["numpy"]))
        if meta:
            self.meta[subject] = meta
        if error:
            self.errors.setdefault((bench.name, subject), []).append(error)

    def all_busy(self):
        """Cores kept busy by other processes, one value per timed run."""
        return [v for values in self.busy.values() for v in values]

    def all_host(self):
        """host_check()'s ratios, one per timed multi-threaded run."""
        return [v for values in self.host.values() for v in values]

    def figures(self, bench):
        """``bench``'s declared figures followed by any others it printed."""
        declared = [f.name for f in bench.figures]
        extra = [name for (b, name) in self.units if b == bench.name and name not in declared]
        return list(bench.figures) + [Figure(name, self.units[(bench.name, name)]) for name in extra]


def run_benchmark(bench, args, env, collector, log):
    """Warm-up runs, then ``args.reps`` interleaved runs per side; a side that fails twice in a row
    without printing a figure is not run again. A timed multi-threaded run keeps the higher of the host checks taken
    before it (see calm_host) and after it: the host's state can change within a run."""
    failures = dict.fromkeys(SUBJECTS, 0)
    for rep in range(args.warmup + args.reps):
        timed = rep >= args.warmup
        label = f"rep {rep - args.warmup + 1}/{args.reps}" if timed else "warm-up"
        for subject in [s for s, n in failures.items() if n < 2]:
            checked = timed and int(env.get("BENCH_THREADS") or 1) > 1
            host, waited = calm_host(env, getattr(args, "host_wait", 0)) if checked else (None, 0.0)
            began = time.perf_counter()
            records, meta, error, busy = run_program(bench, subject, env, args.timeout)
            after = host_check(env) if checked else None
            if host is not None and after is not None:
                host = max(host, after)
            log(f"[{bench.name}] {subject:5} {label:9} {time.perf_counter() - began:5.1f} s"
                + (f"  others {busy:.2f} cores" if busy is not None else "")
                + (f"  host 2t/1t {host:.2f}" if host is not None else "")
                + (f" (waited {waited:.0f} s)" if waited >= 0.5 else "")
                + (f"  ERROR: {error}" if error else ""))
            collector.add(bench, subject, records if timed else [], meta, error)
            if timed and busy is not None:
                collector.busy.setdefault(bench.name, []).append(busy)
            if host is not None:
                collector.host.setdefault(bench.name, []).append(host)
            failures[subject] = failures[subject] + 1 if error and not records else 0


def stats(values):
    """Median, min and max of ``values``, or None when there are none."""
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "values": values}


def summarize(benchmarks, collectors):
    """One row per figure and thread regime (``collectors`` maps a thread count to its Collector): both
    sides' statistics, ratios, target, status and any error."""
    rows = []
    for bench in benchmarks:
        ran = [(n, c) for n, c in sorted(collectors.items()) if any(k[0] == bench.name for k in c.units)
               or any(k[0] == bench.name for k in c.errors)]
        for fig in (ran[0][1] if ran else Collector()).figures(bench):
            rows += [dict(_row(bench, fig, c), threads=n) for n, c in ran]
    return rows


def _row(bench, fig, collector):
    """The summary row of one figure in one thread regime."""
    side = {s: stats(collector.values.get((bench.name, fig.name, s))) for s in SUBJECTS}
    # The NumPy reference comes from the PyTorch-side process: importing ember sets OpenBLAS's thread
    # policy for the whole process, so NumPy timed beside ember would not be NumPy as users run it.
    numpy = stats(collector.numpy.get((bench.name, fig.name, "torch")))
    row = {"benchmark": bench.name, "figure": fig.name,
           "unit": collector.units.get((bench.name, fig.name), fig.unit),
           "higher_is_better": fig.unit in HIGHER_IS_BETTER, "ember": side["ember"],
           "torch": side["torch"], "numpy": numpy, "ratio": _divide(side["ember"], side["torch"]),
           "ratio_numpy": _divide(side["ember"], numpy), "target": fig.target.text() if fig.target else "",
           "status": "", "error": None, "busy_others": stats(collector.busy.get(bench.name)),
           "host_check": stats(collector.host.get(bench.name))}
    missing = [s for s in SUBJECTS if side[s] is None]
    if missing:
        row["error"] = "; ".join(f"{s}: {_last(collector.errors.get((bench.name, s)))}" for s in missing)
    row["status"] = _status(fig.target, row, missing)
    return row


def _divide(a, b):
    """Ratio of two statistics' medians, or None."""
    return a["median"] / b["median"] if a and b and b["median"] else None


def _last(errors):
    """The latest error message of a side, or a note that it printed no such figure."""
    return errors[-1] if errors else "figure not reported"


def _status(target, row, missing):
    """PASS or MISS against the target, ERROR when ember's figure (or the one it is compared with) is
    missing, blank when the figure has no target."""
    if "ember" in missing or (target and target.against == "torch" and "torch" in missing):
        return "ERROR"
    if target is None:
        return ""
    value = {"torch": row["ratio"], "numpy": row["ratio_numpy"],
             "absolute": row["ember"]["median"]}[target.against]
    if value is None:
        return "ERROR"
    return "PASS" if target.met(value) else "MISS"


def fmt(value):
    """A measurement with three or so significant digits."""
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3g}"


def fmt_stats(st):
    """'median (min-max)' of a statistic, or '-'."""
    return "-" if st is None else f"{fmt(st['median'])} ({fmt(st['min'])}-{fmt(st['max'])})"


def fmt_ratio(value):
    """A ratio with three significant digits, or '-'."""
    return "-" if value is None else f"{value:.3g}"


COLUMNS = ("Figure", "Threads", "Unit", "ember median (min-max)", "PyTorch median (min-max)", "ember/PyTorch",
           "NumPy median", "ember/NumPy", "Target", "Status")
ALIGN = ("---", "--:", "---", "--:", "--:", "--:", "--:", "--:", "---", "---")


def table_cells(row):
    """The table cells of a summary row (an error replaces a missing side's numbers)."""
    status = row["status"]
    if row["error"]:
        status = f"{status} ({row['error']})" if status else row["error"]
    return (row["figure"], str(row.get("threads", "-")), row["unit"], fmt_stats(row["ember"]),
            fmt_stats(row["torch"]),
            fmt_ratio(row["ratio"]), fmt(row["numpy"]["median"]) if row["numpy"] else "-",
            fmt_ratio(row["ratio_numpy"]), row["target"] or "-", status)


def markdown(rows, meta):
    """The results as Markdown: a line of context and the table."""
    lines = [_context_line(meta), "", "| " + " | ".join(COLUMNS) + " |", "|" + "|".join(ALIGN) + "|"]
    for row in rows:
        cells = [c.replace("|", "\\|") for c in table_cells(row)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def text_table(rows):
    """The results as aligned plain text for the terminal."""
    body = [COLUMNS] + [table_cells(row) for row in rows]
    widths = [max(len(r[i]) for r in body) for i in range(len(COLUMNS) - 1)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1] for r in body)


def _context_line(meta):
    """Where and how the figures were taken."""
    versions = meta["versions"]
    threads = meta["threads"] if isinstance(meta["threads"], list) else [meta["threads"]]
    regimes = " and ".join(map(str, threads)) + (" thread" if threads == [1] else " threads")
    return (f"{meta['date']} on {meta['machine']}, {regimes} on both sides (the Threads column; PyTorch "
            f"with its default settings otherwise), {meta['reps']} runs "
            f"per side after {meta['warmup']} warm-up (medians; ratios are ember/PyTorch, lower is better "
            f"except GFLOP/s, images/s and %). ember {versions.get('ember', '?')}, PyTorch "
            f"{versions.get('torch', '?')}, NumPy {versions.get('numpy', '?')} (OpenBLAS kernels: "
            f"{versions.get('blas', '?')}), "
            f"Python {platform.python_version()}.{_busy_text(meta.get('busy_others'))}"
            f"{_host_text(meta.get('host_check'))}")


def _busy_text(busy):
    """What other processes took of the machine during the runs, with a warning when it was a lot."""
    if not busy:
        return ""
    text = (f" Other processes kept {busy['median']:.2f} cores busy (median over runs, "
            f"max {busy['max']:.2f}).")
    if busy["median"] > BUSY_WARNING:
        text += (" **The machine was busy: figures that run multi-threaded BLAS suffer most; rerun when"
                 " it is idle, or with --threads 1.**")
    return text


def _host_text(host):
    """The host check's ratios over the multi-threaded runs (see HOST_CHECK), with a warning when they were high."""
    if not host:
        return ""
    text = (f" Host check (two threads' memory-bound NumPy passes against one's, the higher of those taken before "
            f"and after each multi-threaded run): "
            f"median {host['median']:.2f}, max {host['max']:.2f}.")
    if host["median"] > HOST_WARNING:
        text += (" **Two threads' memory-bound passes ran little faster than one after another during these runs"
                 " (the host's state, or other processes): multi-threaded figures (both sides) ran slow; rerun"
                 " them.**")
    return text


def calm_host(env, wait):
    """(host_check's ratio, seconds waited): retaken until it reads at most HOST_WARNING or ``wait`` seconds have
    passed, so that a multi-threaded run starts while the host runs two threads' memory-bound passes at once."""
    began = time.perf_counter()
    ratio = host_check(env)
    while ratio is not None and ratio > HOST_WARNING and time.perf_counter() - began < wait:
        time.sleep(0.2)
        ratio = host_check(env)
    return ratio, time.perf_counter() - began


def host_check(env):
    """HOST_CHECK's ratio, run in a child with ``env``, or None when it fails."""
    try:
        done = subprocess.run([sys.executable, "-c", HOST_CHECK], env=env, capture_output=True, text=True,
                              timeout=60)
        return float(done.stdout.strip())
    except (subprocess.SubprocessError, ValueError):
        return None


def machine():
    """The CPU model and core count."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{model} ({os.cpu_count()} cores)"


def cpu_seconds():
    """(CPU seconds the whole machine has been busy, including time stolen by the hypervisor; CPU seconds
    of this process's finished children), or None where /proc/stat is missing."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(x) for x in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    busy = sum(ticks) - ticks[3] - ticks[4]  # all but idle and iowait
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return busy / os.sysconf("SC_CLK_TCK"), usage.ru_utime + usage.ru_stime


def busy_others(before, after, wall):
    """Cores kept busy by other processes between two ``cpu_seconds()`` readings ``wall`` s apart."""
    if before is None or after is None or wall <= 0:
        return None
    return max(0.0, ((after[0] - before[0]) - (after[1] - before[1])) / wall)


def run_meta(args, collectors, elapsed):
    """Context of the run for the JSON and the Markdown."""
    versions = {s: m.get("version") for c in collectors.values() for s, m in c.meta.items()}
    versions["numpy"] = _numpy_version()
    versions["blas"] = _blas_core()
    return {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": machine(), "platform": platform.platform(), "threads": args.threads,
            "reps": args.reps, "warmup": args.warmup,
            "quick": args.quick, "versions": versions, "elapsed_s": round(elapsed, 1),
            "busy_others": stats([v for c in collectors.values() for v in c.all_busy()]),
            "host_check": stats([v for c in collectors.values() for v in c.all_host()])}


def _numpy_version():
    """NumPy's version, read in a child so the driver stays light."""
    done = subprocess.run([sys.executable, "-c", "import numpy; print(numpy.__version__)"],
                          capture_output=True, text=True)
    return done.stdout.strip() or None


def _blas_core():
    """The kernel family NumPy's OpenBLAS runs in this environment (it reads OPENBLAS_CORETYPE when set, else
    the CPU), read in a child as ember's side sees it: ember's products are OpenBLAS's, PyTorch's are not."""
    done = subprocess.run([sys.executable, "-c", "import ember.backend as b; print(b.openblas_core() or '')"],
                          cwd=ROOT, capture_output=True, text=True)
    core = done.stdout.strip() or "not OpenBLAS"
    forced = os.environ.get("OPENBLAS_CORETYPE")
    return f"{core} (OPENBLAS_CORETYPE={forced})" if forced else core


def write_outputs(directory, rows, meta, md):
    """Write results.md and results.json into ``directory``."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "results.md"), "w") as f:
        f.write(md)
    with open(os.path.join(directory, "results.json"), "w") as f:
        json.dump({"meta": meta, "figures": rows}, f, indent=1)
        f.write("\n")


def _log(message):
    """Progress goes to stderr, so stdout holds only the tables."""
    print(message, file=sys.stderr, flush=True)


def main(argv=None):
    """Run the selected benchmarks, print the tables and write the outputs; returns 0."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    benchmarks = [b for b in BENCHMARKS if args.only is None or b.name in args.only]
    collectors, began = {n: Collector() for n in args.threads}, time.perf_counter()
    for bench in benchmarks:
        for n in args.threads if bench.threaded else args.threads[-1:]:
            run_benchmark(bench, args, child_env(args, n), collectors[n],
                          lambda message: _log(f"{n} thr {message}"))
    rows = summarize(benchmarks, collectors)
    meta = run_meta(args, collectors, time.perf_counter() - began)
    md = markdown(rows, meta)
    print(text_table(rows), md, sep="\n\n")
    if args.output_dir:
        write_outputs(args.output_dir, rows, meta, md)
        _log(f"wrote {os.path.join(args.output_dir, 'results.md')} and results.json")
    _log(f"total {meta['elapsed_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
