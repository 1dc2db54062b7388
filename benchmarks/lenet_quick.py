"""Quick timing of one LeNet training step (zero_grad, forward, CrossEntropyLoss, backward, SGD step) on
CIFAR-10-shaped input: ember vs PyTorch, ms per iteration at batch 4 and 64.

Usage: python benchmarks/lenet_quick.py [--threads N] [--profile] [--iters N]
(--threads sets the BLAS/OpenMP thread count of both libraries before they load; use 1 on a busy machine,
where multi-threaded BLAS spins and both libraries slow down erratically.)"""
import argparse
import os
import sys
import time


def build(lib):
    """The course's CIFAR-10 LeNet, written against ``lib`` (ember or torch)."""
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 6, 5)
            self.pool = nn.MaxPool2d(2, 2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            x = lib.flatten(x, 1)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)
    return Net()


def step_fn(lib, batch, seed=0):
    import numpy as np
    lib.manual_seed(seed)
    net = build(lib)
    crit = lib.nn.CrossEntropyLoss()
    opt = lib.optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
    rng = np.random.default_rng(seed)
    x = lib.tensor(rng.standard_normal((batch, 3, 32, 32)).astype(np.float32))
    y = lib.tensor(rng.integers(0, 10, batch))

    def step():
        opt.zero_grad()
        loss = crit(net(x), y)
        loss.backward()
        opt.step()
    return step


def time_it(step, iters, repeats=5, clock=time.perf_counter):
    """Best of ``repeats`` runs of ``iters`` steps, in ms per step (after a warm-up)."""
    for _ in range(max(5, iters // 10)):
        step()
    best = float('inf')
    for _ in range(repeats):
        t = clock()
        for _ in range(iters):
            step()
        best = min(best, (clock() - t) / iters * 1e3)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--profile', action='store_true', help='cProfile ember at batch 64')
    ap.add_argument('--iters', type=int, default=0)
    ap.add_argument('--rounds', type=int, default=8, help='interleaved timing rounds; the best is reported')
    ap.add_argument('--threads', type=int, default=0)
    ap.add_argument('--cpu', action='store_true', help='CPU time instead of wall time (with --threads 1: robust to '
                    'other processes sharing the machine)')
    args = ap.parse_args()
    if args.threads:
        for var in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
            os.environ[var] = str(args.threads)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
    import ember
    try:
        import torch
        if args.threads:
            torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
    libs = [('ember', ember)] + ([('torch', torch)] if torch is not None else [])
    for batch in (4, 64):
        iters = args.iters or (100 if batch == 4 else 10)
        clock = time.process_time if args.cpu else time.perf_counter
        steps = {name: step_fn(lib, batch) for name, lib in libs}
        best = {name: float('inf') for name in steps}
        for _ in range(args.rounds):   # interleaved, so both see the same machine load
            for name, step in steps.items():
                best[name] = min(best[name], time_it(step, iters, repeats=1, clock=clock))
        line = f'batch {batch:3d}: ember {best["ember"]:7.2f} ms/iter'
        if 'torch' in best:
            line += f'   torch {best["torch"]:7.2f} ms/iter   ratio {best["ember"] / best["torch"]:5.2f}'
        print(line, flush=True)
    if args.profile:
        import cProfile
        import pstats
        step = step_fn(ember, 64)
        step()
        cProfile.runctx('for _ in range(20): step()', globals(), {'step': step}, '/tmp/lenet.prof')
        pstats.Stats('/tmp/lenet.prof').sort_stats('tottime').print_stats(20)


if __name__ == '__main__':
    main()
