"""Fractional max pooling against PyTorch: the same samples pick the same windows (values, indices, gradients
where windows overlap, grad_fn), samples drawn after manual_seed are PyTorch's, output_ratio, unbatched input,
float64 finite differences, the modules' checks and reprs, and PyTorch's errors."""
import numpy as np
import pytest
import torch

import ember
from helpers import check


def _pool(n, k, out=None, ratio=None, samples=None, indices=False):
    def fn(lib, x, u=None):
        f = lib.nn.functional.fractional_max_pool2d if n == 2 else lib.nn.functional.fractional_max_pool3d
        s = None if u is None else u.detach()
        return f(x, k, output_size=out, output_ratio=ratio, return_indices=indices, _random_samples=s)
    return fn


def _samples(shape, dtype=np.float32, seed=1):
    return np.random.default_rng(seed).uniform(0, 1, shape).astype(dtype)


@pytest.mark.parametrize('k,out,ratio', [(2, (4, 5), None), (3, 4, None), ((2, 3), None, (0.5, 0.5)), (2, None, (0.6, 0.7)),
                                          (2, (8, 9), None), (3, 1, None)])
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_fractional_max_pool2d_matches_torch(k, out, ratio, dtype):
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 10)).astype(dtype)
    check(_pool(2, k, out, ratio, indices=True), inputs=[x, _samples((2, 3, 2), dtype)], gradcheck=dtype == np.float64)


@pytest.mark.parametrize('k,out', [(2, (3, 4, 3)), ((2, 3, 2), 3), (2, (4, 5, 4))])
def test_fractional_max_pool3d_matches_torch(k, out):
    x = np.random.default_rng(2).standard_normal((2, 2, 6, 7, 6))
    check(_pool(3, k, out, indices=True), inputs=[x, _samples((2, 2, 3), np.float64)], gradcheck=True)


@pytest.mark.parametrize('n,shape', [(2, (3, 7, 8)), (3, (2, 5, 6, 5))])
def test_unbatched_input(n, shape):
    x = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    check(_pool(n, 2, 3, indices=True), inputs=[x, _samples((1, shape[0], n))], gradcheck=False)


def test_ties_nan_and_overlapping_windows():
    x = np.zeros((1, 2, 7, 7), np.float32)
    x[0, 1, 2, 3] = np.nan
    x[0, 1, 4, 4] = np.nan
    check(_pool(2, 3, (5, 5), indices=True), inputs=[x, _samples((1, 2, 2))], gradcheck=False)


@pytest.mark.parametrize('n', [2, 3])
def test_samples_drawn_after_manual_seed_are_torchs(n):
    shape = (2, 3, 8, 9) if n == 2 else (2, 3, 6, 7, 6)
    x = np.random.default_rng(4).standard_normal(shape).astype(np.float32)
    got = []
    for lib in (ember, torch):
        lib.manual_seed(7)
        m = (lib.nn.FractionalMaxPool2d if n == 2 else lib.nn.FractionalMaxPool3d)(2, output_ratio=0.5,
                                                                                  return_indices=True)
        y, i = m(lib.tensor(x))
        got.append((y.numpy(), i.numpy(), lib.rand(3).numpy()))
    for e, t in zip(*got):
        np.testing.assert_array_equal(e, t)


def test_module_reprs_buffers_and_checks():
    for lib_args in [((3,), dict(output_size=5)), ((2,), dict(output_ratio=(0.5, 0.25), return_indices=True))]:
        a, kw = lib_args
        e, t = ember.nn.FractionalMaxPool2d(*a, **kw), torch.nn.FractionalMaxPool2d(*a, **kw)
        assert repr(e) == repr(t)
        for name in ('kernel_size', 'output_size', 'output_ratio', 'return_indices'):
            assert getattr(e, name) == getattr(t, name), name
        assert list(e.state_dict()) == list(t.state_dict())
    u = _samples((1, 2, 3))
    e = ember.nn.FractionalMaxPool3d(2, 3, _random_samples=ember.tensor(u))
    t = torch.nn.FractionalMaxPool3d(2, 3, _random_samples=torch.tensor(u))
    assert repr(e) == repr(t) and list(e.state_dict()) == list(t.state_dict())
    for cls, args, kw in [('FractionalMaxPool2d', (2,), {}), ('FractionalMaxPool3d', (2,), {}),
                          ('FractionalMaxPool2d', (2,), dict(output_size=3, output_ratio=0.5)),
                          ('FractionalMaxPool2d', (2,), dict(output_ratio=1.5)),
                          ('FractionalMaxPool3d', (2,), dict(output_ratio=(0.5, 0.5, 0)))]:
        caught = []
        for lib in (ember, torch):
            with pytest.raises(ValueError) as info:
                getattr(lib.nn, cls)(*args, **kw)
            caught.append(str(info.value))
        assert caught[0] == caught[1]


@pytest.mark.parametrize('call', [
    lambda lib: lib.nn.functional.fractional_max_pool2d(lib.ones(1, 2, 5, 5), 2),
    lambda lib: lib.nn.functional.fractional_max_pool2d(lib.ones(1, 2, 5, 5), 3, output_size=4),
    lambda lib: lib.nn.functional.fractional_max_pool2d(lib.ones(5, 5), 2, output_size=2),
    lambda lib: lib.nn.functional.fractional_max_pool2d(lib.ones(1, 2, 5, 5), 2, output_size=2,
                                                        _random_samples=lib.rand(1, 3, 2)),
    lambda lib: lib.nn.functional.fractional_max_pool3d(lib.ones(1, 2, 5, 5, 5), 4, output_size=3),
    lambda lib: lib.nn.functional.fractional_max_pool2d(lib.ones(1, 2, 5, 5), 2, output_ratio=(0.5, 0.5, 0.5)),
    lambda lib: lib.nn.functional.fractional_max_pool2d(lib.ones(1, 2, 5, 5), 2, output_ratio=0.5),
    lambda lib: lib.nn.functional.fractional_max_pool2d(lib.ones(1, 2, 9, 10), 2, output_size=(9, 9)),
    lambda lib: lib.nn.functional.fractional_max_pool3d(lib.ones(1, 2, 6, 7, 6), 2, output_size=(5, 6, 5)),
    lambda lib: lib.nn.functional.fractional_max_pool2d(lib.ones(1, 2, 5, 5), 2, 2, _random_samples=lib.rand(1, 2, 3)),
    lambda lib: lib.nn.functional.fractional_max_pool2d(lib.ones(1, 2, 5, 5), 2, 2, _random_samples=lib.rand(1, 2)),
    lambda lib: lib.nn.functional.fractional_max_pool3d(lib.ones(1, 2, 5, 5, 5), 2, 2, _random_samples=lib.rand(1, 2, 2)),
    lambda lib: lib.nn.functional.fractional_max_pool2d(lib.ones(1, 2, 5, 5), (2, 2, 2), output_size=2),
    lambda lib: lib.nn.functional.fractional_max_pool2d(lib.ones(1, 2, 0, 5), 2, output_size=2),
    lambda lib: lib.nn.functional.fractional_max_pool2d(lib.ones(2, 1, 2, 5, 5), 2, output_size=2),
    lambda lib: lib.nn.functional.fractional_max_pool3d(lib.ones(2, 1, 2, 5, 5, 5), 2, output_size=2),
    lambda lib: lib.nn.functional.fractional_max_pool2d(lib.ones(1, 2, 5, 5).int(), 2, output_size=2),
])
def test_errors_are_torchs(call):
    caught = []
    for lib in (ember, torch):
        with pytest.raises(Exception) as info:
            call(lib)
        caught.append((info.type.__name__, str(info.value)))
    assert caught[0] == caught[1]
