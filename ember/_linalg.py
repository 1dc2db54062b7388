"""The implementation of ``torch.linalg`` (``ember.linalg`` re-exports its public names): solve, inv, det, lstsq, norms
and decompositions, differentiable like PyTorch's."""
from collections import namedtuple

import numpy as np

from . import _complex, _dtype, _quiet
from ._dtype import scalar_name
from .amp import _state as _autocast
from .autograd import dual
from .autograd.grad_mode import GRAD
from .autograd.graph import Node
from .tensor import Tensor
from .ops.reduction import vector_norm
from .ops.blas import matmul
from .amp import _state as _autocast


class LinAlgError(RuntimeError):
    """PyTorch's ``torch.linalg.LinAlgError`` (a RuntimeError): a factorization or inversion met a singular or
    non-positive-definite input."""


LinAlgError.__name__ = LinAlgError.__qualname__ = '_LinAlgError'
LinAlgError.__module__ = 'torch._C'     # how PyTorch's class prints in tracebacks


def _zero_pivot(m):
    """1-based index of the first zero pivot of LU with partial pivoting (LAPACK getrf's info), or 0."""
    a = np.array(m, copy=True)
    n = a.shape[-1]
    for k in range(n):
        p = k + int(np.argmax(np.abs(a[k:, k])))
        if a[p, k] == 0:
            return k + 1
        if p != k:
            a[[k, p]] = a[[p, k]]
        a[k + 1:, k] /= a[k, k]
        a[k + 1:, k + 1:] -= np.outer(a[k + 1:, k], a[k, k + 1:])
    return 0


def _not_pd_order(m):
    """The order of the first leading minor of ``m`` that is not positive-definite (potrf's info), or 0. A NaN
    pivot fails as in LAPACK's potrf (NumPy's lets it through). A failing minor makes every larger one fail, so
    after one whole factorization a bisection finds it (a loop over every order took n factorizations)."""
    if not _pd_fails(m):
        return 0
    lo, hi = 1, m.shape[-1]   # the smallest failing order lies in [lo, hi]
    while lo < hi:
        mid = (lo + hi) // 2
        if _pd_fails(m[:mid, :mid]):
            hi = mid
        else:
            lo = mid + 1
    return lo


def _pd_fails(m):
    """Whether potrf fails on ``m``: not positive-definite, or a NaN pivot."""
    try:
        return bool(np.isnan(np.diagonal(np.linalg.cholesky(m))).any())
    except np.linalg.LinAlgError:
        return True


def flat_batch(a, core=2):
    """``a`` as one batch dim then its last ``core`` dims (``reshape(-1, ...)`` fails on an empty batch or matrix:
    NumPy cannot infer -1 from zero elements)."""
    lead = a.shape[:a.ndim - core]
    return a.reshape((int(np.prod(lead, dtype=np.int64)),) + a.shape[a.ndim - core:])


def _infos(a, find):
    """``find`` on each matrix of a batch, as an int32 array of the batch shape."""
    flat = flat_batch(a)
    return np.array([find(m) for m in flat], np.int32).reshape(a.shape[:-2])


def _failure(a, op, find, message):
    """PyTorch's LinAlgError for the first failing matrix of ``a``: ``message`` formatted with its info."""
    infos = _infos(a, find).ravel()
    bad = int(np.flatnonzero(infos)[0]) if infos.any() else 0
    where = f'(Batch element {bad}): ' if a.ndim > 2 else ''
    return LinAlgError(f'{op}: {where}{message.format(int(infos[bad]) if infos.any() else 1)}')


_SINGULAR = 'The diagonal element {} is zero, the inversion could not be completed because the input matrix is singular.'
_NOT_PD = ('The factorization could not be completed because the input is not positive-definite (the leading minor '
           'of order {} is not positive-definite).')


def _mT(x):
    return x.swapaxes(-1, -2)


def lapack_order(a):
    """``a``'s values laid out as LAPACK leaves PyTorch's results: column-major in each matrix, batch dims outermost
    (strides (1, m) for an (m, n) matrix), so stride(), is_contiguous() and view() agree with PyTorch's."""
    if a.ndim < 2:
        return a
    out = np.empty(a.shape[:-2] + a.shape[:-3:-1], a.dtype).swapaxes(-1, -2)   # (strides of size-1 dims too)
    out[...] = a
    return out


def _square(a, op):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f'linalg.{op}: A must be batches of square matrices, but they are '
                           f'{a.shape[-2] if a.ndim > 1 else a.shape[0]} by {a.shape[-1]} matrices')


_LOW_LU = (NotImplementedError, '"lu_cpu" not implemented for \'{x}\'')
_LOW_INV = (RuntimeError, 'linalg.inv: Low precision dtypes not supported. Got {x}')
_LOW_SVD = (NotImplementedError, '"linalg_svd_cpu" not implemented for \'{x}\'')
_LOW_EIGH = (NotImplementedError, '"linalg_eigh_cpu" not implemented for \'{x}\'')
_LOW_EIG = (NotImplementedError, '"linalg_eig_out_cpu" not implemented for \'{x}\'')
_LOW_CHOL = (NotImplementedError, '"cholesky_cpu" not implemented for \'{x}\'')
_LOW_FLOAT = (RuntimeError, "This function doesn't handle types other than float and double")
_LOW = {'solve': _LOW_LU, 'solve_ex': _LOW_LU, 'det': _LOW_LU, 'inv': _LOW_INV, 'inv_ex': _LOW_INV,
        'tensorinv': _LOW_INV,
        'slogdet': (RuntimeError, 'linalg.slogdet: Low precision dtypes not supported. Got {x}'),
        'cholesky': _LOW_CHOL, 'cholesky_ex': _LOW_CHOL,
        'qr': (NotImplementedError, '"geqrf_cpu" not implemented for \'{x}\''),
        'svd': _LOW_SVD, 'svdvals': _LOW_SVD, 'cond': _LOW_SVD, 'eigh': _LOW_EIGH, 'eigvalsh': _LOW_EIGH,
        'eig': _LOW_EIG, 'eigvals': _LOW_EIG, 'matrix_rank': _LOW_FLOAT, 'lstsq': _LOW_FLOAT,
        'matrix_norm': (RuntimeError, 'linalg.matrix_norm: Low precision dtypes not supported. Got {x}'),
        'pinv': (RuntimeError, 'linalg.pinv({x}{{{shape}}}): expected a tensor with 2 or more dimensions of float, '
                               'double, cfloat or cdouble types'),
        'solve_triangular': (NotImplementedError, '"triangular_solve_cpu" not implemented for \'{x}\''),
        'vander': (RuntimeError, 'linalg.vander supports floating point, complex, and integer tensors, but got {x}'),
        'logdet': (RuntimeError, 'logdet: Low precision dtypes not supported. Got {x}')}


def _float_input(op):
    return (RuntimeError, op + ': Expected a floating point or complex tensor as input. Got {x}')


# PyTorch's refusals of integer and bool matrices (NumPy would compute them, in float64 or in their own dtype:
# det of an int64 matrix gave an int64, pinv of one its float result truncated); eigh/eigvalsh check theirs later
_INT = {**{op: _float_input('linalg.' + op) for op in ('solve', 'det', 'inv', 'slogdet', 'cholesky', 'qr', 'svd',
                                                      'matrix_norm')},
        'solve_ex': _float_input('linalg.solve'), 'inv_ex': _float_input('linalg.inv'),
        'tensorinv': _float_input('linalg.inv'), 'cholesky_ex': _float_input('linalg.cholesky'),
        'svdvals': _float_input('linalg.svd'), 'cond': _float_input('linalg.svd'), 'logdet': _float_input('logdet'),
        'eig': (RuntimeError, 'Unknown Complex ScalarType for {x}'),
        'eigvals': (RuntimeError, 'Unknown Complex ScalarType for {x}'), 'matrix_rank': _LOW_FLOAT,
        'lstsq': _LOW_FLOAT, 'pinv': _LOW['pinv'], 'solve_triangular': _LOW['solve_triangular'],
        'torch.cholesky': _LOW_CHOL}
_LOW['torch.cholesky'] = _LOW_CHOL
_SQUARE = frozenset(('solve', 'solve_ex', 'det', 'inv', 'inv_ex', 'slogdet', 'cholesky', 'cholesky_ex', 'logdet',
                     'eig', 'eigvals', 'torch.cholesky'))


def _low_precision(A, op):
    """PyTorch's refusal of a float16 or bfloat16 matrix by its LAPACK-backed linalg ops (ember's NumPy would
    raise a TypeError for float16 and compute bfloat16 in float32), and of an integer or bool one: the exception
    type and message it gives."""
    if isinstance(A, Tensor):
        table = _LOW if A.dtype in (_dtype.float16, _dtype.bfloat16) else _INT if A.dtype._cat < 2 else None
        if table is _INT and (A.dim() < 2 or op in _SQUARE and A.shape[-1] != A.shape[-2]):
            return   # (PyTorch checks the shape first: the op's own shape error comes before the dtype's)
        if table is not None and op in table:
            cls, msg = table[op]
            raise cls(msg.format(x=scalar_name(A.dtype), shape=list(A.shape)))


def _solve(a, b):
    return np.linalg.solve(a, b) if dual.is_array(a) else solve(a, b)


def _inv(a):
    return np.linalg.inv(a) if dual.is_array(a) else inv(a)


def _row(v):
    """A vector (or batch) as a row: shape (..., 1, n)."""
    return v.reshape(tuple(v.shape[:-1]) + (1, v.shape[-1]))


def _col(v):
    """A vector (or batch) as a column: shape (..., n, 1); a scalar batch gains one trailing dim."""
    return v.reshape(tuple(v.shape) + (1,))


def _eye(n, like):
    return dual.const(np.eye(n), like)


def _diag_embed(v):
    """Square matrices with ``v`` on the diagonal (arrays or tensors)."""
    return _row(v) * _eye(v.shape[-1], v)


def _tril(x, k=0):
    return dual.mask(x, np.tri(x.shape[-2], x.shape[-1], k, dtype=bool))


def _triu(x, k=0):
    return dual.mask(x, ~np.tri(x.shape[-2], x.shape[-1], k - 1, dtype=bool))


def _solve_right(x, r):
    """x r^-1, as (r^-T x^T)^T."""
    return _mT(_solve(_mT(r), _mT(x)))


def _result_type(name, fields):
    """A named tuple printed as PyTorch prints ``torch.return_types.<name>``."""
    base = namedtuple(name, fields)

    def __repr__(self):
        body = ',\n'.join(f'{f}={v!r}' for f, v in zip(self._fields, self))
        return f'torch.return_types.{name}(\n{body})'
    return type(name, (base,), {'__slots__': (), '__repr__': __repr__})


_SlogdetResult = _result_type('linalg_slogdet', ['sign', 'logabsdet'])
_EighResult = _result_type('linalg_eigh', ['eigenvalues', 'eigenvectors'])
_SvdResult = _result_type('linalg_svd', ['U', 'S', 'Vh'])
_QrResult = _result_type('linalg_qr', ['Q', 'R'])
_EigResult = _result_type('linalg_eig', ['eigenvalues', 'eigenvectors'])


def _outputs(cls, inputs, arrays, saves=(), save_out=True, **state):
    """``arrays`` as tensors, the outputs of one ``cls`` node when grad mode is on and an input requires
    grad; the node saves ``saves`` (inputs) and, with ``save_out``, every output."""
    if not (GRAD.enabled and any(t._requires_grad for t in inputs)):
        return tuple(Tensor._make(a) for a in arrays)
    node = cls(inputs)
    for k, v in state.items():
        setattr(node, k, v)
    if len(arrays) > 1:
        node._out_meta = [(a.shape, a.dtype) for a in arrays]
    outs = []
    for i, a in enumerate(arrays):
        t = Tensor._make(a, node)
        t._output_nr = i
        outs.append(t)
    node.save(*saves)
    if save_out:
        for t in outs:
            node.save_output(t)
    return tuple(outs)


class LinalgSolveExBackward0(Node):
    """X = A^-1 B: gB = A^-T G, gA = -gB X^T, each summed back to its input's (broadcast) shape; with
    left=False (X A = B) the same in transposed form."""
    __slots__ = ('vec', 'need', 'left', 'shapes')

    def backward(self, g):
        a, x = self.saved()
        if not self.left:
            a, x, g = _mT(a), _mT(x), _mT(g)
        if self.vec:
            g, x = g.reshape(tuple(g.shape) + (1,)), x.reshape(tuple(x.shape) + (1,))
        gb = _solve(_mT(a), g)
        ga = -(gb @ _mT(x)) if self.need[0] else None
        if self.vec:
            gb = gb.reshape(tuple(gb.shape[:-1]))
        elif not self.left:
            gb = _mT(gb)
        if ga is not None and not self.left:
            ga = _mT(ga)
        ga = dual.sum_to(ga, self.shapes[0]) if ga is not None else None
        return ga, (dual.sum_to(gb, self.shapes[1]) if self.need[1] else None)


@_quiet.quietly
@_autocast.fp32
def solve(A, B, *, left=True):
    """The solution X of A X = B (of X A = B with ``left=False``); batch dims broadcast."""
    _low_precision(A, 'solve')
    a, b = A._data, B._data
    _square(a, 'solve')
    vec = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    bm = b[..., None] if vec else b
    if bm.shape[-2 if left else -1] != a.shape[-1]:
        raise RuntimeError(f'linalg.solve: Incompatible shapes of A and B for the equation '
                           f'{"AX = B" if left else "XA = B"} ({a.shape[-2]}x{a.shape[-1]} and '
                           f'{bm.shape[-2]}x{bm.shape[-1]})')
    if vec and not left:
        raise RuntimeError('linalg.solve: Vector broadcasting of the left hand side is not supported for left=False. '
                           'In this case linalg.solve is equivalent to B / A.squeeze(-1)')
    at, bm = (a, bm) if left else (_mT(a), _mT(bm))
    try:
        x = np.linalg.solve(at, bm)
    except np.linalg.LinAlgError:
        raise LinAlgError('torch.linalg.solve: The solver failed because the input matrix is singular.') from None
    x = x[..., 0] if vec else (lapack_order(x) if left else np.ascontiguousarray(_mT(x)))
    if GRAD.enabled and (A._requires_grad or B._requires_grad):
        node = LinalgSolveExBackward0((A, B))
        node.vec, node.need, node.left = vec, (A._requires_grad, B._requires_grad), left
        node.shapes = (a.shape, b.shape)
        out = Tensor._make(x, node)
        node.save(A)
        node.save_output(out)
        return out
    return Tensor._make(x)


class LinalgInvExBackward0(Node):
    """Y = A^-1: gA = -Y^T G Y^T."""
    __slots__ = ()

    def backward(self, g):
        (y,) = self.saved()
        return -(_mT(y) @ g @ _mT(y))


@_quiet.quietly
@_autocast.fp32
def inv(A):
    """The inverse of a square matrix (or batch)."""
    _low_precision(A, 'inv')
    a = A._data
    _square(a, 'inv')
    try:
        y = lapack_order(np.linalg.inv(a))
    except np.linalg.LinAlgError:
        raise _failure(a, 'linalg.inv', _zero_pivot, _SINGULAR) from None
    if GRAD.enabled and A._requires_grad:
        node = LinalgInvExBackward0((A,))
        out = Tensor._make(y, node)
        node.save_output(out)
        return out
    return Tensor._make(y)


def _torch_lu(a, use_a_t):
    """LU factorizations (lu, pivots) of a (N, n, n) batch as PyTorch's det and slogdet factor it: of A^T when A is
    a contiguous real tensor (LAPACK then reads its row-major storage in place), of A otherwise. On singular
    matrices the orientation decides the sign of the zero determinant (NumPy's det always gives +0)."""
    from ._lu import _getrf
    lu, piv, _ = _getrf(np.swapaxes(a, -1, -2) if use_a_t else a)
    return lu, piv


def _lu_det(lu, piv):
    """(det, sign, log|det|) from getrf's factors: the permutation's sign times the product of U's diagonal, a
    zero determinant keeping the sign of zero that product gives."""
    n = lu.shape[-1]
    diag = np.diagonal(lu, axis1=-2, axis2=-1)
    perm = np.where((piv - 1 != np.arange(n)).sum(-1) % 2 == 1, -1, 1).astype(lu.dtype)
    det = perm * np.prod(diag, -1)
    sign = np.where(det == 0, det, perm * np.prod(diag / np.where(diag == 0, 1, np.abs(diag)), -1))
    with np.errstate(divide='ignore'):
        return det, sign, np.sum(np.log(np.abs(diag)), -1)


def _use_a_t(A):
    return A.is_contiguous() and not A.is_complex()


def _singular_grad(a, scale, use_a_t, eps):
    """PyTorch's det/slogdet gradient of singular matrices (a (N, n, n), ``scale`` (N,)): its LU solve against
    diag(scale) run on the singular LU, zero pivots raised to ``eps`` for det (whose scale is then +-0, giving
    zeros) and left at zero for slogdet (giving PyTorch's infs and NaNs)."""
    from ._lu import _getrs
    lu, piv = _torch_lu(a, use_a_t)
    n = a.shape[-1]
    idx = np.arange(n)
    if eps:
        lu[:, idx, idx] = np.where(lu[:, idx, idx] == 0, eps, lu[:, idx, idx])
    rhs = np.zeros(a.shape, a.dtype)
    rhs[:, idx, idx] = scale[:, None]
    return _getrs(lu, piv, rhs, adjoint=not use_a_t)


def _by_mask(full, mask, part):
    """``full`` (batch shape + matrix) with the matrices under ``mask`` replaced by ``part`` (N, n, n)."""
    out = np.array(full, copy=True)
    out[mask] = part
    return out


class LinalgDetBackward0(Node):
    """d det(A) = det(A) A^-T. Singular matrices (det exactly 0) as PyTorch: plain backward solves with the LU's
    zero pivots raised to eps (zeros); under create_graph the adjugate from the SVD, U diag(prod_{j!=i} S_j) Vh
    det(U Vh), for |det| < 100 eps, so that the second derivative is right there too."""
    __slots__ = ('use_a_t',)

    def backward(self, g):
        a, d = self.saved()
        if not dual.is_array(a):
            return _det_grad_graph(a, g, d)
        scale = np.asarray(g * d, a.dtype)
        zero = np.asarray(d == 0)
        try:
            good = np.where(zero[..., None, None], np.eye(a.shape[-1], dtype=a.dtype), a) if zero.any() else a
            inv = np.linalg.inv(good)
        except np.linalg.LinAlgError:   # a zero pivot under a rounded nonzero det: those matrices as singular ones
            zero = zero | _no_inverse(a)
            inv = np.linalg.inv(np.where(zero[..., None, None], np.eye(a.shape[-1], dtype=a.dtype), a))
        out = scale[..., None, None] * np.swapaxes(inv, -1, -2) if a.shape[-1] else np.zeros_like(a)
        if zero.any() and a.shape[-1] == 1:     # (PyTorch's gradient there is 1, the cofactor of a 1x1)
            out = _by_mask(out, zero, np.broadcast_to(np.asarray(g, a.dtype), zero.shape)[zero][:, None, None])
        elif zero.any() and a.shape[-1]:
            sing = _singular_grad(a[zero], np.broadcast_to(scale, zero.shape)[zero], self.use_a_t,
                                  np.finfo(a.dtype).eps)
            out = _by_mask(out, zero, sing)
        return out


def _no_inverse(a):
    """Which matrices of the batch ``a`` LAPACK's inverse refuses (an exactly zero pivot)."""
    flat = a.reshape((-1,) + a.shape[-2:])
    bad = np.zeros(len(flat), bool)
    for i, m in enumerate(flat):
        try:
            np.linalg.inv(m)
        except np.linalg.LinAlgError:
            bad[i] = True
    return bad.reshape(a.shape[:-2])


def _det_grad_graph(A, g, d):
    """The det gradient as a differentiable graph (create_graph=True), PyTorch's split: linalg.solve(A^H, g det I)
    for |det| >= 100 eps, the SVD adjugate below, each on its matrices of a mixed batch."""
    from .ops import creation
    eps = np.finfo(A._data.dtype).eps
    sing = np.abs(d._data) < 100 * eps
    scale = g * d
    n = A.shape[-1]
    if not sing.any():
        return solve(_mT(A).conj(), _diag_embed(_col(scale).expand(*scale.shape, n)))
    if sing.all():
        return _adjugate_grad(A, g)
    mask = Tensor._make(sing)
    out = creation.empty_like(A)
    out[mask] = _adjugate_grad(A[mask], g.expand(sing.shape)[mask])
    keep = ~mask
    out[keep] = solve(_mT(A[keep]).conj(), _diag_embed(_col(scale[keep]).expand(int((~sing).sum()), n)))
    return out


def _adjugate_grad(A, g):
    """g times the adjugate's transpose of (possibly singular) A through its SVD: the product of all singular
    values but the i-th (exclusive cumulative products from both ends: no division by a zero one)."""
    from .ops import shape as _shape
    U, S, Vh = svd(A)
    alpha = det(U) * det(Vh) * g
    one = S[..., :1] * 0 + 1
    before = _shape.cat([one, S[..., :-1]], -1).cumprod(-1)
    after = _shape.cat([one, S[..., 1:].flip(-1)], -1).cumprod(-1).flip(-1)
    D = alpha.unsqueeze(-1) * (before * after)
    return (U * D.unsqueeze(-2)) @ Vh


@_quiet.quietly
def det(A):
    """The determinant of a square matrix (or batch); a singular one gets PyTorch's signed zero."""
    _low_precision(A, 'det')
    a = A._data
    _square(a, 'det')
    d = np.array(np.linalg.det(a), dtype=a.dtype)
    zero = d == 0
    if zero.any():
        d[zero] = _lu_det(*_torch_lu(a[zero], _use_a_t(A)))[0]
    if GRAD.enabled and A._requires_grad:
        node = LinalgDetBackward0((A,))
        node.use_a_t = _use_a_t(A)
        out = Tensor._make(d, node)
        node.save(A)
        node.save_output(out)
        return out
    return Tensor._make(d)


class LinalgSlogdetBackward0(Node):
    """d log|det A| = A^-T (the sign is locally constant: no gradient). A singular matrix gets PyTorch's infs and
    NaNs (its LU solve on the singular LU) in plain backward; under create_graph linalg.solve refuses it, as
    PyTorch's does."""
    __slots__ = ('use_a_t', 'zero')

    def backward(self, g_sign, g_logabs):
        (a,) = self.saved()
        if not dual.is_array(a):
            n = a.shape[-1]
            return solve(_mT(a).conj(), _diag_embed(_col(g_logabs).expand(*g_logabs.shape, n)))
        g = np.asarray(g_logabs, a.dtype)
        zero = self.zero
        good = np.where(zero[..., None, None], np.eye(a.shape[-1], dtype=a.dtype), a) if zero.any() else a
        out = g[..., None, None] * np.swapaxes(np.linalg.inv(good), -1, -2)
        if zero.any():
            out = _by_mask(out, zero, _singular_grad(a[zero], np.broadcast_to(g, zero.shape)[zero], self.use_a_t, 0))
        return out


@_quiet.quietly
def slogdet(A):
    """(sign, log|det|) of a square matrix (or batch), as ``torch.return_types.linalg_slogdet``; a singular one
    gets PyTorch's signed zero sign and -inf."""
    _low_precision(A, 'slogdet')
    a = A._data
    _square(a, 'slogdet')
    s, l = np.linalg.slogdet(a)
    s, l = np.array(s, dtype=a.dtype), np.array(l, dtype=a.dtype)
    zero = s == 0
    if zero.any():
        _, s[zero], l[zero] = _lu_det(*_torch_lu(a[zero], _use_a_t(A)))
    sign, logabs = _outputs(LinalgSlogdetBackward0, (A,), (s, l), saves=(A,), save_out=False, use_a_t=_use_a_t(A),
                            zero=zero)
    if sign.grad_fn is not None:
        sign.grad_fn.guard(outputs=(sign,))   # (PyTorch's node saves the sign)
    return _SlogdetResult(sign, logabs)


_LstsqResult = namedtuple('lstsq', ['solution', 'residuals', 'rank', 'singular_values'])


class LinalgLstsqBackward0(Node):
    """x = (A^T A)^-1 A^T B: with Z = (A^T A)^-1 G, gA = (B - A x) Z^T - A Z x^T and gB = A Z."""
    __slots__ = ('need',)

    def backward(self, g):
        a, b, x = self.saved()
        z = _solve(_mT(a) @ a, g)
        ga = (b - a @ x) @ _mT(z) - a @ z @ _mT(x) if self.need[0] else None
        gb = a @ z if self.need[1] else None
        return ga, gb


@_quiet.quietly
@_autocast.fp32
def lstsq(A, B, rcond=None, *, driver=None):
    """Least-squares solution of A X = B, a named tuple as PyTorch's CPU drivers fill it: ``rank`` except for
    'gels', ``singular_values`` of A for 'gelsd'/'gelss', and ``residuals`` (squared column norms of B - A X)
    except for the default 'gelsy', when A is tall and of full rank."""
    if driver not in (None, 'gels', 'gelsy', 'gelsd', 'gelss'):
        raise RuntimeError(f"torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    _low_precision(A, 'lstsq')
    a, b = A._data, B._data
    if a.dtype != b.dtype:
        raise RuntimeError(f'torch.linalg.lstsq: Expected input and other to have the same dtype, but got '
                           f'input\'s dtype {A.dtype} and other\'s dtype {B.dtype}')
    if not 0 <= a.ndim - b.ndim <= 1:
        raise RuntimeError('torch.linalg.lstsq: input.dim() must be greater or equal to other.dim() and '
                           '(input.dim() - other.dim()) <= 1')
    vec = b.ndim == 1 or b.ndim == a.ndim - 1 and b.shape == a.shape[:-1]   # (PyTorch's vector-rhs rule)
    bb = b[..., None] if vec else b
    if bb.shape[-2] != a.shape[-2]:
        raise RuntimeError(f'torch.linalg.lstsq: input.size(-2) should match other.size({-1 if vec else -2})')
    if a.ndim == 2:
        x, _, rank, _ = np.linalg.lstsq(a, bb, rcond=rcond)
        rank = np.asarray(rank, np.int64)
    else:
        x, rank = _lstsq_svd(a, bb, rcond)
    x = x.astype(a.dtype)
    residuals, singular = _lstsq_extras(a, bb, x, rank, driver or 'gelsy')
    if driver == 'gels':
        rank = np.zeros((0,), np.int64)
    x = x[..., 0] if vec else _in_b(x, bb)
    if GRAD.enabled and (A._requires_grad or B._requires_grad) and not vec:
        node = LinalgLstsqBackward0((A, B))
        node.need = (A._requires_grad, B._requires_grad)
        sol = Tensor._make(x, node)
        node.save(A, B)
        node.save_output(sol)
        return _LstsqResult(sol, residuals, Tensor._make(rank), singular)
    return _LstsqResult(Tensor._make(x), residuals, Tensor._make(rank), singular)


def _in_b(x, b):
    """Solution ``x`` (n, k) where PyTorch's gels/gelsy leave it: the first n rows of B's column-major (m, k) copy
    (strides (1, max(m, n)))."""
    m = max(b.shape[-2], x.shape[-2])
    buf = lapack_order(np.zeros(x.shape[:-2] + (m, x.shape[-1]), x.dtype))
    buf[..., :x.shape[-2], :] = x
    return buf[..., :x.shape[-2], :]


def _lstsq_svd(a, b, rcond):
    """Batched minimum-norm least squares by SVD: singular values up to ``rcond`` times the largest dropped (LAPACK's
    default eps * max(m, n) for None, machine eps below 0), as the 2-D route's np.linalg.lstsq does; (x, rank)."""
    m, n = a.shape[-2:]
    eps = np.finfo(a.dtype).eps
    rc = eps * max(m, n) if rcond is None else (eps if rcond < 0 else rcond)
    u, sv, vh = np.linalg.svd(a, full_matrices=False)
    keep = sv > rc * sv[..., :1] if sv.shape[-1] else sv > 0
    inv = np.where(keep, 1 / np.where(keep, sv, 1), 0).astype(sv.dtype)
    x = _mT(vh).conj() @ (inv[..., None] * (_mT(u).conj() @ b))
    return x, keep.sum(-1).astype(np.int64)


def _lstsq_extras(a, b, x, rank, driver):
    """lstsq's residuals and singular values (empty tensors where PyTorch's ``driver`` leaves them empty)."""
    m, n = a.shape[-2:]
    residuals = np.zeros((0,), a.dtype)
    if driver != 'gelsy' and m > n and np.all(rank == n):
        r = b - a @ x
        residuals = (r * r.conj()).real.sum(-2).astype(a.dtype)
    singular = np.zeros((0,), a.dtype)
    if driver in ('gelsd', 'gelss'):
        singular = np.linalg.svd(a, compute_uv=False).astype(a.dtype)
    return Tensor._make(residuals), Tensor._make(singular)


@_quiet.quietly
def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """Vector 2-norm of all elements by default; over one dim a vector norm, over two a matrix norm (and a string
    ``ord``, 'fro' or 'nuc', always one), as PyTorch dispatches; with ``ord`` and no dim, A must be 1-D or 2-D."""
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None and len(dim) not in (1, 2):
        raise RuntimeError(f'linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dim)}')
    if dim is None and ord is not None:
        if A.dim() not in (1, 2):
            raise RuntimeError(f'linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got '
                               f'{A.dim()}D.')
        if A.dim() == 2 or isinstance(ord, str):
            dim = (-2, -1)
    if ord is None or dim is None or len(dim) == 1 and not isinstance(ord, str):
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    return matrix_norm(A, ord, dim, keepdim, dtype=dtype)


_MATRIX_ORDS = ('fro', 'nuc', 1, -1, 2, -2, float('inf'), float('-inf'))


def _check_matrix_dims(A, dim):
    """PyTorch's checks of matrix_norm's ``dim``: two dims, different once wrapped."""
    if len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(str(d) for d in dim)}")
    from .ops._util import wrap_dim
    d0, d1 = (wrap_dim(d, A.dim()) for d in dim)
    if d0 == d1:
        raise RuntimeError(f'linalg.matrix_norm: dims must be different. Got ({d0}, {d1})')


def _max_or_zero(x, d, keepdim=False):
    """amax of ``x`` over dim ``d``, 0 where that dim is empty: PyTorch's max-based matrix norms (1, inf, 2) of an
    empty matrix are 0, where its min-based ones refuse as amin does."""
    from .ops.reduction import amax, sum as _sum
    return (_sum if x.shape[d] == 0 else amax)(x, d, keepdim=keepdim)


@_quiet.quietly
def matrix_norm(A, ord='fro', dim=(-2, -1), keepdim=False, *, dtype=None):
    """Frobenius (default), nuclear, or induced 1/inf/2 norms."""
    if ord not in _MATRIX_ORDS:
        raise RuntimeError(f'linalg.matrix_norm: Order {ord} not supported.')
    if ord in (2, -2, 'nuc') or A.dtype._cat < 2:
        _low_precision(A, 'matrix_norm')
    if dtype is not None:
        A = A.to(dtype)
    if A.dim() < 2:
        raise RuntimeError('linalg.matrix_norm: The input tensor A must have at least 2 dimensions.')
    _check_matrix_dims(A, dim)
    if ord == 'fro':
        return vector_norm(A, 2, dim, keepdim)
    from .ops.reduction import amin, sum as _sum
    d0, d1 = dim
    if ord in (1, -1, float('inf'), float('-inf')):
        # PyTorch's composition: the 1-norm over one dim, then the max (min) over the other
        n = A.dim()
        d0, d1 = (d0 % n, d1 % n) if ord in (1, -1) else (d1 % n, d0 % n)
        if not keepdim and d0 < d1:
            d1 -= 1
        return (_max_or_zero if ord > 0 else amin)(vector_norm(A, 1, d0, keepdim), d1, keepdim=keepdim)
    elif ord in (2, -2, 'nuc'):
        # PyTorch's graph: permute the two dims last, reduce the singular values, unsqueeze and permute back
        n = A.dim()
        d0, d1 = d0 % n, d1 % n
        perm = [i for i in range(n) if i not in (d0, d1)] + [d0, d1]
        sv = svdvals(A.permute(perm))
        r = _sum(sv, -1, keepdim=keepdim) if ord == 'nuc' else (_max_or_zero if ord == 2 else amin)(sv, -1,
                                                                                                     keepdim=keepdim)
        return r.unsqueeze(-1).permute([perm.index(i) for i in range(n)]) if keepdim else r
    else:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


@_autocast.fp32
def _cutoff(s, a, atol, rtol):
    """PyTorch's threshold on the singular values ``s`` of each matrix of ``a``: max(atol, rtol * the largest),
    atol 0 and rtol eps * max(m, n) when not given, rtol 0 where a given atol is positive (tensor tolerances
    broadcast over the batch)."""
    at = 0.0 if atol is None else np.asarray(atol._data if isinstance(atol, Tensor) else atol, np.float64)
    if rtol is None:
        rt = np.finfo(a.dtype).eps * max(a.shape[-2:], default=0) if a.dtype.kind in 'fc' else 0.0
        rt = rt if atol is None else np.where(at > 0, 0.0, rt)
    else:
        rt = np.asarray(rtol._data if isinstance(rtol, Tensor) else rtol, np.float64)
    return np.maximum(at, rt * np.max(s, axis=-1, initial=0.0))[..., None]


def _singular_values(a, hermitian):
    return np.abs(np.linalg.eigvalsh(a)) if hermitian else np.linalg.svd(a, compute_uv=False)


@_quiet.quietly
def matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None):
    """The number of singular values (eigenvalue magnitudes when ``hermitian``) above max(atol, rtol * the
    largest); the legacy ``tol`` is an atol with rtol 0."""
    _low_precision(A, 'matrix_rank')
    if tol is not None:
        if atol is not None or rtol is not None:
            raise TypeError('linalg_matrix_rank() received an invalid combination of arguments: tol with atol/rtol')
        atol, rtol = tol, 0.0
    a = A._data
    s = _singular_values(a, hermitian)
    return Tensor._make(np.asarray((s > _cutoff(s, a, atol, rtol)).sum(-1), np.int64))


class LinalgPinvBackward0(Node):
    """X = pinv(A): gA = -X^T G X^T + (I - A X) G^T X X^T + X^T X G^T (I - X A) (full rank)."""
    __slots__ = ()

    def backward(self, g):
        a, x = self.saved()
        xt, gt = _mT(x), _mT(g)
        xxt, xtx = x @ xt, xt @ x
        return -(xt @ g @ xt) + gt @ xxt - a @ (x @ (gt @ xxt)) + xtx @ gt - (xtx @ gt) @ x @ a


@_quiet.quietly
def pinv(A, rcond=None, hermitian=False, *, atol=None, rtol=None):
    """The Moore-Penrose pseudo-inverse: singular values at or below max(atol, rtol * the largest) are dropped
    (``rcond``: the old name of rtol)."""
    _low_precision(A, 'pinv')
    a = A._data
    x = _pinv_array(a, atol, rcond if rcond is not None else rtol, hermitian).astype(a.dtype)
    return _outputs(LinalgPinvBackward0, (A,), (x,), saves=(A,))[0]


def _pinv_array(a, atol, rtol, hermitian):
    """The pseudo-inverse of each matrix of ``a``, the singular values at or below _cutoff dropped (through eigh
    when ``hermitian``)."""
    if a.size == 0:
        return np.zeros(a.shape[:-2] + (a.shape[-1], a.shape[-2]), a.dtype)
    if hermitian:
        w, v = np.linalg.eigh(a)
        keep = np.abs(w) > _cutoff(np.abs(w), a, atol, rtol)
        inv = np.where(keep, 1 / np.where(keep, w, 1), 0)
        return (v * inv[..., None, :]) @ np.conj(np.swapaxes(v, -1, -2))
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    keep = s > _cutoff(s, a, atol, rtol)
    inv = np.where(keep, 1 / np.where(keep, s, 1), 0)
    return (np.conj(np.swapaxes(vh, -1, -2)) * inv[..., None, :]) @ np.conj(np.swapaxes(u, -1, -2))


class LinalgCrossBackward0(Node):
    """c = a x b: ga = b x g, gb = g x a (summed back over broadcast dims)."""
    __slots__ = ('dim', 'shapes')

    def backward(self, g):
        a, b = self.saved()
        ga = _cross(b, g, self.dim) if self.shapes[0] is not None else None
        gb = _cross(g, a, self.dim) if self.shapes[1] is not None else None
        return (None if ga is None else dual.sum_to(ga, self.shapes[0]),
                None if gb is None else dual.sum_to(gb, self.shapes[1]))


def _cross(a, b, dim):
    return np.cross(a, b, axis=dim) if dual.is_array(a) else cross(a, b, dim=dim)


@_quiet.quietly
def cross(input, other, *, dim=-1):
    """The cross product of 3-vectors along ``dim`` (operands broadcast)."""
    a, b = input._data, other._data
    if a.ndim != b.ndim:
        raise RuntimeError(f'linalg.cross: inputs must have the same number of dimensions, got {a.ndim} and {b.ndim}')
    if a.shape[dim] != 3 or b.shape[dim] != 3:
        raise RuntimeError(f'linalg.cross: inputs dimension {dim} must have length 3. Got {a.shape[dim]} and '
                           f'{b.shape[dim]}')
    if input.dtype == other.dtype == _dtype.bool_:
        raise NotImplementedError('"cross" not implemented for \'Bool\'')
    if input.dtype != other.dtype:
        raise RuntimeError(f'expected scalar type {scalar_name(input.dtype)} but found {scalar_name(other.dtype)}')
    d = dim % a.ndim
    r = np.ascontiguousarray(np.cross(a, b, axis=d))    # (NumPy's is laid out with ``d`` last)
    shapes = (a.shape if input._requires_grad else None, b.shape if other._requires_grad else None)
    return _outputs(LinalgCrossBackward0, (input, other), (r,), saves=(input, other), save_out=False,
                    dim=d, shapes=shapes)[0]


def _unused(g):
    """Whether gradient ``g`` is the engine's zeros for an output nothing used: PyTorch leaves such a gradient
    undefined and drops its terms, which divide by eigenvalue (singular value) gaps, 0 / 0 for repeated ones."""
    return dual.is_array(g) and not g.any()


_EIGH_PHASE = ('linalg_eigh_backward: The eigenvectors in the complex case are specified up to multiplication by '
               'e^{i phi}. The specified loss function depends on this quantity, so it is ill-defined.')
_SVD_PHASE = ('svd_backward: The singular vectors in the complex case are specified up to multiplication by e^{i phi}. '
              'The specified loss function depends on this phase term, making it ill-defined.')


class LinalgEighBackward0(Node):
    """A = V diag(w) V^H: gA = V (skew(V^H gV) / 2E with diag(gw) on the diagonal) V^H, E_ij = w_j - w_i (1 on the
    diagonal); V diag(gw) V^H when V went unused (eigvalsh), as PyTorch's, finite for repeated eigenvalues. Complex
    eigenvectors are defined up to a phase each: a loss that depends on it raises PyTorch's error."""
    __slots__ = ()

    def backward(self, gw, gv):
        w, v = self.saved()
        n = w.shape[-1]
        if gv is None or _unused(gv):
            return v @ _diag_embed(gw) @ _mH(v)
        vg = _mH(v) @ gv
        if _is_complex(vg):
            _phase_check(vg.diagonal(0, -2, -1), _EIGH_PHASE)
        inner = (vg - _mH(vg)) * 0.5 / (_row(w) - _col(w) + _eye(n, w))
        if _is_complex(inner):   # (the skew part's diagonal is i Im(V^H gV)'s, ~0: PyTorch's gw replaces it)
            inner = inner - _diag_embed(inner.diagonal(0, -2, -1))
        return v @ (inner + _diag_embed(gw)) @ _mH(v)


def _is_complex(x):
    return dual.data(x).dtype.kind == 'c'


def _mH(x):
    """The conjugate transpose (a real matrix's transpose)."""
    t = _mT(x)
    return t.conj() if _is_complex(t) else t


def _phase_check(d, message, other=None):
    """PyTorch's gauge check of a complex decomposition's backward: the loss must not depend on the phase of its
    vectors, read from the imaginary part of ``d`` (a diagonal of V^H gV), ~0 (or ~ -Im ``other``) within 1e-2."""
    d = dual.data(d).imag
    want = -dual.data(other).imag if other is not None else np.zeros_like(d)
    if not np.allclose(d, want, rtol=1e-2, atol=1e-2):
        raise RuntimeError(message)


def _eigh_arrays(A, UPLO):
    """(w, v) of A, checked in PyTorch's order and words (eigvalsh's errors name linalg.eigh too)."""
    a = A._data
    if a.ndim < 2:
        raise RuntimeError('linalg.eigh: The input tensor A must have at least 2 dimensions.')
    _square(a, 'eigh')
    if UPLO not in ('L', 'U'):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    if a.dtype.kind in 'biu':
        raise NotImplementedError(f'"linalg_eigh_cpu" not implemented for \'{scalar_name(a.dtype)}\'')
    w, v = np.linalg.eigh(a, UPLO=UPLO)
    return w.astype(np.finfo(a.dtype).dtype), lapack_order(v.astype(a.dtype))   # real eigenvalues of a Hermitian matrix


@_quiet.quietly
@_autocast.fp32
def eigh(A, UPLO='L'):
    """Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric matrix (or batch)."""
    _low_precision(A, 'eigh')
    return _EighResult(*_outputs(LinalgEighBackward0, (A,), _eigh_arrays(A, UPLO)))


@_quiet.quietly
@_autocast.fp32
def eigvalsh(A, UPLO='L'):
    """Eigenvalues (ascending) of a symmetric matrix (or batch)."""
    _low_precision(A, 'eigvalsh')
    w, v = _eigh_arrays(A, UPLO)
    return _outputs(LinalgEighBackward0, (A,), (w, v))[0]


class LinalgSvdBackward0(Node):
    """A = U diag(S) Vh (distinct singular values, full rank when rectangular): PyTorch's svd_backward (Townsend's
    formulas, conjugate transposes for complex A); full matrices use their first k columns; U diag(gS) Vh when U
    and Vh went unused (svdvals), PyTorch's for undefined gU and gVh, finite for repeated or zero singular values.
    Complex singular vectors are defined up to a phase each: a loss that depends on it raises PyTorch's error."""
    __slots__ = ()

    def backward(self, gu, gs, gvh):
        u, s, vh = self.saved()
        k = s.shape[-1]
        if u.shape[-1] != k:
            u, gu = u[..., :k], (None if gu is None else gu[..., :k])
        if vh.shape[-2] != k:
            vh, gvh = vh[..., :k, :], (None if gvh is None else gvh[..., :k, :])
        cx = u.dtype != s.dtype
        if gs is not None and cx:   # (gS is real: U diag(gS) Vh in A's dtype)
            gs = gs.astype(u.dtype) if dual.is_array(gs) else gs.to(u.dtype)
        if (gu is None or _unused(gu)) and (gvh is None or _unused(gvh)):
            return u @ _diag_embed(gs) @ vh
        m, n = u.shape[-2], vh.shape[-1]
        uhgu = _mH(u) @ gu
        uhgu = uhgu - _mH(uhgu)
        vhgv = vh @ _mH(gvh)
        vhgv = vhgv - _mH(vhgv)
        if cx:
            _phase_check(uhgu.diagonal(0, -2, -1), _SVD_PHASE, vhgv.diagonal(0, -2, -1))
        s2 = s * s
        e = _row(s2) - _col(s2) + _eye(k, s)
        inner = (uhgu * _row(s) + _col(s) * vhgv) / e + _diag_embed(gs)
        if cx:
            inner = inner + _diag_embed(uhgu.diagonal(0, -2, -1) / (s * 2))
        if m > n:
            gus = gu / _row(s)
            return (u @ inner + gus - u @ (_mH(u) @ gus)) @ vh
        if m < n:
            sgvh = gvh / _col(s)
            return u @ (inner @ vh + sgvh - (sgvh @ _mH(vh)) @ vh)
        return u @ inner @ vh


def _svd_arrays(a, full_matrices):
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    return lapack_order(u.astype(a.dtype)), s.astype(np.finfo(a.dtype).dtype), lapack_order(vh.astype(a.dtype))


@_quiet.quietly
@_autocast.fp32
def svd(A, full_matrices=True, *, driver=None):
    """U, S, Vh with A = U diag(S) Vh (S descending)."""
    _low_precision(A, 'svd')
    if driver is not None:
        raise NotImplementedError('linalg.svd: driver= is a CUDA option; ember runs on the CPU (leave it None)')
    return _SvdResult(*_outputs(LinalgSvdBackward0, (A,), _svd_arrays(A._data, full_matrices)))


@_quiet.quietly
@_autocast.fp32
def svdvals(A, *, driver=None):
    """The singular values, descending (differentiable through the full decomposition, as in PyTorch)."""
    _low_precision(A, 'svdvals')
    if driver is not None:
        raise NotImplementedError('linalg.svdvals: driver= is a CUDA option; ember runs on the CPU (leave it None)')
    if not (GRAD.enabled and A._requires_grad):
        return Tensor._make(np.linalg.svd(A._data, compute_uv=False).astype(np.finfo(A._data.dtype).dtype))
    return _outputs(LinalgSvdBackward0, (A,), _svd_arrays(A._data, False))[1]


_TorchSvdResult = _result_type('svd', ['U', 'S', 'V'])


@_autocast.fp32
def _torch_svd(input, some=True, compute_uv=True):
    """``torch.svd``: U, S, V with input = U diag(S) V^T (V, not Vh: a transpose of linalg.svd's Vh);
    ``some=False`` gives square U and V; ``compute_uv=False`` gives S and zero-filled (m, m) U and (n, n) V."""
    if not compute_uv:
        m, n = input._data.shape[-2:]
        batch = input._data.shape[:-2]
        z = lambda k: np.zeros(batch + (k, k), input._data.dtype)   # noqa: E731
        return _TorchSvdResult(Tensor._make(z(m)), svdvals(input), Tensor._make(lapack_order(z(n))))   # (as PyTorch's)
    u, s, vh = svd(input, full_matrices=not some)
    return _TorchSvdResult(u, s, vh.mH)


class LinalgCholeskyExBackward0(Node):
    """A = L L^T: gA = L^-T Phi L^-1, Phi = (T + tril(T, -1)^T) / 2 with T = tril(L^T gL)."""
    __slots__ = ('upper',)

    def backward(self, g):
        (l,) = self.saved()
        if self.upper:
            l, g = _mT(l), _mT(g)
        t = _tril(_mT(l) @ g)
        phi = (t + _mT(_tril(t, -1))) * 0.5
        return _solve_right(_solve(_mT(l), phi), l)


@_quiet.quietly
@_autocast.fp32
def cholesky(A, *, upper=False):
    """The lower (or ``upper``) Cholesky factor of a symmetric positive-definite matrix (or batch)."""
    _low_precision(A, 'cholesky')
    return _cholesky(A, upper, LinalgCholeskyExBackward0)


class CholeskyBackward0(LinalgCholeskyExBackward0):
    """torch.cholesky's node (the same derivative as linalg.cholesky's)."""
    __slots__ = ()


def _cholesky(A, upper, node_cls, op='linalg.cholesky'):
    a = A._data
    _square(a, 'cholesky')
    try:
        l = np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        raise _failure(a, op, _not_pd_order, _NOT_PD) from None
    if np.isnan(np.diagonal(l, axis1=-2, axis2=-1)).any():   # a NaN pivot: PyTorch's potrf stops there
        raise _failure(a, op, _not_pd_order, _NOT_PD)
    if upper:   # U = L^H
        l = np.swapaxes(l, -1, -2)
        l = np.conjugate(l) if l.dtype.kind == 'c' else l.copy()
    return _outputs(node_cls, (A,), (lapack_order(l.astype(a.dtype)),), upper=upper)[0]


class LinalgQrBackward0(Node):
    """A = QR: PyTorch's linalg_qr_backward (m >= n, or reduced/complete with m < n; conjugate transposes for
    complex A)."""
    __slots__ = ('mode',)

    def backward(self, gq, gr):
        q, r = self.saved()
        if self.mode == 'r':
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                               "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through "
                               "linalg.qr.")
        m, n = q.shape[-2], r.shape[-1]
        if self.mode == 'complete' and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        x = gr @ _mH(r) - _mH(q) @ gq
        if m >= n:   # (triu(X) + triu(X)^H, its diagonal's real part halved: purely real there)
            x = _triu(x)
            x = x + _mH(x)
            return _solve_right(q @ (x - _diag_embed(x.diagonal(0, -2, -1)) * 0.5) + gq, _mH(r))
        x = _tril(_mH(x) - x)   # (its diagonal's imaginary part halved: purely imaginary there)
        ga = _solve_right(q @ (x - _diag_embed(x.diagonal(0, -2, -1)) * 0.5), _mH(r[..., :m]))
        pad = dual.zeros(tuple(ga.shape[:-1]) + (n - m,), ga)
        ga = np.concatenate((ga, pad), -1) if dual.is_array(ga) else _cat((ga, pad), -1)
        return ga + q @ gr


class LinalgSolveTriangularBackward0(Node):
    """X = A^-1 B for triangular A: gB = A^-T G, gA = -(gB X^T) restricted to A's triangle. X A = B (not
    ``left``) is the transposed problem A^T X^T = B^T: its gradients are those of that one, transposed."""
    __slots__ = ('upper', 'unit', 'need', 'left')

    def backward(self, g):
        a, x = self.saved()
        return _triangular_grads(a, x, g, self.upper, self.unit, self.left, self.need)


def _triangular_grads(a, x, g, upper, unit, left, need):
    """(gA, gB) of X = A^-1 B (``left``) or X = B A^-1 for triangular A, from X's gradient ``g``; ``need``:
    (A's wanted, B's wanted, B's shape as the left solve sees it)."""
    if not left:
        a, x, g, upper = _mT(a), _mT(x), _mT(g), not upper
    a = _triangle(a, upper, unit)
    gb = _solve(_mT(a), g)
    ga = None
    if need[0]:
        ga = -(gb @ _mT(x))
        ga = _triu(ga, 1 if unit else 0) if upper else _tril(ga, -1 if unit else 0)
        ga = dual.sum_to(ga, dual.data(a).shape) if ga.shape != dual.data(a).shape else ga
    if need[1] and gb.shape != need[2]:
        gb = dual.sum_to(gb, need[2])
    if not left:
        ga, gb = (None if ga is None else _mT(ga)), _mT(gb)
    return ga, (gb if need[1] else None)


def _triangle(a, upper, unit):
    """The triangle of ``a`` a triangular solve reads (unit diagonal when ``unitriangular``)."""
    if dual.is_array(a):
        t = np.triu(a) if upper else np.tril(a)
        if unit:
            t = t.copy()
            idx = np.arange(t.shape[-1])
            t[..., idx, idx] = 1
        return t
    t = a.triu() if upper else a.tril()
    if unit:
        n = a.shape[-1]
        t = t * dual.const(1 - np.eye(n), t) + dual.const(np.eye(n), t)
    return t


def _triangular_solution(a, b, upper, left, unit):
    """The array X of A X = B (``left``) or X A = B, A read as its ``upper`` (or lower) triangle."""
    if not left:   # X A = B is A^T X^T = B^T
        a, b = _mT(a), _mT(b)
    tri = _triangle(a, upper == left, unit)
    shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + b.shape[-2:]
    with np.errstate(all='ignore'):
        try:
            x = np.linalg.solve(np.broadcast_to(tri, shape[:-2] + a.shape[-2:]), np.broadcast_to(b, shape))
        except np.linalg.LinAlgError:
            x = np.full(shape, np.nan, dtype=np.result_type(a, b))
    return lapack_order(_mT(x) if not left else x)


@_quiet.quietly
def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """The solution X of A X = B (``left``) or X A = B for triangular A; only A's triangle is read."""
    _low_precision(A, 'solve_triangular')
    a, b = A._data, B._data
    _square(a, 'solve_triangular')
    n = a.shape[-1]
    if b.ndim < 2:
        raise RuntimeError('linalg.solve_triangular: The input tensor B must have at least 2 dimensions.')
    if (b.shape[-2] if left else b.shape[-1]) != n:
        bs = 'x'.join(map(str, b.shape[-2:]))
        raise RuntimeError(f'linalg.solve_triangular: Incompatible shapes of A and B for the equation '
                           f'{"AX = B" if left else "XA = B"} ({n}x{n} and {bs})')
    try:
        np.broadcast_shapes(b.shape[:-2], a.shape[:-2])
    except ValueError:
        from .ops._util import broadcast_mismatch
        raise broadcast_mismatch([b.shape[:-2], a.shape[:-2]]) from None
    x = _triangular_solution(a, b, upper, left, unitriangular)
    if GRAD.enabled and (A._requires_grad or B._requires_grad):
        node = LinalgSolveTriangularBackward0((A, B))
        node.upper, node.unit, node.left = upper, unitriangular, left
        node.need = (A._requires_grad, B._requires_grad, (b if left else _mT(b)).shape)   # B as the left solve sees it
        t = Tensor._make(x, node)
        node.save(A)
        node.save_output(t)
        return t
    return Tensor._make(x)


@_quiet.quietly
@_autocast.fp32
def qr(A, mode='reduced'):
    """Q with orthonormal columns and upper-triangular R, A = QR (mode 'reduced', 'complete' or 'r')."""
    _low_precision(A, 'qr')
    a = A._data
    if mode not in ('reduced', 'complete', 'r'):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                           "or 'complete'")
    if mode == 'r':
        q, r = np.zeros((0,), a.dtype), np.linalg.qr(a, mode='r')
    else:
        q, r = np.linalg.qr(a, mode=mode)
    return _QrResult(*_outputs(LinalgQrBackward0, (A,), (lapack_order(q.astype(a.dtype)), lapack_order(r.astype(a.dtype))),
                                   mode=mode))


def _cat(ts, dim):
    from .ops.shape import cat
    return cat(ts, dim)


# --- composites of the ops above (their graphs are those ops', as in PyTorch) ---------------------------------------

@_quiet.quietly
def matrix_power(A, n):
    """A to the integer power ``n`` by PyTorch's binary decomposition of n (A^-1's powers for n < 0)."""
    try:
        from .ops.shape import clone
        from ._layout import contiguous_format as _contiguous
        a = A._data
        if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
            raise RuntimeError(f'linalg.matrix_power: A must be batches of square matrices, but they are '
                               f'{a.shape[-2] if a.ndim > 1 else a.shape[0]} by {a.shape[-1]} matrices')
        if n == 0:
            from .ops.creation import eye
            return clone(A, memory_format=_contiguous).copy_(eye(a.shape[-1], dtype=A.dtype).expand_as(A))
        if n == -1:
            return inv(A)
        if n < 0:
            A, n = inv(A), -n
        if n == 1:   # (PyTorch's clone is contiguous_format: a transposed input's power 0 or 1 is C order)
            return clone(A, memory_format=_contiguous)
        if n == 2:
            return matmul(A, A)
        if n == 3:
            return matmul(matmul(A, A), A)
        z = result = None
        while n > 0:
            bit, n = n % 2, n // 2
            z = A if z is None else matmul(z, z)
            if bit:
                result = z if result is None else matmul(result, z)
        return result
    except (AttributeError, TypeError):
        check_tensor_args('linalg_matrix_power', 'A:input')
        raise


def _expm(a):
    """exp(a) of float64 square matrices by scaling and squaring with a degree-13 Pade approximant."""
    b = (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800., 129060195264000.,
         10559470521600., 670442572800., 33522128640., 1323241920., 40840800., 960960., 16380., 182., 1.)
    norm = np.abs(a).sum(-2).max(-1) if a.size else np.zeros(a.shape[:-2])
    s = np.maximum(0, np.ceil(np.log2(np.maximum(np.max(norm, initial=0.0), 1e-300) / 5.371920351148152))).astype(int)
    a = a / (2.0 ** s)
    ident = np.broadcast_to(np.eye(a.shape[-1]), a.shape)
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a2 @ a4
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * ident)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * ident
    r = np.linalg.solve(v - u, v + u)
    for _ in range(int(s)):
        r = r @ r
    return r


class LinalgMatrixExpBackward0(Node):
    """d exp(A) for gradient G: the top-right block of exp([[A^T, G], [0, A^T]]); under create_graph=True that
    block matrix built and exponentiated in differentiable ops (PyTorch's differential_analytic_matrix_function),
    so each further derivative takes a matrix_exp of twice the size."""
    __slots__ = ()

    def backward(self, g):   # (complex A: _complex.HOLOMORPHIC's conjugations make A^T A^H, PyTorch's)
        (a,) = self.saved()
        if not dual.is_array(g):
            from .ops.shape import cat
            from .ops.creation import zeros_like
            n = a.shape[-1]
            at = a.mT
            big = cat([cat([at, g], -1), cat([zeros_like(at), at], -1)], -2)
            return matrix_exp(big)[..., :n, n:]
        n = a.shape[-1]
        big = np.zeros(a.shape[:-2] + (2 * n, 2 * n), np.complex128 if a.dtype.kind == 'c' else np.float64)
        big[..., :n, :n] = big[..., n:, n:] = np.swapaxes(a, -1, -2)
        big[..., :n, n:] = g
        return _expm(big)[..., :n, n:].astype(g.dtype)


@_quiet.quietly
def matrix_exp(A):
    """exp(A) of a square matrix (or batch), computed in float64 and rounded to A's dtype."""
    if not isinstance(A, Tensor):
        check_tensor_args('linalg_matrix_exp', 'A:input')
    a = A._data
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f'linalg.matrix_exp: A must be batches of square matrices, but they are '
                           f'{a.shape[-2] if a.ndim > 1 else a.shape[0]} by {a.shape[-1]} matrices')
    if a.dtype.kind not in 'fc':
        raise RuntimeError(f'linalg.matrix_exp: Expected a floating point or complex tensor as input. Got '
                           f'{scalar_name(A.dtype)}')
    r = _expm(a.astype(np.complex128 if a.dtype.kind == 'c' else np.float64)).astype(a.dtype)
    return _outputs(LinalgMatrixExpBackward0, (A,), (r,), saves=(A,), save_out=False)[0]


@_quiet.quietly
def multi_dot(tensors):
    """The product of the matrices in order, bracketed as PyTorch brackets it (fewest multiplications); a 1-D
    first (last) tensor is a row (column) vector, dropped from the result's shape."""
    from .ops.blas import mm
    from ._dtype import scalar_name
    n = len(tensors)
    if n < 2:
        raise RuntimeError(f'multi_dot(): expected at least 2 tensors but got {n}')
    ts, out_shape = list(tensors), []
    for end, where in ((0, 'first'), (n - 1, 'last')):
        d = ts[end].dim()
        if d not in (1, 2):
            raise RuntimeError(f'multi_dot(): the {where} tensor must be 1D or 2D but got {d}D')
    if ts[0].dim() == 1:
        ts[0] = ts[0].unsqueeze(0)
    else:
        out_shape.append(ts[0].shape[0])
    if ts[-1].dim() == 1:
        ts[-1] = ts[-1].unsqueeze(-1)
    else:
        out_shape.append(ts[-1].shape[1])
    for i in range(1, n - 1):
        if ts[i].dim() != 2:
            raise RuntimeError(f'multi_dot(): tensor {i} must be 2D but got {ts[i].dim()}D')
    for i in range(1, n):
        if ts[i].dtype != ts[0].dtype:
            raise RuntimeError(f'multi_dot(): all tensors must have be the same dtype but tensor 0 is '
                               f'{scalar_name(ts[0]._data.dtype)} and tensor {i} is {scalar_name(ts[i]._data.dtype)}')
        if ts[i - 1].shape[-1] != ts[i].shape[0]:
            raise RuntimeError(f'multi_dot(): tensors {i - 1} and {i} with shapes {list(tensors[i - 1].shape)} and '
                               f'{list(tensors[i].shape)} cannot be multiplied')
    if n == 2:
        out = mm(ts[0], ts[1])
    elif n == 3:
        a, b, c, d = ts[0].shape[0], ts[1].shape[0], ts[2].shape[0], ts[2].shape[1]
        out = mm(ts[0], mm(ts[1], ts[2])) if a * c * (b + d) > b * d * (a + c) else mm(mm(ts[0], ts[1]), ts[2])
    else:
        order = _chain_order([t.shape[0] for t in ts] + [ts[-1].shape[1]])

        def product(i, j):
            return ts[i] if i == j else mm(product(i, order[i][j]), product(order[i][j] + 1, j))
        out = product(0, n - 1)
    return out.view(tuple(out_shape))


def _chain_order(dims):
    """The matrix-chain split points (classic O(n^3) dynamic program) PyTorch's multi_dot uses."""
    n = len(dims) - 1
    cost = [[0] * n for _ in range(n)]
    order = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                q = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if cost[i][j] is None or q < cost[i][j]:
                    cost[i][j], order[i][j] = q, k
    return order


@_quiet.quietly
@_autocast.lower_precision
def vecdot(x, y, *, dim=-1):
    """The dot product of x and y along ``dim`` (broadcast)."""
    if x.dtype != y.dtype:
        raise RuntimeError(f'linalg.vecdot: Expected x and y to have the same dtype, but found x of type '
                           f'{scalar_name(x._data.dtype)} and y of type {scalar_name(y._data.dtype)} instead')
    if x.dtype._cat < 2:
        raise RuntimeError(f'linalg.vecdot: Expected a floating point or complex tensor as input. Got '
                           f'{scalar_name(x.dtype)}')
    if x.dim() == 1 and y.dim() == 1 and dim in (0, -1):
        from .ops.blas import vdot
        return vdot(x, y)
    return (x * y).sum(dim)


@_quiet.quietly
def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """``torch.diagonal`` with the matrix dims last by default."""
    try:
        from .ops import diagonal as _diagonal
        return _diagonal(A, offset=offset, dim1=dim1, dim2=dim2)
    except (AttributeError, TypeError):
        check_tensor_args('linalg_diagonal', 'A')
        raise


@_quiet.quietly
def vander(x, N=None):
    """Columns x**0, x**1, ..., x**(N-1) (N = len(x) by default) of the Vandermonde matrix."""
    try:
        _low_precision(x, 'vander')
        from .ops.shape import cat
        from .ops.reduction import cumprod
        if x.dim() < 1:
            raise RuntimeError('linalg.vander: x must have at least one dimension')
        n = x.shape[-1] if N is None else N
        if n < 2:
            if n < 1:
                raise RuntimeError(f'N must be greater than 1.')
            return x.new_ones(tuple(x.shape) + (1,))
        ones = x.new_ones(tuple(x.shape) + (1,))
        powers = cumprod(x.unsqueeze(-1).expand(*x.shape, n - 1), -1)
        return cat([ones, powers], -1)
    except (AttributeError, TypeError):
        check_tensor_args('linalg_vander', 'x')
        raise


_InvExResult = _result_type('linalg_inv_ex', ['inverse', 'info'])
_CholeskyExResult = _result_type('linalg_cholesky_ex', ['L', 'info'])
_SolveExResult = _result_type('linalg_solve_ex', ['result', 'info'])


@_quiet.quietly
def inv_ex(A, *, check_errors=False):
    """(inverse, info): info is 0, or the first zero pivot of a singular matrix (then inverse holds inf/nan)."""
    try:
        _low_precision(A, 'inv_ex')
        a = A._data
        _square(a, 'inv_ex')
        info = _infos(a, _zero_pivot)
        if info.any():
            if check_errors:
                raise _failure(a, 'linalg.inv_ex', _zero_pivot, _SINGULAR)
            with np.errstate(all='ignore'):
                y = np.linalg.pinv(a) * np.inf
            return _InvExResult(Tensor._make(y.astype(a.dtype)), Tensor._make(info))
        return _InvExResult(inv(A), Tensor._make(info))
    except (AttributeError, TypeError):
        check_tensor_args('linalg_inv_ex', 'A')
        raise


@_quiet.quietly
def cholesky_ex(A, *, upper=False, check_errors=False):
    """(L, info): info is 0, or the order of the first leading minor that is not positive-definite."""
    _low_precision(A, 'cholesky_ex')
    a = A._data
    _square(a, 'cholesky')
    info = _infos(a, _not_pd_order)
    if info.any():
        if check_errors:
            raise _failure(a, 'linalg.cholesky_ex', _not_pd_order, _NOT_PD)
        return _CholeskyExResult(Tensor._make(np.full_like(a, np.nan)), Tensor._make(info))
    return _CholeskyExResult(cholesky(A, upper=upper), Tensor._make(info))


@_quiet.quietly
def solve_ex(A, B, *, left=True, check_errors=False):
    """(solution, info) of linalg.solve: info is 0, or the first zero pivot of a singular A."""
    try:
        _low_precision(A, 'solve_ex')
        a = A._data
        _square(a, 'solve_ex')
        info = _infos(a, _zero_pivot)
        if info.any():
            if check_errors:
                raise LinAlgError('torch.linalg.solve_ex: The solver failed because the input matrix is singular.')
            shape = np.broadcast_shapes(a.shape[:-2], B._data.shape[:-2] if B.dim() > 1 else ()) + B._data.shape[-2:]
            return _SolveExResult(Tensor._make(np.full(shape if B.dim() > 1 else B._data.shape, np.nan, a.dtype)),
                                  Tensor._make(info))
        return _SolveExResult(solve(A, B, left=left), Tensor._make(info))
    except (AttributeError, TypeError):
        check_tensor_args('linalg_solve_ex', 'A', 'B')
        raise


def _square_for(A, what):
    if A.dim() < 2:
        raise RuntimeError(f'{what.split("(")[0]}: The input tensor must have at least 2 dimensions.')
    m, n = A.shape[-2:]
    if m != n:
        raise RuntimeError(f'{what}: A must be batches of square matrices, but they are {m} by {n} matrices')


@_quiet.quietly
def cond(A, p=None):
    """The condition number of A in norm ``p``: the ratio of extreme singular values for None and +-2 (any shape),
    else norm(A) * norm(A^-1) of square matrices, inf for singular ones (PyTorch's composition and graph)."""
    _low_precision(A, 'cond')
    from .ops import creation
    if isinstance(p, str):   # PyTorch checks a string's matrices before its name
        _square_for(A, f'linalg.cond(ord={p})')
    if p not in (None, 2, -2, 1, -1, float('inf'), float('-inf'), 'fro', 'nuc'):
        raise RuntimeError(f'linalg.cond got an invalid norm type: {p}')
    if p in (None, 2, -2):
        if A.dim() < 2:
            raise RuntimeError('linalg.cond: The input tensor must have at least 2 dimensions.')
        if A.numel() == 0:
            return creation.zeros(A.shape[:-2], dtype=_real_dtype(A.dtype))
        s = svdvals(A)
        big, small = s.narrow(-1, 0, 1), s.narrow(-1, s.shape[-1] - 1, 1)
        return (small / big if p == -2 else big / small).squeeze(-1)
    name = p if isinstance(p, str) else ('inf' if p == float('inf') else '-inf' if p == float('-inf') else int(p))
    _square_for(A, f'linalg.cond(ord={name})')
    if A.numel() == 0:
        return creation.zeros(A.shape[:-2], dtype=_real_dtype(A.dtype))
    if p == 'nuc':   # from the singular values: sum(s) * sum(1 / s)
        s = svdvals(A)
        return s.sum(-1) * s.reciprocal().sum(-1)
    if A._data.dtype.kind == 'c':   # matrix_norm is written for real numbers
        raise NotImplementedError(f'"linalg.cond" is not supported for complex tensors with ord={name} by ember yet')
    inverse, info = inv_ex(A)
    singular = (info > 0).unsqueeze(-1).unsqueeze(-1)
    inverse = inverse.masked_fill(singular, float('inf'))
    return (matrix_norm(A, p) * matrix_norm(inverse, p)).nan_to_num(float('inf'), float('inf'), float('-inf'))


class LinalgEigBackward0(Node):
    """A = V diag(L) V^-1 (PyTorch's linalg_eig_backward): gA = V^-H (diag(gL) + P(V^H gV) / conj(E)) V^H with
    E_ij = L_j - L_i (1 on the diagonal) and P the projection that keeps the columns of V at unit norm; the real
    part for a real A. Its loss must not depend on the eigenvectors' phases (PyTorch's check)."""
    __slots__ = ('real_input',)

    def backward(self, gl, gv):
        if not dual.is_array(gl if gl is not None else gv):
            return self._graph_backward(gl, gv)
        lam, v = self.saved()
        vh = np.conj(np.swapaxes(v, -1, -2))
        if gv is not None:
            vhgv = vh @ gv
            d = np.diagonal(vhgv, 0, -2, -1)
            if not np.allclose(d.imag, 0, rtol=1e-2, atol=1e-2):
                raise RuntimeError('linalg_eig_backward: The eigenvectors in the complex case are specified up to '
                                   'multiplication by e^{i phi}. The specified loss function depends on this '
                                   'quantity, so it is ill-defined.')
            vhgv = vhgv - vh @ (v * d.real[..., None, :])
            e = np.conj(lam)[..., None, :] - np.conj(lam)[..., :, None]
            n = lam.shape[-1]
            e[..., np.arange(n), np.arange(n)] = 1
            inner = vhgv / e
            if gl is not None:
                inner[..., np.arange(n), np.arange(n)] = gl
        else:
            inner = np.zeros(v.shape, v.dtype)
            n = lam.shape[-1]
            inner[..., np.arange(n), np.arange(n)] = gl
        ga = np.linalg.solve(vh, inner @ vh)
        return ga.real if self.real_input else ga


    def _graph_backward(self, gl, gv):
        """The same formula in ember's differentiable ops (create_graph=True: eig's second derivatives)."""
        from .ops import complex as _cx
        lam, v = self.saved()
        vh = _mT(v).conj()
        n = lam.shape[-1]
        off = 1 - np.eye(n)
        if gv is not None:
            vhgv = vh @ gv
            d = vhgv.diagonal(0, -2, -1)
            if not np.allclose(d._data.imag, 0, rtol=1e-2, atol=1e-2):
                self.backward(*(None if t is None else t._data for t in (gl, gv)))   # (raises PyTorch's error)
            vhgv = vhgv - vh @ (v * _row(_cx.real(d)))
            lc = lam.conj()
            e = _row(lc) - _col(lc) + _eye(n, lc)
            inner = vhgv / e * dual.const(off, vhgv)
        else:
            inner = dual.zeros(v.shape, v)
        if gl is not None:
            inner = inner + _diag_embed(gl)
        ga = solve(vh, inner @ vh)
        return _cx.real(ga) if self.real_input else ga


_complex.GRAD_OK.add('LinalgEigBackward0')
_complex.GRAD_OK.update(('LinalgSvdBackward0', 'LinalgEighBackward0', 'LinalgQrBackward0'))


def _at_least_2d(a, op):
    if a.ndim < 2:
        raise RuntimeError(f'linalg.{op}: The input tensor A must have at least 2 dimensions.')


def _eig_arrays(A, op):
    """Eigenvalues and unit eigenvectors (LAPACK's geev, through NumPy) in the complex dtype of A's."""
    a = A._data
    _at_least_2d(a, op)
    _square(a, op)
    if not np.isfinite(a).all():
        raise RuntimeError(f'torch.linalg.{op}: input tensor should not contain infs or NaNs.')
    cdt = np.result_type(a.dtype, np.complex64)
    w, v = np.linalg.eig(a)
    return w.astype(cdt), lapack_order(v.astype(cdt))


@_quiet.quietly
def eig(A):
    """Eigenvalues and eigenvectors of a square matrix (or batch), complex as PyTorch returns them."""
    try:
        _low_precision(A, 'eig')
        w, v = _eig_arrays(A, 'eig')
        return _EigResult(*_outputs(LinalgEigBackward0, (A,), (w, v), real_input=not A.is_complex()))
    except (AttributeError, TypeError):
        check_tensor_args('linalg_eig', 'A:input')
        raise


@_quiet.quietly
def eigvals(A):
    """Eigenvalues of a square matrix (or batch), complex."""
    try:
        _low_precision(A, 'eigvals')
        if GRAD.enabled and A._requires_grad:
            return eig(A)[0]
        a = A._data
        _at_least_2d(a, 'eigvals')
        _square(a, 'eigvals')
        cdt = np.result_type(a.dtype, np.complex64)
        bad = ~np.isfinite(a).all(axis=(-2, -1))
        if bad.any():   # eig refuses these; PyTorch's eigvals returns what its LAPACK makes of them: NaN here
            out = np.full(a.shape[:-1], complex(np.nan, np.nan), cdt)
            out[~bad] = np.linalg.eigvals(a[~bad])
            return Tensor._make(out)
        return Tensor._make(np.linalg.eigvals(a).astype(cdt))
    except (AttributeError, TypeError):
        check_tensor_args('linalg_eigvals', 'A:input')
        raise


def _real_dtype(dt):
    from . import _dtype
    return {_dtype.complex64: _dtype.float32, _dtype.complex128: _dtype.float64}.get(dt, dt)


@_quiet.quietly
def tensorinv(A, ind=2):
    """The inverse of A seen as a square matrix whose rows are A's first ``ind`` dims, shaped
    A.shape[ind:] + A.shape[:ind]."""
    _low_precision(A, 'tensorinv')
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, cols = A.shape[:ind], A.shape[ind:]
    r, c = int(np.prod(rows)), int(np.prod(cols))
    if r != c:
        raise RuntimeError('Expected self to satisfy the requirement prod(self.shape[ind:]) == '
                           f'prod(self.shape[:ind]), but got {c} != {r}')
    x = inv(A.reshape(r, c))
    if r == 1:
        return x.reshape(tuple(cols) + tuple(rows))
    # PyTorch's inverse is column-major (LAPACK's), so reshaping it is a strided view: ReshapeAliasBackward0
    from .ops.shape import ReshapeAliasBackward0, _result
    return _result(x, x._data.reshape(tuple(cols) + tuple(rows)), ReshapeAliasBackward0, shape=x.shape)


@_quiet.quietly
def tensorsolve(A, B, dims=None):
    """X such that tensordot(A, X, X.dim()) == B: A's dims ``dims`` moved last, then a square solve."""
    if dims is not None:
        nd = A.dim()
        moved = [d % nd for d in dims]
        A = A.permute([d for d in range(nd) if d not in moved] + moved)
    out_shape = A.shape[B.dim():]
    n = int(np.prod(out_shape))
    if int(np.prod(A.shape[:B.dim()])) != n:
        raise RuntimeError('Expected self to satisfy the requirement prod(result_shape) == prod(other.shape), but '
                           f'got {n} != {int(np.prod(A.shape[:B.dim()]))}')
    return solve(A.reshape(n, n), B.reshape(n)).view(tuple(out_shape))


__all__ = ['solve', 'inv', 'det', 'slogdet', 'lstsq', 'norm', 'vector_norm', 'matrix_norm', 'matrix_rank', 'pinv',
           'eigh', 'eigvalsh', 'svd', 'svdvals', 'cholesky', 'qr', 'cross', 'matmul', 'solve_triangular',
           'matrix_power', 'matrix_exp', 'multi_dot', 'vecdot', 'diagonal', 'vander', 'inv_ex', 'cholesky_ex',
           'solve_ex', 'LinAlgError', 'cond', 'tensorinv', 'tensorsolve', 'eig', 'eigvals']

from .ops import _out as _out_forms   # noqa: E402 (after the ops it wraps)
from .ops._util import check_tensor_args
_out_forms.install(globals(), _out_forms.LINALG + ['solve_triangular', 'cholesky_ex', 'inv_ex', 'solve_ex', 'cond',
                                                    'matrix_power', 'multi_dot', 'vecdot', 'tensorinv', 'tensorsolve',
                                                    'eig', 'eigvals'], prefix='linalg.')
