"""uint8 bilinear/bicubic ``interpolate`` equals PyTorch's integer CPU kernel pixel for pixel (ember's float path
was off by one on some pixels): up and down, antialiased or not, align_corners, scale factors."""
import numpy as np
import pytest
import torch

import ember


def _configs(n=120, seed=1):
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        mode = ('bilinear', 'bicubic')[len(out) % 2]
        aa = bool(rng.integers(0, 2))
        ac = bool(rng.integers(0, 2)) and not aa
        shape = (int(rng.integers(1, 3)), int(rng.integers(1, 5))) + tuple(int(v) for v in rng.integers(1, 30, 2))
        if rng.random() < 0.3:
            sf = (float(rng.choice([0.5, 0.7, 1.0, 1.3, 2.0])), float(rng.choice([0.5, 0.75, 1.0, 2.5])))
            if any(int(np.floor(d * s)) < 1 for d, s in zip(shape[2:], sf)):
                continue
            kw = dict(scale_factor=sf)
        else:
            kw = dict(size=tuple(int(v) for v in rng.integers(1, 40, 2)))
        out.append((mode, aa, ac, shape, kw, int(rng.integers(0, 2 ** 31))))
    return out


@pytest.mark.parametrize('mode,aa,ac,shape,kw,seed', _configs())
def test_uint8_interpolate_matches_pytorch(mode, aa, ac, shape, kw, seed):
    x = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
    t = torch.nn.functional.interpolate(torch.from_numpy(x), mode=mode, antialias=aa, align_corners=ac, **kw)
    e = ember.nn.functional.interpolate(ember.from_numpy(x), mode=mode, antialias=aa, align_corners=ac, **kw)
    assert e.dtype == ember.uint8
    np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize('mode,ndim', [('linear', 3), ('trilinear', 5)])
def test_uint8_linear_modes_refused_as_pytorch(mode, ndim):
    msgs = []
    for L in (ember, torch):
        x = L.zeros(*([1] * (ndim - 1)), 4, dtype=L.uint8) if ndim == 3 else L.zeros(1, 1, 4, 4, 4, dtype=L.uint8)
        with pytest.raises(NotImplementedError) as err:
            L.nn.functional.interpolate(x, size=[3] * (ndim - 2), mode=mode)
        msgs.append(str(err.value).split(' (')[0])
    assert msgs[0] == msgs[1]
