"""Fast paths taken only at realistic sizes (advanced-index backward by rows, topk by partition), each
compared with PyTorch at sizes that take them."""
import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(0)


@pytest.mark.parametrize('table,index,dtype', [((65, 128), (12, 64), np.float32), ((27, 200), (40, 3), np.float64),
                                               ((9000,), (5000,), np.float32), ((30, 8, 20), (50,), np.float32),
                                               ((27, 24), (32, 8), np.float32)])
def test_advanced_index_backward_by_rows_as_pytorch(table, index, dtype):
    """``C[X]`` with repeated (and negative) indices: the gradient equals PyTorch's, and bitwise np.add.at's
    (each row summed in index order; PyTorch's own order differs in the last bit on large tables)."""
    c = RNG.standard_normal(table).astype(dtype)
    x = RNG.integers(-table[0], table[0], index)
    g = RNG.standard_normal(index + table[1:]).astype(dtype)
    grads = []
    for lib in (ember, torch):
        ct = lib.tensor(c, requires_grad=True)
        y = ct[lib.tensor(x)]
        assert y.grad_fn.name() == 'IndexBackward0'
        y.backward(lib.tensor(g))
        grads.append(ct.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-5)
    seq = np.zeros(table, dtype)
    np.add.at(seq, x, g)
    np.testing.assert_array_equal(grads[0], seq)


def test_index_by_one_integer_array_takes_rows_as_pytorch():
    """t[idx] with one integer index array on the first dim (ndarray.take): values, shape, contiguity and
    gradient equal PyTorch's for 1-D and 2-D, negative, repeated and no indices, int32 and int64, a transposed
    input; an index out of range raises IndexError on both; an embedding of no index has a zero gradient."""
    c = RNG.standard_normal((27, 5)).astype(np.float32)
    for x, dtype in (([[1, -2, 26], [0, 0, 3]], np.int64), ([4, -27, 4], np.int32), ([], np.int64)):
        for table in (c, np.ascontiguousarray(c.T).T):
            got = []
            for lib in (ember, torch):
                t = lib.tensor(table, requires_grad=True)
                y = t[lib.tensor(np.array(x, dtype))]
                y.backward(lib.ones_like(y))
                got.append((y.detach().numpy(), y.is_contiguous(), y.grad_fn.name(), t.grad.numpy()))
            for e, t in zip(*got):
                np.testing.assert_array_equal(e, t)
    for lib in (ember, torch):
        with pytest.raises(IndexError, match='index 27 is out of bounds'):
            lib.tensor(c)[lib.tensor([1, 27])]
        emb = lib.nn.Embedding(5, 3)     # no index at all: a zero gradient (the rows' reshape once failed)
        emb(lib.zeros((0, 2), dtype=lib.long)).sum().backward()
        assert emb.weight.grad.shape == (5, 3) and not emb.weight.grad.abs().sum()


def test_index_add_rows_sums_in_index_order():
    """The padded-block sums equal np.add.at's sequential sums bitwise: signed zeros, one index repeated far more
    than the others (np.add.at's path), two columns, a single index, both float dtypes."""
    from ember.ops._scatter import index_add_rows
    cases = [(27, 24, RNG.integers(0, 27, 256)), (3, 2, RNG.integers(0, 3, 3000)), (1, 4, np.zeros(700, np.int64)),
             (50, 16, np.r_[np.zeros(2000, np.int64), np.arange(50)]), (4000, 8, RNG.integers(0, 4000, 600))]
    for n, d, idx in cases:
        for dtype in (np.float32, np.float64):
            rows = RNG.standard_normal((idx.size, d)).astype(dtype)
            rows[RNG.random(rows.shape) < 0.2] = -0.0
            rows[idx == idx[0]] = -0.0
            seq = np.zeros((n, d), dtype)
            np.add.at(seq, idx, rows)
            got = index_add_rows(np.zeros((n, d), dtype), idx, rows)
            np.testing.assert_array_equal(got, seq)
            assert not np.signbit(got[seq == 0]).any()


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('kind', ['run', 'offset run', 'gaps'])
def test_index_add_rows_distinct_increasing_indices(kind, dtype):
    """Strictly increasing indices (a position embedding's arange, a run from an offset, a gapped set) take the
    one-row-per-target route: bitwise np.add.at's sums onto zeros (-0.0 rows give +0.0) and onto values (-0.0 onto
    -0.0 stays -0.0; infinities and NaN)."""
    from ember.ops._scatter import index_add_rows
    m, d = 96, 40
    idx = {'run': np.arange(m), 'offset run': np.arange(7, 7 + m),
           'gaps': np.sort(RNG.choice(400, m, replace=False))}[kind]
    n = int(idx[-1]) + 3
    rows = RNG.standard_normal((m, d)).astype(dtype)
    rows[RNG.random(rows.shape) < 0.2] = -0.0
    rows[0, :3] = (np.inf, -np.inf, np.nan)
    for start in (np.zeros((n, d), dtype), RNG.choice(np.array([0.0, -0.0, 1.5, -np.inf], dtype), (n, d))):
        seq = start.copy()
        with np.errstate(invalid='ignore'):     # inf + -inf
            np.add.at(seq, idx, rows)
            got = index_add_rows(start.copy(), idx, rows, onto=bool(start.any() or np.signbit(start).any()))
        np.testing.assert_array_equal(got, seq)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(seq))


def test_position_embedding_backward_as_pytorch():
    """nanoGPT's position embedding (wpe(arange(T)) broadcast over the batch): its weight gradient equals
    PyTorch's bitwise."""
    w = RNG.standard_normal((64, 128)).astype(np.float32)
    g = RNG.standard_normal((12, 64, 128)).astype(np.float32)
    grads = []
    for lib in (ember, torch):
        emb = lib.nn.Embedding(64, 128)
        with lib.no_grad():
            emb.weight.copy_(lib.tensor(w))
        x = lib.zeros(12, 64, 128) + emb(lib.arange(64))
        x.backward(lib.tensor(g))
        grads.append(emb.weight.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


@pytest.mark.parametrize('shape,dim', [((64, 256), -1), ((40, 3, 30), 0), ((700,), 0)])
def test_sort_and_topk_of_float32_by_packed_keys_as_pytorch(shape, dim):
    """Stable sort at sizes that take the packed-key path: ties (also -0.0 against 0.0), infinities, both
    directions; with NaN the general path is taken. topk on distinct values (ties: test_topk_orders_ties_as_pytorch)."""
    a = np.round(RNG.standard_normal(shape), 1).astype(np.float32)
    a.flat[::7] = -0.0
    a.flat[::11] = np.inf
    a.flat[::13] = -np.inf
    for arr in (a, np.where(RNG.random(shape) < 0.05, np.nan, a).astype(np.float32)):
        e, t = ember.tensor(arr), torch.tensor(arr)
        for desc in (False, True):
            es, ts = e.sort(dim=dim, descending=desc, stable=True), t.sort(dim=dim, descending=desc, stable=True)
            np.testing.assert_array_equal(es.values.numpy(), ts.values.numpy())
            np.testing.assert_array_equal(es.indices.numpy(), ts.indices.numpy())
    distinct = RNG.permutation(np.prod(shape)).reshape(shape).astype(np.float32) - 100
    for desc in (False, True):
        es, ts = ember.tensor(distinct).topk(9, dim, largest=desc), torch.tensor(distinct).topk(9, dim, largest=desc)
        np.testing.assert_array_equal(es.values.numpy(), ts.values.numpy())
        np.testing.assert_array_equal(es.indices.numpy(), ts.indices.numpy())


def test_topk_orders_ties_as_pytorch():
    """topk's indices equal PyTorch's on values with many ties (also -0.0 against 0.0, NaN, infinities), for
    both directions, sorted or not, any dim, 1-D to 3-D, floats and integers, k from 0 to the whole dim, on
    both of PyTorch's kernels (partial_sort when k * 64 <= n, else nth_element); bool is refused as PyTorch does."""
    e, t = ember.topk(ember.tensor([0.5, 0, 0, 0.7, 0, 0]), 4), torch.topk(torch.tensor([0.5, 0, 0, 0.7, 0, 0]), 4)
    assert e.indices.tolist() == t.indices.tolist() == [3, 0, 4, 5]
    rng = np.random.default_rng(7)
    for case in range(200):
        shape = tuple(int(s) for s in rng.choice([1, 2, 3, 5, 17, 40, 130], size=rng.integers(1, 4)))
        x = rng.integers(0, int(rng.choice([1, 2, 3, 10, 10 ** 6])), shape)
        dtype = (np.float32, np.float64, np.int64, np.uint8)[case % 4]
        if dtype in (np.float32, np.float64):
            x = x.astype(dtype) - 1
            x[rng.random(shape) < 0.04] = rng.choice([np.nan, np.inf, -np.inf])
            x[x == 0] = rng.choice([0.0, -0.0], size=int((x == 0).sum()))
        else:
            x = x.astype(dtype)
        if len(shape) > 1 and case % 5 == 0:
            x = np.swapaxes(x, 0, -1)
        dim = int(rng.integers(-x.ndim, x.ndim))
        n = x.shape[dim]
        k = int(rng.integers(0, n + 1)) if case % 3 else min(n, int(rng.integers(1, 4)))
        largest, srt = bool(case % 2), case % 7 != 0
        es = ember.topk(ember.tensor(x), k, dim, largest=largest, sorted=srt)
        ts = torch.topk(torch.tensor(x), k, dim, largest=largest, sorted=srt)
        np.testing.assert_array_equal(es.indices.numpy(), ts.indices.numpy())
        np.testing.assert_array_equal(es.values.numpy(), ts.values.numpy())
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match='topk does not support bool dtypes on CPU'):
            lib.topk(lib.tensor([True, False]), 1)


def test_cat_stack_and_clamp_fast_paths_as_pytorch():
    """cat and stack of many same-shape tensors (grads flow back to each), mixed dtypes and shapes, and clamp
    with both bounds through np.clip (NaN, min > max, integer bounds) give PyTorch's values."""
    parts = [RNG.standard_normal((4, 3)).astype(np.float32) for _ in range(20)]
    for dim in (0, 1, -1):
        outs = []
        for lib in (ember, torch):
            ts = [lib.tensor(p, requires_grad=True) for p in parts]
            c, s = lib.cat(ts, dim), lib.stack(ts, dim)
            (c.sum() * 2 + (s * s).sum()).backward()
            outs.append((c, s, c.grad_fn.name(), s.grad_fn.name(), [t.grad for t in ts]))
        for e, t in zip(outs[0][:2], outs[1][:2]):
            np.testing.assert_array_equal(e.detach().numpy(), t.detach().numpy())
        assert outs[0][2:4] == outs[1][2:4]
        for e, t in zip(outs[0][4], outs[1][4]):
            np.testing.assert_array_equal(e.numpy(), t.numpy())
    mixed = [np.ones((2, 3), np.int64), np.zeros((1, 3), np.float32), np.full((2, 3), 2.5, np.float64)]
    np.testing.assert_array_equal(ember.cat([ember.tensor(m) for m in mixed]).numpy(),
                                  torch.cat([torch.tensor(m) for m in mixed]).numpy())
    assert ember.stack([ember.tensor(1.0), ember.tensor(2.0)]).shape == (2,)
    x = np.array([1.5, -2, np.nan, 0.25, -0.0, 7], np.float32)
    for dtype in (np.float32, np.float64):
        for lo, hi in ((-1.0, 1.0), (2.0, 1.0), (0, 1), (-np.inf, 0.5), (float('nan'), 1.0)):
            e = ember.tensor(x.astype(dtype), requires_grad=True)
            t = torch.tensor(x.astype(dtype), requires_grad=True)
            ye, yt = e.clamp(lo, hi), t.clamp(lo, hi)
            np.testing.assert_array_equal(ye.detach().numpy(), yt.detach().numpy())
            assert ye.dtype == getattr(ember, str(yt.dtype).split('.')[1])
            ye.sum().backward()
            yt.sum().backward()
            np.testing.assert_array_equal(e.grad.numpy(), t.grad.numpy())


def _outcome(lib, x, index):
    """``x[index]``'s values, shape, grad_fn name and whether it is a view of x, or the error type raised."""
    try:
        y = x[index]
    except (IndexError, ValueError, TypeError, RuntimeError) as e:
        return type(e).__name__
    name = y.grad_fn.name() if y.grad_fn is not None else None
    return y.detach().numpy().tolist(), tuple(y.shape), name, y._base is not None if lib is ember else y._is_view()


def test_plain_basic_index_as_pytorch():
    """Basic indexing, which takes a one-pass plain-index check, and the indices just outside it (bools, NumPy
    ints, tensors, lists, steps <= 0), give PyTorch's values, shapes, grad_fn names, views and errors."""
    a = np.arange(2 * 3 * 5, dtype=np.float32).reshape(2, 3, 5)
    cases = [(slice(None), -1, slice(None)), 0, -2, 1, (Ellipsis, 1), (Ellipsis, -1, None), None, (None, 0),
             (slice(-2, None),), (slice(None, -1),), (slice(1, None, 2),), (slice(None, None, 3), 1),
             (slice(-100, 100),), (slice(4, 1),), (0, slice(None), slice(1, 4, 2)), (), Ellipsis,
             (slice(None), slice(None), slice(None)), True, False, (0, True), (np.int64(1), -1), (slice(np.int64(1), None),),
             ([0, 1],), (slice(None), [2, 0]), 2, -3, (0, 3), (0, 0, 5), (0, 0, -6), (0, 0, 0, 0),
             (slice(None, None, 0),), (slice(None, None, -1),), (slice(None), 1.0)]
    for index in cases:
        outs = [_outcome(lib, lib.tensor(a, requires_grad=True), index) for lib in (ember, torch)]
        assert outs[0] == outs[1], index
    for lib_idx in ((lambda L: L.tensor(1)), (lambda L: (slice(None), L.tensor([2, 0]))),
                    (lambda L: slice(L.tensor(1), None))):
        outs = [_outcome(L, L.tensor(a, requires_grad=True), lib_idx(L)) for L in (ember, torch)]
        assert outs[0] == outs[1]
    grads = []
    for lib in (ember, torch):
        x = lib.tensor(a, requires_grad=True)
        (x[:, -1, :] * 2).sum().backward()
        x[1:, None, ..., ::2].sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


def test_gather_along_last_dim_by_flat_offsets_as_pytorch():
    """gather, sort and topk along the last dim of a contiguous input read it flat at row offsets; a transposed
    input, an index with fewer rows, an empty dim and 1-D inputs take the other paths: values and grads as PyTorch's."""
    a = RNG.standard_normal((3, 4, 6)).astype(np.float32)
    ix = RNG.integers(0, 6, (3, 4, 5))
    cases = [lambda L, x: L.gather(x, -1, L.tensor(ix)), lambda L, x: L.gather(x, 2, L.tensor(ix[:2, :3])),
             lambda L, x: L.gather(x.transpose(0, 1), -1, L.tensor(ix.transpose(1, 0, 2))),
             lambda L, x: L.gather(x[0, 0], 0, L.tensor(ix[0, 0])), lambda L, x: L.gather(x, 1, L.tensor(ix[:, :2] % 4)),
             lambda L, x: L.gather(x[:, :, :0], 2, L.tensor(ix[:, :, :0])),
             lambda L, x: x.sort(-1), lambda L, x: x.sort(dim=1, descending=True, stable=True),
             lambda L, x: x.topk(3), lambda L, x: x[1].topk(2, largest=False), lambda L, x: x[0, 0].topk(6)]
    for f in cases:
        outs = []
        for L in (ember, torch):
            x = L.tensor(a, requires_grad=True)
            y = f(L, x)
            y = y if isinstance(y, L.Tensor) else y[0]
            (y * y).sum().backward()
            outs.append((y.detach().numpy(), y.grad_fn.name(), x.grad.numpy()))
        np.testing.assert_array_equal(outs[0][0], outs[1][0])
        assert outs[0][1] == outs[1][1]
        np.testing.assert_allclose(outs[0][2], outs[1][2], rtol=1e-6, atol=1e-6)


def test_tril_triu_cached_masks_as_pytorch():
    """tril/triu with cached masks (small) and built ones (over 65,536 values): values, grads and grad_fn as
    PyTorch's for each diagonal, inf/nan zeroed outside; a float or bool diagonal is refused as PyTorch does."""
    for shape in ((4, 3, 5), (5, 3), (300, 260)):
        a = RNG.standard_normal(shape).astype(np.float32)
        a.flat[::5] = np.inf
        for op in ('tril', 'triu'):
            for diag in (0, 1, -2, 7, -9):
                outs = []
                for L in (ember, torch):
                    x = L.tensor(a, requires_grad=True)
                    y = getattr(L, op)(x, diag)
                    y.sum().backward()
                    outs.append((y.detach().numpy(), y.grad_fn.name(), x.grad.numpy()))
                    y.detach()[...] = 1      # writable result; the cached mask is left as it was
                for e, t in zip(outs[0], outs[1]):
                    np.testing.assert_array_equal(e, t)
    for bad in (1.5, True):
        for L in (ember, torch):
            with pytest.raises(TypeError, match="argument 'diagonal'"):
                L.tril(L.ones(3, 3), bad)


def test_cat_of_different_shapes_checks_only_on_refusal_as_pytorch():
    """cat of tensors of different shapes joins them without checking sizes first; what NumPy refuses (0-d
    tensors, other ranks or sizes, a dim out of range) gets PyTorch's error; legacy empty (0,) tensors are skipped."""
    def outcome(L, f):
        try:
            r = f(L)
        except (RuntimeError, IndexError, ValueError) as e:
            return type(e).__name__, str(e).split(' (')[0][:40]
        return r.numpy().tolist(), str(r.dtype)[-5:]
    cases = [lambda L: L.cat([L.ones(2, 3), L.zeros(2, 1)], 1), lambda L: L.cat([L.ones(2, 3), L.tensor(1.)]),
             lambda L: L.cat([L.tensor(1.), L.ones(2)]), lambda L: L.cat([L.ones(2, 3), L.ones(3)]),
             lambda L: L.cat([L.ones(2, 3), L.ones(3, 2)]), lambda L: L.cat([L.ones(2, 3), L.ones(2, 2)], 5),
             lambda L: L.cat([L.ones(2, 3), L.tensor([]), L.ones(1, 3, dtype=L.int64)]),
             lambda L: L.cat([L.tensor([]), L.tensor([])]), lambda L: L.cat([L.ones(2, 3), L.ones(2, 2), L.tensor(2.)], 7),
             lambda L: L.cat([L.ones(2, 3), L.ones(2, 2)], -1)]
    for f in cases:
        assert outcome(ember, f) == outcome(torch, f)
    grads = []
    for L in (ember, torch):
        a, b = L.ones(2, 3, requires_grad=True), L.ones(2, 1, requires_grad=True)
        y = L.cat([a, b], 1)
        (y * L.arange(4.)).sum().backward()
        grads.append((y.grad_fn.name(), a.grad.numpy().tolist(), b.grad.numpy().tolist()))
    assert grads[0] == grads[1]


def test_argmax_argmin_max_min_take_the_first_nan_as_pytorch():
    """argmax/argmin (and max/min along a dim) rely on NumPy's stopping at the first NaN: PyTorch's indices with NaN,
    infinities and ties, over a dim and flattened, float16/32/64; a 0-d input with keepdim stays 0-d."""
    a = np.round(RNG.standard_normal((5, 9)), 0)
    a[RNG.random(a.shape) < 0.2] = np.nan
    a[RNG.random(a.shape) < 0.1] = np.inf
    a[RNG.random(a.shape) < 0.1] = -np.inf
    a[0] = 1.0
    for dtype in (np.float16, np.float32, np.float64):
        res = []
        for L in (ember, torch):
            x = L.tensor(a.astype(dtype))
            r = [L.argmax(x, 1), L.argmin(x, 0, keepdim=True), L.argmax(x), L.argmin(x), *x.max(1), *x.min(0),
                 L.argmax(L.tensor(2.0, dtype=x.dtype), 0, keepdim=True)]
            res.append([(t.numpy().tolist(), tuple(t.shape)) for t in r])
        assert str(res[0]) == str(res[1])


def test_gather_scatter_index_bounds_in_one_pass_as_pytorch():
    """gather/scatter/scatter_add check their index by one max over its bits as uint64: negative and too large
    indices are refused, and the message names the first bad one, as PyTorch's."""
    msgs = []
    for L in (ember, torch):
        s, r = L.zeros(3, 4), []
        for ix in ([[0, -1]], [[0, 4]], [[5, -3]], [[-2, 9]], [[1, 2], [3, -7]], [[3, 0]]):
            for f in (lambda: L.gather(s, 1, L.tensor(ix)), lambda: s.scatter_add(1, L.tensor(ix), L.ones(len(ix), 2)),
                      lambda: s.scatter(1, L.tensor(ix), 1.0)):
                try:
                    r.append(f().numpy().tolist())
                except RuntimeError as e:
                    r.append(str(e))
        msgs.append(r)
    assert msgs[0] == msgs[1]


@pytest.mark.parametrize('name', ['exp', 'sigmoid'])
@pytest.mark.parametrize('dtype', ['float32', 'float64', 'float16', 'bfloat16', 'complex64'])
def test_unary_backward_ufunc_forms_as_the_formula_and_pytorch(name, dtype):
    """A plain backward of exp and sigmoid runs their formulas as ufunc calls (np_backward); the gradient is
    bitwise the one create_graph=True gives (the formula on Tensors; bf16 aside, see below) and PyTorch's to
    rounding, across dtypes."""
    x = RNG.standard_normal((3, 5))
    g = RNG.standard_normal((3, 5))
    if dtype == 'complex64':
        x, g = x + 1j * RNG.standard_normal((3, 5)), g - 0.5j
    grads = {}
    for lib, graph in ((ember, False), (ember, True), (torch, False)):
        dt = getattr(lib, dtype)
        xt = lib.tensor(x).to(dt).requires_grad_()
        y = getattr(xt, name)()
        assert y.grad_fn.name() == name.capitalize() + 'Backward0'
        gx, = lib.autograd.grad(y, xt, lib.tensor(g).to(dt), create_graph=graph)
        assert gx.dtype == dt
        grads[lib.__name__, graph] = gx.detach().to(lib.complex128 if 'complex' in dtype else lib.float64).numpy()
    if dtype != 'bfloat16':   # bf16 Tensor arithmetic rounds where BF16Array's does not: a last-bit difference
        np.testing.assert_array_equal(grads['ember', False], grads['ember', True])
    tol = {'float16': 2e-3, 'bfloat16': 2e-2}.get(dtype, 1e-5)
    np.testing.assert_allclose(grads['ember', False], grads['torch', False], rtol=tol, atol=tol)


@pytest.mark.parametrize('dtype', ['float32', 'float64', 'float16', 'bfloat16'])
def test_tanh_backward_one_frame_as_pytorch(dtype):
    """TanhBackward0's float32 backward in one frame (a float32 gradient of an unchanged float32 output) and
    unary's backward for the rest (other dtypes, a float64 gradient, a second pass, create_graph): the gradient
    equals PyTorch's bitwise where the forward values agree (float32/64), to rounding otherwise; a changed
    output raises PyTorch's version error; a freed graph PyTorch's error."""
    x = RNG.standard_normal((3, 7)) * 1.5
    g = RNG.standard_normal((3, 7))
    out = {}
    for lib in (ember, torch):
        dt = getattr(lib, dtype)
        xt = lib.tensor(x).to(dt).requires_grad_()
        y = xt.tanh()
        assert y.grad_fn.name() == 'TanhBackward0'
        y.backward(lib.tensor(g).to(dt), retain_graph=True)
        first = xt.grad.clone()
        y.backward(lib.tensor(g).to(dt))     # the second pass through the retained graph accumulates
        gx, = lib.autograd.grad(xt.tanh(), xt, lib.tensor(g).to(dt), create_graph=True)
        assert gx.requires_grad
        errors = []
        z = xt.tanh()
        s = z.sum()
        z.mul_(2)
        with pytest.raises(RuntimeError) as e:
            s.backward()
        errors.append(str(e.value))
        s = xt.tanh().sum()
        s.backward()
        with pytest.raises(RuntimeError) as e:
            s.backward()
        errors.append(str(e.value))
        out[lib.__name__] = [t.detach().to(lib.float64).numpy() for t in (y, first, xt.grad, gx)] + [errors]
    e, t = out['ember'], out['torch']
    assert e[4] == t[4]
    same = e[0] == t[0]     # PyTorch's tanh (SLEEF) and ember's correctly rounded one differ in some last bits
    assert same.mean() > 0.5
    tol = {'float16': 2e-3, 'bfloat16': 2e-2}.get(dtype, 1e-6)
    for a, b in zip(e[1:3], t[1:3]):
        if dtype in ('float32', 'float64'):
            np.testing.assert_array_equal(a[same], b[same])
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    # create_graph runs the formula on Tensors (y*y rounded apart from 1 - y*y): PyTorch's to rounding
    np.testing.assert_allclose(e[3], t[3], rtol=max(tol, 1e-6), atol=max(tol, 1e-6))


def _chain_case(lib, case):
    """Build one graph of ``case`` on ``lib`` from the same values; returns (output, leaves, extras to compare)."""
    a = lib.tensor(RNG_CHAIN_A, requires_grad=True)
    b = lib.tensor(RNG_CHAIN_B)
    seen = []
    if case == 'chain':
        x = a
        for _ in range(5):
            x = (x + b).mul(b).tanh()
        return x.sum(), [a], seen
    if case == 'branch':           # a pure chain down to a node with two edges (x * x), then a general graph
        x = a.tanh() * b
        return ((x * x).exp() + 1).sum(), [a], seen
    if case == 'shared':           # two paths to a's node from one root: no chain past the root's add
        x = a.tanh()
        return ((x * 2).exp() + x).tanh().sum(), [a], seen
    if case == 'hook':             # hooks and retain_grad in the middle stop the chain; each sees its gradient once
        x = (a + b).tanh()
        x.register_hook(lambda g: seen.append(g.clone()))
        y = x.mul(b)
        y.retain_grad()
        return y.exp().sum(), [a], seen + [y]
    if case == 'first_none':       # b + x: the edge with a gradient is the second
        return (b + a.tanh()).exp().sum(), [a], seen
    if case == 'two_leaves':       # the chain's end has two leaves
        c = lib.tensor(RNG_CHAIN_B, requires_grad=True)
        return (a * c).tanh().exp().sum(), [a, c], seen
    if case == 'post_hook':        # a leaf with a post-accumulate hook
        a.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.clone()))
        return (a + b).tanh().sum(), [a], seen
    if case == 'leaf_root':        # the root's child is the leaf
        return (a * b).sum(), [a], seen
    if case == 'multi_output':     # the chain stops at a node of several outputs, reached through its second
        _, q = (a + b).tanh().chunk(2, dim=1)
        return q.exp().sum(), [a], seen
    raise AssertionError(case)


RNG_CHAIN_A = RNG.standard_normal((3, 4)).astype(np.float32)
RNG_CHAIN_B = RNG.standard_normal((3, 4)).astype(np.float32)


@pytest.mark.parametrize('case', ['chain', 'branch', 'shared', 'hook', 'first_none', 'two_leaves', 'post_hook',
                                  'leaf_root', 'multi_output'])
def test_backward_runs_chains_without_a_walk_as_pytorch(case):
    """``loss.backward()`` runs the chain from the root without counting dependencies (engine._chain), then the
    general loop: gradients, hook calls, retain_grad, post-accumulate hooks and accumulation into an existing
    .grad are PyTorch's; backward through the freed graph raises as PyTorch's; a .grad taken without a copy
    shares memory with no other gradient."""
    out = {}
    for lib in (ember, torch):
        loss, leaves, seen = _chain_case(lib, case)
        loss.backward(retain_graph=True)
        first = [t.grad.clone() for t in leaves]
        loss.backward()
        with pytest.raises(RuntimeError, match='backward through the graph a second time'):
            loss.backward()
        out[lib.__name__] = [np.array(t.detach().numpy()) for t in first + [t.grad for t in leaves] +
                             [s.grad if s.requires_grad else s for s in seen]]
        if lib is ember:
            leaves[0].grad.mul_(0)   # a .grad taken without a copy: zeroing it changes nothing else
            assert not any(np.shares_memory(leaves[0].grad.numpy(), s.detach().numpy()) for s in seen)
    assert len(out['ember']) == len(out['torch'])
    for e, t in zip(out['ember'], out['torch']):
        np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-6)


def test_binary_node_with_one_gradient_edge_as_pytorch():
    """x + b and x * b where only x needs a gradient (the node's lean backward, pointwise._first_only): grad_fn names
    and next_functions, gradients, a node hook's arguments, a create_graph pass and its second derivative, the
    version error when b changes in place before backward, a second backward through a freed mul (raises) and
    through an add (saves nothing: runs), a saved-tensor hook's packed b, all as PyTorch's."""
    out = {}
    for lib in (ember, torch):
        a = lib.tensor(RNG_CHAIN_A, requires_grad=True)
        b = lib.tensor(RNG_CHAIN_B)
        y = (a + b).mul(b)
        got = [y.grad_fn.name(), y.grad_fn.next_functions[0][0].name(), y.grad_fn.next_functions[1]]
        seen = []
        y.grad_fn.register_hook(lambda gi, go: seen.append((gi[0].clone(), gi[1], go[0].clone())))
        y.exp().sum().backward()
        got += [a.grad.clone(), seen[0][0], seen[0][1], seen[0][2]]
        a.grad = None
        gx, = lib.autograd.grad(((a * b) + b).exp().sum(), a, create_graph=True)
        gx.sum().backward()
        got += [gx.detach(), a.grad.clone()]
        z = (a * b).sum()
        b.add_(1)
        with pytest.raises(RuntimeError, match='modified by an inplace operation'):
            z.backward()
        z = (a * b).sum()
        z.backward()
        with pytest.raises(RuntimeError, match='backward through the graph a second time'):
            z.backward()
        a.grad = None
        z = (a - b).sum()
        z.backward()
        z.backward()
        got.append(a.grad.clone())
        calls = []
        with lib.autograd.graph.saved_tensors_hooks(lambda t: calls.append('pack') or t * 2,
                                                    lambda t: calls.append('unpack') or t):
            z = (a * b).sum()
        a.grad = None
        z.backward()
        got += [a.grad.clone(), calls]
        out[lib.__name__] = [g.numpy() if isinstance(g, lib.Tensor) else g for g in got]
    for e, t in zip(out['ember'], out['torch']):
        if isinstance(e, np.ndarray):
            np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-6)
        else:
            assert e == t
