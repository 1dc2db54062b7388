"""The GPT benchmark's training step (bench_gpt.py) by part, ember beside PyTorch: the thread CPU time of each
F.layer_norm, F.gelu, F.scaled_dot_product_attention, F.cross_entropy and F.embedding call, Linear's forward, each
grad_fn's backward (node hooks, on every other step) and the optimizer step, summed per step, the minimum over the
steps. Thread time, not wall time: other processes on a loaded machine inflate it less (their cache traffic still
does). Usage: ``python benchmarks/gpt_parts.py [--steps N] [--threads N]`` runs both sides in fresh processes and
prints the table; ``--side`` measures the framework it runs on (``python -m ember run`` for ember)."""
import argparse
import collections
import functools
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SIDES = {"ember": [sys.executable, "-m", "ember", "run"], "torch": [sys.executable]}


def measure(steps, threads):
    """{part: min ms per step} of this process's framework (``torch``: PyTorch, or ember under its alias)."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    sys.path.insert(0, HERE)
    import bench_gpt
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    clock = time.thread_time
    spent = collections.defaultdict(float)

    def timed(name, fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            began = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += clock() - began
        return run
    for name in ("layer_norm", "gelu", "scaled_dot_product_attention", "cross_entropy", "embedding"):
        setattr(F, name, timed("F." + name, getattr(F, name)))
    nn.Linear.forward = timed("Linear.forward", nn.Linear.forward)
    model = bench_gpt.GPT()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)
    opt.step = timed("optimizer.step", opt.step)
    x, y = (torch.randint(0, bench_gpt.VOCAB, (bench_gpt.BATCH, bench_gpt.BLOCK)) for _ in range(2))
    best = collections.defaultdict(lambda: float("inf"))
    for i in range(steps + 3):
        spent.clear()
        began = clock()
        loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        hooked = i % 2 == 1
        if hooked:
            _hook_nodes(loss.grad_fn, spent, clock)
        mid = clock()
        loss.backward()
        if not hooked:
            spent["backward (all)"] += clock() - mid
        opt.step()
        if not hooked:
            spent["step (all)"] += clock() - began
        if i >= 3:
            for name, s in spent.items():
                best[name] = min(best[name], s)
    return {name: s * 1e3 for name, s in best.items()}


def graph_nodes(root):
    """Each node of the backward graph below ``root`` once (also step_parts.py's walk)."""
    seen, todo = set(), [root]
    while todo:
        node = todo.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        todo.extend(child for child, _ in node.next_functions)


def _hook_nodes(root, spent, clock):
    """Time each node of the graph below ``root`` from its pre-hook to its hook, summed per node type."""
    begun = {}
    for node in graph_nodes(root):
        name = "bw." + node.name()
        node.register_prehook(lambda grads, key=id(node): begun.__setitem__(key, clock()))
        node.register_hook(lambda gin, gout, key=id(node), name=name: spent.__setitem__(
            name, spent[name] + clock() - begun[key]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--side", action="store_true", help="measure this process's framework, print JSON")
    args = ap.parse_args()
    if args.side:
        print(json.dumps(measure(args.steps, args.threads)))
        return
    env = dict(os.environ, **{v: str(args.threads) for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")})
    got = {side: json.loads(subprocess.run(cmd + [os.path.abspath(__file__), "--side", "--steps", str(args.steps),
                                                  "--threads", str(args.threads)], env=env, check=True,
                                           capture_output=True, text=True).stdout.splitlines()[-1])
           for side, cmd in SIDES.items()}
    names = sorted(set(got["ember"]) | set(got["torch"]), key=lambda n: -got["ember"].get(n, 0.0))
    print(f"GPT step by part, {args.threads} thread(s), min thread CPU ms per step over {args.steps} steps")
    print(f"{'part':<52}{'ember':>9}{'PyTorch':>9}{'diff':>9}")
    for n in names:
        e, t = got["ember"].get(n), got["torch"].get(n)
        diff = f"{e - t:9.2f}" if e is not None and t is not None else f"{'':>9}"
        print(f"{n:<52}{'-' if e is None else format(e, '.2f'):>9}{'-' if t is None else format(t, '.2f'):>9}{diff}")


if __name__ == "__main__":
    main()
