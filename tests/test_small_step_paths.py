"""The LeNet batch-4 step's small-input paths (issue 14), each compared with PyTorch or with the general path it
replaces: tiling max pools, the one-sum stride-1 col2im, the swapped weight-gradient product, the first-layer conv
per sample, and backend.strided_view."""
import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(0)


@pytest.mark.parametrize('shape,k', [((4, 6, 28, 28), 2), ((4, 16, 10, 10), 2), ((2, 3, 9, 11), 3), ((3, 5, 7), 2),
                                     ((64, 6, 28, 28), 2)])
def test_max_pool_of_tiling_windows_as_pytorch(shape, k):
    """Tiling max pools (the small ones take the window-major running max and one flat-index scatter, the last
    shape the general path): ties after a ReLU and -inf windows keep PyTorch's first index, NaNs PyTorch's NaN
    rule; values, indices and gradients (signed zeros too) bitwise PyTorch's."""
    x = np.maximum(RNG.integers(-2, 3, shape), 0).astype(np.float32)
    x.reshape(-1)[:4] = -np.inf
    out = shape[:-2] + (shape[-2] // k, shape[-1] // k)
    g = RNG.standard_normal(out).astype(np.float32)
    g.reshape(-1)[1] = -0.0
    for nan in (False, True):
        if nan:
            x.reshape(-1)[[5, 40]] = np.nan
        got = []
        for lib in (ember, torch):
            t = lib.tensor(x, requires_grad=True)
            y, i = lib.nn.functional.max_pool2d(t, k, return_indices=True)
            y.backward(lib.tensor(g))
            got.append((y.detach().numpy(), i.numpy(), t.grad.numpy().view(np.int32), y.grad_fn.name()))
        for e, t in zip(*got):
            np.testing.assert_array_equal(e, t)


@pytest.mark.parametrize('ax,lead,trail', [(1, (6,), (4,)), (2, (2, 3), ()), (0, (), (3,))])
def test_stride1_col2im_in_one_sum_is_the_loops_bitwise(ax, lead, trail):
    """_col2im_diag (one reduction over a padded canvas) equals the loop of one add per kernel offset bitwise,
    signed zeros included, for kernels, dilations, dtypes and batch/channel layouts; an input gradient at LeNet's
    conv2 shape (which takes it) matches PyTorch's."""
    from ember.nn.functional import _conv
    for k in [(5, 5), (3, 2), (1, 1)]:
        for d in [(1, 1), (2, 1), (1, 3)]:
            for dt, it in ((np.float32, np.int32), (np.float64, np.int64)):
                cols = RNG.standard_normal(lead + k + (6, 5) + trail).astype(dt)
                cols[cols > 1] = -0.0
                shape = lead + (6 + d[0] * (k[0] - 1), 5 + d[1] * (k[1] - 1)) + trail
                out = np.zeros(shape, dt)
                inner = (slice(None),) * ax
                for i in range(k[0]):
                    for j in range(k[1]):
                        out[inner + (slice(i * d[0], i * d[0] + 6), slice(j * d[1], j * d[1] + 5))] += \
                            cols[inner + (i, j)]
                got = _conv._col2im_diag(cols, ax, k, d)
                assert got.dtype == dt and got.shape == shape
                np.testing.assert_array_equal(got.view(it), out.view(it))
                np.testing.assert_array_equal(_conv._col2im(cols, ax, shape, k, (1, 1), d).view(it), out.view(it))


@pytest.mark.parametrize('n', [4, 64])
def test_lenet_convs_gradients_as_pytorch(n):
    """LeNet's two 5x5 convs (their weight gradients take the swapped product at batch 4, conv2's at 64 too; conv2's
    input gradient the one-sum col2im at batch 4): values and all gradients equal PyTorch's to float rounding."""
    for cin, cout, hw in ((3, 6, 32), (6, 16, 14)):
        x = RNG.standard_normal((n, cin, hw, hw)).astype(np.float32)
        w = RNG.standard_normal((cout, cin, 5, 5)).astype(np.float32) * 0.1
        b = RNG.standard_normal(cout).astype(np.float32)
        g = RNG.standard_normal((n, cout, hw - 4, hw - 4)).astype(np.float32)
        got = []
        for lib in (ember, torch):
            xt, wt, bt = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
            y = lib.nn.functional.conv2d(xt, wt, bt)
            y.backward(lib.tensor(g))
            got.append((y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()))
            assert wt.grad.is_contiguous()
        for e, t in zip(*got):     # sums of up to 50,176 float32 products: tolerance scaled to their size
            np.testing.assert_allclose(e, t, rtol=1e-4, atol=1e-5 * np.abs(t).max())


@pytest.mark.parametrize('n,per_sample', [(4, True), (8, False)])
def test_first_layer_conv_per_sample_as_pytorch(n, per_sample):
    """A conv whose input needs no gradient (LeNet's first, 75 taps) runs per sample at batch 4 (3136 columns) and
    by im2col at batch 8: values, grad_fn and the weight's and bias's gradients as PyTorch's; an input that needs
    its gradient keeps im2col at batch 4."""
    from ember.nn.functional import _conv
    x = RNG.standard_normal((n, 3, 32, 32)).astype(np.float32)
    w = RNG.standard_normal((6, 3, 5, 5)).astype(np.float32) * 0.1
    b = RNG.standard_normal(6).astype(np.float32)
    g = RNG.standard_normal((n, 6, 28, 28)).astype(np.float32)
    for x_grad in (False, True):
        got = []
        for lib in (ember, torch):
            xt, wt, bt = lib.tensor(x, requires_grad=x_grad), lib.tensor(w, requires_grad=True), \
                lib.tensor(b, requires_grad=True)
            y = lib.nn.functional.conv2d(xt, wt, bt)
            if lib is ember:
                assert isinstance(y.grad_fn.cols, _conv._Samples) == (per_sample and not x_grad)
            y.backward(lib.tensor(g))
            got.append((y.detach().numpy(), wt.grad.numpy(), bt.grad.numpy(), y.grad_fn.name(),
                        None if xt.grad is None else xt.grad.numpy()))
        for e, t in zip(*got):
            if isinstance(e, str) or e is None:
                assert e == t
            else:
                np.testing.assert_allclose(e, t, rtol=1e-4, atol=1e-5 * np.abs(t).max())


def test_strided_view_is_as_strided_read_only():
    """backend.strided_view gives as_strided's view (values, shape, strides), read-only, of a C-contiguous array
    (from an offset too) and of a non-contiguous one; a view reaching past a contiguous array's memory raises."""
    from numpy.lib.stride_tricks import as_strided
    from ember.backend import strided_view
    a = np.arange(2 * 7 * 6, dtype=np.float32).reshape(2, 7, 6)
    st = a.strides
    shape, strides = (2, 3, 3, 5, 4), (st[0], st[1], st[2], st[1], st[2])
    for arr in (a, a[:, ::2]):
        v = strided_view(arr, shape, strides)
        ref = as_strided(arr, shape, strides)
        assert v.shape == shape and v.strides == strides and not v.flags.writeable
        np.testing.assert_array_equal(v, ref)
    v = strided_view(a, (2, 3), (st[0], st[2]), st[1] + 2 * st[2])
    np.testing.assert_array_equal(v, a[:, 1, 2:5])
    with pytest.raises((TypeError, ValueError)):
        strided_view(a, (3, 7, 6), st)
    with pytest.raises(ValueError):
        strided_view(a[:, ::2], (2,), (4,), 4)
