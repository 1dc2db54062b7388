"""Timing and reporting helpers shared by the benchmark programs. Standard library only, so a program
runs unchanged on ember (``python -m ember run FILE``) and on PyTorch (``python FILE``)."""
import json
import os
import statistics
import time

QUICK = os.environ.get("BENCH_QUICK") == "1"
BLOCK_S = 0.005 if QUICK else 0.05   # aim for timed blocks of calls this long
BUDGET_S = 0.05 if QUICK else 0.5    # time spent in timed blocks per measurement
WARMUP_S = 0.01 if QUICK else 0.2    # untimed calls before the timed blocks
MIN_BLOCKS, MAX_BLOCKS = (3, 5) if QUICK else (3, 10)


def threads():
    """The thread count the driver asked for (BENCH_THREADS), else all cores."""
    return int(os.environ.get("BENCH_THREADS") or os.cpu_count() or 1)


def _version(torch):
    """The framework's own version: ember's torch.__version__ is the PyTorch API it follows (2.13.0+ember0.1.0)."""
    own = getattr(getattr(torch, "version", None), "_ember_version", None)
    return own or str(torch.__version__)


def start(torch):
    """Set ``torch``'s threads and seed, and report which framework and version is running."""
    torch.set_num_threads(threads())
    torch.manual_seed(0)
    # __spec__.name: under the alias ember's __name__ is "torch", as PyTorch's (pyro asserts it); its spec stays "ember"
    emit({"meta": {"framework": torch.__spec__.name, "version": _version(torch), "threads": threads()}})


def report(figure, value, unit, **extra):
    """Print one measurement as a JSON line (extra keys, such as a NumPy reference, ride along)."""
    emit({"figure": figure, "value": value, "unit": unit, **extra})


def emit(record):
    """Print ``record`` as one JSON line and flush, so a later crash keeps it."""
    print(json.dumps(record), flush=True)


def training_step(optimizer, loss):
    """One training step as a function for ``seconds_per_call``: zero the grads, backward ``loss()``, step the
    optimizer; returns the loss value."""
    def step():
        optimizer.zero_grad()
        value = loss()
        value.backward()
        optimizer.step()
        return value.item()
    return step


def seconds_per_call(fn):
    """Median seconds per call of ``fn``: warm up, size blocks of calls to about BLOCK_S, and time
    MIN_BLOCKS to MAX_BLOCKS blocks within about BUDGET_S."""
    began = time.perf_counter()
    fn()
    number, per_call = _calibrate(fn, time.perf_counter() - began)
    while time.perf_counter() - began < WARMUP_S:
        _block(fn, number)
    blocks = min(MAX_BLOCKS, max(MIN_BLOCKS, round(BUDGET_S / (number * per_call))))
    return statistics.median(_block(fn, number) / number for _ in range(blocks))


def _calibrate(fn, first):
    """Calls per block of about BLOCK_S (at least one) and the seconds per call seen; a first call of
    ``first`` seconds that fills a block on its own needs no more timing."""
    number, elapsed = 1, first
    if first < BLOCK_S:
        elapsed = _block(fn, number)
        while elapsed < BLOCK_S / 5:
            number *= 10
            elapsed = _block(fn, number)
    return max(1, round(number * BLOCK_S / elapsed)), elapsed / number


def _block(fn, number):
    """Seconds taken by ``number`` calls of ``fn``."""
    began = time.perf_counter()
    for _ in range(number):
        fn()
    return time.perf_counter() - began
