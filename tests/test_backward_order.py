"""The backward pass's order against PyTorch's: of the ready nodes the newest runs first (PyTorch's sequence_nr), a
leaf's AccumulateGrad before any. Hook logs of branched graphs must match PyTorch's entry for entry, and where a
node sums three or more incoming gradients the float32 result must match bit for bit (the sum follows that order)."""
import numpy as np
import pytest
import torch

import ember


def both(fn):
    """fn(lib) on ember and on torch: (ember's result, torch's)."""
    return fn(ember), fn(torch)


def same_log(fn):
    e, t = both(fn)
    assert e == t
    assert len(t) > 1     # a log that says something about order
    return e


def _round(g):
    return round(float(g.sum()), 4)


def _tagger(log, name):
    """A tensor hook that logs ``name`` and its gradient's sum."""
    def hook(g):
        log.append((name, _round(g)))
    return hook


def test_unrolled_rnn_of_linears_full_backward_hooks():
    def f(T):
        rng = np.random.default_rng(0)
        ih, hh = T.nn.Linear(2, 3), T.nn.Linear(3, 3)
        with T.no_grad():
            for p in (*ih.parameters(), *hh.parameters()):
                p.copy_(T.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32)))
        log = []
        ih.register_full_backward_hook(lambda m, gi, go: log.append(('ih', _round(go[0]))))
        hh.register_full_backward_hook(lambda m, gi, go: log.append(('hh', _round(go[0]))))
        x = T.tensor(rng.standard_normal((4, 2, 2)).astype(np.float32))
        h = T.zeros(2, 3)
        for t in range(4):
            h = T.tanh(ih(x[t]) + hh(h))
        h.sum().backward()
        return log
    log = same_log(f)
    assert [n for n, _ in log[:4]] == ['hh', 'ih', 'hh', 'ih']


def test_dplstm_per_sample_gradients_from_stacked_activations():
    """Opacus' DPLSTM pattern, reduced: each time step's Linear pushes its input in a forward hook, and its backward
    hook pops the last one to form per-sample weight gradients: right only when the hooks fire newest step first."""
    def f(T):
        rng = np.random.default_rng(1)
        ih, hh = T.nn.Linear(3, 4), T.nn.Linear(4, 4)
        with T.no_grad():
            for p in (*ih.parameters(), *hh.parameters()):
                p.copy_(T.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32)))
        acts, grads = {ih: [], hh: []}, {ih: [], hh: []}
        for m in (ih, hh):
            m.register_forward_hook(lambda m, i, o: acts[m].append(i[0].detach()))
            m.register_full_backward_hook(
                lambda m, gi, go: grads[m].append(T.einsum('ni,nj->nij', go[0], acts[m].pop()).sum(0)))
        x = T.tensor(rng.standard_normal((5, 2, 3)).astype(np.float32))
        h = T.zeros(2, 4)
        for t in range(5):
            h = T.tanh(ih(x[t]) + hh(h))
        (h * h).sum().backward()
        return [[np.round(g.numpy(), 5).tolist() for g in grads[m]] for m in (ih, hh)] + \
            [(sum(grads[m]) - m.weight.grad).abs().max().item() < 1e-5 for m in (ih, hh)]
    e, t = both(f)
    assert e == t
    assert e[-2:] == [True, True]


def test_residual_blocks_tensor_hooks():
    def f(T):
        rng = np.random.default_rng(2)
        w = [T.tensor(rng.standard_normal((3, 3)).astype(np.float32), requires_grad=True) for _ in range(3)]
        log = []
        h = T.tensor(rng.standard_normal((2, 3)).astype(np.float32), requires_grad=True)
        h.register_hook(_tagger(log, 'x'))
        for i, wi in enumerate(w):
            a = T.relu(h @ wi)
            a.register_hook(_tagger(log, f'a{i}'))
            b = T.sigmoid(a) * 2
            b.register_hook(_tagger(log, f'b{i}'))
            h = h + b
            h.register_hook(_tagger(log, f'h{i}'))
            wi.register_hook(_tagger(log, f'w{i}'))
        h.sum().backward()
        return log
    same_log(f)


def test_weight_used_four_times_hooks_and_post_accumulate():
    def f(T):
        rng = np.random.default_rng(3)
        w = T.tensor(rng.standard_normal((3,)).astype(np.float32), requires_grad=True)
        log = []
        w.register_hook(_tagger(log, 'w'))
        w.register_post_accumulate_grad_hook(lambda p: log.append(('acc', _round(p.grad))))
        x = T.tensor(rng.standard_normal((3,)).astype(np.float32), requires_grad=True)
        ys = []
        for i in range(4):
            y = (x * w).exp() if i % 2 else (x + w) * (i + 1)
            y.register_hook(_tagger(log, f'y{i}'))
            ys.append(y)
        (ys[0] * ys[1] + ys[2] - ys[3]).sum().backward()
        return log
    same_log(f)


def test_several_leaves_of_one_node_in_pytorchs_tie_order():
    """A node that makes four or more leaves ready at once: PyTorch's heap pops them in its own order (not the edges'),
    with other nodes waiting or not."""
    def f(T):
        log = []
        leaves = [T.full((2,), float(i + 1), requires_grad=True) for i in range(6)]
        for i, p in enumerate(leaves):
            p.register_hook(_tagger(log, f'p{i}'))
        other = T.ones(2, requires_grad=True)
        waiting = [(other * k).sin() for k in range(3)]     # nodes in the heap when the stack's leaves come
        s = T.stack(leaves).sum(0) * T.stack(waiting).sum(0)
        s.sum().backward()
        log.append('--')
        T.stack(leaves).pow(2).sum().backward()
        return log
    same_log(f)


def test_float32_sum_of_three_gradients_follows_the_order():
    """A non-leaf feeding three branches: its buffer adds their gradients in the order the branches ran (newest
    first, whatever order the sum that joins them lists them in); values picked so that float32's result depends on
    that order (PyTorch's (-1e8 + 1e8) + 1 is 1, the stack's (1e8 + 1) - 1e8 is 0)."""
    def f(T):
        x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
        m = x * 1.0
        big = T.tensor([1e8, 3e7, 7e7])
        a = m * 1.0
        b = m * big
        c = m * -big
        (c + (a + b)).sum().backward(retain_graph=True)
        g1 = x.grad.clone()
        x.grad = None
        T.autograd.backward([c.sum(), a.sum(), b.sum()])
        return g1.numpy().tobytes(), x.grad.numpy().tobytes()
    e, t = both(f)
    assert e == t


@pytest.mark.parametrize('seed', range(4))
def test_float32_leaf_sum_of_many_branches_bit_for_bit(seed):
    """A weight used by seven branches joined in a shuffled tree of adds: its gradients arrive in PyTorch's order."""
    def f(T):
        rng = np.random.default_rng(seed)
        w = T.tensor(rng.standard_normal((8,)).astype(np.float32), requires_grad=True)
        scales = rng.standard_normal(7).astype(np.float32) * np.float32(1e4) ** rng.integers(-1, 2, 7)
        outs = [T.tanh(w * float(s)) * float(s) for s in scales]
        while len(outs) > 1:
            i, j = sorted(rng.choice(len(outs), 2, replace=False))
            outs.append(outs.pop(j) + outs.pop(i))
        outs[0].sum().backward()
        return w.grad.numpy().tobytes()
    e, t = both(f)
    assert e == t


def test_several_outputs_and_a_second_pass_with_retain_graph():
    def f(T):
        rng = np.random.default_rng(5)
        x = T.tensor(rng.standard_normal((4,)).astype(np.float32), requires_grad=True)
        log = []
        x.register_hook(_tagger(log, 'x'))
        h = x.exp()
        h.register_hook(_tagger(log, 'h'))
        ys = [h * k for k in (1.0, 2.0, 3.0)] + [h.sin()]
        for i, y in enumerate(ys):
            y.register_hook(_tagger(log, f'y{i}'))
        T.autograd.backward([y.sum() for y in ys], retain_graph=True)
        log.append('second')
        T.autograd.backward([ys[2].sum(), ys[0].sum(), ys[3].sum()])
        return log
    same_log(f)


def test_autograd_grad_and_backward_inputs():
    def f(T):
        rng = np.random.default_rng(6)
        x = T.tensor(rng.standard_normal((3,)).astype(np.float32), requires_grad=True)
        w = T.tensor(rng.standard_normal((3,)).astype(np.float32), requires_grad=True)
        log = []
        a = x * w
        a.register_hook(_tagger(log, 'a'))
        b = a.exp()
        b.register_hook(_tagger(log, 'b'))
        c = a * x
        c.register_hook(_tagger(log, 'c'))
        d = a.cos()
        d.register_hook(_tagger(log, 'd'))
        out = (b + c + d).sum()
        gx, gw = T.autograd.grad(out, (x, w), retain_graph=True)
        log.append(('grad', _round(gx), _round(gw)))
        out.backward(inputs=[w])
        log.append(('inputs', _round(w.grad)))
        return log
    same_log(f)


def test_custom_function_nodes_and_create_graph():
    def f(T):
        class Twice(T.autograd.Function):
            @staticmethod
            def forward(ctx, a, b):
                return a * 2, b * 3

            @staticmethod
            def backward(ctx, ga, gb):
                log.append(('twice', _round(ga), _round(gb)))
                return ga * 2, gb * 3
        log = []
        x = T.tensor([1.0, -2.0, 0.5], requires_grad=True)
        p, q = Twice.apply(x.sin(), x.exp())
        p.register_hook(_tagger(log, 'p'))
        q.register_hook(_tagger(log, 'q'))
        r = p * q + q.tanh()
        r.register_hook(_tagger(log, 'r'))
        (g,) = T.autograd.grad(r.sum(), x, create_graph=True)
        log.append('second')
        g.sum().backward()
        log.append(('x', [round(v, 4) for v in x.grad.tolist()]))
        return log
    same_log(f)


def test_reentrant_checkpoint_runs_inside_the_outer_order():
    def f(T):
        import importlib
        cp = importlib.import_module(f'{T.__name__}.utils.checkpoint')
        rng = np.random.default_rng(7)
        lin = [T.nn.Linear(3, 3) for _ in range(3)]
        with T.no_grad():
            for m in lin:
                for p in m.parameters():
                    p.copy_(T.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32)))
        log = []
        for i, m in enumerate(lin):
            m.register_full_backward_hook(lambda m, gi, go, i=i: log.append((f'lin{i}', _round(go[0]))))
        x = T.tensor(rng.standard_normal((2, 3)).astype(np.float32), requires_grad=True)
        a = lin[0](x)
        b = cp.checkpoint(lambda t: lin[1](t).tanh(), a, use_reentrant=True)
        c = lin[2](a)
        (b * c).sum().backward()
        return log
    same_log(f)


@pytest.mark.parametrize('steps', [2, 5])
def test_rnn_hidden_state_hooks_each_step(steps):
    def f(T):
        rng = np.random.default_rng(8)
        cell = T.nn.Linear(4, 4)
        with T.no_grad():
            for p in cell.parameters():
                p.copy_(T.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32)))
        log = []
        h = T.tensor(rng.standard_normal((1, 4)).astype(np.float32), requires_grad=True)
        outs = []
        for t in range(steps):
            h = cell(h).tanh()
            h.register_hook(_tagger(log, f'h{t}'))
            outs.append(h.sum() * (t + 1))
        sum(outs).backward()
        return log
    same_log(f)


def test_every_node_made_by_the_registry_ops_has_a_creation_number():
    """Each way of making a node stamps it (graph.SEQ): a fast path that builds nodes without Node.__init__ and forgets
    the stamp would leave the heap without a key. The first sample of every registry entry, its graph walked."""
    import warnings
    from registry import OPS
    from test_registry import make_args
    missing = set()
    _walk([_fast_paths()], 'fast paths', missing)
    for op in OPS:
        sample = next(iter(op.samples()), None)
        if sample is None or sample.error:
            continue
        args, kwargs, leaves = make_args(ember, sample)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                out = op.call(ember, *args, **kwargs)
        except Exception:
            continue
        _walk(out, op.name, missing)
    assert not missing, sorted(missing)


def _fast_paths():
    """Outputs of the fast paths that make nodes without Node.__init__ (pointwise binary and unary, sum of a small
    array, F.linear's nodes, a view's CopySlices)."""
    T = ember
    x = T.randn(3, 4, requires_grad=True)
    w, bias = T.randn(5, 4, requires_grad=True), T.randn(5, requires_grad=True)
    outs = [x + x, x * 2.0, (x * T.ones(3, 4)).tanh(), x.sum(), T.nn.functional.linear(x, w, bias),
            T.nn.functional.linear(x, w), T.nn.functional.linear(T.randn(2, 3, 4), w, bias),
            T.nn.functional.linear(T.randn(3, 2, 4, requires_grad=True).transpose(0, 1), w)]
    v = x * 1.0
    v[0].mul_(2)
    return outs + [v]


def _walk(out, name, missing):
    """Add to ``missing`` each node reachable from ``out``'s tensors that has no creation number."""
    todo = [o.grad_fn for o in _flat(out) if isinstance(o, ember.Tensor) and o.grad_fn is not None]
    seen = set()
    while todo:
        n = todo.pop()
        if n is None or id(n) in seen:
            continue
        seen.add(id(n))
        if not hasattr(n, '_seq'):
            missing.add(f'{name}: {type(n).__name__}')
        todo.extend(c for c, _ in n.next_functions)


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [x for o in out for x in _flat(o)]
    return [out]
