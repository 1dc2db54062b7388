"""Figure 7: ``import torch`` time (each in a fresh interpreter, median of 5, bytecode cached; this
process's own import warms the file cache) and the installed size of the package directory that
``torch`` resolves to (ember's or PyTorch's)."""
import os
import statistics
import subprocess
import sys
import tempfile

import torch

import _harness

IMPORTS = 3 if _harness.QUICK else 5
CHILD = "import time; t = time.perf_counter(); import {0}; print(time.perf_counter() - t)"


def import_seconds(module):
    """Seconds ``import module`` takes in a fresh interpreter, bytecode cache allowed."""
    env = dict(os.environ, PYTHONPYCACHEPREFIX=os.path.join(tempfile.gettempdir(), "bench-pycache"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    done = subprocess.run([sys.executable, "-c", CHILD.format(module)], env=env, check=True,
                          capture_output=True, text=True)
    return float(done.stdout.split()[-1])


def package_megabytes(directory):
    """Size in MB (10^6 bytes) of the files under ``directory``, bytecode caches left out."""
    total = 0
    for root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files
                     if not os.path.islink(os.path.join(root, f)))
    return total / 1e6


if __name__ == "__main__":
    _harness.start(torch)
    times = [import_seconds(torch.__spec__.name) for _ in range(IMPORTS)]   # (ember's __name__ is "torch" under the alias)
    _harness.report("import time", statistics.median(times) * 1e3, "ms")
    _harness.report("installed size", package_megabytes(os.path.dirname(torch.__file__)), "MB")
