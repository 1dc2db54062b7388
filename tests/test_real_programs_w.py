"""Real public programs run on ember against PyTorch (session 35): kornia 0.9.0 (augmentation pipeline, geometry,
filters, color, losses) and segmentation_models_pytorch 0.6.0 (Unet/FPN/DeepLabV3 on resnet encoders, its losses
and metrics). They ran unchanged under ``ember.aliasing.as_torch()``; what stopped or differed is reduced here to
the lines that found it, with PyTorch 2.13 as the oracle."""
import importlib

import pytest
import torch

import ember
from helpers import run_both


def _aliased(name):
    """Module ``name`` as a library importing it under the alias sees it."""
    from ember import aliasing
    with aliasing.as_torch():
        return importlib.import_module(name)


# -- kornia imports: torch._subclasses, torch.fx.experimental, torch.complex32, functorch's state --------------------
def test_is_fake():
    """kornia/contrib/distance_transform.py imports ``is_fake`` and skips its early exit for fake tensors."""
    def fn(T, mod):
        return [mod.is_fake(T.ones(2)), mod.is_fake(3), mod.is_fake(T.nn.Parameter(T.zeros(1)))]
    import torch._subclasses.fake_tensor as tf
    assert fn(ember, _aliased('torch._subclasses.fake_tensor')) == fn(torch, tf) == [False, False, False]


def test_get_proxy_mode():
    """kornia/contrib/distance_transform.py asks ``get_proxy_mode()`` whether make_fx is tracing it."""
    import torch.fx.experimental.proxy_tensor as tp
    assert _aliased('torch.fx.experimental.proxy_tensor').get_proxy_mode() is tp.get_proxy_mode() is None


def test_complex32_named_not_held():
    """kornia/geometry/conversions.py (normal_transform_pixel) tests ``dtype in (..., torch.complex32, ...)``: the
    dtype exists with PyTorch's attributes; ember holds no complex32 tensor and says so."""
    def fn(T):
        d = T.complex32
        return [repr(d), str(d), d is T.chalf, d.itemsize, d.is_complex, d.is_floating_point, d.is_signed,
                repr(d.to_real()), d in (T.float16, T.complex64), d == T.complex32, repr(T.finfo(d))]
    assert fn(ember) == fn(torch)
    with pytest.raises(NotImplementedError, match='complex32.*convert to torch.complex64'):
        ember.zeros(2, dtype=ember.complex32)


@pytest.mark.parametrize('name', ['complex64', 'complex128'])
def test_finfo_of_complex(name):
    """``torch.finfo`` of a complex dtype is its real part's (kornia reads eps of the working dtype)."""
    run_both(lambda T: repr(T.finfo(getattr(T, name))))


def test_functorch_transforms_active():
    """kornia/losses/one_hot.py and contrib/distance_transform.py ask ``torch._C._are_functorch_transforms_active()``
    before data-dependent checks: True inside grad and vmap, False outside."""
    def fn(T):
        seen = [T._C._are_functorch_transforms_active()]
        T.func.grad(lambda x: seen.append(T._C._are_functorch_transforms_active()) or x.sum())(T.ones(2))
        T.func.vmap(lambda x: seen.append(T._C._are_functorch_transforms_active()) or x)(T.ones(1))
        return seen + [T._C._are_functorch_transforms_active()]
    assert fn(ember) == fn(torch) == [False, True, True, False]
