"""Exactness against PyTorch 2.13 where its CPU kernels are deterministic: a bfloat16 autocast training step's
gradients bit for bit (each backward node's gradient rounded to its tensor's dtype, layer norm's and GELU's half
kernels in float32 rounded once, layer norm's parameter sums in a buffer of the input's dtype per thread)."""
import inspect

import numpy as np
import pytest
import torch

import ember
from helpers import import_torchvision

RNG = np.random.default_rng(0)
IMG = RNG.standard_normal((2, 3, 6, 6)).astype(np.float32)
WM = RNG.standard_normal((16, 16)).astype(np.float32) * 0.3
LABELS = np.array([1, 3])


@pytest.fixture(params=[1, 2])
def threads(request):
    """Both libraries on the same number of threads (layer norm's parameter sums depend on it in PyTorch)."""
    before = torch.get_num_threads(), ember.get_num_threads()
    torch.set_num_threads(request.param)
    ember.set_num_threads(request.param)
    yield request.param
    torch.set_num_threads(before[0])
    ember.set_num_threads(before[1])


def _step(lib, dtype):
    """One autocast training step of a small conv / linear / matmul / softmax / layer norm / GELU / cross-entropy
    model: (loss, each parameter's gradient)."""
    lib.manual_seed(0)
    nn = lib.nn
    conv, lin1, ln, lin2 = nn.Conv2d(3, 4, 3, padding=1), nn.Linear(4 * 36, 16), nn.LayerNorm(16), nn.Linear(16, 5)
    w = lib.tensor(WM, requires_grad=True)
    params = [*conv.parameters(), *lin1.parameters(), *ln.parameters(), *lin2.parameters(), w]
    with lib.autocast(device_type='cpu', dtype=getattr(lib, dtype)):
        h = lin1(nn.functional.gelu(conv(lib.tensor(IMG))).flatten(1))
        h = ln(h * lib.softmax(lib.matmul(h, w), dim=-1))
        out = lin2(nn.functional.gelu(h, approximate='tanh'))
        loss = nn.functional.cross_entropy(out, lib.tensor(LABELS))
    loss.backward()
    return [loss.detach().float().numpy()] + [p.grad.numpy() for p in params]


def test_bfloat16_autocast_training_step_bit_for_bit(threads):
    mine, theirs = _step(ember, 'bfloat16'), _step(torch, 'bfloat16')
    for e, t in zip(mine, theirs):
        assert e.dtype == t.dtype
        np.testing.assert_array_equal(e, t)


def _nearly_all_equal(e, t, fraction=0.01):
    """At most ``fraction`` of the values differ, by a bfloat16 rounding of the largest: PyTorch's rows' mean and rstd
    come from its vectorized Welford reduction, ember's from a float32 sum, an ulp of float32 apart now and then,
    and that moves an occasional rounding (the input's gradient cancels, so its small values move further)."""
    assert np.count_nonzero(e != t) <= fraction * e.size
    np.testing.assert_allclose(e, t, rtol=0, atol=2 ** -7 * np.abs(t).max())


@pytest.mark.parametrize('params', ['float32', 'bfloat16', None])
@pytest.mark.parametrize('shape, ns', [((64, 16), (16,)), ((5, 7, 6), (7, 6)), ((3, 50, 24), (24,))])
def test_layer_norm_bfloat16_forward_and_gradients(threads, shape, ns, params):
    """bfloat16 input with float32 parameters (autocast's mixed kernel: statistics kept in float32), bfloat16 ones
    (statistics rounded to bfloat16, as PyTorch saves them) or none. Mixed, the parameters' gradients are PyTorch's
    bit for bit (each thread's run of rows summed in a bfloat16 buffer, the runs added in float32)."""
    rng = np.random.default_rng(len(shape) * 7 + shape[-1])
    x, g = rng.standard_normal(shape).astype(np.float32), rng.standard_normal(shape).astype(np.float32)
    wb = [rng.standard_normal(ns).astype(np.float32) for _ in range(2)]
    got = []
    for lib in (ember, torch):
        xt = lib.tensor(x).bfloat16().requires_grad_()
        ps = [None, None] if params is None else [lib.tensor(a).to(getattr(lib, params)).requires_grad_() for a in wb]
        y = lib.nn.functional.layer_norm(xt, ns, *ps)
        y.backward(lib.tensor(g).bfloat16())
        ts = [y.detach(), xt.grad] + [p.grad for p in ps if p is not None]
        got.append([(str(t.dtype), t.float().numpy()) for t in ts])
    for i, ((de, e), (dt, t)) in enumerate(zip(*got)):
        assert de == dt
        if i >= 2 and params == 'float32':
            np.testing.assert_array_equal(e, t)
        else:
            _nearly_all_equal(e, t, 0.01 if i < 2 else 0.15)


@pytest.mark.parametrize('params', ['float32', 'float16'])
def test_layer_norm_float16_in_float32(params):
    """float16 computes in float32 too: the parameters' gradients exact, the input's to float16's rounding."""
    rng = np.random.default_rng(3)
    x, g = rng.standard_normal((32, 24)).astype(np.float32), rng.standard_normal((32, 24)).astype(np.float32)
    wb = [rng.standard_normal(24).astype(np.float32) for _ in range(2)]
    got = []
    for lib in (ember, torch):
        xt = lib.tensor(x).half().requires_grad_()
        ps = [lib.tensor(a).to(getattr(lib, params)).requires_grad_() for a in wb]
        y = lib.nn.functional.layer_norm(xt, (24,), *ps)
        y.backward(lib.tensor(g).half())
        got.append([y.detach().float().numpy(), xt.grad.float().numpy()] + [p.grad.float().numpy() for p in ps])
    np.testing.assert_allclose(got[0][0], got[1][0], rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(got[0][1], got[1][1], rtol=2e-3, atol=2e-3)
    for e, t in zip(got[0][2:], got[1][2:]):
        np.testing.assert_array_equal(e, t)


@pytest.mark.parametrize('approximate', ['none', 'tanh'])
def test_gelu_bfloat16_rounds_once(approximate):
    """bfloat16 GELU and its gradient computed in float32 and rounded once (PyTorch's opmath), on normal inputs: all
    but an occasional value PyTorch's (its vectorized float32 erf and tanh are not NumPy's; rounded in bfloat16 at
    each step instead, 36% of the values differed)."""
    rng = np.random.default_rng(4)
    x, g = rng.standard_normal(3000).astype(np.float32), rng.standard_normal(3000).astype(np.float32)
    got = []
    for lib in (ember, torch):
        t = lib.tensor(x).bfloat16().requires_grad_()
        y = lib.nn.functional.gelu(t, approximate=approximate)
        y.backward(lib.tensor(g).bfloat16())
        got.append((y.detach().float().numpy(), t.grad.float().numpy(), str(t.grad.dtype)))
    assert got[0][2] == got[1][2] == 'torch.bfloat16'
    for e, t in zip(got[0][:2], got[1][:2]):
        assert np.count_nonzero(e != t) <= 3
        np.testing.assert_allclose(e, t, rtol=2 ** -7, atol=2 ** -20)


def test_bfloat16_gradient_rounded_at_each_node():
    """A bfloat16 node's gradient is rounded before the next node uses it, as PyTorch's bfloat16 tensors are: a
    chain of products and sums whose unrounded float32 gradients would drift from PyTorch's."""
    rng = np.random.default_rng(5)
    x0 = rng.standard_normal((8, 8)).astype(np.float32)
    ws = [rng.standard_normal((8, 8)).astype(np.float32) for _ in range(4)]
    got = []
    for lib in (ember, torch):
        x = lib.tensor(x0).bfloat16().requires_grad_()
        h = x
        for w in ws:
            h = lib.tanh(h @ lib.tensor(w).bfloat16()) * 1.5
        h.sum().backward()
        got.append(x.grad.float().numpy())
    np.testing.assert_array_equal(*got)


@pytest.mark.parametrize('name', ['MaskRCNN', 'KeypointRCNN'])
def test_rcnn_branch_arguments_as_torchvision(name):
    """Mask and Keypoint R-CNN take torchvision's parameters in its order: the branch's after Faster R-CNN's, by
    position or keyword (they were keyword-only): the same signature, the same module from a positional branch part,
    and the same refusal of a wrong one."""
    tv = import_torchvision()
    sigs = [inspect.signature(getattr(lib.models.detection, name)) for lib in (ember.vision, tv)]
    assert str(sigs[0]) == str(sigs[1])
    params = list(sigs[1].parameters.values())
    first = next(i for i, p in enumerate(params) if p.name in ('mask_roi_pool', 'keypoint_roi_pool'))
    built, errors = [], []
    defaults = [p.default for p in params[2:first]]
    for lib, vision in ((ember, ember.vision), (torch, tv)):
        backbone = lib.nn.Conv2d(3, 8, 3)
        backbone.out_channels = 8
        pool = vision.ops.MultiScaleRoIAlign(['0'], 7, 2)
        model = getattr(vision.models.detection, name)(backbone, 2, *defaults, pool)
        built.append([(k, tuple(v.shape)) for k, v in model.state_dict().items()])
        assert getattr(model.roi_heads, params[first].name) is pool
        with pytest.raises(TypeError) as err:
            getattr(vision.models.detection, name)(backbone, 2, *defaults, 'pool')
        errors.append(str(err.value))
    assert built[0] == built[1]
    assert errors[0] == errors[1]
