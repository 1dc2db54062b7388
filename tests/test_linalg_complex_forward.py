"""Complex (Hermitian / general) inputs of the linalg ops whose NumPy LAPACK forward is PyTorch's: eigh, eigvalsh,
cholesky (lower and upper: the conjugate transpose), cholesky_ex, svdvals, cond, matrix_rank and pinv against
PyTorch 2.13 (the torch.linalg docstring examples, which ember refused), in dtype and value; eigenvectors up to
a phase per column. Their backward formulas are the real case's, so a complex input that requires grad is refused
(NotImplementedError), and so are cond's matrix-norm orders."""
import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(0)


def _hermitian_pd(n, batch=(), dtype=np.complex128):
    z = RNG.standard_normal(batch + (n, n)) + 1j * RNG.standard_normal(batch + (n, n))
    return (z @ np.conj(np.swapaxes(z, -1, -2)) + n * np.eye(n)).astype(dtype)


def _close(e, t, rtol):
    assert repr(e.dtype) == repr(t.dtype) and tuple(e.shape) == tuple(t.shape)
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=rtol, atol=rtol)


CASES = [(np.complex128, (), 1e-10), (np.complex64, (), 1e-4), (np.complex128, (2,), 1e-10)]


@pytest.mark.parametrize('dtype,batch,rtol', CASES)
@pytest.mark.parametrize('uplo', ['L', 'U'])
def test_eigh_eigvalsh_of_hermitian(dtype, batch, rtol, uplo):
    a = _hermitian_pd(4, batch, dtype)
    a[..., 0, 1] += 0.5j   # the triangle UPLO does not read is not Hermitian: each side reads its own
    e, t = ember.tensor(a), torch.tensor(a)
    _close(ember.linalg.eigvalsh(e, UPLO=uplo), torch.linalg.eigvalsh(t, UPLO=uplo), rtol)
    (we, ve), (wt, vt) = ember.linalg.eigh(e, UPLO=uplo), torch.linalg.eigh(t, UPLO=uplo)
    _close(we, wt, rtol)
    assert repr(ve.dtype) == repr(vt.dtype)
    overlap = np.abs(np.sum(np.conj(ve.numpy()) * vt.numpy(), axis=-2))   # |<v_e, v_t>| = 1 per column
    np.testing.assert_allclose(overlap, np.ones_like(overlap), rtol=max(rtol, 1e-5) * 10)


@pytest.mark.parametrize('dtype,batch,rtol', CASES)
@pytest.mark.parametrize('upper', [False, True])
def test_cholesky_and_cholesky_ex_of_hermitian(dtype, batch, rtol, upper):
    a = _hermitian_pd(3, batch, dtype)
    e, t = ember.tensor(a), torch.tensor(a)
    _close(ember.linalg.cholesky(e, upper=upper), torch.linalg.cholesky(t, upper=upper), rtol)
    (le, ie), (lt, it) = ember.linalg.cholesky_ex(e, upper=upper), torch.linalg.cholesky_ex(t, upper=upper)
    _close(le, lt, rtol)
    assert ie.tolist() == it.tolist()
    bad = a.copy()
    bad[..., 1, 1] = -5
    ie, it = ember.linalg.cholesky_ex(ember.tensor(bad))[1], torch.linalg.cholesky_ex(torch.tensor(bad))[1]
    assert ie.tolist() == it.tolist()


@pytest.mark.parametrize('dtype,batch,rtol', CASES)
def test_svdvals_cond_matrix_rank_pinv_of_complex(dtype, batch, rtol):
    z = (RNG.standard_normal(batch + (3, 4)) + 1j * RNG.standard_normal(batch + (3, 4))).astype(dtype)
    low = z[..., :, :1] @ z[..., :1, :]   # rank 1
    for m in (z, low):
        e, t = ember.tensor(m), torch.tensor(m)
        _close(ember.linalg.svdvals(e), torch.linalg.svdvals(t), rtol)
        _close(ember.linalg.matrix_rank(e), torch.linalg.matrix_rank(t), 0)
        _close(ember.linalg.pinv(e), torch.linalg.pinv(t), rtol * 100)
    sq = ember.tensor(z[..., :3]), torch.tensor(z[..., :3])
    for p in (None, 2, -2, 'nuc'):
        _close(ember.linalg.cond(sq[0], p), torch.linalg.cond(sq[1], p), rtol * 100)
    h = _hermitian_pd(3, batch, dtype)
    _close(ember.linalg.pinv(ember.tensor(h), hermitian=True), torch.linalg.pinv(torch.tensor(h), hermitian=True),
           rtol * 100)


# (svdvals, svd, eigh, eigvalsh and qr differentiate complex matrices: tests/test_audit_contract.py)
@pytest.mark.parametrize('op', ['cholesky', 'cholesky_ex', 'cond', 'pinv'])
def test_complex_input_that_requires_grad_is_refused(op):
    a = ember.tensor(_hermitian_pd(3), requires_grad=True)
    with pytest.raises(NotImplementedError, match='require grad'):
        getattr(ember.linalg, op)(a)
    with ember.no_grad():
        getattr(ember.linalg, op)(a)
    with pytest.raises(NotImplementedError):
        ember.linalg.cond(ember.tensor(_hermitian_pd(3)), 'fro')


def _tolerance_inputs():
    a = RNG.standard_normal((2, 4, 3, 3))
    a[0, 0, 0] = 0
    a[1, 1] = np.diag([1.0, 1e-3, 0.0])
    return a


@pytest.mark.parametrize('kw', [dict(atol=1.0, rtol=0.0), dict(atol=0.5), dict(rtol=0.5), dict(atol=0.5, rtol=0.6),
                                dict(tol=0.5), dict(atol='tensor'), dict(), dict(hermitian=True, atol=0.1),
                                dict(hermitian=True)])
def test_matrix_rank_atol_rtol_and_tol_as_torch(kw):
    """The torch.linalg.matrix_rank docstring's atol=/rtol= (ember took only the legacy tol): max(atol, rtol *
    the largest singular value), rtol's default dropped where atol is positive, tensor tolerances broadcast."""
    a = _tolerance_inputs()
    if kw.get('hermitian'):
        a = a + np.swapaxes(a, -1, -2)
    out = []
    for lib in (ember, torch):
        k = dict(kw)
        if k.get('atol') == 'tensor':
            k['atol'] = lib.tensor([[0.5], [2.0]])
        out.append(lib.linalg.matrix_rank(lib.tensor(a), **k))
    assert repr(out[0].dtype) == repr(out[1].dtype) and out[0].tolist() == out[1].tolist()


@pytest.mark.parametrize('kw', [dict(atol=1e-2), dict(atol=1e-4, rtol=1e-2), dict(rtol=1e-2), dict(rcond=1e-2),
                                dict(), dict(hermitian=True, atol=0.3)])
def test_pinv_atol_rtol_as_torch(kw):
    """linalg.pinv's atol= (ember refused it): the same cut of small singular values as PyTorch; gradients."""
    a = _tolerance_inputs()[1]
    if kw.get('hermitian'):
        a = a + np.swapaxes(a, -1, -2)
    res = []
    for lib in (ember, torch):
        t = lib.tensor(a[0], requires_grad=True)
        x = lib.linalg.pinv(lib.tensor(a), **kw)
        y = lib.linalg.pinv(t, **kw)
        (y * lib.tensor(np.arange(9.).reshape(3, 3))).sum().backward()
        res.append((x.numpy(), y.detach().numpy(), t.grad.numpy()))
    for e, t in zip(*res):
        np.testing.assert_allclose(e, t, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize('upper', [False, True])
@pytest.mark.parametrize('dtype,batch,rtol', CASES)
def test_legacy_cholesky_solve_inverse_pinverse_of_complex(upper, dtype, batch, rtol):
    """torch.cholesky / cholesky_solve / cholesky_inverse / pinverse on complex matrices (their docstring
    examples): the factor's conjugate transpose, as PyTorch's LAPACK calls."""
    import warnings
    a = _hermitian_pd(3, batch, dtype)
    b = (RNG.standard_normal(batch + (3, 2)) + 1j * RNG.standard_normal(batch + (3, 2))).astype(dtype)
    res = []
    for lib in (ember, torch):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            f = lib.cholesky(lib.tensor(a), upper=upper)
        res.append([f, lib.cholesky_solve(lib.tensor(b), f, upper=upper), lib.cholesky_inverse(f, upper=upper),
                    lib.pinverse(lib.tensor(b))])
    for e, t in zip(*res):
        _close(e, t, rtol * 100)
