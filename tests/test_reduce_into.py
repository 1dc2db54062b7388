"""scatter_reduce and index_reduce share one implementation (ember/ops/indexing.py ``_scatter_reduce_core``):
a seeded fuzz of both against PyTorch on every reduction, with and without include_self, on small-integer
values (ties among self and src, zeros for prod) and random ones: values, gradients, and second derivatives
(PyTorch's scatter_reduce and index_reduce are twice differentiable, prod too, but for src where two zeros meet:
there both raise, with PyTorch's message)."""
import warnings

import numpy as np
import pytest
import torch

import ember

REDUCES = ('sum', 'prod', 'mean', 'amax', 'amin')


def _case(seed):
    """(op name, reduce, include_self, input, dim, index, source) drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    op = ('scatter_reduce', 'index_reduce')[seed % 2]
    reduce = rng.choice(REDUCES if op == 'scatter_reduce' else REDUCES[1:])
    dtype = (np.float64, np.int64)[int(rng.integers(4) == 0)]
    shape = tuple(int(k) for k in rng.integers(1, 4, int(rng.integers(1, 4))))
    d = int(rng.integers(len(shape)))

    def values(shp):
        ties = dtype == np.int64 or rng.integers(2)
        return (rng.integers(-2, 3, shp) if ties else rng.normal(size=shp)).astype(dtype)
    if op == 'scatter_reduce':
        ishape = tuple(int(rng.integers(1, 5)) if k == d else int(rng.integers(1, s + 1)) for k, s in enumerate(shape))
        index = rng.integers(0, shape[d], ishape)
        source = values(ishape)
    else:
        index = rng.integers(0, shape[d], int(rng.integers(1, 5)))
        source = values(tuple(len(index) if k == d else s for k, s in enumerate(shape)))
    return op, str(reduce), bool(rng.integers(2)), values(shape), d, index, source


def _run(lib, case, order):
    """The result (order 0), its gradients (1) or the gradients of their squared sum (2)."""
    op, reduce, include_self, a, d, index, source = case
    x = lib.tensor(a, requires_grad=order > 0)
    s = lib.tensor(source, requires_grad=order > 0)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        r = getattr(lib, op)(x, d, lib.tensor(index), s, reduce, include_self=include_self)
    if order == 0:
        return [r]
    g = lib.tensor(np.linspace(-1, 1, r.numel()).reshape(tuple(r.shape)), requires_grad=order == 2)
    grads = lib.autograd.grad(r, (x, s), g, create_graph=order == 2)
    if order == 1:
        return list(grads)
    return list(lib.autograd.grad(sum((v * v).sum() for v in grads), (x, s, g), allow_unused=True))


def _same(e, t):
    assert len(e) == len(t)
    for a, b in zip(e, t):
        assert (a is None) == (b is None)
        if a is not None:
            assert a.numpy().dtype == b.detach().numpy().dtype
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize('seed', range(120))
def test_reduce_into_fuzz(seed):
    case = _case(seed)
    _same(_run(ember, case, 0), _run(torch, case, 0))
    if case[3].dtype != np.float64:
        return
    _same(_run(ember, case, 1), _run(torch, case, 1))
    try:
        want = _run(torch, case, 2)
    except RuntimeError as err:   # prod where two zeros meet: PyTorch's DelayedError, and ember's
        assert case[1] == 'prod'
        with pytest.raises(RuntimeError) as got:
            _run(ember, case, 2)
        assert str(got.value) == str(err)
        return
    _same(_run(ember, case, 2), want)


def test_reduce_into_messages():
    """The checks each op keeps in front of the shared core, with PyTorch's types and messages."""
    def outcome(lib, fn):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                fn(lib)
        except Exception as e:
            return type(e).__name__, str(e)
        return None
    calls = [lambda L: L.scatter_reduce(L.zeros(3), 0, L.tensor([0]), L.ones(1), 'add'),
             lambda L: L.scatter_reduce(L.zeros(3), 0, L.tensor([0]), L.ones(1, dtype=L.float64), 'sum'),
             lambda L: L.scatter_reduce(L.tensor([True]), 0, L.tensor([0]), L.tensor([False]), 'mean'),
             lambda L: L.scatter_reduce(L.zeros(3, requires_grad=True), 0, L.tensor([0]), L.ones(1), 'max').sum().backward(),
             lambda L: L.index_reduce(L.zeros(3), 0, L.tensor([0]), L.ones(1), 'sum'),
             lambda L: L.index_reduce(L.zeros(3), 0, L.tensor([3]), L.ones(1), 'prod'),
             lambda L: L.index_reduce(L.zeros(3, 2), 1, L.tensor([-1]), L.ones(3, 1), 'amax'),
             lambda L: L.index_reduce(L.zeros(3, dtype=L.bool), 0, L.tensor([0]), L.ones(1, dtype=L.bool), 'amax'),
             lambda L: L.index_reduce(L.zeros(3, 2, dtype=L.bool), 0, L.tensor([0]), L.ones(1, 2, dtype=L.bool), 'amin',
                                      include_self=False),
             lambda L: L.index_reduce(L.zeros(3, 2, dtype=L.bool), 0, L.tensor([0]), L.ones(1, 2, dtype=L.bool), 'mean')]
    for fn in calls:
        want = outcome(torch, fn)
        assert want is not None
        assert outcome(ember, fn) == want


def test_index_reduce_beta_warning_is_once_and_at_the_callers_line():
    """PyTorch's TORCH_WARN_ONCE: one warning a process, attributed to the line that called index_reduce."""
    from ember import _warn
    message = 'index_reduce() is in beta and the API may change at any time.'
    _warn._WARNED_ONCE.discard(message)
    t = ember.zeros(5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        t.index_reduce_(0, ember.tensor([0, 1]), ember.ones(2), 'prod')
        ember.index_reduce(t, 0, ember.tensor([0, 1]), ember.ones(2), 'amax')
    beta = [w for w in caught if str(w.message).split(' (Triggered internally')[0] == message]
    assert len(beta) == 1 and beta[0].filename == __file__
