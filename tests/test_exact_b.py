"""Exactness against PyTorch 2.13 where its CPU kernels are deterministic: a bfloat16 autocast training step's
gradients bit for bit (each backward node's gradient rounded to its tensor's dtype, layer norm's and GELU's half
kernels in float32 rounded once, layer norm's parameter sums in a buffer of the input's dtype per thread)."""
import inspect

import numpy as np
import pytest
import torch

import ember
from _isa import bits_or
from helpers import import_torchvision, threads  # noqa: F401 (threads: a fixture)

RNG = np.random.default_rng(0)
IMG = RNG.standard_normal((2, 3, 6, 6)).astype(np.float32)
WM = RNG.standard_normal((16, 16)).astype(np.float32) * 0.3
LABELS = np.array([1, 3])


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
        # AVX2 PyTorch's bfloat16 kernels round elsewhere: one gradient 0.0058 of its max|value| off, measured
        np.testing.assert_allclose(e, t, rtol=0, atol=bits_or(2 ** -7 * np.abs(t).max()))


def _nearly_all_equal(e, t, fraction=0.01):
    """At most ``fraction`` of the values differ, by a bfloat16 rounding of the largest: PyTorch's rows' mean and rstd
    come from its vectorized Welford reduction, ember's from a float32 sum, an ulp of float32 apart now and then,
    and that moves an occasional rounding (the input's gradient cancels, so its small values move further)."""
    assert np.count_nonzero(e != t) <= fraction * e.size
    np.testing.assert_allclose(e, t, rtol=0, atol=2 ** -7 * np.abs(t).max())


def _embedding_step(lib, activation):
    """An autocast(bfloat16) step of embedding + Linear / activation / Linear (then attention for 'sdpa') under an
    MSE loss: each parameter's gradient."""
    lib.manual_seed(0)
    nn = lib.nn
    l1, l2, emb = nn.Linear(16, 32), nn.Linear(32, 16), nn.Embedding(10, 16)
    x = lib.tensor(SEQ)
    with lib.autocast(device_type='cpu', dtype=lib.bfloat16):
        h = l1(x + emb(lib.tensor(np.arange(6) % 10)))
        h = l2({'relu': lib.relu, 'silu': nn.functional.silu, 'tanh': lib.tanh, 'sdpa': lambda v: v}[activation](h))
        if activation == 'sdpa':
            h = nn.functional.scaled_dot_product_attention(h, h, h)
        loss = nn.functional.mse_loss(h.float(), x)
    loss.backward()
    return [p.grad.numpy() for m in (l1, l2, emb) for p in m.parameters()]


SEQ = np.random.default_rng(6).standard_normal((4, 6, 16)).astype(np.float32)


@pytest.mark.parametrize('activation', ['relu', 'silu', 'tanh', 'sdpa'])
def test_bfloat16_autocast_embedding_step_bit_for_bit(activation):
    for e, t in zip(_embedding_step(ember, activation), _embedding_step(torch, activation)):
        np.testing.assert_array_equal(e, t)


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
def test_layer_norm_float16_in_float32(threads, params):
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


def _device_dtype_shape_or_error(fn):
    """What a meta case gives: (device, dtype, shape) of the result, or the error's type and message."""
    try:
        r = fn()
    except Exception as e:     # noqa: BLE001 (the error is the result compared)
        return type(e).__name__, str(e)
    r = r[0] if isinstance(r, tuple) else r
    return str(r.device), str(r.dtype), tuple(r.shape)


META_CASES = {
    'meta + cpu': lambda L: L.ones(3, device='meta') + L.ones(3),
    'cpu * meta': lambda L: L.ones(3) * L.ones(3, device='meta'),
    'maximum': lambda L: L.maximum(L.ones(2, 3, device='meta'), L.ones(2, 3)),
    'cat': lambda L: L.cat([L.ones(3, device='meta'), L.ones(3)]),
    'stack': lambda L: L.stack([L.ones(3), L.ones(3, device='meta')]),
    'where': lambda L: L.where(L.ones(3, dtype=L.bool), L.ones(3, device='meta'), L.ones(3)),
    'a 0-d CPU tensor is a scalar': lambda L: L.ones(3, device='meta') + L.tensor(2.0),
    'in place, meta': lambda L: L.ones(3, device='meta').add_(L.ones(3)),
    'in place, cpu': lambda L: L.ones(3).mul_(L.ones(3, device='meta')),
    'dropout (its mask a CPU array of its own)': lambda L: L.nn.functional.dropout(L.ones(3, 4, device='meta'), 0.5),
    'var': lambda L: L.ones(3, 4, device='meta').var(1),
    'std': lambda L: L.ones(3, 4, device='meta').std(),
    'complex real': lambda L: L.ones(3, device='meta', dtype=L.complex64).real,
    'complex imag': lambda L: L.ones(3, device='meta', dtype=L.complex64).imag,
}
BF16_OPS = {
    'add': lambda L, x: x + 1, 'mm': lambda L, x: x @ x.t(), 'sum': lambda L, x: x.sum(), 'exp': lambda L, x: x.exp(),
    'sigmoid': lambda L, x: x.sigmoid(), 'tanh': lambda L, x: x.tanh(), 'gelu': lambda L, x: L.nn.functional.gelu(x),
    'softmax': lambda L, x: x.softmax(-1), 'layer_norm': lambda L, x: L.nn.functional.layer_norm(x, (4,)),
    'mean': lambda L, x: x.mean(0), 'var': lambda L, x: x.var(1),
}


def _bf16_case(op):
    return lambda L: BF16_OPS[op](L, L.ones(3, 4, device='meta', dtype=L.bfloat16))


META_CASES.update({f'bfloat16 {op}': _bf16_case(op) for op in BF16_OPS})


@pytest.mark.parametrize('case', list(META_CASES))
def test_meta_devices_and_dtypes_as_pytorch(case):
    """Meta and CPU operands together are refused with PyTorch's message (its first operand's device the expected
    one), but for a 0-d CPU tensor and in-place ops, which PyTorch lets through; var/std, bfloat16 ops and a complex
    tensor's real/imag parts stay meta, in PyTorch's dtype."""
    assert _device_dtype_shape_or_error(lambda: META_CASES[case](ember)) == \
        _device_dtype_shape_or_error(lambda: META_CASES[case](torch))


def _error_of(fn):
    try:
        fn()
    except TypeError as e:
        return str(e)
    return None


OPERAND_OPS = ('add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'atan2', 'hypot', 'logical_and', 'logical_or',
               'fmax', 'fmin', 'nextafter', 'ldexp', 'logaddexp', 'add_', 'sub_', 'mul_', 'div_')


@pytest.mark.parametrize('bad', [np.ones(3, np.float32), [1.0, 2.0, 3.0]], ids=['ndarray', 'list'])
@pytest.mark.parametrize('name', OPERAND_OPS)
def test_operand_errors_count_positions_as_pytorch(name, bad):
    """A sequence operand's TypeError names PyTorch's argument and position: a method's count from ``other``
    (position 1), a function's from ``input``."""
    for form in ('method', 'function first', 'function second'):
        if form != 'method' and name.endswith('_'):
            continue
        errors = []
        for lib in (ember, torch):
            t = lib.ones(3)
            fn = {'method': lambda: getattr(t, name)(bad), 'function first': lambda: getattr(lib, name)(bad, t),
                  'function second': lambda: getattr(lib, name)(t, bad)}[form]
            errors.append(_error_of(fn))
        assert errors[1] is not None
        assert errors[0] == errors[1], form


@pytest.mark.parametrize('args', ['ndarray, tensor', 'tensor, ndarray'])
def test_matmul_operand_error(args):
    errors = []
    for lib in (ember, torch):
        a, t = np.ones((2, 2), np.float32), lib.ones(2, 2)
        errors.append(_error_of(lambda: lib.matmul(a, t) if args.startswith('nd') else lib.matmul(t, a)))
    assert errors[1] is not None and errors[0] == errors[1]


def test_float16_linear_and_softmax_round_once():
    """float16 Linear (the bias added to the float32 product), its bias's gradient (summed in float32) and
    softmax's gradient (in float32), each rounded once to float16, as PyTorch's CPU kernels: bit for bit."""
    rng = np.random.default_rng(7)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((8, 64), (16, 64), (16,)))
    g = rng.standard_normal((8, 16)).astype(np.float32)
    got = []
    for lib in (ember, torch):
        ts = [lib.tensor(a).half().requires_grad_() for a in (x, w, b)]
        y = lib.nn.functional.linear(*ts)
        y.softmax(-1).backward(lib.tensor(g).half())
        got.append([y.detach().float().numpy()] + [t.grad.float().numpy() for t in ts])
    for e, t in zip(*got):
        np.testing.assert_array_equal(e, t)


@pytest.mark.parametrize('name', ['exp', 'tanh', 'sigmoid', 'log', 'sin', 'expm1', 'atan'])
def test_float16_unary_ops_as_pytorch(name):
    """float16 transcendental ops computed wide and rounded once (sigmoid was rounded at each NumPy step: 162 of
    512 values differed), tanh's gradient in float32 as PyTorch's tanh_backward kernel (1949 of 4000 differed),
    the others' as their composite formulas in float16 steps: the gradients bit for bit, the values but for an
    occasional ulp (PyTorch's float32 kernels are not correctly rounded, ember's wide ones are)."""
    rng = np.random.default_rng(8)
    x = rng.random(2000).astype(np.float32) * 3 + (0.1 if name == 'log' else -1.5)
    g = rng.standard_normal(2000).astype(np.float32)
    got = []
    for lib in (ember, torch):
        t = lib.tensor(x).half().requires_grad_()
        y = getattr(lib, name)(t)
        y.backward(lib.tensor(g).half())
        got.append([y.detach().float().numpy(), t.grad.float().numpy()])
    (ye, ge), (yt, gt) = got
    assert np.count_nonzero(ye != yt) <= 2
    np.testing.assert_allclose(ye, yt, rtol=2 ** -10, atol=2 ** -24)
    same = ye == yt     # (an elementwise gradient reads its own value alone)
    np.testing.assert_array_equal(ge[same], gt[same])
