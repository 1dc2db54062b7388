"""Figure: DistributedDataParallel training step of the MLP 784-256-128-10 (batch 64 per process, SGD with
momentum) at 1 and 2 processes of one thread each, in milliseconds per step, and the scaling efficiency
(one process's step time over two processes', each doing its own batch of 64: 100% is perfect scaling).
ember runs under ``ember run --nproc-per-node N`` (MPI), PyTorch under torchrun with gloo."""
import json
import os
import subprocess
import sys
import time

import torch

import _harness

STEPS = 20 if _harness.QUICK else 60      # timed steps per block; every rank runs the same count
BLOCKS = 3 if _harness.QUICK else 7


def launcher(nproc):
    """The command that starts ``nproc`` processes of this file under the framework behind ``torch``."""
    if torch.__name__ == 'ember':
        return [sys.executable, '-m', 'ember', 'run', '--nproc-per-node', str(nproc)]
    return [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc-per-node', str(nproc)]


def measure(nproc):
    """Median ms per DDP step over the timed blocks, as rank 0 of an ``nproc``-process run reports it."""
    env = dict(os.environ, BENCH_DDP_RANKS='1', OMP_NUM_THREADS='1', OPENBLAS_NUM_THREADS='1',
               MKL_NUM_THREADS='1', BENCH_THREADS='1')
    for attempt in range(2):      # torchrun's standalone rendezvous sometimes fails on a busy machine: retry once
        done = subprocess.run(launcher(nproc) + [os.path.abspath(__file__)], env=env, capture_output=True,
                              text=True, timeout=600)
        if done.returncode == 0 or attempt:
            break
    if done.returncode:
        raise RuntimeError(f'{nproc} processes failed: ' + (done.stderr.strip().splitlines() or ['?'])[-1])
    return next(json.loads(line)['ms'] for line in done.stdout.splitlines() if line.startswith('{"ms"'))


def rank_main():
    """One process of the group: time DDP steps on its own batch and, on rank 0, print the median."""
    import torch.distributed as dist
    import torch.nn as nn
    from torch.nn.parallel import DistributedDataParallel as DDP
    torch.set_num_threads(1)
    dist.init_process_group('gloo')
    torch.manual_seed(dist.get_rank())
    model = DDP(nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)))
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    inputs, labels = torch.randn(64, 784), torch.randint(0, 10, (64,))

    def step():
        optimizer.zero_grad()
        criterion(model(inputs), labels).backward()
        optimizer.step()

    for _ in range(10):
        step()
    times = []
    for _ in range(BLOCKS):
        dist.barrier()
        began = time.perf_counter()
        for _ in range(STEPS):
            step()
        times.append((time.perf_counter() - began) / STEPS * 1e3)
    if dist.get_rank() == 0:
        print(json.dumps({'ms': sorted(times)[len(times) // 2]}), flush=True)
    dist.destroy_process_group()


if __name__ == '__main__':
    if os.environ.get('BENCH_DDP_RANKS'):
        rank_main()
    else:
        _harness.start(torch)
        one, two = measure(1), measure(2)
        _harness.report('DDP MLP batch 64 step, 1 process', one, 'ms/iter')
        _harness.report('DDP MLP batch 64 step, 2 processes', two, 'ms/iter')
        _harness.report('DDP MLP 2-process scaling efficiency', 100 * one / two, '%')
