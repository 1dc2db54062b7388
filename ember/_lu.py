"""LU factorization with partial pivoting (``torch.linalg.lu_factor``, ``lu_factor_ex``, ``lu``, ``lu_solve`` and
``torch.lu_unpack``), without SciPy: LAPACK's getf2 column by column on NumPy arrays, for every matrix of a batch
at once, with LAPACK's conventions (1-based int32 pivots, ``info`` the first zero pivot) and PyTorch's gradients
(square, wide and tall matrices; written in ember ops, so they are differentiable again)."""
import numpy as np

from ._dtype import scalar_name
from ._linalg import _result_type, flat_batch, lapack_order
from .autograd.grad_mode import GRAD, no_grad
from .autograd.graph import MODE, Node
from .ops import _composite
from .tensor import Tensor

__all__ = ['lu_factor', 'lu_factor_ex', 'lu', 'lu_solve', 'lu_unpack', 'torch_lu', 'torch_lu_solve']

_LuFactorResult = _result_type('linalg_lu_factor', ['LU', 'pivots'])
_LuFactorExResult = _result_type('linalg_lu_factor_ex', ['LU', 'pivots', 'info'])
_LuResult = _result_type('linalg_lu', ['P', 'L', 'U'])
_LuUnpackResult = _result_type('lu_unpack', ['P', 'L', 'U'])


def _getrf(a):
    """(LU, pivots, info) of a (..., m, n) float array: partial pivoting, the first largest |entry| (idamax)."""
    m, n = a.shape[-2:]
    k = min(m, n)
    lu = np.array(flat_batch(a), copy=True)
    b = np.arange(lu.shape[0])
    piv = np.zeros((lu.shape[0], k), np.int32)
    info = np.zeros(lu.shape[0], np.int32)
    for j in range(k):
        p = j + np.argmax(np.abs(lu[:, j:, j]), axis=1)
        piv[:, j] = p + 1
        row = lu[b, j].copy()
        lu[b, j] = lu[b, p]
        lu[b, p] = row
        d = lu[:, j, j]
        zero = d == 0
        info[zero & (info == 0)] = j + 1
        scale = np.where(zero, 1, d)
        lu[:, j + 1:, j] /= scale[:, None]
        lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j:j + 1] * lu[:, j:j + 1, j + 1:]
    batch = a.shape[:-2]
    return lu.reshape(a.shape), piv.reshape(batch + (k,)), info.reshape(batch)


def _getrs(lu, piv, b, adjoint=False):
    """X with A X = B (A^H X = B when ``adjoint``) from getrf's (lu, piv), in IEEE arithmetic without raising: a zero
    pivot gives the infs and NaNs (or, with zero right-hand sides, the signed zeros) that LAPACK's getrs gives,
    where PyTorch's det and slogdet gradients solve with a singular LU. Row swaps, then the two triangular solves
    column by column (axpy form), for every matrix of a (N, n, n) batch at once."""
    n = lu.shape[-1]
    x = np.array(b, copy=True)
    rows = np.arange(x.shape[0])
    t = np.conj(np.swapaxes(lu, -1, -2)) if adjoint else lu
    if not adjoint:
        _swap_rows(x, rows, piv, range(n))
    with np.errstate(all='ignore'):
        for k in range(n):      # lower: L (unit), or U^H (pivot on the diagonal)
            if adjoint:
                x[:, k] /= t[:, k, k, None]
            x[:, k + 1:] -= t[:, k + 1:, k, None] * x[:, k, None]
        for k in reversed(range(n)):    # upper: U, or L^H (unit)
            if not adjoint:
                x[:, k] /= t[:, k, k, None]
            x[:, :k] -= t[:, :k, k, None] * x[:, k, None]
    if adjoint:
        _swap_rows(x, rows, piv, reversed(range(n)))
    return x


def _swap_rows(x, rows, piv, order):
    """LAPACK's laswp: row j of each matrix swapped with row piv[j] (1-based), in ``order``."""
    for j in order:
        p = piv[:, j] - 1
        keep = x[rows, j].copy()
        x[rows, j] = x[rows, p]
        x[rows, p] = keep


def _permutation(piv, m, dtype):
    """P (..., m, m) with A = P L U, from LAPACK's row interchanges."""
    flat = flat_batch(piv, 1)
    perm = np.tile(np.arange(m), (flat.shape[0], 1))
    rows = np.arange(flat.shape[0])
    for j in range(flat.shape[1]):
        p = flat[:, j] - 1
        keep = perm[rows, j].copy()
        perm[rows, j] = perm[rows, p]
        perm[rows, p] = keep
    eye = np.eye(m, dtype=dtype)
    return np.ascontiguousarray(np.swapaxes(eye[perm], -1, -2)).reshape(piv.shape[:-1] + (m, m))


def _unpack(lu, piv):
    m, n = lu.shape[-2:]
    k = min(m, n)
    L = np.tril(lu[..., :, :k], -1) + np.eye(m, k, dtype=lu.dtype)
    U = np.triu(lu[..., :k, :])
    return _permutation(piv, m, lu.dtype), L, U


def _lu_backward(P, L, U, gL, gU):
    """PyTorch's linalg_lu_backward in ember ops (so create_graph=True differentiates it again), for square, wide
    (m < n: A = P L [U1 U2]) and tall (m > n: A = P [L1; L2] U) A; gL or gU may be None."""
    from . import linalg, ops
    m, k, n = L.shape[-2], L.shape[-1], U.shape[-1]
    solve = linalg.solve_triangular
    if m == n:   # P L^-H (tril(L^H gL, -1) + triu(gU U^H)) U^-H
        inner = ops.zeros_like(L)
        if gL is not None:
            inner = inner + (L.mH @ gL).tril(-1)
        if gU is not None:
            inner = inner + (gU @ U.mH).triu()
        x = solve(U.mH, inner, upper=False, left=False)
        return P @ solve(L.mH, x, upper=True, unitriangular=True)
    if m < n:    # [L^-H (tril(L^H gL - triu(gU) U^H, -1) U1^-H + triu(gU1)), L^-H gU2]
        x = ops.zeros_like(L)
        if gL is not None:
            x = x + L.mH @ gL
        if gU is not None:
            x = x - gU.triu() @ U.mH
        x = solve(U[..., :k].mH, x.tril(-1), upper=False, left=False)
        x = ops.cat([x + gU[..., :k].triu(), gU[..., k:]], -1) if gU is not None else \
            ops.cat([x, ops.zeros_like(U[..., k:])], -1)
        return P @ solve(L.mH, x, upper=True, unitriangular=True)
    x = ops.zeros_like(U)   # tall: [L1^-H triu(gU U^H - L^H tril(gL, -1)) + tril(gL1, -1); gL2] U^-H
    if gU is not None:
        x = x + gU @ U.mH
    if gL is not None:
        x = x - L.mH @ gL.tril(-1)
    x = solve(L[..., :k, :].mH, x.triu(), upper=True, unitriangular=True)
    x = ops.cat([x + gL[..., :k, :].tril(-1), gL[..., k:, :]], -2) if gL is not None else \
        ops.cat([x, ops.zeros_like(L[..., k:, :])], -2)
    return P @ solve(U.mH, x, upper=False, left=False)


def _backward(P, L, U, gL, gU):
    """_lu_backward as a node's backward: on the tensors themselves when recording (create_graph=True), else on
    arrays (wrapped as constants, the array of the result returned)."""
    if MODE.graph:
        return _lu_backward(P, L, U, gL, gU)
    wrap = [None if x is None else Tensor._make(x) for x in (P, L, U, gL, gU)]
    with no_grad():
        return _lu_backward(*wrap)._data


class LinalgLuBackward0(Node):
    """Backward of linalg.lu: gradients of L and U to A."""
    __slots__ = ()

    def backward(self, gl, gu):
        P, L, U = self.saved()
        return _backward(P, L, U, gl, gu)


class LinalgLuFactorExBackward0(Node):
    """Backward of linalg.lu_factor(_ex): the packed gradient split into L's (strictly lower) and U's parts, L and
    U read from the saved packed output (so that they are differentiable again)."""
    __slots__ = ('perm',)

    def backward(self, g, gp=None, gi=None):
        (LU,) = self.saved()
        m, n = LU.shape[-2:]
        k = min(m, n)
        if MODE.graph:
            from . import ops
            P, eye = Tensor._make(self.perm), ops.eye(m, k, dtype=LU.dtype)
            L, U = LU[..., :, :k].tril(-1) + eye, LU[..., :k, :].triu()
            return _lu_backward(P, L, U, g[..., :, :k].tril(-1), g[..., :k, :].triu())
        L = np.tril(LU[..., :, :k], -1) + np.eye(m, k, dtype=LU.dtype)
        return _backward(self.perm, L, np.triu(LU[..., :k, :]), np.tril(g[..., :, :k], -1), np.triu(g[..., :k, :]))


def _check(A, op):
    if not isinstance(A, Tensor):
        from .ops._util import arg_error
        raise arg_error(op, 'A', 1, A)
    if A.dim() < 2:
        raise RuntimeError(f'torch.lu_factor: Expected tensor with 2 or more dimensions. Got size: '
                           f'{list(A.shape)} instead')
    if not A.dtype.is_floating_point and not A.dtype.is_complex or A.dtype.itemsize == 2:   # (no half types)
        raise NotImplementedError(f'"lu_cpu" not implemented for \'{scalar_name(A.dtype)}\'')


def _differentiable(A):
    return GRAD.enabled and A._requires_grad


def lu_factor_ex(A, *, pivot=True, check_errors=False):
    """(LU, pivots, info): L (unit lower, below the diagonal) and U packed in one matrix, 1-based row interchanges,
    and info > 0 at the first zero pivot."""
    _check(A, 'linalg_lu_factor_ex')
    if not pivot:
        raise RuntimeError('linalg.lu_factor: LU without pivoting is not implemented on the CPU')
    lu_arr, piv, info = _getrf(A._data)
    lu_arr = lapack_order(lu_arr)
    if check_errors and info.any():
        raise RuntimeError(f'torch.linalg.lu_factor_ex: U[{info.max()},{info.max()}] is zero and using it on '
                           'lu_solve would result in a division by zero.')
    if _differentiable(A):
        node = LinalgLuFactorExBackward0((A,))
        node.perm = _permutation(piv, A.shape[-2], lu_arr.dtype)
        out = Tensor._make(lu_arr, node)
        node.save()
        node.save_output(out)
        pivots = Tensor._make(piv)
        node.guard(outputs=(pivots,))   # (PyTorch's node saves the pivots; the backward reads perm)
        return _LuFactorExResult(out, pivots, Tensor._make(info))
    return _LuFactorExResult(Tensor._make(lu_arr), Tensor._make(piv), Tensor._make(info))


def lu_factor(A, *, pivot=True):
    """(LU, pivots) of A; a zero pivot raises, as PyTorch (lu_factor_ex reports it instead)."""
    _check(A, 'linalg_lu_factor')
    if not pivot:
        raise RuntimeError('linalg.lu_factor: LU without pivoting is not implemented on the CPU')
    LU, piv, info = lu_factor_ex(A)
    bad = info._data[info._data > 0]
    if bad.size:
        j = int(bad.reshape(-1)[0])
        raise RuntimeError(f'torch.linalg.lu_factor: U[{j},{j}] is zero and using it on lu_solve would result in a '
                           'division by zero. If you still want to perform the factorization, consider calling '
                           'linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)')
    return _LuFactorResult(LU, piv)


def lu(A, *, pivot=True):
    """(P, L, U) with A = P L U: P a permutation, L unit lower triangular (m x k), U upper (k x n)."""
    _check(A, 'linalg_lu')
    if not pivot:
        raise RuntimeError('linalg.lu_factor: LU without pivoting is not implemented on the CPU')
    lu_arr, piv, _ = _getrf(A._data)
    P, L, U = _unpack(lu_arr, piv)
    if _differentiable(A):
        # P is not differentiable: as PyTorch's, the node's outputs are L (0) and U (1), and it saves the returned P
        node = LinalgLuBackward0((A,))
        node._out_meta = [(x.shape, x.dtype) for x in (L, U)]
        outs = [Tensor._make(P), Tensor._make(L, node), Tensor._make(U, node)]
        outs[2]._output_nr = 1
        node.save(*outs)
        return _LuResult(*outs)
    return _LuResult(Tensor._make(P), Tensor._make(L), Tensor._make(U))


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    """(P, L, U) from lu_factor's packed result; L and U differentiable in LU_data (LuUnpackBackward0), empty
    (still on the node, as PyTorch's) when not ``unpack_data``; written into ``out`` when given."""
    from . import ops
    from .ops.inplace import write_out
    m, n = LU_data.shape[-2:]
    k = min(m, n)
    P = Tensor._make(_permutation(np.asarray(LU_pivots._data), m, LU_data._data.dtype)) if unpack_pivots else \
        ops.empty(0, dtype=LU_data.dtype)
    if unpack_data:
        L, U = _lu_unpack_tensors(LU_data, k)
    else:
        L, U = (_composite.composite(LuUnpackBackward0, lambda x: x.reshape(-1)[:0], (LU_data,)) for _ in range(2))
    if out is None:
        return _LuUnpackResult(P, L, U)
    from .ops._out import _EXPECTED
    return _LuUnpackResult(*write_out('lu_unpack', (P, L, U), out, same_dtype=_EXPECTED))


LuUnpackBackward0 = _composite.node_class('LuUnpackBackward0')
# PyTorch's node saves LU, pivots and the result, not B (the composition's graph never reads B's values)
LinalgLuSolveBackward0 = _composite.node_class('LinalgLuSolveBackward0', unchecked=(1,), result=True)


def _lu_unpack_tensors(LU, k):
    """L and U of a packed factorization, each one LuUnpackBackward0 node over LU."""
    from . import ops
    m, n = LU.shape[-2:]
    L = _composite.composite(LuUnpackBackward0, lambda x: x[..., :, :k].tril(-1) + ops.eye(m, k, dtype=x.dtype),
                             (LU,))
    U = _composite.composite(LuUnpackBackward0, lambda x: x[..., :k, :].triu(), (LU,))
    return L, U


def _solve_compose(LU, B, P, left, adjoint):
    """X with A X = B (A^H X = B when ``adjoint``; X A = B, X A^H = B when not ``left``), A = P L U, by two
    triangular solves (ember ops: differentiable in LU and B)."""
    from . import linalg, ops
    n = LU.shape[-1]
    L = LU.tril(-1) + ops.eye(n, dtype=LU.dtype)
    U = LU.triu()
    if not left:
        return _solve_compose(LU, B.mT, P, True, not adjoint).mT
    if not adjoint:
        y = linalg.solve_triangular(L, P.mT @ B, upper=False, unitriangular=True)
        return linalg.solve_triangular(U, y, upper=True)
    y = linalg.solve_triangular(U.mT, B, upper=False)
    # P X as (X^T P^T)^T: column-major, as PyTorch's getrs leaves it (the same values: one term of each sum is nonzero)
    return (linalg.solve_triangular(L.mT, y, upper=True, unitriangular=True).mT @ P.mT).mT


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """The solution X of A X = B (or A^H X = B, X A = B, X A^H = B) from A's LU factorization."""
    if isinstance(LU, Tensor) and isinstance(B, Tensor) and LU.dtype != B.dtype:   # (PyTorch's first check)
        raise RuntimeError(f'linalg.lu_solve: Expected LU and B to have the same dtype, but found LU of type '
                           f'{scalar_name(LU.dtype)} and B of type {scalar_name(B.dtype)} instead')
    for t in (LU, B):
        if t.dtype._cat < 2:
            raise RuntimeError(f'torch.linalg.lu_solve: Expected a floating point or complex tensor as input. Got '
                               f'{scalar_name(t.dtype)}')
        if t.dtype.itemsize == 2:
            raise NotImplementedError(f'"linalg.lu_solve_cpu" not implemented for \'{scalar_name(t.dtype)}\'')
    n = LU.shape[-1]
    rows = B.shape[-2] if left else B.shape[-1]
    if LU.shape[-2] != n:
        raise RuntimeError(f'linalg.lu_solve: A must be batches of square matrices, but they are {LU.shape[-2]} by '
                           f'{n} matrices')
    if rows != n:
        eq = ('AX = B' if not adjoint else 'A^HX = B') if left else ('XA = B' if not adjoint else 'XA^H = B')
        raise RuntimeError(f'linalg.lu_solve: Incompatible shapes of A and B for the equation {eq} '
                           f'({n}x{n} and {B.shape[-2]}x{B.shape[-1]})')
    P = Tensor._make(_permutation(np.asarray(pivots._data), n, LU._data.dtype))
    X = _composite.composite(LinalgLuSolveBackward0, _solve_compose, (LU, B), P=P, left=left, adjoint=adjoint)
    if X.grad_fn is not None:
        X.grad_fn.guard(pivots)   # (PyTorch's node saves the pivots; the composition reads P, made from them)
    return X


_LU_DEPRECATED = ('torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex and will be '
                  'removed in a future PyTorch release.\nLU, pivots = torch.lu(A, compute_pivots)\nshould be replaced '
                  'with\nLU, pivots = torch.linalg.lu_factor(A, compute_pivots)\nand\nLU, pivots, info = '
                  'torch.lu(A, compute_pivots, get_infos=True)\nshould be replaced with\nLU, pivots, info = '
                  'torch.linalg.lu_factor_ex(A, compute_pivots)')
_LU_SOLVE_DEPRECATED = ('torch.lu_solve is deprecated in favor of torch.linalg.lu_solveand will be removed in a future '
                        'PyTorch release.\nNote that torch.linalg.lu_solve has its arguments reversed.\nX = '
                        'torch.lu_solve(B, LU, pivots)\nshould be replaced with\nX = torch.linalg.lu_solve(LU, pivots, B)')


def torch_lu(A, pivot=True, get_infos=False, out=None):
    """The deprecated ``torch.lu`` / ``Tensor.lu``: (LU, pivots), with ``info`` when ``get_infos`` (else a zero
    pivot raises), after PyTorch's deprecation warning (once a process)."""
    from ._warn import warn_user
    warn_user(_LU_DEPRECATED, once=True, internally='aten/src/ATen/native/BatchLinearAlgebra.cpp:2073', inside=0)
    if out is not None:
        raise RuntimeError('torch.lu: ember does not take out= here; assign the returned tuple instead')
    LU, piv, info = lu_factor_ex(A, pivot=pivot)
    if get_infos:
        return LU, piv, info
    if info._data.any():
        j = int(info._data[info._data > 0].reshape(-1)[0])
        raise RuntimeError(f'torch.linalg.lu_factor: U[{j},{j}] is zero and using it on lu_solve would result in a '
                           'division by zero. If you still want to perform the factorization, consider calling '
                           'linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)')
    return LU, piv


_OUT_FORM_WARNED = []   # (torch.lu_solve(..., out=)'s deprecation warning given)


def torch_lu_solve(b, LU_data, LU_pivots, *, out=None):
    """The deprecated ``torch.lu_solve(b, LU, pivots)`` / ``Tensor.lu_solve``: ``linalg.lu_solve(LU, pivots, b)``."""
    from ._warn import warn_user
    if out is None:
        warn_user(_LU_SOLVE_DEPRECATED, once=True, internally='aten/src/ATen/native/BatchLinearAlgebra.cpp:2230')
    elif not _OUT_FORM_WARNED:   # PyTorch's out= overload warns once on its own, from another line
        _OUT_FORM_WARNED.append(True)
        warn_user(_LU_SOLVE_DEPRECATED, internally='aten/src/ATen/native/BatchLinearAlgebra.cpp:2242')
    x = lu_solve(LU_data, LU_pivots, b)
    if out is not None:
        from .ops._out import _EXPECTED
        from .ops.inplace import write_out
        return write_out('lu_solve', x, out, same_dtype=_EXPECTED)
    return x
