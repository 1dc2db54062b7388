"""Real PyTorch programs under the alias against PyTorch (session 47, lane realQ): pytorch/examples' remaining
scripts and the torchvision transforms they use, on tiny stand-in data; each defect found is reduced here to the
lines that found it (the programs themselves are not needed)."""
import warnings

import numpy as np
import pytest
from PIL import Image

import ember
import torch

from helpers import import_torchvision, run_both


def _transforms(lib):
    return ember.vision.transforms if lib is ember else import_torchvision().transforms


def _bits(out):
    """An output as comparable data: a tensor's dtype name and array, a PIL image's mode, size and pixels."""
    if isinstance(out, Image.Image):
        return out.mode, out.size, np.asarray(out).tolist()
    return str(out.dtype), out.numpy().tolist()


# -- transforms.ElasticTransform was missing (torchvision's module listing named it; the augmentation recipes use it):
# same seeds, same displacement field and the same output bits, float32, float64 and uint8 tensors and PIL images.
@pytest.mark.parametrize('kwargs', [{}, {'alpha': 30.0, 'sigma': 0.0}, {'alpha': (10.0, 40.0), 'sigma': (2.0, 3.5)},
                                    {'fill': 0.5}, {'interpolation': 'NEAREST', 'fill': [0.1, 0.2, 0.3]}])
def test_elastic_transform_tensor(kwargs):
    def fn(lib):
        T = _transforms(lib)
        kw = dict(kwargs)
        if 'interpolation' in kw:
            kw['interpolation'] = getattr(T.InterpolationMode, kw['interpolation'])
        lib.manual_seed(0)
        x = lib.rand(3, 44, 47)
        t = T.ElasticTransform(**kw)
        return repr(t), isinstance(t, lib.nn.Module), _bits(t(x))
    run_both(fn)


@pytest.mark.parametrize('kind', ['uint8', 'float64', 'pil'])
def test_elastic_transform_types(kind):
    def fn(lib):
        T = _transforms(lib)
        lib.manual_seed(1)
        if kind == 'uint8':
            x = (lib.rand(2, 3, 41, 43) * 255).to(lib.uint8)
        elif kind == 'float64':
            x = lib.rand(1, 48, 48, dtype=lib.float64)
        else:
            x = Image.fromarray((np.random.RandomState(0).rand(42, 46, 3) * 255).astype(np.uint8))
        return _bits(T.ElasticTransform(alpha=25.0, sigma=5.0)(x))
    run_both(fn)


def test_elastic_get_params_and_functional():
    def fn(lib):
        T = _transforms(lib)
        lib.manual_seed(2)
        d = T.ElasticTransform.get_params([5.0, 7.0], [2.0, 3.0], [20, 23])
        x = lib.rand(3, 20, 23)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            y = T.functional.elastic_transform(x, d, 0)
        return tuple(d.shape), _bits(d), _bits(y), [str(m.message) for m in w]
    run_both(fn)


@pytest.mark.parametrize('call', ['ElasticTransform(alpha=1)', 'ElasticTransform(alpha=[1.0])',
                                  'ElasticTransform(sigma="a")', 'ElasticTransform(fill=None)',
                                  'functional.elastic_transform(lib.rand(3, 8, 9), lib.zeros(1, 8, 8, 2))',
                                  'functional.elastic_transform(lib.rand(3, 8, 9), "a")'])
def test_elastic_errors(call):
    run_both(lambda lib: eval('T.' + call, {'T': _transforms(lib), 'lib': lib}), message=True)


# -- The displacement field's Gaussian blur: torchvision's depthwise conv2d sums the kernel's taps in row-major order,
# each one fused (oneDNN) or product-then-sum (PyTorch's im2col path, for one small 1-channel image with a kernel
# 3 wide or less); ember's conv2d summed otherwise (up to 1977 of 2068 float32 values a step off).
# By default where the tap-by-tap sum costs little (at most 25 taps, or large images); every blur with the exact
# kernels on (the 41x41 and 9x9 kernels on small images).
@pytest.mark.parametrize('shape,kernel,exact', [((1, 1, 44, 47), 41, True), ((1, 1, 44, 47), 3, False),
                                                ((1, 1, 50, 47), (3, 5), False), ((3, 40, 41), 9, True),
                                                ((1, 2, 30, 30), 3, False), ((4, 32, 32), 5, False)])
def test_gaussian_blur_bits(shape, kernel, exact):
    def fn(lib):
        lib.manual_seed(3)
        x = lib.rand(*shape) * 2 - 1
        return _bits(_transforms(lib).functional.gaussian_blur(x, kernel, [1.5, 2.5]))
    before = ember.backend.exact_kernels()
    ember.backend.exact_kernels(exact or before)
    try:
        run_both(fn)
    finally:
        ember.backend.exact_kernels(before)
