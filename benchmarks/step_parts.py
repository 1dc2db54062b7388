"""A benchmark's training step (bench_resnet, bench_dcgan, bench_mnist, bench_lenet, bench_lstm, bench_mlp) by part,
ember beside PyTorch: each leaf module's forward, F.relu call, grad_fn's backward (node hooks) and optimizer step,
summed per step by part and input shape; of the step where a part took least wall time, its wall time, its CPU time
on all the process's threads and on the calling thread, and (ember) how many passes were offered to a second thread
(the pool's share-outs, later() tasks and OpenBLAS's threads). A part whose CPU equals its calling thread's kept the
other threads idle; at two threads on an idle machine its wall time shows what a split would save. Usage: ``python
benchmarks/step_parts.py resnet [--threads 2] [--steps N] [--batch B]`` runs both sides in fresh processes and prints
the table; ``--side`` measures the framework it runs on (``python -m ember run`` for ember). On a loaded machine a
worker woken late leaves its items to the caller (its CPU then is the caller's), and PyTorch's all-threads CPU
includes its OpenMP threads' spinning."""
import argparse
import collections
import gc
import importlib
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gpt_parts import graph_nodes  # noqa: E402 (this script's folder, on the path above)
SIDES = {"ember": [sys.executable, "-m", "ember", "run"], "torch": [sys.executable]}


def _clock(offers):
    """(wall, all threads' CPU, this thread's CPU, hand-overs so far)."""
    return time.perf_counter(), time.process_time(), time.thread_time(), offers[0]


def _count_offers(torch, offers):
    """Count ember's passes offered to a second thread in offers[0] (nothing on PyTorch)."""
    if torch.__spec__.name != "ember":
        return
    from ember import _parallel, backend
    each, later, on_blas = _parallel.each, _parallel.later, backend._on_blas

    def counted_each(fn, items):
        offers[0] += len(items) > 1 and _parallel.threads() > 1
        return each(fn, items)

    def counted_later(fn, out):
        started = later(fn, out)
        offers[0] += bool(started)
        return started

    def counted_on_blas(a, b, want, *rest):
        offers[0] += want > 1
        return on_blas(a, b, want, *rest)
    _parallel.each, _parallel.later, backend._on_blas = counted_each, counted_later, counted_on_blas


def measure(bench, steps, threads, batch):
    """{part: [wall, cpu, caller cpu (ms), hand-overs, calls]} per step, of the step where the part's wall time was
    least."""
    import torch
    sys.path.insert(0, HERE)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    offers, spent, depth = [0], collections.defaultdict(lambda: [0.0] * 5), [0]

    def add(key, began):
        ended, part = _clock(offers), spent[key]
        for i in range(4):
            part[i] += ended[i] - began[i]
        part[4] += 1
    _count_offers(torch, offers)
    F = torch.nn.functional
    relu = F.relu

    def timed_relu(x, inplace=False):
        if depth[0]:
            return relu(x, inplace)
        began = _clock(offers)
        depth[0] += 1
        try:
            return relu(x, inplace)
        finally:
            depth[0] -= 1
            add(("F.relu", tuple(x.shape)), began)
    F.relu = timed_relu
    module = importlib.import_module("bench_" + bench)
    step = module.trainer(batch) if batch else module.trainer()
    _hook_modules(torch, gc.get_objects(), add, depth, offers)
    _hook_steps(torch, gc.get_objects(), add, offers)
    backward = torch.Tensor.backward

    def hooked_backward(self, *args, **kwargs):
        _hook_nodes(self.grad_fn, add, offers)
        began = _clock(offers)
        try:
            return backward(self, *args, **kwargs)
        finally:
            add(("backward (all)", ()), began)
    torch.Tensor.backward = hooked_backward
    best = {}
    for i in range(steps + 3):
        spent.clear()
        began = _clock(offers)
        step()
        add(("step (all)", ()), began)
        if i >= 3:
            for key, part in spent.items():
                if key not in best or part[0] < best[key][0]:
                    best[key] = list(part)
    return {f"{name} {list(shape) if shape else ''}".strip(): [v * 1e3 for v in part[:3]] + part[3:]
            for (name, shape), part in best.items()}


def _hook_modules(torch, objects, add, depth, offers):
    """Time each leaf module's forward (the outermost timed call only), by module type and input shape."""
    began = {}

    def pre(module, inputs):
        if depth[0] == 0:
            began[id(module)] = _clock(offers)
        depth[0] += 1

    def post(module, inputs, output):
        depth[0] -= 1
        if depth[0] == 0:
            add((type(module).__name__, tuple(inputs[0].shape)), began.pop(id(module)))
    for m in objects:
        if isinstance(m, torch.nn.Module) and not list(m.children()):
            m.register_forward_pre_hook(pre)
            m.register_forward_hook(post)


def _hook_steps(torch, objects, add, offers):
    """Time each optimizer's step."""
    for opt in objects:
        if isinstance(opt, torch.optim.Optimizer):
            def timed(*args, _step=opt.step, **kwargs):
                began = _clock(offers)
                try:
                    return _step(*args, **kwargs)
                finally:
                    add(("optimizer.step", ()), began)
            opt.step = timed


def _hook_nodes(root, add, offers):
    """Time each node of the graph below ``root`` from its pre-hook to its hook, by node name and gradient shape."""
    begun = {}
    for node in graph_nodes(root):
        if node.name() != "torch::autograd::AccumulateGrad":
            node.register_prehook(lambda grads, key=id(node): begun.__setitem__(key, (
                _clock(offers), tuple(grads[0].shape) if grads[0] is not None else ())))
            node.register_hook(lambda gin, gout, key=id(node), name="bw." + node.name(): add(
                (name, begun[key][1]), begun.pop(key)[0]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("bench", choices=("resnet", "dcgan", "mnist", "lenet", "lstm", "mlp"))
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=0, help="lenet's or mlp's batch (its trainer's argument)")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--side", action="store_true", help="measure this process's framework, print JSON")
    args = ap.parse_args()
    if args.bench in ("lenet", "mlp") and not args.batch:
        args.batch = 64
    if args.side:
        print(json.dumps(measure(args.bench, args.steps, args.threads, args.batch)))
        return
    env = dict(os.environ, **{v: str(args.threads) for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")})
    flags = ["--side", "--steps", str(args.steps), "--threads", str(args.threads), "--batch", str(args.batch)]
    got = {side: json.loads(subprocess.run(cmd + [os.path.abspath(__file__), args.bench] + flags, env=env, check=True,
                                           capture_output=True, text=True).stdout.splitlines()[-1])
           for side, cmd in SIDES.items()}
    names = sorted(set(got["ember"]) | set(got["torch"]), key=lambda n: -got["ember"].get(n, [0.0])[0])
    print(f"{args.bench} step by part, {args.threads} thread(s), ms in its fastest of {args.steps} steps; "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"{'part':<46}{'ember wall':>11}{'cpu':>8}{'caller':>8}{'offers':>7}{'torch wall':>11}{'cpu':>8}"
          f"{'caller':>8}")
    for n in names[:args.top]:
        e, t = got["ember"].get(n), got["torch"].get(n)
        cols = (f"{e[0]:11.3f}{e[1]:8.3f}{e[2]:8.3f}{e[3]:7.0f}" if e else f"{'-':>34}") + \
               (f"{t[0]:11.3f}{t[1]:8.3f}{t[2]:8.3f}" if t else f"{'-':>27}")
        print(f"{n:<46}{cols}")


if __name__ == "__main__":
    main()
