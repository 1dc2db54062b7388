"""Sparse gradients against PyTorch: nn.Embedding(sparse=True), F.embedding(sparse=True) and
nn.EmbeddingBag(sparse=True) give the weight a sparse COO ``.grad`` (printed form, parts, coalesced values), which
accumulates sparse + sparse over backward calls and is zeroed as PyTorch zeroes it, without a dense gradient of the
table's size; the coalesced gradient matches float64 finite differences. Sparse tensors store their parts only."""
import tracemalloc
import warnings

import numpy as np
import pytest
import torch

import ember

W = np.arange(18, dtype=np.float64).reshape(6, 3) / 7 - 1
IDX = np.array([[1, 2, 4], [4, 1, 0]])


def _r(t):
    """A tensor's values as a rounded list (through tolist: a NumPy view of a sparse gradient's values would pin
    PyTorch's storage, and its zero_grad(set_to_none=False) could not resize it)."""
    return np.round(np.array(t.tolist(), dtype=np.float64), 6).tolist()


def _grad_facts(g):
    """What is compared of a sparse gradient: its print, flags and (coalesced) parts."""
    c = g.coalesce()
    return [repr(g), g.is_sparse, str(g.layout), g.is_coalesced(), g._indices().tolist(), _r(g._values()),
            repr(c), c.indices().tolist(), _r(c.values()), _r(g.to_dense()), str(g.dtype), tuple(g.shape), g.grad_fn]


def _answer(T, fn):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        try:
            return fn(T)
        except Exception as e:  # noqa: BLE001 (the error is the answer)
            return type(e).__name__, str(e)


def _emb(T, dtype='float32', **kw):
    e = T.nn.Embedding(6, 3, sparse=True, dtype=getattr(T, dtype), **kw)
    with T.no_grad():
        e.weight.copy_(T.tensor(W, dtype=getattr(T, dtype)))
    return e


def _out_grad(T, shape, dtype='float32'):
    return T.tensor(np.arange(np.prod(shape), dtype=np.float64).reshape(shape) / 5 - 1, dtype=getattr(T, dtype))


def _embedding_case(dtype='float32', idx=IDX, idx_dtype='int64', **kw):
    def fn(T):
        e = _emb(T, dtype, **kw)
        i = T.tensor(idx, dtype=getattr(T, idx_dtype))
        out = e(i)
        out.backward(_out_grad(T, tuple(out.shape), dtype))
        return _grad_facts(e.weight.grad) + [out.grad_fn.name(), repr(e)]
    return fn


def _functional(T):
    w = T.tensor(W, requires_grad=True)
    T.nn.functional.embedding(T.tensor(IDX), w, padding_idx=4, sparse=True).pow(2).sum().backward()
    return _grad_facts(w.grad)


def _accumulate(T):
    """Two backward calls: the second sparse gradient added to the first (PyTorch's in-place sparse add: the
    entry lists merged in stored order)."""
    e = _emb(T)
    e(T.tensor(IDX)).pow(2).sum().backward()
    e(T.tensor([[0, 5], [1, 1]])).pow(3).sum().backward()
    return _grad_facts(e.weight.grad)


def _accumulate_same(T):
    e = _emb(T)
    for _ in range(2):
        e(T.tensor(IDX)).pow(2).sum().backward()
    return _grad_facts(e.weight.grad)


def _accumulate_expanded(T):
    """After a plain .sum(), PyTorch's values are an expanded (stride 0) view and its add concatenates the entry
    lists; ember's sum gradient is contiguous, so its entries merge: the same coalesced gradient."""
    e = _emb(T)
    e(T.tensor(IDX)).sum().backward()
    e(T.tensor([[0, 5], [1, 1]])).sum().backward()
    c = e.weight.grad.coalesce()
    return [repr(c), c.indices().tolist(), _r(c.values())]


def _add_expanded_values(T):
    """Sparse tensors whose values are an expanded view add by concatenation, as in PyTorch."""
    v = T.ones(1, 2).expand(3, 2)
    a = T.sparse_coo_tensor([[1, 4, 2]], v, (6, 2))
    b = T.sparse_coo_tensor([[0, 4, 1]], T.ones(3, 2) * 2, (6, 2))
    return [repr(a + b), repr(b + a), repr(b + b), repr(a.clone() + b), (a + b).is_coalesced()]


def _zero_grad(how):
    def fn(T):
        e = _emb(T)
        e(T.tensor(IDX)).backward(_out_grad(T, (2, 3, 3)))
        g = e.weight.grad
        if how == 'module':
            e.zero_grad(set_to_none=False)
        elif how == 'optimizer':
            T.optim.SGD(e.parameters(), lr=0.1).zero_grad(set_to_none=False)
        else:
            T.optim.SGD(e.parameters(), lr=0.1).zero_grad()
            return [e.weight.grad]
        facts = _grad_facts(e.weight.grad) + [e.weight.grad is g]
        e(T.tensor([2, 2])).pow(2).sum().backward()
        return facts + _grad_facts(e.weight.grad)
    return fn


def _bag(mode='mean', psw=False, two_d=False, offsets=(0, 2, 2, 5), **kw):
    def fn(T):
        b = T.nn.EmbeddingBag(6, 3, mode=mode, sparse=True, **kw)
        with T.no_grad():
            b.weight.copy_(T.tensor(W, dtype=T.float32))
        p = T.tensor([1., 2, 3, 4, 5, 6], requires_grad=True) if psw else None
        if two_d:
            out = b(T.tensor([[1, 2, 4], [4, 4, 0]]), per_sample_weights=None if p is None else p.reshape(2, 3))
        else:
            out = b(T.tensor([1, 2, 4, 4, 0, 3]), T.tensor(offsets), per_sample_weights=p)
        out.backward(_out_grad(T, tuple(out.shape)))
        return _grad_facts(b.weight.grad) + [out.grad_fn.name()] + ([_r(p.grad)] if psw else [])
    return fn


def _autograd_grad(T):
    w = T.tensor(W, requires_grad=True)
    out = T.nn.functional.embedding(T.tensor([3, 0, 3]), w, sparse=True)
    (g,) = T.autograd.grad(out.sum(), w)
    return _grad_facts(g)


def _hook(T):
    seen = []
    e = _emb(T)
    e.weight.register_hook(lambda g: seen.append(repr(g)))
    e(T.tensor([1, 0])).sum().backward()
    return seen


CASES = {
    'float32': _embedding_case(),
    'float64': _embedding_case('float64'),
    'int32 indices': _embedding_case(idx_dtype='int32'),
    '1-d': _embedding_case(idx=np.array([5, 0, 5])),
    '0-d': _embedding_case(idx=np.array(2)),
    'one index': _embedding_case(idx=np.array([3])),
    'no index': _embedding_case(idx=np.zeros(0, np.int64)),
    'padding_idx': _embedding_case(padding_idx=4),
    'padding only': _embedding_case(idx=np.array([4, 4]), padding_idx=-2),
    'scale_grad_by_freq refused': _embedding_case(scale_grad_by_freq=True),
    'functional': _functional,
    'accumulate': _accumulate,
    'accumulate same indices': _accumulate_same,
    'accumulate after sum': _accumulate_expanded,
    'add expanded values': _add_expanded_values,
    'module zero_grad(set_to_none=False)': _zero_grad('module'),
    'optimizer zero_grad(set_to_none=False)': _zero_grad('optimizer'),
    'optimizer zero_grad()': _zero_grad('none'),
    'autograd.grad': _autograd_grad,
    'hook': _hook,
    'bag mean': _bag(),
    'bag sum': _bag('sum'),
    'bag sum per_sample_weights': _bag('sum', psw=True),
    'bag 2-d per_sample_weights': _bag('sum', psw=True, two_d=True),
    'bag mean padding_idx': _bag(padding_idx=4),
    'bag sum padding psw': _bag('sum', psw=True, padding_idx=1),
    'bag include_last_offset': _bag('sum', include_last_offset=True, offsets=(0, 2, 2, 6)),
    'bag max refused': _bag('max'),
}


@pytest.mark.parametrize('case', CASES)
def test_sparse_gradient_as_pytorch(case):
    assert _answer(ember, CASES[case]) == _answer(torch, CASES[case])


def _fd_grad(loss, w, eps=1e-6):
    """Central finite differences of ``loss(w)`` (float64) over every entry of ``w``."""
    g = np.zeros_like(w)
    for k in np.ndindex(w.shape):
        a, b = w.copy(), w.copy()
        a[k] += eps
        b[k] -= eps
        g[k] = (loss(a) - loss(b)) / (2 * eps)
    return g


@pytest.mark.parametrize('which', ['embedding', 'bag mean', 'bag sum psw'])
def test_sparse_gradient_finite_differences(which):
    """The coalesced sparse gradient equals float64 finite differences of the loss (padding rows get none)."""
    idx = np.array([1, 2, 4, 4, 0, 1])
    offs = np.array([0, 2, 5])
    psw = np.array([0.5, -1., 2., 1.5, 0.25, -0.75])
    ow = np.random.default_rng(0).standard_normal((3 if which != 'embedding' else 6, 3))

    def loss(w, get_grad=False):
        wt = ember.tensor(w, requires_grad=get_grad)
        if which == 'embedding':
            out = ember.nn.functional.embedding(ember.tensor(idx), wt, padding_idx=2, sparse=True)
        elif which == 'bag mean':
            out = ember.nn.functional.embedding_bag(ember.tensor(idx), wt, ember.tensor(offs), mode='mean',
                                                    sparse=True, padding_idx=4)
        else:
            out = ember.nn.functional.embedding_bag(ember.tensor(idx), wt, ember.tensor(offs), mode='sum',
                                                    sparse=True, per_sample_weights=ember.tensor(psw))
        total = (out.tanh() * ember.tensor(ow)).sum()
        if get_grad:
            total.backward()
            return wt.grad
        return float(total)

    g = loss(W.copy(), get_grad=True)
    assert g.is_sparse
    want = _fd_grad(loss, W.copy())
    if which == 'embedding':
        want[2] = 0     # padding_idx's row is looked up but takes no gradient, by definition
    np.testing.assert_allclose(g.coalesce().to_dense().numpy(), want, atol=1e-8)


def test_sparse_gradient_of_a_large_table_stays_small():
    """A 10^6 x 16 table (64 MB): backward twice and coalesce allocate a few hundred entries' worth, not a dense
    gradient of the table (tracemalloc counts NumPy's buffers)."""
    emb = ember.nn.Embedding(10 ** 6, 16, sparse=True, _weight=ember.zeros(10 ** 6, 16))
    bag = ember.nn.EmbeddingBag(10 ** 6, 16, mode='sum', sparse=True, _weight=ember.zeros(10 ** 6, 16))
    idx = ember.tensor(np.random.default_rng(0).integers(0, 10 ** 6, (32, 20)))
    tracemalloc.start()
    try:
        for _ in range(2):
            emb(idx).pow(2).sum().backward()
            bag(idx).sum().backward()
        nnz = emb.weight.grad.coalesce()._nnz()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert emb.weight.grad.is_sparse and bag.weight.grad.is_sparse
    assert nnz == len(np.unique(idx.numpy()))
    assert peak < 4 * 2 ** 20, f'{peak / 2 ** 20:.1f} MB allocated'


def test_huge_sparse_matrix_stores_its_entries_only():
    """A 10^6 x 10^6 COO matrix of 100 entries: size, sums and a product with a dense operand as PyTorch's."""
    rng = np.random.default_rng(1)
    idx, vals = rng.integers(0, 10 ** 6, (2, 100)), rng.standard_normal(100)
    dense = rng.standard_normal((10 ** 6, 2))
    got = []
    for T in (ember, torch):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            s = T.sparse_coo_tensor(idx, T.tensor(vals), (10 ** 6, 10 ** 6))
        c = s.coalesce()
        got.append([tuple(s.shape), s._nnz(), float(T.sparse.sum(s)), T.mm(s, T.tensor(dense)).numpy(),
                    c.indices().numpy(), (s * 2).coalesce().values().numpy(), (s + s).coalesce().values().numpy(),
                    T.sparse.sum(s, 1).coalesce().values().numpy()])
    for a, b in zip(*got):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


# -- optimizers and gradient utilities on sparse gradients ------------------------------------------------------
def _train(T, name, kw, steps=4, closure=False):
    """An Embedding(sparse=True) and a dense Linear trained ``steps`` steps: the parameters, what the optimizer
    keeps (sparse state by its parts), or the error the step raises."""
    e = _emb(T)
    lin = T.nn.Linear(3, 2)
    with T.no_grad():
        lin.weight.copy_(T.tensor([[0.5, -1., 0.25], [1.5, 0.5, -0.5]]))
        lin.bias.copy_(T.tensor([0.1, -0.2]))
    params = list(e.parameters()) + list(lin.parameters())
    opt = getattr(T.optim, name)(params if name != 'SparseAdam' else e.parameters(), **kw)
    batches = [[[0, 1, 0], [3, 4, 4]], [[5, 1], [1, 1]], [[2, 0, 2, 3]], [[4]]]

    def loss_of(k):
        return lin(e(T.tensor(batches[k % len(batches)]))).tanh().pow(2).sum()

    out = []
    for k in range(steps):
        if closure:
            def cl():
                opt.zero_grad()
                loss = loss_of(k)
                loss.backward()
                return loss
            opt.step(cl)
        else:
            opt.zero_grad()
            loss_of(k).backward()
            opt.step()
        out.append([p.detach().tolist() for p in params])
    for st in opt.state.values():
        for key, v in st.items():
            if isinstance(v, T.Tensor) and v.is_sparse:
                out.append([key, v._indices().tolist(), v.is_coalesced(), v.coalesce().values().tolist()])
            elif isinstance(v, T.Tensor):
                out.append([key, v.tolist()])
            else:
                out.append([key, v])
    return out


OPTIM_CASES = [
    ('SGD', dict(lr=0.1)), ('SGD', dict(lr=0.1, momentum=0.9)),
    ('SGD', dict(lr=0.05, momentum=0.5, dampening=0.3, maximize=True)),
    ('SGD', dict(lr=0.05, momentum=0.5, nesterov=True)), ('SGD', dict(lr=0.1, momentum=0.9, foreach=True)),
    ('SGD', dict(lr=0.1, weight_decay=0.1)), ('SGD', dict(lr=0.1, fused=True)),
    ('Adagrad', dict(lr=0.1)), ('Adagrad', dict(lr=0.1, lr_decay=0.1, initial_accumulator_value=0.5, eps=1e-6)),
    ('Adagrad', dict(lr=0.1, maximize=True, foreach=True)), ('Adagrad', dict(lr=0.1, weight_decay=0.1)),
    ('Adagrad', dict(lr=0.1, fused=True)),
    ('SparseAdam', dict(lr=0.05)), ('SparseAdam', dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6, maximize=True)),
    ('Adam', dict(lr=0.1)), ('AdamW', dict(lr=0.1)), ('RMSprop', dict(lr=0.1)), ('Adadelta', dict()),
    ('Adamax', dict()), ('NAdam', dict()), ('RAdam', dict()), ('ASGD', dict()), ('Rprop', dict()),
    ('Adafactor', dict()),
]


@pytest.mark.parametrize('name,kw', OPTIM_CASES, ids=[f'{n}-{k}' for n, k in OPTIM_CASES])
def test_optimizers_on_sparse_gradients(name, kw):
    """SGD (momentum buffers sparse, growing uncoalesced), Adagrad and SparseAdam step as PyTorch's on a sparse
    embedding gradient next to a dense one; the others (and SGD's weight decay, fused kernels) raise PyTorch's
    errors."""
    got, want = _answer(ember, lambda T: _train(T, name, kw)), _answer(torch, lambda T: _train(T, name, kw))
    if isinstance(want, tuple):
        assert got == want
        return
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            if isinstance(y, (str, bool)) or (isinstance(y, list) and y and isinstance(y[0], list)
                                              and y[0] and isinstance(y[0][0], int)):
                assert x == y
            else:
                np.testing.assert_allclose(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64),
                                           rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('closure', [False, True])
def test_refusals_follow_the_closure(closure):
    """An optimizer without a sparse algorithm raises after a step's closure made the sparse gradient, and
    SparseAdam refuses a dense one, as PyTorch does."""
    for name, kw in (('Adam', dict(lr=0.1)), ('RMSprop', dict(lr=0.1))):
        assert _answer(ember, lambda T: _train(T, name, kw, 1, closure)) == \
            _answer(torch, lambda T: _train(T, name, kw, 1, closure))

    def dense(T):
        lin = T.nn.Linear(2, 1)
        opt = T.optim.SparseAdam(lin.parameters())
        lin(T.ones(1, 2)).sum().backward()
        return opt.step()
    assert _answer(ember, dense) == _answer(torch, dense)


def test_lbfgs_on_a_sparse_gradient():
    """LBFGS flattens a sparse gradient densely (PyTorch's _gather_flat_grad)."""
    got = _answer(ember, lambda T: _train(T, 'LBFGS', dict(lr=0.5, max_iter=3), 2, True))
    want = _answer(torch, lambda T: _train(T, 'LBFGS', dict(lr=0.5, max_iter=3), 2, True))
    for a, b in zip(got[:2], want[:2]):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-5)


def _clip(how):
    def fn(T):
        e = _emb(T)
        e(T.tensor(IDX)).pow(2).sum().backward()
        if how == 'norm':
            return T.nn.utils.clip_grad_norm_(e.parameters(), 1.0)
        if how == 'value':
            return T.nn.utils.clip_grad_value_(e.parameters(), 0.5)
        if how == 'value no foreach':
            return T.nn.utils.clip_grad_value_(e.parameters(), 0.5, foreach=False)
        T.nn.utils.clip_grads_with_norm_(e.parameters(), 1.0, T.tensor(4.0))
        return _grad_facts(e.weight.grad)
    return fn


@pytest.mark.parametrize('how', ['norm', 'value', 'value no foreach', 'with norm'])
def test_clipping_a_sparse_gradient(how):
    """clip_grad_norm_ and clip_grad_value_ raise PyTorch's NotImplementedError for a sparse gradient (no sparse
    norm or clamp kernel); clip_grads_with_norm_ scales its values."""
    got, want = _answer(ember, _clip(how)), _answer(torch, _clip(how))
    if isinstance(want, tuple):
        assert got[0] == want[0] and want[1].startswith(got[1])
    else:
        assert got == want


def _scaled_training(T):
    """GradScaler over sparse gradients: their values unscaled (an inf among them skips the step)."""
    e = _emb(T)
    opt = T.optim.SGD(e.parameters(), lr=0.1, momentum=0.5)
    sc = T.amp.GradScaler('cpu', init_scale=4.0)
    out = []
    for k, factor in enumerate([1.0, 1.0, float('inf'), 1.0]):
        opt.zero_grad()
        sc.scale(e(T.tensor([0, 1, 0, k])).pow(2).sum() * factor).backward()
        sc.step(opt)
        sc.update()
        out.append([_r(e.weight.detach()), sc.get_scale()])
    return out


def test_grad_scaler_unscales_sparse_gradients():
    got, want = _answer(ember, _scaled_training), _answer(torch, _scaled_training)
    assert got == want


def _tied(order):
    def fn(T):
        """A sparse embedding whose table is also a dense output layer (tied weights): the sparse and the dense
        gradient sum to a dense .grad, to which a later sparse one adds (float64: the dense product's float32
        rounding is not the point here)."""
        e = _emb(T, 'float64')
        x = e(T.tensor([0, 2, 2]))
        logits = x @ e.weight.t()
        (logits.pow(2).sum() if order else x.sum() + logits.sum()).backward()
        first = [e.weight.grad.is_sparse, _r(e.weight.grad)]
        e(T.tensor([1])).sum().backward()
        return first + [e.weight.grad.is_sparse, _r(e.weight.grad)]
    return fn


@pytest.mark.parametrize('order', [0, 1])
def test_tied_sparse_and_dense_gradients(order):
    assert _answer(ember, _tied(order)) == _answer(torch, _tied(order))
