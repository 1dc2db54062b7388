"""Convolutions and pooling of integer and bool tensors against PyTorch 2.13: its CPU kernels convolve every
integer type (wrapping as C does), average-pool Long (sums divided toward zero), max-pool the integer types, and
refuse the rest with NotImplementedError naming the kernel and the dtype; ember must give the same values, dtypes
and errors."""
import numpy as np
import pytest
import torch

import ember


def _ints(lib, seed):
    g = lib.Generator().manual_seed(seed)

    def ri(*shape, lo=-50, hi=50):
        return lib.randint(lo, hi, shape, generator=g, dtype=lib.int64)
    return ri


def _conv_cases(lib):
    F, ri = lib.nn.functional, _ints(lib, 0)
    x, w = ri(2, 3, 9, 9), ri(4, 3, 3, 3)
    return {
        'conv2d': lambda: F.conv2d(x, w, padding=1, stride=2),
        'conv2d_bias': lambda: F.conv2d(x, w, ri(4), padding=1),
        'conv2d_groups': lambda: F.conv2d(ri(2, 4, 6, 6), ri(6, 2, 3, 3), groups=2),
        'conv2d_depthwise': lambda: F.conv2d(ri(2, 4, 6, 6), ri(4, 1, 3, 3), groups=4),
        'conv2d_1x1': lambda: F.conv2d(x, ri(5, 3, 1, 1)),
        'conv2d_1x1_stride2': lambda: F.conv2d(x, ri(5, 3, 1, 1), stride=2),
        'conv2d_dilation': lambda: F.conv2d(x, w, dilation=2),
        'conv2d_wide': lambda: F.conv2d(ri(8, 16, 16, 16), ri(32, 16, 3, 3), padding=1),
        'conv2d_same': lambda: F.conv2d(x, w, padding='same'),
        'conv2d_int32': lambda: F.conv2d(x.int(), w.int()),
        'conv2d_int16_wraps': lambda: F.conv2d(x.short(), w.short() * 300),
        'conv2d_int8_wraps': lambda: F.conv2d(x.to(lib.int8), w.to(lib.int8)),
        'conv2d_uint8_wraps': lambda: F.conv2d(x.abs().byte(), w.abs().byte()),
        'conv2d_int64_wraps': lambda: F.conv2d(x * 2 ** 60, w),
        'conv2d_bool': lambda: F.conv2d(x.bool(), w.bool()),
        'conv1d': lambda: F.conv1d(ri(2, 3, 10), ri(4, 3, 3), padding=2, stride=2),
        'conv3d': lambda: F.conv3d(ri(2, 3, 5, 5, 5), ri(4, 3, 3, 3, 3), padding=1),
        'conv_transpose2d': lambda: F.conv_transpose2d(x, ri(3, 4, 3, 3), stride=2, padding=1, output_padding=1),
        'conv_transpose2d_groups': lambda: F.conv_transpose2d(ri(2, 4, 5, 5), ri(4, 3, 4, 4), stride=2, groups=2),
        'conv_transpose1d': lambda: F.conv_transpose1d(ri(2, 3, 7), ri(3, 2, 3), stride=3),
        'conv_transpose3d': lambda: F.conv_transpose3d(ri(1, 3, 4, 4, 4), ri(3, 2, 3, 3, 3), stride=2),
        'conv_transpose2d_int32': lambda: F.conv_transpose2d(x.int(), ri(3, 4, 3, 3).int()),
        'conv_transpose1d_int8': lambda: F.conv_transpose1d(ri(2, 3, 7).to(lib.int8), ri(3, 2, 3).to(lib.int8)),
        'conv_transpose3d_uint8': lambda: F.conv_transpose3d(ri(1, 3, 4, 4, 4).byte(), ri(3, 2, 3, 3, 3).byte()),
        'conv_transpose2d_bool': lambda: F.conv_transpose2d(x.bool(), ri(3, 4, 3, 3).bool()),
        'conv3d_bool': lambda: F.conv3d(ri(2, 3, 5, 5, 5).bool(), ri(4, 3, 3, 3, 3).bool()),
        'conv1d_bool_wrong_channels': lambda: F.conv1d(ri(2, 4, 10).bool(), ri(4, 3, 3).bool()),
        'unfold_long': lambda: F.unfold(x, 2),
        'fold_long': lambda: F.fold(ri(1, 8, 4), (3, 3), 2),
        'fold_int32': lambda: F.fold(ri(1, 8, 4).int(), (3, 3), 2),
        'fold_bool': lambda: F.fold(ri(1, 8, 4).bool(), (3, 3), 2),
        'fold_4d': lambda: F.fold(ri(8, 8, 5, 4), (3, 3), 2),
    }


def _pool_cases(lib):
    F, ri = lib.nn.functional, _ints(lib, 1)
    x, c = ri(2, 3, 7, 8), lib.arange(64).reshape(1, 4, 4, 4)
    cases = {
        'avg_pool2d': lambda: F.avg_pool2d(x, 2),
        'avg_pool2d_pad': lambda: F.avg_pool2d(x, 3, 2, 1),
        'avg_pool2d_pad_excluded': lambda: F.avg_pool2d(x, 3, 1, 1, count_include_pad=False),
        'avg_pool2d_ceil': lambda: F.avg_pool2d(x, 3, 2, ceil_mode=True),
        'avg_pool2d_divisor': lambda: F.avg_pool2d(x, 2, divisor_override=3),
        'avg_pool2d_negative_divisor': lambda: F.avg_pool2d(x, 2, divisor_override=-3),
        'avg_pool2d_wraps': lambda: F.avg_pool2d(x * 2 ** 61, 2),
        'avg_pool1d': lambda: F.avg_pool1d(x[0], 3, 2, 1),
        'avg_pool3d': lambda: F.avg_pool3d(x[None], (1, 2, 2)),
        'avg_pool3d_wraps': lambda: F.avg_pool3d(lib.tensor([[[[2 ** 62 + 1, 2 ** 62 + 3]]]]), (1, 1, 2)),
        'lp_pool2d': lambda: F.lp_pool2d(x, 2, 2),
        'lp_pool1d': lambda: F.lp_pool1d(x[0], 1, 2),
        'adaptive_avg_pool2d_1': lambda: F.adaptive_avg_pool2d(c, 1),
        'adaptive_avg_pool2d_2': lambda: F.adaptive_avg_pool2d(c, 2),
        'adaptive_avg_pool1d_1': lambda: F.adaptive_avg_pool1d(c[0], 1),
        'adaptive_avg_pool1d_2': lambda: F.adaptive_avg_pool1d(c[0], 2),
        'adaptive_avg_pool3d_1': lambda: F.adaptive_avg_pool3d(c, 1),
        'adaptive_avg_pool3d_2': lambda: F.adaptive_avg_pool3d(c, 2),
        'adaptive_max_pool1d': lambda: F.adaptive_max_pool1d(c[0], 2),
        'adaptive_max_pool3d': lambda: F.adaptive_max_pool3d(c, 2),
    }
    for dt in ('bool', 'int8', 'uint8', 'int16', 'int32', 'int64'):
        y = x.abs().to(getattr(lib, dt))
        cases.update({
            f'avg_pool2d_{dt}': lambda y=y: F.avg_pool2d(y, 2),
            f'avg_pool3d_{dt}': lambda y=y: F.avg_pool3d(y[None], 2),
            f'adaptive_avg_pool2d_{dt}': lambda y=y: F.adaptive_avg_pool2d(y, 2),
            f'max_pool1d_{dt}': lambda y=y: F.max_pool1d(y[0], 2),
            f'max_pool1d_indices_{dt}': lambda y=y: F.max_pool1d(y[0], 2, return_indices=True),
            f'max_pool2d_{dt}': lambda y=y: F.max_pool2d(y, 2, padding=1),
            f'max_pool3d_{dt}': lambda y=y: F.max_pool3d(y[None], 2, padding=1),
        })
    return cases


def _outcome(fn):
    try:
        r = fn()
    except Exception as e:      # the error is part of the contract: type and message
        return type(e).__name__, str(e)
    rs = r if isinstance(r, tuple) else (r,)
    return [(str(t.dtype).replace('ember.', 'torch.'), tuple(t.shape), t.tolist()) for t in rs]


def _check(cases_of, name):
    want, got = _outcome(cases_of(torch)[name]), _outcome(cases_of(ember)[name])
    if isinstance(want, list) and want[0][0] == 'torch.float32':    # lp_pool's root: to float32 rounding
        assert [r[:2] for r in got] == [r[:2] for r in want]
        np.testing.assert_allclose(got[0][2], want[0][2], rtol=1e-6)
    else:
        assert got == want


@pytest.mark.parametrize('name', list(_conv_cases(torch)))
def test_integer_convolutions_match_torch(name):
    _check(_conv_cases, name)


@pytest.mark.parametrize('name', list(_pool_cases(torch)))
def test_integer_pooling_matches_torch(name):
    _check(_pool_cases, name)
