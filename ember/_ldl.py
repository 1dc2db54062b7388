"""LDL^T factorization of symmetric matrices (``torch.linalg.ldl_factor``, ``ldl_factor_ex``, ``ldl_solve``) without
SciPy: LAPACK's unblocked Bunch-Kaufman sytf2 (lower) and sytrs on NumPy arrays, one matrix of a batch at a time,
with LAPACK's conventions (L below the diagonal, D's 1x1 and 2x2 blocks on and under it, the upper triangle zero as
PyTorch leaves it; 1-based int32 pivots, a 2x2 block's two entries -p; ``info`` the first zero 1x1 block). PyTorch's
sytrf is blocked for matrices of 64 rows or more: the same pivoting rule, so the same factors up to rounding. Neither
function is differentiable, as in PyTorch."""
import numpy as np

from . import _quiet
from ._dtype import scalar_name
from ._linalg import _result_type, flat_batch, lapack_order
from .autograd.grad_mode import GRAD
from .autograd.graph import Node
from .tensor import Tensor
from .ops._util import check_tensor_args

__all__ = ['ldl_factor', 'ldl_factor_ex', 'ldl_solve']

_LdlFactorResult = _result_type('linalg_ldl_factor', ['LD', 'pivots'])
_LdlFactorExResult = _result_type('linalg_ldl_factor_ex', ['LD', 'pivots', 'info'])
_ALPHA = (1.0 + 17.0 ** 0.5) / 8.0     # Bunch-Kaufman's threshold


def _sytf2(a):
    """(LD, pivots, info) of one symmetric matrix (its lower triangle read), as LAPACK's dsytf2 with uplo='L'."""
    a = np.tril(a).astype(a.dtype, copy=True)
    a = a + np.tril(a, -1).T        # the full symmetric matrix: the swaps below read either triangle
    n = a.shape[0]
    ipiv = np.zeros(n, np.int32)
    info = 0
    k = 0
    while k < n:
        kstep = 1
        absakk = abs(a[k, k])
        if k < n - 1:
            imax = k + 1 + int(np.argmax(np.abs(a[k + 1:, k])))
            colmax = abs(a[imax, k])
        else:
            imax, colmax = k, 0.0
        if max(absakk, colmax) == 0 or np.isnan(absakk):
            info = info or k + 1
            kp = k
        else:
            if absakk >= _ALPHA * colmax:
                kp = k
            else:
                rowmax = np.max(np.abs(a[imax, k:imax]))
                if imax < n - 1:
                    rowmax = max(rowmax, np.max(np.abs(a[imax + 1:, imax])))
                if absakk >= _ALPHA * colmax * (colmax / rowmax):
                    kp = k
                elif abs(a[imax, imax]) >= _ALPHA * rowmax:
                    kp = imax
                else:
                    kp, kstep = imax, 2
            kk = k + kstep - 1
            if kp != kk:    # rows and columns kk and kp interchanged in the trailing submatrix only (L's earlier
                s = a[k:, k:]   # columns stay: LAPACK's L is a product of permutations and unit-lower blocks)
                i, j = kk - k, kp - k
                s[[i, j], :] = s[[j, i], :]
                s[:, [i, j]] = s[:, [j, i]]
            if kstep == 1:
                if k < n - 1:
                    x = a[k + 1:, k] / a[k, k]
                    a[k + 1:, k + 1:] -= np.outer(x, a[k + 1:, k])
                    a[k + 1:, k] = x
                    a[k, k + 1:] = x
            elif k < n - 2:
                d21 = a[k + 1, k]
                d11 = a[k + 1, k + 1] / d21
                d22 = a[k, k] / d21
                t = 1.0 / (d11 * d22 - 1.0)
                d21 = t / d21
                wk = d21 * (d11 * a[k + 2:, k] - a[k + 2:, k + 1])
                wkp1 = d21 * (d22 * a[k + 2:, k + 1] - a[k + 2:, k])
                a[k + 2:, k + 2:] -= np.outer(a[k + 2:, k], wk) + np.outer(a[k + 2:, k + 1], wkp1)
                a[k + 2:, k], a[k + 2:, k + 1] = wk, wkp1
                a[k, k + 2:], a[k + 1, k + 2:] = wk, wkp1
        if kstep == 1:
            ipiv[k] = kp + 1
        else:
            ipiv[k] = ipiv[k + 1] = -(kp + 1)
        k += kstep
    return np.tril(a), ipiv, info


def _sytrs(ld, ipiv, b):
    """The solution of A X = B from A's factors (LAPACK's dsytrs with uplo='L'), for one matrix."""
    b = b.copy()
    n = ld.shape[0]
    k = 0
    while k < n:        # L D Y = B
        if ipiv[k] > 0:
            kp = ipiv[k] - 1
            if kp != k:
                b[[k, kp]] = b[[kp, k]]
            b[k + 1:] -= np.outer(ld[k + 1:, k], b[k])
            b[k] /= ld[k, k]
            k += 1
        else:
            kp = -ipiv[k] - 1
            if kp != k + 1:
                b[[k + 1, kp]] = b[[kp, k + 1]]
            if k < n - 2:
                b[k + 2:] -= np.outer(ld[k + 2:, k], b[k]) + np.outer(ld[k + 2:, k + 1], b[k + 1])
            akm1k = ld[k + 1, k]
            akm1, ak = ld[k, k] / akm1k, ld[k + 1, k + 1] / akm1k
            denom = akm1 * ak - 1.0
            bkm1, bk = b[k] / akm1k, b[k + 1] / akm1k
            b[k], b[k + 1] = (ak * bkm1 - bk) / denom, (akm1 * bk - bkm1) / denom
            k += 2
    k = n - 1
    while k >= 0:       # L^T X = Y
        if ipiv[k] > 0:
            b[k] -= ld[k + 1:, k] @ b[k + 1:]
            kp = ipiv[k] - 1
            if kp != k:
                b[[k, kp]] = b[[kp, k]]
            k -= 1
        else:
            b[k] -= ld[k + 1:, k] @ b[k + 1:]
            b[k - 1] -= ld[k + 1:, k - 1] @ b[k + 1:]
            kp = -ipiv[k] - 1
            if kp != k:
                b[[k, kp]] = b[[kp, k]]
            k -= 2
    return b


class _NoDerivative(Node):
    """The grad_fn of an LDL result: PyTorch records its NotImplemented node, which refuses backward."""
    __slots__ = ('op',)

    def name(self):
        return 'torch::autograd::NotImplemented'

    def __repr__(self):
        return f'<NotImplemented object at {hex(id(self))}>'

    def backward(self, *grads):
        raise RuntimeError(f'derivative for aten::{self.op} is not implemented')


def _outputs(arrays, inputs, op, n_diff):
    """Tensors of ``arrays``; the first ``n_diff`` get a grad_fn that refuses backward when an input needs grad."""
    outs = [Tensor._make(lapack_order(a) if i == 0 else a) for i, a in enumerate(arrays)]   # the matrix: LAPACK's
    if GRAD.enabled and any(t.requires_grad for t in inputs):
        node = _NoDerivative(tuple(inputs))
        node.op = op
        node._out_meta = [(a.shape, a.dtype) for a in arrays[:n_diff]] if n_diff > 1 else None
        for i, t in enumerate(outs[:n_diff]):
            t.grad_fn, t._output_nr, t._requires_grad = node, i, True
    return outs


def _check_square(A, op):
    a = A._data
    if a.ndim < 2:
        raise RuntimeError(f'torch.linalg.{op}: The input tensor A must have at least 2 dimensions.')
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f'torch.linalg.{op}: A must be batches of square matrices, but they are {a.shape[-2]} '
                           f'by {a.shape[-1]} matrices')
    if a.dtype.kind != 'f':
        raise RuntimeError(f'torch.linalg.{op}: Expected a floating point or complex tensor as input. Got '
                           f'{scalar_name(A.dtype)}')
    if A.dtype.itemsize == 2:
        raise NotImplementedError(f'"ldl_factor_kernel_cpu" not implemented for \'{scalar_name(A.dtype)}\'')


def _error(op, code):
    """PyTorch's error for a zero block of D (its checker reports sytrf's positive info as an unknown code)."""
    return RuntimeError('false INTERNAL ASSERT FAILED at "/__w/pytorch/pytorch/aten/src/ATen/native/'
                        f'BatchLinearAlgebra.cpp":1642, please report a bug to PyTorch. torch.linalg.{op}: Unknown '
                        f'error code: {int(code)}.')


@_quiet.quietly
def ldl_factor_ex(A, *, hermitian=False, check_errors=False, out=None):
    """(LD, pivots, info): the compact LDL^T factors of symmetric ``A`` (its lower triangle read), by
    Bunch-Kaufman pivoting as LAPACK's sytrf; ``info`` > 0 names a zero 1x1 block of D."""
    _check_square(A, 'ldl_factor_ex')
    a = A._data
    n = a.shape[-1]
    flat = flat_batch(a)
    ld, piv, info = np.empty_like(flat), np.empty(flat.shape[:2], np.int32), np.empty(flat.shape[0], np.int32)
    for i, m in enumerate(flat):
        ld[i], piv[i], info[i] = _sytf2(m)
    if check_errors and info.any():
        raise _error('ldl_factor_ex', info[info != 0][0])
    arrays = (ld.reshape(a.shape), piv.reshape(a.shape[:-1]), info.reshape(a.shape[:-2]))
    res = _LdlFactorExResult(*_outputs(arrays, (A,), 'linalg_ldl_factor_ex', 1))
    if out is not None:
        from .ops._out import write
        return write('linalg.ldl_factor_ex', res, out)
    return res


@_quiet.quietly
def ldl_factor(A, *, hermitian=False, out=None):
    """(LD, pivots) of ``ldl_factor_ex``; a zero block of D raises PyTorch's error."""
    LD, pivots, info = ldl_factor_ex(A, hermitian=hermitian)
    bad = info._data[info._data != 0]
    if bad.size:
        raise _error('ldl_factor', bad[0])
    res = _LdlFactorResult(LD, pivots)
    if out is not None:
        from .ops._out import write
        return write('linalg.ldl_factor', res, out)
    return res


@_quiet.quietly
def ldl_solve(LD, pivots, B, *, hermitian=False, out=None):
    """The solution X of A X = B from ``ldl_factor``'s (LD, pivots) (LAPACK's sytrs); batch dims broadcast."""
    try:
        ld, piv, b = LD._data, pivots._data, B._data
        if ld.ndim < 2 or ld.shape[-1] != ld.shape[-2]:
            raise RuntimeError('torch.linalg.ldl_solve: LD must be batches of square matrices')
        if b.ndim < 2:
            d = max(b.ndim, 1)
            raise IndexError(f'Dimension out of range (expected to be in range of [{-d}, {d - 1}], '
                             'but got -2)')
        if piv.dtype.kind not in 'iu':
            raise RuntimeError(f'torch.linalg.ldl_solve: Expected pivots to be integers. Got '
                               f'{str(pivots.dtype).replace("torch.", "").capitalize()}')
        if ld.dtype != b.dtype:
            raise RuntimeError(f'Expected b and A to have the same dtype, but found b of type '
                               f'{str(B.dtype).replace("torch.", "").capitalize()} and A of type '
                               f'{str(LD.dtype).replace("torch.", "").capitalize()} instead.')
        n = ld.shape[-1]
        batch = np.broadcast_shapes(ld.shape[:-2], piv.shape[:-1], b.shape[:-2])
        lds = flat_batch(np.broadcast_to(ld, batch + (n, n)))
        pivs = flat_batch(np.broadcast_to(piv, batch + (n,)), 1)
        bs = flat_batch(np.broadcast_to(b, batch + b.shape[-2:]))
        x = np.stack([_sytrs(l_, p_, b_) for l_, p_, b_ in zip(lds, pivs, bs)]) if bs.shape[0] else np.empty(bs.shape,
                                                                                                             b.dtype)
        res = _outputs((x.reshape(batch + b.shape[-2:]),), (LD, B), 'linalg_ldl_solve', 1)[0]
        if out is not None:
            from .ops._out import write
            return write('linalg.ldl_solve', res, out)
        return res
    except (AttributeError, TypeError):
        check_tensor_args('linalg_ldl_solve', 'LD', 'pivots', 'B')
        raise
