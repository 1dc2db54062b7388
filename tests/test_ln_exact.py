"""float32 layer_norm as PyTorch's CPU kernel computes it (ember/nn/functional/_ln_exact.py): the output and the
input's, weight's and bias's gradients bit for bit over row widths 1..70 and the widths of real models, with and
without weight and bias, on the small-row, rows and blocked routes' sizes, where PyTorch runs its vectorised kernels
(_isa.pytorch_avx512), close elsewhere."""
import numpy as np
import pytest
import torch

import ember
from helpers import exact_like_torch  # noqa: F401 (fixtures)
from _isa import assert_bits_or_close

pytestmark = pytest.mark.usefixtures('exact_like_torch')


WIDTHS = list(range(1, 71)) + [127, 128, 129, 256, 768, 1000, 1408, 1413, 4100]


def _data(rows, n, seed):
    r = np.random.default_rng(seed)
    x = (r.standard_normal((rows, n)) * r.uniform(0.1, 5) + r.uniform(-2, 2)).astype(np.float32)
    return x, r.standard_normal(n).astype(np.float32), r.standard_normal(n).astype(np.float32)


def _both(x, w, b, shape=None):
    shape = shape or [x.shape[-1]]
    outs = []
    for lib in (ember, torch):
        t = (lambda a: None if a is None else lib.from_numpy(a.copy()))
        outs.append(lib.nn.functional.layer_norm(t(x), shape, t(w), t(b)).numpy())
    return outs


@pytest.mark.parametrize('n', WIDTHS)
def test_layer_norm_float32_output_bits(n):
    x, w, b = _data(13, n, n)
    for wb in ((w, b), (None, b), (w, None), (None, None)):
        e, t = _both(x, *wb)
        assert_bits_or_close(e, t, err_msg=f'n={n} weight={wb[0] is not None} bias={wb[1] is not None}',
                             rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('shape,ns', [((12, 64, 128), [128]), ((2, 5, 7), [5, 7]), ((1, 768), [768]),
                                      ((4, 3, 33), [33]), ((8, 256, 384), [384]), ((3, 6, 40), [6, 40])], ids=str)
def test_layer_norm_float32_shapes_and_routes(shape, ns):
    """Several leading dims, a 2-D normalized_shape, and (8, 256, 384): 3 MiB, the blocked route's size."""
    r = np.random.default_rng(len(shape))
    x = (r.standard_normal(shape) * 2 + 0.5).astype(np.float32)
    w, b = r.standard_normal(ns).astype(np.float32), r.standard_normal(ns).astype(np.float32)
    e, t = _both(x, w, b, ns)
    assert_bits_or_close(e, t, rtol=1e-5, atol=1e-5)


def test_layer_norm_float32_constant_and_zero_rows():
    x = np.stack([np.full(37, 3.3, np.float32), np.zeros(37, np.float32), -np.zeros(37, np.float32)])
    w = np.linspace(-1, 1, 37).astype(np.float32)
    for wb in ((None, None), (w, None), (None, -w), (w, w)):
        e, t = _both(x, *wb)
        np.testing.assert_array_equal(e, t)
        assert (np.signbit(e) == np.signbit(t)).all()


def _grads(lib, x, w, b, dy, shape):
    t = (lambda a: None if a is None else lib.from_numpy(a.copy()).requires_grad_())
    xt, wt, bt = t(x), t(w), t(b)
    y = lib.nn.functional.layer_norm(xt, shape, wt, bt)
    y.backward(lib.from_numpy(dy))
    return [None if v is None else v.grad.numpy() for v in (xt, wt, bt)]


@pytest.mark.parametrize('n', WIDTHS)
def test_layer_norm_float32_input_grad_bits(n):
    x, w, b = _data(9, n, n + 1000)
    dy = np.random.default_rng(n).standard_normal(x.shape).astype(np.float32)
    for wb in ((w, b), (None, b), (w, None), (None, None)):
        e, t = (_grads(lib, x, *wb, dy, [n]) for lib in (ember, torch))
        assert_bits_or_close(e[0], t[0], err_msg=f'n={n} weight={wb[0] is not None}', rtol=1e-4, atol=1e-5)
        for k in (1, 2):
            if wb[k - 1] is not None:
                assert_bits_or_close(e[k], t[k], rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize('shape,ns', [((12, 64, 128), [128]), ((2, 5, 7), [5, 7]), ((8, 256, 384), [384])], ids=str)
def test_layer_norm_float32_input_grad_shapes(shape, ns):
    r = np.random.default_rng(len(shape) + 7)
    x = (r.standard_normal(shape) * 2 + 0.5).astype(np.float32)
    w, b = r.standard_normal(ns).astype(np.float32), r.standard_normal(ns).astype(np.float32)
    dy = r.standard_normal(shape).astype(np.float32)
    e, t = (_grads(lib, x, w, b, dy, ns) for lib in (ember, torch))
    for k in (0, 1, 2):
        assert_bits_or_close(e[k], t[k], rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize('threads', [1, 2, 3])
def test_layer_norm_float32_param_grads_threads(threads):
    """The weight's and bias's gradients sum each thread's run of rows, then the runs: both libraries at the same
    thread count (67 rows: runs of 34 and 33, of 23, 23 and 21)."""
    old = (ember.get_num_threads(), torch.get_num_threads())
    try:
        ember.set_num_threads(threads)
        torch.set_num_threads(threads)
        x, w, b = _data(67, 40, threads)
        dy = np.random.default_rng(threads).standard_normal(x.shape).astype(np.float32) * 3
        e, t = (_grads(lib, x, w, b, dy, [40]) for lib in (ember, torch))
        for k in (0, 1, 2):
            assert_bits_or_close(e[k], t[k], rtol=1e-4, atol=1e-4)
    finally:
        ember.set_num_threads(old[0])
        torch.set_num_threads(old[1])
