"""ember.optim bit for bit against torch.optim: params and every state tensor after 20 steps, params of 1..70
elements (PyTorch's vector loops and scalar tails) and three large ones, float32 and float64, each optimizer with its
main options, single-tensor (CPU's default) and foreach; and the sqrt they share against torch.sqrt."""
import warnings

import numpy as np
import pytest
import torch

import ember
from ember.ops import _vml_sqrt

from _isa import pytorch_avx512
from helpers import threads  # noqa: F401 (a fixture)

LENGTHS = list(range(1, 71)) + [4099, 16538, 70000]
STEPS = 20

CASES = [
    ('Adam', dict(lr=1e-2)), ('Adam', dict(lr=1e-2, weight_decay=0.1)), ('Adam', dict(lr=1e-2, amsgrad=True)),
    ('Adam', dict(lr=1e-2, weight_decay=0.1, amsgrad=True, maximize=True)),
    ('AdamW', dict(lr=1e-2)), ('AdamW', dict(lr=1e-2, amsgrad=True, maximize=True)),
    ('Adagrad', dict(lr=1e-2)), ('Adagrad', dict(lr=1e-2, weight_decay=0.1, lr_decay=1e-3)),
    ('Adagrad', dict(lr=1e-2, initial_accumulator_value=0.1, maximize=True)),
    ('RMSprop', dict(lr=1e-2)), ('RMSprop', dict(lr=1e-2, momentum=0.9, weight_decay=0.1)),
    ('RMSprop', dict(lr=1e-2, centered=True)), ('RMSprop', dict(lr=1e-2, centered=True, momentum=0.5, maximize=True)),
    ('NAdam', dict(lr=1e-2)), ('NAdam', dict(lr=1e-2, weight_decay=0.1)),
    ('NAdam', dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ('RAdam', dict(lr=1e-2)), ('RAdam', dict(lr=1e-2, weight_decay=0.1, maximize=True)),
    ('RAdam', dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True)),
    ('ASGD', dict(lr=1e-2)), ('ASGD', dict(lr=1e-2, weight_decay=0.1, maximize=True, t0=5)),
    ('Adadelta', dict()), ('Adadelta', dict(lr=0.5, weight_decay=0.1, maximize=True)),
    ('Adamax', dict(lr=1e-2)), ('Adamax', dict(lr=1e-2, weight_decay=0.1, maximize=True)),
    ('Rprop', dict()), ('Rprop', dict(lr=1e-2, maximize=True)),
    ('SGD', dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ('SGD', dict(lr=0.1, momentum=0.9, dampening=0.2, maximize=True)),
]
# optimizers whose step takes a square root: PyTorch's sqrt is MKL's (vsSqrt/vdSqrt), emulated where its kernels
# refine an estimate (_vml_sqrt); elsewhere its float64 values are not IEEE's in ~1.2% of elements (checked to 1e-12)
SQRT = {'Adam', 'AdamW', 'Adagrad', 'RMSprop', 'NAdam', 'RAdam', 'Adadelta'}


def _run(lib, name, kwargs, dtype):
    """The params and their state after STEPS steps of seeded gradients (5% zeros) on params of LENGTHS elements."""
    rs = np.random.RandomState(0)
    params = [lib.nn.Parameter(lib.tensor(rs.randn(n).astype(dtype))) for n in LENGTHS]
    opt = getattr(lib.optim, name)(params, **kwargs)
    for _ in range(STEPS):
        for p in params:
            g = rs.randn(p.numel()).astype(dtype)
            g[rs.rand(g.size) < 0.05] = 0
            p.grad = lib.tensor(g)
        opt.step()
    return [(p.detach().numpy().copy(), {k: np.array(v.numpy() if hasattr(v, 'numpy') else v)
                                         for k, v in opt.state[p].items()}) for p in params]


def _exact(name, dtype):
    """Whether ember's values must be PyTorch's bits: where no sqrt is taken, where PyTorch's sqrt is emulated (MKL's
    SSE kernels on an AMD CPU with AVX-512), and in float32 where PyTorch's is IEEE's (AVX2 hosts)."""
    if name not in SQRT or _vml_sqrt.emulated():
        return True
    return dtype == np.float32 and not pytorch_avx512()


@pytest.mark.parametrize('dtype', [np.float32, np.float64], ids=['float32', 'float64'])
@pytest.mark.parametrize('foreach', [False, True], ids=['single', 'foreach'])
@pytest.mark.parametrize('name,kwargs', CASES, ids=[f'{n}-{i}' for i, (n, _) in enumerate(CASES)])
def test_params_and_state_bit_for_bit(name, kwargs, foreach, dtype):
    kwargs = dict(kwargs, foreach=foreach)
    ours, theirs = _run(ember, name, kwargs, dtype), _run(torch, name, kwargs, dtype)
    exact = _exact(name, dtype)
    for n, (e, t) in zip(LENGTHS, zip(ours, theirs)):
        assert sorted(e[1]) == sorted(t[1]), (n, sorted(e[1]), sorted(t[1]))
        for key, a, b in [('param', e[0], t[0])] + [(k, e[1][k], t[1][k]) for k in t[1]]:
            msg = f'{name} {kwargs} {np.dtype(dtype).name} {n} elements: {key}'
            if exact:
                np.testing.assert_array_equal(a, b, err_msg=msg)
            else:
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=msg)


FUSED = [('Adam', dict(lr=1e-2)), ('Adam', dict(lr=1e-2, weight_decay=0.1, amsgrad=True, maximize=True)),
         ('AdamW', dict(lr=1e-2)), ('AdamW', dict(lr=1e-2, amsgrad=True)),
         ('SGD', dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
         ('SGD', dict(lr=0.1, momentum=0.9, dampening=0.2, maximize=True)), ('SGD', dict(lr=0.1)),
         ('Adagrad', dict(lr=1e-2, weight_decay=0.1)),
         ('Adagrad', dict(lr=1e-2, lr_decay=1e-3, initial_accumulator_value=0.1, maximize=True))]


@pytest.mark.parametrize('dtype', [np.float32, np.float64], ids=['float32', 'float64'])
@pytest.mark.parametrize('name,kwargs', FUSED, ids=[f'{n}-{i}' for i, (n, _) in enumerate(FUSED)])
def test_fused_bit_for_bit(name, kwargs, dtype):
    """fused=True: PyTorch's fused CPU kernels (Adam's IEEE sqrt; their remainder loops' own roundings of
    exp_avg_sq and the momentum buffer) bit for bit where they run their AVX-512 code; elsewhere (other vector
    widths) to 1e-6 relative."""
    kwargs = dict(kwargs, fused=True)
    ours, theirs = _run(ember, name, kwargs, dtype), _run(torch, name, kwargs, dtype)
    for n, (e, t) in zip(LENGTHS, zip(ours, theirs)):
        for key, a, b in [('param', e[0], t[0])] + [(k, e[1][k], t[1][k]) for k in t[1]]:
            msg = f'{name} {kwargs} {np.dtype(dtype).name} {n} elements: {key}'
            if pytorch_avx512():
                np.testing.assert_array_equal(a, b, err_msg=msg)
            else:
                np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9, err_msg=msg)


def _sqrt_inputs(dtype):
    """Every 97th float32 of [2**-149, 2**128) (float32), or 10^5 float64 spread over the whole exponent range; the
    specials (zeros, subnormals, the largest floats: MKL's exact path, inf, nan, negatives); lengths 1..70 with zeros
    among them."""
    rs = np.random.RandomState(0)
    if dtype == np.float32:
        spread = np.arange(1, 0x7f800000, 97, dtype=np.uint32).view(np.float32)
    else:
        spread = np.exp(rs.uniform(-740, 709, 100000))
    special = np.array([0.0, -0.0, 1e-45, 1e-40, 1.1754942e-38, 5e-324, 1e-310, 2.2250738585072014e-308, 2.0 ** 1021,
                        2.0 ** 1022, 1.7976931348623157e308, 3.4028235e38, 3.4e38, np.inf, -np.inf, np.nan, -1.0,
                        -1e-45, 2.0, 4.0, 0.25])
    with np.errstate(over='ignore'):
        arrays = [np.concatenate([spread, special.astype(dtype)])]
    for n in range(1, 71):
        x = np.abs(rs.randn(n)).astype(dtype)
        x[rs.rand(n) < 0.1] = 0
        arrays.append(x)
    return arrays


@pytest.mark.parametrize('dtype', [np.float32, np.float64], ids=['float32', 'float64'])
def test_sqrt_as_torch(dtype):
    """_vml_sqrt.sqrt gives torch.sqrt's bits where it emulates MKL (and IEEE's sqrt elsewhere: equal in float32 on
    AVX2 hosts); in place too."""
    arrays = _sqrt_inputs(dtype)
    ints = np.uint32 if dtype == np.float32 else np.uint64
    exact = _vml_sqrt.emulated() or (dtype == np.float32 and not pytorch_avx512())
    with np.errstate(invalid='ignore'):
        for x in arrays:
            want = torch.sqrt(torch.from_numpy(x)).numpy()
            got = _vml_sqrt.sqrt(x)
            if exact:
                np.testing.assert_array_equal(got.view(ints), want.view(ints))
            else:
                np.testing.assert_allclose(got, want, rtol=4 * np.finfo(dtype).eps)
        y = arrays[-1].copy()
        assert _vml_sqrt.sqrt(y, out=y) is y
        np.testing.assert_array_equal(y, torch.sqrt(torch.from_numpy(arrays[-1])).numpy())


def test_sqrt_specials_scattered():
    """float32 sqrt with the inputs off MKL's estimate path (zeros, subnormals, the largest floats from 0x7f7ff000,
    inf, nan, negatives) scattered through blocks of normal values, whole and in place: torch.sqrt's bits (each block
    computes its estimates, then puts IEEE's roots of those inputs back)."""
    rs = np.random.RandomState(1)
    bits = rs.randint(0x00800000, 0x7f7ff000, 3 * _vml_sqrt.BLOCK + 77).astype(np.uint32)
    odd = np.array([0, 0x80000000, 1, 0x007fffff, 0x00800000, 0x7f7ff000, 0x7f7ff001, 0x7f7fffff, 0x7f800000,
                    0xff800000, 0x7fc00000, 0xbf800000, 0x80000001], np.uint32)
    at = rs.choice(bits.size, 400, replace=False)
    bits[at] = odd[np.arange(at.size) % odd.size]
    x = bits.view(np.float32)
    exact = _vml_sqrt.emulated() or not pytorch_avx512()
    with np.errstate(invalid='ignore'):
        want = torch.sqrt(torch.from_numpy(x.copy())).numpy()
        y = x.copy()
        assert _vml_sqrt.sqrt(y, out=y) is y
        for got in (_vml_sqrt.sqrt(x), _vml_sqrt.sqrt(x, out=np.empty_like(x)), y):
            if exact:
                np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))
            else:
                np.testing.assert_allclose(got, want, rtol=4 * np.finfo(np.float32).eps)


@pytest.mark.parametrize('dtype', ['float32', 'float64', 'float16', 'bfloat16'])
def test_sqrt_op_as_torch(dtype):
    """torch.sqrt, Tensor.sqrt_ and _foreach_sqrt give PyTorch's bits (float32/float64 through _vml_sqrt where it
    emulates MKL; the half types are IEEE's in float32, rounded once) and its strides for transposed and sliced
    inputs; zeros keep their sign, negatives give nan."""
    rs = np.random.RandomState(0)
    wide = dtype in ('float32', 'float64')
    exact = not wide or _vml_sqrt.emulated() or (dtype == 'float32' and not pytorch_avx512())
    for shape in [(), (1,), (7,), (3, 50), (70000,)]:
        x = rs.rand(*shape) * rs.choice([1e-30, 1.0, 1e6])
        t, e = torch.tensor(x, dtype=getattr(torch, dtype)), ember.tensor(x, dtype=getattr(ember, dtype))
        pairs = [(torch.sqrt(t), ember.sqrt(e)), (t.clone().sqrt_(), e.clone().sqrt_())]
        if len(shape) == 2:
            pairs += [(torch.sqrt(t.t()), ember.sqrt(e.t())), (torch.sqrt(t[:, ::2]), ember.sqrt(e[:, ::2]))]
        for want, got in pairs:
            assert got.stride() == want.stride() and repr(got.dtype) == repr(want.dtype)
            w, g = want.double().numpy(), got.double().numpy()
            if exact:
                np.testing.assert_array_equal(g, w)
            else:
                np.testing.assert_allclose(g, w, rtol=4 * np.finfo(dtype).eps)
    specials = [0.0, -0.0, -1.0, float('inf'), float('nan'), 1e-45, 3.4e38]
    want = torch.sqrt(torch.tensor(specials, dtype=getattr(torch, dtype))).double().numpy()
    got = ember.sqrt(ember.tensor(specials, dtype=getattr(ember, dtype))).double().numpy()
    np.testing.assert_array_equal(np.signbit(got[~np.isnan(want)]), np.signbit(want[~np.isnan(want)]))
    np.testing.assert_array_equal(got, want)
    ts = [torch.rand(n, dtype=getattr(torch, dtype)) for n in (5, 300)]
    for w, g in zip(torch._foreach_sqrt(ts), ember._foreach_sqrt([ember.tensor(t.double().numpy(), dtype=getattr(ember, dtype)) for t in ts])):
        if exact:
            np.testing.assert_array_equal(g.double().numpy(), w.double().numpy())


@pytest.mark.parametrize('case', ['dead', 'all_dead', 'negzero_param', 'maximize', 'rho_one', 'dense'])
def test_adadelta_zero_gradient_rows_bit_for_bit(monkeypatch, threads, case):
    """Adadelta on a (128, 600) float32 param whose gradient has about half its rows zero (+0.0 and -0.0; a layer's
    dead units, some coming alive later): the zero rows' state only times rho (_zero_rows_update), bit for bit
    PyTorch's at 1 and 2 threads (rows shared out between them); a -0.0 param on a row whose gradient is -0.0
    (that step would make it +0.0) and a dense gradient leave it to the whole update."""
    from ember.optim import adadelta as _adadelta
    monkeypatch.setattr(_adadelta, 'SPLIT_BYTES', 0)    # at 2 threads the rows are shared out
    taken = []
    rows = _adadelta._zero_rows_update
    monkeypatch.setattr(_adadelta, '_zero_rows_update', lambda *a: taken.append(rows(*a)) or taken[-1])
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal((128, 600)).astype(np.float32)
    grads = []
    for k in range(4):
        g = (rng.standard_normal(w0.shape) * 1e-2).astype(np.float32)
        dead = rng.random(128) < 0.5
        dead[:3] = k < 2                     # rows that come alive at the third step
        dead[5] = True
        dead[:] = True if case == 'all_dead' else False if case == 'dense' else dead
        g[dead] = 0
        g[dead & (np.arange(128) % 3 == 0)] = -0.0
        grads.append(g)
    if case == 'negzero_param':
        w0[6, 7] = -0.0
        grads[0][6] = -0.0
    kwargs = {'maximize': dict(lr=0.5, rho=0.8, eps=1e-5, maximize=True), 'rho_one': dict(rho=1.0, eps=1e-3)}.get(
        case, dict(lr=1.0))

    def run(lib):
        w = lib.nn.Parameter(lib.tensor(w0.copy()))
        opt = lib.optim.Adadelta([w], **kwargs)
        for g in grads:
            w.grad = lib.tensor(g)
            opt.step()
        st = opt.state[w]
        return [w.detach().numpy(), st['square_avg'].numpy(), st['acc_delta'].numpy()]
    for got, want in zip(run(ember), run(torch)):
        if _exact('Adadelta', np.float32):
            np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))
        else:
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12)
    assert taken == {'dense': [False] * 4, 'negzero_param': [False, True, True, True]}.get(case, [True] * 4)


@pytest.mark.parametrize('case', ['mixed', 'duplicate'])
def test_adadelta_small_params_joined_bit_for_bit(monkeypatch, case):
    """Adadelta's small params (biases, small kernels) step as one joined array (adam._together), with a large param
    and a float64 one beside them, bit for bit PyTorch's; a param listed twice (PyTorch warns and steps it twice, the
    second time with weight decay on the first step's result) leaves the group unjoined."""
    from ember.optim import adadelta as _adadelta
    joined = []
    together = _adadelta._together
    monkeypatch.setattr(_adadelta, '_together', lambda items, fn: joined.append(len(items)) or together(items, fn))
    rs = np.random.RandomState(5)
    shapes = [(32, 1, 3, 3), (32,), (64, 32, 3, 3), (10,), (300, 250)]
    values = [rs.randn(*s).astype(np.float32) for s in shapes] + [rs.randn(7)]
    grads = [[rs.randn(*v.shape).astype(v.dtype) for v in values] for _ in range(4)]

    def run(lib):
        ps = [lib.nn.Parameter(lib.tensor(v.copy())) for v in values]
        listed = ps + [ps[1]] if case == 'duplicate' else ps
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')     # PyTorch's duplicate-parameter warning (ember's own is tested apart)
            opt = lib.optim.Adadelta(listed, lr=0.5, weight_decay=0.1)
        for gs in grads:
            for p, g in zip(ps, gs):
                p.grad = lib.tensor(g)
            opt.step()
        return [a for p in ps for a in (p.detach().numpy(), opt.state[p]['square_avg'].numpy(),
                                         opt.state[p]['acc_delta'].numpy())]
    for got, want in zip(run(ember), run(torch)):
        if _exact('Adadelta', got.dtype.type):
            np.testing.assert_array_equal(got, want)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12)
    assert joined == ([] if case == 'duplicate' else [4, 1] * 4)
