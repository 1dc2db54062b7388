"""Figure 8: peak memory of training the course's CIFAR-10 LeNet (as in figure 4): how far the
process's peak resident memory rises, from before the network is built to the end of training, in
MB: weights, gradients, momentum, activations saved for backward and temporaries. Each batch size
runs in a forked child, so one measurement's high-water mark cannot hide the next's."""
import gc
import os
import resource

import torch

import _harness
from bench_lenet import trainer

STEPS = {4: 200, 64: 30}   # measured training steps per batch size


def resident_mb():
    """The process's resident memory now, in MB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb():
    """The process's peak resident memory so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(batch):
    """Train ``STEPS[batch]`` steps and report how far peak memory rose above the start. A batch-1
    step of another network first pays each framework's one-time set-up (kernels, thread pools)."""
    trainer(1)()
    gc.collect()
    before = resident_mb()
    step = trainer(batch)
    for _ in range(STEPS[batch]):
        step()
    _harness.report(f"LeNet batch {batch} peak memory", max(0.0, peak_mb() - before), "MB")


def in_child(fn, *args):
    """Run ``fn(*args)`` in a forked child and wait for it (its output goes to the same stdout)."""
    pid = os.fork()
    if pid == 0:
        try:
            fn(*args)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


if __name__ == "__main__":
    _harness.start(torch)
    for b in STEPS:
        in_child(measure, b)
