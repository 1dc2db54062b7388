"""Bit-for-bit agreement with PyTorch 2.13 of float32 training ops found differing by a fuzzer of 60 training ops
(nn layers' forward and backward, losses, optimizers' steps): each row runs an op on both libraries and compares the
bits of its result and of every input's gradient, in the mode named (default: ember's cheap passes; exact: ember's
opt-in exact kernels, at PyTorch's thread count), at 1 and 2 threads."""
import numpy as np
import pytest
import torch

import ember
from helpers import threads  # noqa: F401 (fixture)

F32 = np.float32
BATCHES = [(1, 13), (3, 13), (7, 5), (8, 13), (64, 10), (4, 3, 33), (200, 17)]


def _bce(lib, x, t, w=None, reduction='mean'):
    return lib.nn.functional.binary_cross_entropy(x.sigmoid(), t, weight=w, reduction=reduction)


def _bce_prob(lib, p, t, w=None, reduction='mean'):
    return lib.nn.functional.binary_cross_entropy(p, t, weight=w, reduction=reduction)


def _bcel(lib, x, t, w=None, pw=None, reduction='mean'):
    return lib.nn.functional.binary_cross_entropy_with_logits(x, t, weight=w, pos_weight=pw, reduction=reduction)


# (name, op(lib, *tensors), inputs(rng, shape) -> (arrays, how many need a gradient), modes): an op's gradients
# compared bitwise in each mode, its result too under the exact kernels
def _probs(rng, shape, weight=False):
    p = 1 / (1 + np.exp(-rng.standard_normal(shape) * 2))
    t = rng.random(shape)
    arrs = [p.astype(F32), t.astype(F32)] + ([(rng.random(shape[-1:]) + 0.1).astype(F32)] if weight else [])
    return arrs, 1


def _logits(rng, shape, weight=False, pos=False):
    arrs = [(rng.standard_normal(shape) * 3).astype(F32), rng.random(shape).astype(F32)]
    if weight:
        arrs.append((rng.random(shape[-1:]) + 0.1).astype(F32))
    if pos:
        arrs.append((rng.random(shape[-1:]) * 3).astype(F32))
    return arrs, 1


def _images(rng, shape, ties=False):
    """One (N, 3, H, W) image batch from a row's shape (N its first dim, at most 32: a nearest upscale's gradient
    takes PyTorch's order by default up to 2**18 values); ``ties``: values on a coarse grid, so that overlapping
    max-pool windows share their maxima."""
    x = rng.standard_normal((min(shape[0], 32), 3, 7 + shape[-1] % 6, 9 + shape[-1] % 4)) * 2
    return [(np.round(x) + 0.0 if ties else x).astype(F32)], 1     # (+ 0.0: no -0.0 ties)


def _signed_zeros(rng, shape):
    """One (N, 3, H, W) image batch of +0.0, -0.0, 1 and -1: max-pool windows whose maxima are zeros of both signs."""
    n, h, w = min(shape[0], 32), 7 + shape[-1] % 6, 9 + shape[-1] % 4
    return [rng.choice(np.array([0.0, -0.0, 1.0, -1.0], F32), size=(n, 3, h, w))], 1


def _pool(kind, *args, cl=False, **kw):
    def op(lib, x):
        x = x.contiguous(memory_format=lib.channels_last) if cl else x
        return getattr(lib.nn.functional, kind)(x, *args, **kw)
    return op


def _nearest(lib, x, **kw):
    return lib.nn.functional.interpolate(x, mode='nearest', **kw)


def _bags(rng, shape, offsets=False):
    """An embedding table (its gradient not checked: PyTorch's axpy order is not ember's) and bags of
    lookups: the row's shape as (bags, lookups), or one 1-D input of at most 64 lookups (unequal bags are summed in
    order up to 64 lookups) cut at random offsets."""
    w = rng.standard_normal((11, shape[-1] % 9 + 1)).astype(F32)
    idx = rng.integers(0, 11, shape[:2] if not offsets else (min(64, int(np.prod(shape[:2]))),))
    return [w, idx] + ([np.sort(np.r_[0, rng.integers(0, idx.size, 4)])] if offsets else []), 0


def _bag(mode, **kw):
    def op(lib, w, idx, offsets=None):
        return lib.nn.functional.embedding_bag(idx, w, offsets, mode=mode, **kw)
    return op


ROWS = [
    # embedding_bag's sums: each bag's lookups added in order from 0 (was np.add.reduceat's order)
    ('embedding_bag_sum', _bag('sum'), _bags, ('default', 'exact')),
    ('embedding_bag_mean', _bag('mean'), _bags, ('default', 'exact')),
    ('embedding_bag_offsets_mean', _bag('mean'), lambda r, s: _bags(r, s, True), ('default', 'exact')),
    ('embedding_bag_padding', _bag('mean', padding_idx=3), lambda r, s: _bags(r, s, True), ('default', 'exact')),
    # float32 adaptive average pools window by window as PyTorch's kernel (sum in order, / height / width; the
    # gradient's g / height / width added window after window) under the exact kernels (was two matrix products)
    ('adaptive_avg_3x2', _pool('adaptive_avg_pool2d', (3, 2)), _images, ('exact',)),
    ('adaptive_avg_overlap', _pool('adaptive_avg_pool2d', (5, 4)), _images, ('exact',)),
    ('adaptive_avg_grow', lambda L, x: L.nn.functional.adaptive_avg_pool2d(x[..., :3, :4], (4, 6)), _images,
     ('exact',)),
    ('adaptive_avg_channels_last', _pool('adaptive_avg_pool2d', (3, 5), cl=True), _images, ('exact',)),
    # an integer nearest upscale's gradient: each block of outputs added in raster order (was one axis at a time)
    ('nearest_2x', lambda L, x: _nearest(L, x, scale_factor=2), _images, ('default', 'exact')),
    ('nearest_2x3', lambda L, x: _nearest(L, x, scale_factor=(2, 3)), _images, ('default', 'exact')),
    ('nearest_size_3x', lambda L, x: _nearest(L, x, size=(3 * x.shape[2], 3 * x.shape[3])), _images,
     ('default', 'exact')),
    ('nearest_3d_2x', lambda L, x: _nearest(L, x.unsqueeze(2).expand(-1, -1, 3, -1, -1), scale_factor=(2, 2, 1)),
     _images, ('default', 'exact')),
    # overlapping windows' gradients added in the windows' raster order (was the kernel offsets' order)
    ('max_pool_3_2', _pool('max_pool2d', 3, 2), lambda r, s: _images(r, s, True), ('default', 'exact')),
    ('max_pool_3_2_pad_ceil', _pool('max_pool2d', 3, 2, 1, ceil_mode=True), lambda r, s: _images(r, s, True),
     ('default', 'exact')),
    ('max_pool_4_1_dil', _pool('max_pool2d', 2, 1, dilation=2), lambda r, s: _images(r, s, True),
     ('default', 'exact')),
    ('max_pool_channels_last', _pool('max_pool2d', 3, 2, cl=True), lambda r, s: _images(r, s, True),
     ('default', 'exact')),
    # a max of zeros: the first zero's sign in scan order under the exact kernels (was NumPy's maximum's pick)
    ('max_pool_2_zeros', _pool('max_pool2d', 2), _signed_zeros, ('exact',)),
    ('max_pool_3_2_pad_zeros', _pool('max_pool2d', 3, 2, 1, ceil_mode=True), _signed_zeros, ('exact',)),
    ('max_pool_dil_zeros', _pool('max_pool2d', 2, 1, dilation=2), _signed_zeros, ('exact',)),
    ('max_pool_channels_last_zeros', _pool('max_pool2d', 3, 2, cl=True), _signed_zeros, ('exact',)),
    ('avg_pool_3_2', _pool('avg_pool2d', 3, 2), _images, ('default', 'exact')),
    ('avg_pool_3_1_pad', _pool('avg_pool2d', 3, 1, 1), _images, ('default', 'exact')),
    ('avg_pool_4_3_ceil_nopad', _pool('avg_pool2d', 4, 3, 1, ceil_mode=True, count_include_pad=False), _images,
     ('default', 'exact')),
    ('avg_pool_divisor', _pool('avg_pool2d', 3, 2, divisor_override=5), _images, ('default', 'exact')),
    ('avg_pool_channels_last', _pool('avg_pool2d', 3, 2, 1, cl=True), _images, ('default', 'exact')),
    # the gradient w (x - t) g / max((1 - x) x, eps) / n in PyTorch's order (was (x - t) / max * (g / n))
    ('bce_grad_mean', lambda L, p, t: _bce_prob(L, p, t), _probs, ('default', 'exact')),
    ('bce_grad_weight_mean', lambda L, p, t, w: _bce_prob(L, p, t, w), lambda r, s: _probs(r, s, True),
     ('default', 'exact')),
    ('bce_grad_sum_x3', lambda L, p, t: 3.7 * _bce_prob(L, p, t, reduction='sum'), _probs, ('default', 'exact')),
    # the loss: glibc's logf(x) and log1pf(-x) (was log(1 - x) rounded once)
    ('bce_value_none', lambda L, p, t: _bce_prob(L, p, t, reduction='none'), _probs, ('exact',)),
    ('bce_value_mean', lambda L, p, t: _bce_prob(L, p, t), _probs, ('exact',)),
    ('bce_sigmoid_chain', lambda L, x, t: _bce(L, x, t), _logits, ('exact',)),
    # sigmoid - t (or (pw t + 1 - t) s - pw t) times g, w, then / n; the loss from SLEEF's log_sigmoid
    ('bcel_mean', lambda L, x, t: _bcel(L, x, t), _logits, ('exact',)),
    ('bcel_sum_x3', lambda L, x, t: 3.7 * _bcel(L, x, t, reduction='sum'), _logits, ('exact',)),
    ('bcel_weight_x3', lambda L, x, t, w: 3.7 * _bcel(L, x, t, w), lambda r, s: _logits(r, s, True), ('exact',)),
    ('bcel_pos_weight', lambda L, x, t, pw: _bcel(L, x, t, pw=pw), lambda r, s: _logits(r, s, pos=True),
     ('exact',)),
    ('bcel_both_weights', lambda L, x, t, w, pw: _bcel(L, x, t, w, pw), lambda r, s: _logits(r, s, True, True),
     ('exact',)),
    ('bcel_none', lambda L, x, t: _bcel(L, x, t, reduction='none'), _logits, ('exact',)),
    ('logsigmoid', lambda L, x, t: L.nn.functional.logsigmoid(x), _logits, ('exact',)),
]


def _run(lib, op, arrs, n_grad, seed):
    """The op's result and the gradients of its first ``n_grad`` inputs against a seeded gradient."""
    ts = [lib.tensor(a, requires_grad=i < n_grad) for i, a in enumerate(arrs)]
    out = op(lib, *ts)
    if n_grad:
        g = np.random.default_rng(seed).standard_normal(out.shape).astype(F32)
        out.backward(lib.tensor(g))
    return [out.detach().numpy()] + [t.grad.numpy() for t in ts[:n_grad]]


@pytest.fixture
def mode(request):
    """ember's exact kernels off ('default') or on ('exact', its thread count PyTorch's), put back after the test."""
    old = ember.backend.exact_kernels(), ember.get_num_threads()
    ember.backend.exact_kernels(request.param == 'exact')
    ember.set_num_threads(torch.get_num_threads())
    yield request.param
    ember.backend.exact_kernels(old[0])
    ember.set_num_threads(old[1])


CASES = [(name, op, inputs, m) for name, op, inputs, modes in ROWS for m in modes]


@pytest.mark.parametrize('shape', BATCHES)
@pytest.mark.parametrize('name,op,inputs,mode', CASES, ids=[f'{c[0]}-{c[3]}' for c in CASES], indirect=['mode'])
def test_bits_as_pytorch(name, op, inputs, mode, shape, threads):  # noqa: F811
    """The row's gradients (with the exact kernels its result too) are PyTorch's bits in the mode."""
    seed = sum(shape) * 31 + len(name)
    arrs, n_grad = inputs(np.random.default_rng(seed), shape)
    want = _run(torch, op, arrs, n_grad, seed)
    got = _run(ember, op, arrs, n_grad, seed)
    first = 1 if mode == 'default' else 0    # default: results within rounding (NumPy's log, exp), checked below
    np.testing.assert_allclose(got[0], want[0], rtol=1e-6, atol=1e-7)
    if n_grad == 0:     # a result checked bitwise in every mode
        first = 0
    for i, (w, e) in enumerate(zip(want[first:], got[first:]), first):
        assert e.dtype == w.dtype and e.shape == w.shape, (name, i)
        bad = np.flatnonzero(e.view(np.int32) != w.view(np.int32))
        assert bad.size == 0, f'{name} #{i}: {bad.size} of {w.size} values differ (first at {bad[:3]})'


# (M, K, N) of float32 products MKL sums as plain multiplies and adds (inner dimension 2-3, fewer than 4 rows or 12
# columns; 4 as mm), with neighbours it fuses: forward values under the exact kernels compared bitwise, as linear
# (weight.T) with and without a bias and as mm
PRODUCTS = [(m, k, n, kind) for m, k, n in [(10, 3, 2), (1, 2, 5), (3, 3, 40), (4, 3, 11), (64, 2, 7), (500, 3, 1),
                                            (2, 3, 100), (17, 3, 12), (8, 2, 32)]
            for kind in ('linear', 'linear_bias', 'mm')] + \
    [(m, 4, n, 'mm') for m, n in [(6, 3), (1, 9), (3, 30), (40, 11), (9, 30)]]


@pytest.mark.parametrize('mode', ['exact'], indirect=True)
@pytest.mark.parametrize('m,k,n,kind', PRODUCTS)
def test_small_products_bits(m, k, n, kind, mode, threads):  # noqa: F811
    """A small-inner-dimension float32 product's values are PyTorch's bits under the exact kernels."""
    rng = np.random.default_rng(m * 1000 + k * 100 + n)
    x, w, b = rng.standard_normal((m, k)).astype(F32), rng.standard_normal((n, k)).astype(F32), \
        rng.standard_normal(n).astype(F32)
    got, want = (lib.mm(lib.tensor(x), lib.tensor(np.ascontiguousarray(w.T))).numpy() if kind == 'mm' else
                 lib.nn.functional.linear(lib.tensor(x), lib.tensor(w),
                                          lib.tensor(b) if kind == 'linear_bias' else None).numpy()
                 for lib in (ember, torch))
    bad = np.flatnonzero(got.view(np.int32) != want.view(np.int32))
    assert bad.size == 0, f'{kind} {(m, k, n)}: {bad.size} of {want.size} values differ'


# (N, C_in, C, H, W, stride) of float32 conv2d bias gradients PyTorch sums over (N, H, W) term after term at one thread
CONV_BIAS = [(8, 3, 6, 9, 9, 1), (4, 16, 16, 8, 8, 1), (2, 3, 5, 7, 5, 2), (16, 3, 6, 28, 28, 1), (3, 8, 32, 16, 16, 2)]


@pytest.mark.parametrize('mode', ['exact'], indirect=True)
@pytest.mark.parametrize('n,ci,c,h,w,s', CONV_BIAS)
def test_conv_bias_grad_bits(n, ci, c, h, w, s, mode):
    """conv2d's float32 bias gradient at one thread is PyTorch's bits under the exact kernels."""
    old = torch.get_num_threads(), ember.get_num_threads()
    torch.set_num_threads(1)
    ember.set_num_threads(1)
    try:
        rng = np.random.default_rng(n * c + h)
        x, wt = rng.standard_normal((n, ci, h, w)).astype(F32), rng.standard_normal((c, ci, 3, 3)).astype(F32)
        bias = rng.standard_normal(c).astype(F32)
        got = []
        for lib in (ember, torch):
            b = lib.tensor(bias, requires_grad=True)
            y = lib.nn.functional.conv2d(lib.tensor(x), lib.tensor(wt), b, stride=s, padding=1)
            y.backward(lib.tensor(np.random.default_rng(7).standard_normal(tuple(y.shape)).astype(F32)))
            got.append(b.grad.numpy())
    finally:
        torch.set_num_threads(old[0])
        ember.set_num_threads(old[1])
    bad = np.flatnonzero(got[0].view(np.int32) != got[1].view(np.int32))
    assert bad.size == 0, f'conv bias grad {(n, ci, c, h, w, s)}: {bad.size} of {c} values differ'


# (K, N) of batch-1 float32 linear layers (MKL's matrix-vector kernel: groups of 4 outputs, then N mod 4 outputs each
# in its own order) whose values differed from PyTorch's under the exact kernels (outside N 1, 4, 5, 8, 9)
ROW_SHAPES = [(5, 6), (12, 3), (13, 7), (20, 2), (27, 10), (64, 3), (100, 13), (255, 66), (784, 10), (33, 1),
              (17, 255), (1024, 2)]
ROW_FORMS = {
    'linear': lambda L, x, w, b: L.nn.functional.linear(x[:1, :w.shape[1]], w),
    'linear_bias': lambda L, x, w, b: L.nn.functional.linear(x[:1, :w.shape[1]], w, b),
    'vector_bias': lambda L, x, w, b: L.nn.functional.linear(x[0, :w.shape[1]], w, b),
    'matmul_t': lambda L, x, w, b: L.matmul(x[:1, :w.shape[1]], w.t()),
    'offset_row': lambda L, x, w, b: L.nn.functional.linear(x[1:2, 3:3 + w.shape[1]], w, b),    # another peel
}


@pytest.mark.parametrize('mode', ['exact'], indirect=True)
@pytest.mark.parametrize('form', list(ROW_FORMS))
@pytest.mark.parametrize('k,n', ROW_SHAPES)
def test_batch1_linear_bits(k, n, form, mode, threads):  # noqa: F811
    """A float32 linear layer on one row (or a vector) gives PyTorch's bits under the exact kernels."""
    rng = np.random.default_rng(k * 100 + n)
    x, w, b = rng.standard_normal((2, k + 3)).astype(F32), rng.standard_normal((n, k)).astype(F32), \
        rng.standard_normal(n).astype(F32)
    got, want = (ROW_FORMS[form](lib, lib.tensor(x), lib.tensor(w), lib.tensor(b)).numpy() for lib in (ember, torch))
    bad = np.flatnonzero(got.view(np.int32) != want.view(np.int32))
    assert got.shape == want.shape and bad.size == 0, f'{form} {(k, n)}: {bad.size} of {want.size} values differ'


# (M, K, N) of float32 linear layers MKL runs on its matrix-vector kernel (one output: x's rows its outputs) or with
# its 2-3 row rule at 12+ outputs, with operands at every address mod 16 (the kernels peel to 16-byte boundaries)
FEW_ROWS = [(2, 13, 12), (3, 27, 17), (2, 100, 66), (3, 5, 32), (2, 64, 255), (5, 13, 1), (7, 100, 1), (2, 20, 1),
            (31, 33, 1), (3, 1024, 1)]


@pytest.mark.parametrize('mode', ['exact'], indirect=True)
@pytest.mark.parametrize('offset', [0, 1, 2, 3])
@pytest.mark.parametrize('m,k,n', FEW_ROWS)
def test_few_rows_linear_bits(m, k, n, offset, mode, threads):  # noqa: F811
    """A float32 linear layer of one output or 2-3 rows gives PyTorch's bits under the exact kernels."""
    rng = np.random.default_rng(m * 1000 + k * 10 + n)
    xb, wb, b = rng.standard_normal(m * k + 3).astype(F32), rng.standard_normal(n * k + 3).astype(F32), \
        rng.standard_normal(n).astype(F32)
    got, want = (lib.nn.functional.linear(lib.tensor(xb)[offset:offset + m * k].reshape(m, k),
                                          lib.tensor(wb)[3 - offset:3 - offset + n * k].reshape(n, k),
                                          lib.tensor(b)).numpy() for lib in (ember, torch))
    bad = np.flatnonzero(got.view(np.int32) != want.view(np.int32))
    assert bad.size == 0, f'{(m, k, n)} at offset {offset}: {bad.size} of {want.size} values differ'


# (M, K, N) of float32 x @ w with w row-major (MKL's kernel for 1-3 rows: each value's products added in turn; 2-3
# rows at an even N), as mm, matmul and a vector's matmul
ROW_MAJOR = [(1, 5, 3), (1, 13, 1), (1, 100, 17), (1, 1000, 64), (1, 33, 255), (2, 17, 12), (3, 100, 2), (2, 1000, 32)]


@pytest.mark.parametrize('mode', ['exact'], indirect=True)
@pytest.mark.parametrize('kind', ['mm', 'matmul', 'vector'])
@pytest.mark.parametrize('m,k,n', ROW_MAJOR)
def test_row_major_products_bits(m, k, n, kind, mode, threads):  # noqa: F811
    """A float32 product of 1-3 rows by a row-major matrix gives PyTorch's bits under the exact kernels."""
    rng = np.random.default_rng(m * 1000 + k * 10 + n)
    x, w = rng.standard_normal((m, k)).astype(F32), rng.standard_normal((k, n)).astype(F32)
    got, want = ((lib.mm(lib.tensor(x), lib.tensor(w)) if kind == 'mm' else
                  lib.matmul(lib.tensor(x), lib.tensor(w)) if kind == 'matmul' else
                  lib.matmul(lib.tensor(x[0]), lib.tensor(w))).numpy() for lib in (ember, torch))
    bad = np.flatnonzero(got.view(np.int32) != want.view(np.int32))
    assert got.shape == want.shape and bad.size == 0, f'{kind} {(m, k, n)}: {bad.size} of {want.size} values differ'


# (op, (N, C_out, H, W), threads) of float32 (transposed) convolution bias gradients (1-d: length H * W): one sample's
# as PyTorch's sum at 1 and 2 threads, more samples' term after term at one thread, and a conv's at 2 (up to 8
# channels: two halves of the samples; a transposed conv's order there not reproduced)
CONV_BIAS_MORE = [(op, shape, t) for op in ('conv2d', 'conv_transpose2d', 'conv1d', 'conv_transpose1d')
                  for shape in [(1, 8, 9, 9), (1, 16, 16, 16), (1, 3, 28, 28), (2, 6, 7, 5), (3, 6, 7, 5),
                                (8, 16, 8, 8)]
                  for t in ((1, 2) if shape[0] == 1 or 'transpose' not in op else (1,))]


@pytest.mark.parametrize('mode', ['exact'], indirect=True)
@pytest.mark.parametrize('op,shape,nthreads', CONV_BIAS_MORE)
def test_conv_bias_grad_more_bits(op, shape, nthreads, mode):
    """A (transposed) convolution's float32 bias gradient is PyTorch's bits under the exact kernels."""
    n, c, h, w = shape
    rng = np.random.default_rng(n * c + h)
    one_d = op.endswith('1d')
    x = rng.standard_normal((n, 4, h * w) if one_d else (n, 4, h, w)).astype(F32)
    wt = rng.standard_normal(((c, 4) if op in ('conv2d', 'conv1d') else (4, c)) + ((3,) if one_d else (3, 3)))
    bias = rng.standard_normal(c).astype(F32)
    old = torch.get_num_threads(), ember.get_num_threads()
    torch.set_num_threads(nthreads)
    ember.set_num_threads(nthreads)
    try:
        got = []
        for lib in (ember, torch):
            b = lib.tensor(bias, requires_grad=True)
            y = getattr(lib.nn.functional, op)(lib.tensor(x), lib.tensor(wt.astype(F32)), b, padding=1)
            y.backward(lib.tensor(np.random.default_rng(7).standard_normal(tuple(y.shape)).astype(F32)))
            got.append(b.grad.numpy())
    finally:
        torch.set_num_threads(old[0])
        ember.set_num_threads(old[1])
    bad = np.flatnonzero(got[0].view(np.int32) != got[1].view(np.int32))
    assert bad.size == 0, f'{op} bias grad {shape} at {nthreads} threads: {bad.size} of {c} values differ'


@pytest.mark.parametrize('mode', ['exact'], indirect=True)
@pytest.mark.parametrize('m,n', [(1, 7), (1, 66), (2, 255), (5, 12), (64, 7), (200, 66)])
def test_one_feature_input_grad_bits(m, n, mode, threads):  # noqa: F811
    """The input gradient of a float32 linear layer of one input feature (MKL's matrix-vector kernel, the rows its
    outputs) is PyTorch's bits under the exact kernels."""
    rng = np.random.default_rng(m * 100 + n)
    x, w, g = rng.standard_normal((m, 1)).astype(F32), rng.standard_normal((n, 1)).astype(F32), \
        rng.standard_normal((m, n)).astype(F32)
    got = []
    for lib in (ember, torch):
        t = lib.tensor(x, requires_grad=True)
        lib.nn.functional.linear(t, lib.tensor(w)).backward(lib.tensor(g))
        got.append(t.grad.numpy())
    bad = np.flatnonzero(got[0].view(np.int32) != got[1].view(np.int32))
    assert bad.size == 0, f'{(m, n)}: {bad.size} of {m} values differ'
