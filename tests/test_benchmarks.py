"""Smoke tests of the benchmark driver: a --quick run of the per-op figures writes well-formed JSON and
Markdown, and a crashing program becomes an error row. Timings themselves are never asserted."""
import argparse
import importlib.util
import json
import subprocess
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
run = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(run)

STAT_KEYS = {"median", "min", "max", "values"}


def test_quick_run_writes_json_and_markdown(tmp_path):
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--reps", "1", "--only", "ops",
                           "--threads", "1", "--output-dir", str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    data = json.loads((tmp_path / "results.json").read_text())
    assert {"date", "machine", "threads", "reps", "versions"} <= set(data["meta"])
    names = [f.name for f in run.BENCHMARKS[0].figures]
    assert [row["figure"] for row in data["figures"]] == names
    assert data["meta"]["threads"] == [1] and "OMP_WAIT_POLICY" not in (tmp_path / "results.md").read_text()
    for row in data["figures"]:
        assert row["threads"] == 1
        assert row["unit"] == "us/op" and row["target"].startswith("<= ")
        # both sides must report: a run whose framework check fails is discarded and reads as None (as every
        # ember run did while the alias renamed ember "torch", fixed in 0d51e03)
        for side in ("ember", "torch"):
            assert row[side] is not None and set(row[side]) == STAT_KEYS, (side, row)
        assert row["status"] in ("PASS", "MISS") and row["ratio"] is not None
    md = (tmp_path / "results.md").read_text().splitlines()
    table = [line for line in md if line.startswith("|")]
    assert table[0] == "| " + " | ".join(run.COLUMNS) + " |"
    assert len(table) == 2 + len(names)
    assert all(line.count(" | ") == len(run.COLUMNS) - 1 for line in table[2:])
    assert "| Figure |" in done.stdout and "per-op forward (4,)" in done.stdout


def test_crashing_program_is_an_error_row(tmp_path):
    script = tmp_path / "bench_boom.py"
    script.write_text("raise RuntimeError('boom')\n")
    figure = run.Figure("boom figure", "ms", run.Target("torch", "<=", 1.0))
    bench = types.SimpleNamespace(name="boom", path=str(script), figures=(figure,))
    args = argparse.Namespace(warmup=1, reps=3, timeout=60, threads=[1], quick=True)
    collector, log = run.Collector(), []
    env = run.child_env(args, 1)
    assert env["OMP_NUM_THREADS"] == "1" and env.get("OMP_WAIT_POLICY") == run.os.environ.get("OMP_WAIT_POLICY")
    run.run_benchmark(bench, args, env, collector, log.append)
    assert len(log) == 4  # a side failing twice without output is not run again
    (row,) = run.summarize([bench], {1: collector})
    assert row["status"] == "ERROR" and "RuntimeError: boom" in row["error"]
    md_row = run.markdown([row], {"date": "d", "machine": "m", "threads": 1, "reps": 3, "warmup": 1,
                                  "versions": {}}).splitlines()[-1]
    assert md_row.startswith("| boom figure | 1 | ms | - | - | - |")
    assert "ERROR (ember: RuntimeError: boom" in md_row


def test_host_check_goes_with_each_multi_threaded_run(tmp_path):
    """Before each timed run at 2+ threads the driver takes the host check (a ratio of two threads' time to one's,
    from a child), logs it beside the run and keeps it per figure; the context line warns when its median is high."""
    script = tmp_path / "bench_boom.py"
    script.write_text("raise RuntimeError('boom')\n")
    bench = types.SimpleNamespace(name="boom", path=str(script), figures=(run.Figure("boom figure", "ms"),))
    args = argparse.Namespace(warmup=1, reps=1, timeout=60, threads=[2], quick=True)
    collector, log = run.Collector(), []
    run.run_benchmark(bench, args, run.child_env(args, 2), collector, log.append)
    timed = [line for line in log if "rep 1/1" in line]
    assert len(timed) == 2 and all("host 2t/1t " in line for line in timed)
    assert not any("host" in line for line in log if "warm-up" in line)
    (value,) = collector.host["boom"][:1]
    assert value > 0 and len(collector.all_host()) == 2
    (row,) = run.summarize([bench], {2: collector})
    assert row["host_check"]["values"] == collector.host["boom"]
    calm, slow = run._host_text(run.stats([1.2, 1.1, 1.3])), run._host_text(run.stats([2.2, 2.1, 1.2]))
    assert "median 1.20, max 1.30." in calm and "rerun" not in calm
    assert "median 2.10, max 2.20." in slow and "rerun them" in slow and run._host_text(None) == ""


def test_calm_host_retakes_the_check_until_it_reads_low(monkeypatch):
    """--host-wait S: the check is retaken while it reads above HOST_WARNING, for at most S seconds; 0 takes it once."""
    readings = iter([2.0, 1.9, 1.2, 2.2])
    monkeypatch.setattr(run, "host_check", lambda env: next(readings))
    monkeypatch.setattr(run.time, "sleep", lambda s: None)
    assert run.calm_host({}, 0)[0] == 2.0
    ratio, waited = run.calm_host({}, 60)
    assert ratio == 1.2 and 0 <= waited < 60 and next(readings) == 2.2
    assert run.parse_args(["--host-wait", "30"]).host_wait == 30 and run.parse_args([]).host_wait == 0


def test_targets_and_formatting():
    assert run.Target("numpy", ">=", 0.95).text() == ">= 0.95 x NumPy"
    assert run.Target("torch", "<=", 0.5).met(0.5) and not run.Target("absolute", "<", 2.0).met(2.0)
    values = (0.01234, 2.5, 12.34, 1234.5, None)
    assert [run.fmt(v) for v in values] == ["0.0123", "2.5", "12.3", "1,234", "-"]
    records, meta = run.parse_output('noise\n{"meta": {"framework": "ember"}}\n'
                                     '{"figure": "f", "value": 1.5, "unit": "ms"}\n[1]\n')
    assert records == [{"figure": "f", "value": 1.5, "unit": "ms"}] and meta == {"framework": "ember"}


def test_both_thread_regimes_give_a_row_each():
    """Each figure gets one row per thread regime, figure by figure; the default asks for 1 thread and all
    cores; a benchmark that does not depend on threads runs once."""
    bench = run.BENCHMARKS[0]
    collectors = {n: run.Collector() for n in (1, 2)}
    for n, c in collectors.items():
        for subject in run.SUBJECTS:
            c.add(bench, subject, [{"figure": f.name, "value": float(n), "unit": f.unit} for f in bench.figures],
                  {}, None)
    rows = run.summarize([bench], collectors)
    assert [(r["figure"], r["threads"]) for r in rows] == [(f.name, n) for f in bench.figures for n in (1, 2)]
    assert all(r["ratio"] == 1.0 for r in rows)
    args = run.parse_args([])
    assert args.threads == sorted({1, run._cores()})
    assert not next(b for b in run.BENCHMARKS if b.name == "import").threaded


def test_set_num_threads_steers_ember_like_torch():
    """The 1-thread regime is honest only if torch.set_num_threads(1) reaches ember's BLAS."""
    import ember
    before = ember.get_num_threads()
    try:
        ember.set_num_threads(1)
        assert ember.get_num_threads() == 1
        for bad in (0, -2, 1.5):
            try:
                ember.set_num_threads(bad)
            except RuntimeError as e:
                assert ('positive integer' if bad != 1.5 else 'expects an int, but got float') in str(e)
            else:
                raise AssertionError(f'set_num_threads({bad!r}) was accepted')
    finally:
        ember.set_num_threads(before)
