"""Complex dtypes against PyTorch 2.13: creation, promotion with real dtypes and Python complex numbers, arithmetic,
matmul, reductions, real/imag/conj/angle/abs, complex/polar/view_as_real/view_as_complex, reprs, save/load, the
gradients of the complex ops (against PyTorch and by float64 finite differences), and the clear refusals where
ember does not run an op on complex tensors (never a silently wrong answer)."""
import itertools

import numpy as np
import pytest
import torch

import ember


def _same(e, t, atol=1e-5, rtol=1e-5):
    if isinstance(t, tuple):
        assert len(e) == len(t)
        for a, b in zip(e, t):
            _same(a, b, atol, rtol)
        return
    assert repr(e.dtype) == repr(t.dtype), (e.dtype, t.dtype)
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_allclose(e.detach().numpy(), t.detach().resolve_conj().numpy(), atol=atol, rtol=rtol)


def _c(shape, dtype=np.complex64, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)


def _pair(arr, **kw):
    return ember.tensor(arr, **kw), torch.tensor(arr, **kw)


def test_dtype_names_and_predicates():
    for name in ('complex64', 'cfloat', 'complex128', 'cdouble'):
        assert repr(getattr(ember, name)) == repr(getattr(torch, name))
    assert ember.complex64.is_complex and not ember.complex64.is_floating_point
    assert ember.float32.to_complex() is ember.complex64 and ember.complex128.to_real() is ember.float64
    e, t = _pair(_c(3))
    assert e.is_complex() and ember.is_complex(e) and not ember.ones(2).is_complex()
    assert e.dtype.itemsize == t.dtype.itemsize == e.element_size()


def test_creation():
    for data in ([1 + 2j, 3], [[1.5, 2j]], 1j, [True, 1j], np.array([1j], np.complex128)):
        _same(ember.tensor(data), torch.tensor(data))
    for fn in ('zeros', 'ones', 'empty'):
        assert repr(getattr(ember, fn)(2, dtype=ember.cfloat).dtype) == 'torch.complex64'
    _same(ember.full((2,), 1 + 1j), torch.full((2,), 1 + 1j))
    _same(ember.tensor([1., 2.]).to(ember.complex128), torch.tensor([1., 2.]).to(torch.complex128))
    ember.set_default_dtype(ember.float64)
    try:
        assert repr(ember.tensor([1j]).dtype) == 'torch.complex128'
    finally:
        ember.set_default_dtype(ember.float32)


def test_promotion_table():
    names = ['bool', 'uint8', 'int8', 'int16', 'int32', 'int64', 'float16', 'bfloat16', 'float32', 'float64',
             'complex64', 'complex128']
    for a, b in itertools.product(names, repeat=2):
        if 'complex' in a + b:
            assert repr(ember.promote_types(getattr(ember, a), getattr(ember, b))) == \
                repr(torch.promote_types(getattr(torch, a), getattr(torch, b)))


def test_promotion_with_scalars_and_0d():
    for dt in ('uint8', 'int64', 'float32', 'float64', 'complex64', 'complex128'):
        for other in (1j, 2.5, 3, True):
            e = ember.ones(2, dtype=getattr(ember, dt)) * other
            t = torch.ones(2, dtype=getattr(torch, dt)) * other
            _same(e, t)
        for c in ('complex64', 'complex128'):
            _same(ember.ones(2, dtype=getattr(ember, dt)) + ember.ones((), dtype=getattr(ember, c)),
                  torch.ones(2, dtype=getattr(torch, dt)) + torch.ones((), dtype=getattr(torch, c)))


@pytest.mark.parametrize('dt', [np.complex64, np.complex128])
def test_arithmetic_and_math(dt):
    a, b = _c((3, 4), dt, 1), _c((3, 4), dt, 2)
    (ea, ta), (eb, tb) = _pair(a), _pair(b)
    x = np.linspace(-1, 1, 4).astype(np.float32)
    ex, tx = _pair(x)
    for f in (lambda L, p, q, r: p + q, lambda L, p, q, r: p - q, lambda L, p, q, r: p * q, lambda L, p, q, r: p / q,
              lambda L, p, q, r: p ** 2, lambda L, p, q, r: p ** q, lambda L, p, q, r: -p, lambda L, p, q, r: p * r,
              lambda L, p, q, r: r / p, lambda L, p, q, r: p - 2.5j, lambda L, p, q, r: 1 / p,
              lambda L, p, q, r: L.exp(p), lambda L, p, q, r: L.log(p), lambda L, p, q, r: L.sqrt(p),
              lambda L, p, q, r: L.sin(p), lambda L, p, q, r: L.tanh(p), lambda L, p, q, r: L.sigmoid(p),
              lambda L, p, q, r: p.abs(), lambda L, p, q, r: p.angle(), lambda L, p, q, r: p.conj(),
              lambda L, p, q, r: p == q, lambda L, p, q, r: p != p, lambda L, p, q, r: L.isnan(p),
              lambda L, p, q, r: p.sum(), lambda L, p, q, r: p.mean(0), lambda L, p, q, r: p.sum(1, keepdim=True),
              lambda L, p, q, r: p.prod(0), lambda L, p, q, r: p.cumsum(1), lambda L, p, q, r: p @ q.T,
              lambda L, p, q, r: L.matmul(p, r.to(p.dtype)), lambda L, p, q, r: p.reshape(4, 3).t(),
              lambda L, p, q, r: L.cat([p, q]), lambda L, p, q, r: p[1:, ::2],
              lambda L, p, q, r: L.einsum('ij,kj->ik', p, q), lambda L, p, q, r: p.real * 2,
              lambda L, p, q, r: p.imag, lambda L, p, q, r: L.real(r), lambda L, p, q, r: L.angle(r),
              lambda L, p, q, r: L.angle(L.tensor([-1, 0, 2])), lambda L, p, q, r: L.isclose(p, q),
              lambda L, p, q, r: L.view_as_real(p), lambda L, p, q, r: L.view_as_complex(L.view_as_real(p)),
              lambda L, p, q, r: L.complex(r, r * 2), lambda L, p, q, r: L.polar(r.abs(), r),
              lambda L, p, q, r: p.var(), lambda L, p, q, r: p.std(1), lambda L, p, q, r: L.var_mean(p, 0),
              lambda L, p, q, r: L.std_mean(p), lambda L, p, q, r: p.norm(), lambda L, p, q, r: L.dist(p, q),
              lambda L, p, q, r: L.linalg.vector_norm(p, 1, dim=0), lambda L, p, q, r: L.isreal(p * 0 + 1),
              lambda L, p, q, r: p.H, lambda L, p, q, r: p.mH, lambda L, p, q, r: L.float_power(p, 2),
              lambda L, p, q, r: L.linalg.inv(p[:, :3]), lambda L, p, q, r: L.linalg.det(p[:, :3]),
              lambda L, p, q, r: L.linalg.solve(p[:, :3], q[:, :3])):
        _same(f(ember, ea, eb, ex), f(torch, ta, tb, tx))


def test_views_share_memory():
    e = ember.tensor(_c(3))
    e.real[0] = 5.0
    e.imag.mul_(2)
    r = ember.view_as_real(e)
    r[1, 0] = -1.0
    t = torch.tensor(_c(3))
    t.real[0] = 5.0
    t.imag.mul_(2)
    torch.view_as_real(t)[1, 0] = -1.0
    _same(e, t)
    x = ember.zeros(3, 2)
    z = ember.view_as_complex(x)
    z.real.fill_(1)
    assert x[:, 0].tolist() == [1.0, 1.0, 1.0]


def test_reprs():
    cases = [np.array([1 + 2j, 3 - 4j]), np.array([[1e-5 + 1j, 2 + 3e8j], [0j, -0.0 - 0.0j]]), np.array(1 + 1j),
             np.array([np.nan + 1j, np.inf - np.inf * 1j, 1 + 0j]), (np.arange(40) * (1 + 0.5j)).reshape(4, 10),
             np.arange(3000) * (1 - 2j), np.array([], np.complex64), np.array([0.1 + 0.2j, 100.0 + 1j])]
    for c in cases:
        for dt in ('complex64', 'complex128'):
            assert repr(ember.tensor(c).to(getattr(ember, dt))) == repr(torch.tensor(c).to(getattr(torch, dt)))
    z = ember.tensor([1 + 1j], requires_grad=True)
    assert repr(z) == repr(torch.tensor([1 + 1j], requires_grad=True))


def test_save_load_both_ways(tmp_path):
    e = {'a': ember.tensor(_c(3)), 'b': ember.tensor(_c((2, 2), np.complex128))}
    ember.save(e, tmp_path / 'e.pt')
    back, other = ember.load(tmp_path / 'e.pt'), torch.load(tmp_path / 'e.pt')
    for k in e:
        _same(back[k], other[k], atol=0, rtol=0)
        _same(e[k], other[k], atol=0, rtol=0)
    torch.save({'v': torch.tensor(_c(4))[1:]}, tmp_path / 't.pt')
    _same(ember.load(tmp_path / 't.pt')['v'], torch.tensor(_c(4))[1:], atol=0, rtol=0)
    assert ember.load(tmp_path / 't.pt')['v'].is_complex()


@pytest.mark.parametrize('call', [
    lambda L, z: L.view_as_real(L.ones(2)),
    lambda L, z: L.view_as_complex(L.ones(3)),
    lambda L, z: L.view_as_complex(L.ones(2, 2, dtype=L.int64)),
    lambda L, z: L.view_as_complex(L.ones(2, 2).t()),
    lambda L, z: L.complex(L.ones(2), L.ones(2, dtype=L.float64)),
    lambda L, z: L.complex(L.ones(2, dtype=L.int64), L.ones(2, dtype=L.int64)),
    lambda L, z: L.ones(2).imag,
])
def test_errors_match_torch(call):
    z = _c(3)
    with pytest.raises(Exception) as te:
        call(torch, torch.tensor(z))
    with pytest.raises(type(te.value)) as ee:
        call(ember, ember.tensor(z))
    assert str(ee.value) == str(te.value).split('\n')[0]


@pytest.mark.parametrize('call,op', [
    (lambda L, z: z < z, 'lt'), (lambda L, z: z.max(), 'max'), (lambda L, z: L.sort(z), 'sort'),
    (lambda L, z: z.argmax(), 'argmax'), (lambda L, z: L.relu(z), 'clamp'), (lambda L, z: L.clamp(z, 0, 1), 'clamp'),
    (lambda L, z: L.floor(z), 'floor'), (lambda L, z: L.sign(z), 'sign'), (lambda L, z: L.topk(z, 1), 'topk'),
    (lambda L, z: L.maximum(z, z), 'maximum'), (lambda L, z: L.round(z), 'round'),
])
def test_refused_ops_name_the_op(call, op):
    """PyTorch refuses these on complex; ember refuses too (NumPy would order complex numbers lexicographically)."""
    with pytest.raises(Exception):
        call(torch, torch.tensor(_c(3)))
    with pytest.raises((NotImplementedError, RuntimeError)) as ee:
        call(ember, ember.tensor(_c(3)))
    assert op in str(ee.value)


def test_refusal_names_the_op_after_the_shell_dtype_gates_are_armed():
    """A uint16 tensor arms _shell's dtype gates (wrappers named ``gated`` over topk and friends); a complex
    refusal afterwards still names the op the user called (the suite's order once made it say "gated")."""
    ember.zeros(2, dtype=ember.uint16)
    z = ember.tensor(_c(3))
    for call in (lambda: ember.topk(z, 1), lambda: z.topk(1)):
        with pytest.raises(NotImplementedError) as ee:
            call()
        assert str(ee.value).startswith('"topk" is not supported for complex tensors')


@pytest.mark.parametrize('call', [
    lambda L, z: L.linalg.cholesky(z.requires_grad_()),
    lambda L, z: L.linalg.vecdot(z, z), lambda L, z: L.cov(z),
    lambda L, z: L.corrcoef(z), lambda L, z: L.slogdet(z),
    lambda L, z: L.lgamma(z), lambda L, z: L.erf(z), lambda L, z: L.digamma(z),
    lambda L, z: L.xlogy(z, z), lambda L, z: z.abs_(), lambda L, z: L.deg2rad(z),
])
def test_real_only_ops_refuse_complex(call):
    """Ops written for real numbers in ember (a plain transpose where PyTorch conjugates, real-only formulas)
    refuse complex tensors naming the op, rather than answer differently from PyTorch."""
    with pytest.raises(NotImplementedError, match='complex'):
        call(ember, ember.tensor(_c((3, 3))))


@pytest.mark.parametrize('call', [
    lambda L, z: L.linalg.svd(z), lambda L, z: L.linalg.svd(z[:2], full_matrices=False), lambda L, z: L.svd(z),
    lambda L, z: L.svd(z.mT[:2], some=False), lambda L, z: L.linalg.qr(z), lambda L, z: L.linalg.qr(z[:2], 'complete'),
    lambda L, z: z.qr(), lambda L, z: L.linalg.qr(z, mode='r')[1:]])
def test_svd_and_qr_of_complex(call):
    """ember refused svd and qr of complex matrices (their backward was written for real ones): LAPACK's phases,
    as PyTorch's (torch.svd's V is Vh's conjugate transpose)."""
    got, want = (call(L, L.tensor(_c((3, 3), np.complex128))) for L in (ember, torch))
    for g, w in zip(got, want):
        assert (str(g.dtype), g.stride()) == (str(w.dtype), w.stride())   # (ember has no conjugate bit: V's unset)
        np.testing.assert_allclose(g.resolve_conj().numpy(), w.resolve_conj().numpy(), rtol=1e-10, atol=1e-12)


def test_numpy_gives_a_plain_array():
    e = ember.tensor(_c(3))
    a = e.numpy()
    assert type(a) is np.ndarray and np.shares_memory(a, e.numpy())
    assert np.sort(a).shape == (3,)


def test_undifferentiated_ops_refuse_at_forward():
    z = ember.tensor(_c(2), requires_grad=True)
    for f in (lambda: ember.std_mean(z),):   # (prod and cumprod differentiate complex numbers: test_audit_contract)
        with pytest.raises(RuntimeError, match='does not differentiate'):
            f()
    with ember.no_grad():
        assert z.prod().dtype == ember.complex64


GRAD_OPS = [
    ('real', lambda L, z, r: L.real(z)), ('imag', lambda L, z, r: L.imag(z)),
    ('view_as_real', lambda L, z, r: L.view_as_real(z)), ('conj', lambda L, z, r: L.view_as_real(z.conj().resolve_conj())),
    ('angle', lambda L, z, r: L.angle(z)), ('abs', lambda L, z, r: z.abs()),
    ('complex', lambda L, z, r: L.view_as_real(L.complex(r, r * r))),
    ('polar', lambda L, z, r: L.view_as_real(L.polar(r * r + 0.5, r * 3))),
    ('view_as_complex', lambda L, z, r: L.view_as_real(L.view_as_complex(L.stack([r, r * 2], -1)))),
    ('var', lambda L, z, r: z.var(0, keepdim=True)), ('std', lambda L, z, r: z.std()),
    ('vector_norm', lambda L, z, r: L.linalg.vector_norm(z)), ('norm3', lambda L, z, r: z.norm(p=3)),
]


@pytest.mark.parametrize('name,f', GRAD_OPS)
def test_complex_op_gradients(name, f):
    zc = _c((3,), np.complex128, 7)
    rr = np.array([0.3, -1.2, 2.0])
    ez, tz = _pair(zc, requires_grad=True)
    er, tr = _pair(rr, requires_grad=True)
    ye, yt = f(ember, ez, er), f(torch, tz, tr)
    _same(ye, yt)
    assert ye.grad_fn.name() == yt.grad_fn.name()
    w = np.random.default_rng(8).standard_normal(tuple(yt.shape))
    (ye * ember.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    for e, t in ((ez, tz), (er, tr)):
        if t.grad is None:
            assert e.grad is None
        else:
            _same(e.grad, t.grad)
    # finite differences on the real and imaginary parts of z and on r
    h = 1e-6
    for inp, arr in ((ez, zc), (er, rr)):
        if inp.grad is None:
            continue
        units = (1.0, 1j) if arr.dtype.kind == 'c' else (1.0,)
        for i in range(arr.size):
            for u in units:
                vals = []
                for sgn in (1, -1):
                    a2 = arr.copy()
                    a2[i] += sgn * h * u
                    args = (ember.tensor(a2), ember.tensor(rr)) if inp is ez else (ember.tensor(zc), ember.tensor(a2))
                    vals.append((f(ember, *args) * ember.tensor(w)).sum().item())
                want = (vals[0] - vals[1]) / (2 * h)
                g = inp.grad.numpy()[i]
                got = g.real if u == 1.0 else g.imag
                assert abs(got - want) < 1e-6 * max(1, abs(want)), (name, i, u, got, want)


def test_sgn_and_vdot_of_complex_as_pytorch():
    """sgn(z) = z/|z| (0 at 0, NaN for infinities); vdot conjugates its first argument (forward; a complex
    input that requires grad is refused rather than given a real-number gradient)."""
    got = []
    for lib in (torch, ember):
        z = lib.tensor([3 + 4j, 7 - 24j, 0, 1 + 2j, complex(float('inf'), 0)], dtype=lib.complex64)
        a, b = lib.tensor((1 + 2j, 3 - 1j)), lib.tensor((2 + 1j, 4 - 0j))
        got.append([z.sgn().numpy(), lib.sgn(z.to(lib.complex128)).numpy(), lib.vdot(a, b).numpy(),
                    b.vdot(a).numpy(), lib.vdot(lib.tensor([2., 3.]), lib.tensor([2., 1.])).numpy()])
    for e, t in zip(got[1], got[0]):
        assert e.dtype == t.dtype
        np.testing.assert_allclose(e, t, rtol=1e-6)
    with pytest.raises(RuntimeError, match='torch.sgn instead'):
        torch.sign(torch.tensor([1j]))
    with pytest.raises(NotImplementedError):
        ember.sign(ember.tensor([1j]))
