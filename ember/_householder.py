"""Householder reflectors: ``torch.geqrf`` (LAPACK's packed QR, through NumPy's ``qr(mode='raw')``, which is geqrf)
and ``torch.linalg.householder_product`` (orgqr: the first n columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^T with
v_i = (0, ..., 0, 1, A[i+1:, i])). The product's gradient is that of the same loop written with ember's ops, run
again in backward (so double backward works too)."""
import numpy as np

from . import _complex, _quiet
from ._linalg import _result_type, lapack_order
from .autograd.grad_mode import GRAD, enable_grad, no_grad
from .autograd.graph import MODE, Node
from .tensor import Tensor

_GeqrfResult = _result_type('geqrf', ['a', 'tau'])


@_quiet.quietly
def geqrf(input, *, out=None):
    """(a, tau): R above the diagonal of ``a``, the Householder vectors below it (LAPACK's geqrf). Not
    differentiable, as in PyTorch."""
    a = input._data
    if a.ndim < 2:
        raise RuntimeError('torch.geqrf: input must have at least 2 dimensions.')
    if a.dtype.kind not in 'fc':
        raise RuntimeError(f'torch.geqrf: Expected a floating point or complex tensor as input. Got '
                           f'{str(input.dtype).replace("torch.", "").capitalize()}')
    if 0 in a.shape[-2:]:
        h = np.zeros(a.shape, a.dtype)
        tau = np.zeros(a.shape[:-2] + (min(a.shape[-2:]),), a.dtype)
    else:
        h, tau = np.linalg.qr(a, mode='raw')
        h = np.swapaxes(h, -1, -2)      # NumPy's raw mode is LAPACK's column-major array, seen transposed
    res = _GeqrfResult(Tensor._make(lapack_order(h.astype(a.dtype, copy=False))), Tensor._make(tau.astype(a.dtype, copy=False)))
    if input.requires_grad and GRAD.enabled:
        node = _GeqrfBackward0((input,))
        node._out_meta = [(t._data.shape, t._data.dtype) for t in res]
        for i, t in enumerate(res):
            t.grad_fn, t._output_nr, t._requires_grad = node, i, True
    if out is not None:
        from .ops._out import write
        return write('geqrf', res, out)
    return res


class _GeqrfBackward0(Node):
    """geqrf's grad_fn: PyTorch records one and refuses to differentiate through it."""
    __slots__ = ()

    def name(self):
        return 'GeqrfBackward0'

    def backward(self, *grads):
        raise NotImplementedError("the derivative for 'geqrf' is not implemented.")


def _check(A, tau):
    op = 'torch.linalg.householder_product'
    a, t = A._data, tau._data
    if a.ndim < 2:
        raise RuntimeError(f'{op}: input must have at least 2 dimensions.')
    if a.shape[-2] < a.shape[-1]:
        raise RuntimeError(f'{op}: input.shape[-2] must be greater than or equal to input.shape[-1]')
    if t.ndim != a.ndim - 1:
        raise RuntimeError(f'{op}: Expected tau to have one dimension less than input, but got tau.ndim equal to '
                           f'{t.ndim} and input.ndim is equal to {a.ndim}')
    if a.shape[-1] < t.shape[-1]:
        raise RuntimeError(f'{op}: input.shape[-1] must be greater than or equal to tau.shape[-1]')
    if t.shape[:-1] != a.shape[:-2]:
        raise RuntimeError(f'{op}: Expected batch dimensions of tau to be equal to input.shape[:-2], but got '
                           f'{list(t.shape[:-1])}')
    if a.dtype != t.dtype:
        raise RuntimeError(f'{op}: tau dtype {_name(tau)} does not match input dtype {_name(A)}')


def _name(t):
    return str(t.dtype).replace('torch.', '').capitalize()


def _product(a, tau):
    """The first n columns of H_1 ... H_k for tensors ``a`` (m x n) and ``tau`` (k), batched."""
    from .ops.creation import eye, zeros
    m, n = a.shape[-2], a.shape[-1]
    q = eye(m, n, dtype=a.dtype)
    for i in reversed(range(tau.shape[-1])):
        unit = zeros(m, 1, dtype=a.dtype)
        unit[i, 0] = 1
        v = a[..., :, i:i + 1].tril(-i - 1) + unit   # (0, .., 0, 1, A[i+1:, i]) as a column
        q = q - tau[..., i:i + 1, None] * (v @ (v.mT @ q))
    return q


class LinalgHouseholderProductBackward0(Node):
    """The gradients of ``_product`` (the loop written with ember's ops), recorded again from the saved inputs in
    backward: differentiable in turn under create_graph."""
    __slots__ = ()

    def backward(self, g):
        from . import autograd
        a, tau = self.saved()
        if not tau.shape[-1]:   # no reflector: the identity's columns, no gradient (None, as PyTorch's)
            return None, None
        graph = MODE.graph
        if not graph:
            a, tau, g = Tensor._make(a).requires_grad_(), Tensor._make(tau).requires_grad_(), Tensor._make(g)
        wanted = [t for t in (a, tau) if t.requires_grad]
        with enable_grad():
            got = iter(autograd.grad(_product(a, tau), wanted, g, create_graph=graph, allow_unused=True))
        out = [next(got) if t.requires_grad else None for t in (a, tau)]
        return tuple(x if x is None or graph else x._data for x in out)


def householder_product(A, tau, *, out=None):
    """The first n columns of the product of the k Householder reflectors stored in ``A`` (below its diagonal)
    and ``tau`` (LAPACK's orgqr; what ``torch.geqrf`` returns gives the Q of QR)."""
    return _householder_product(A, tau, out, 'linalg.householder_product')


def orgqr(input, tau, *, out=None):
    """``linalg.householder_product`` under its LAPACK name."""
    return _householder_product(input, tau, out, 'orgqr')


def _householder_product(A, tau, out, key):
    """householder_product's result, written into ``out`` by op ``key``'s rules when given."""
    _check(A, tau)
    a, t = A._data, tau._data
    m, n = a.shape[-2], a.shape[-1]
    q = np.broadcast_to(np.eye(m, n, dtype=a.dtype), a.shape).copy()
    for i in reversed(range(t.shape[-1])):
        v = np.tril(a[..., :, i:i + 1], -i - 1)
        v[..., i, 0] = 1
        q -= t[..., i, None, None] * (v @ (np.swapaxes(v, -1, -2).conj() @ q))
    q = lapack_order(q)
    if GRAD.enabled and (A.requires_grad or tau.requires_grad):
        node = LinalgHouseholderProductBackward0((A, tau))
        res = Tensor._make(q, node)
        node.save(A, tau)
        node.guard(outputs=(res,))   # (PyTorch's node saves the result)
    else:
        res = Tensor._make(q)
    if out is not None:
        from .ops._out import write
        return write(key, res, out)
    return res


def _ormqr(a, tau, c, left, transpose):
    """``c`` multiplied by Q = H_1 ... H_k (the reflectors of ``a`` and ``tau``) in ember's ops: Q c, Q^H c, c Q or
    c Q^H, one reflector H = I - tau v v^H (H^H: tau conjugated) at a time."""
    from .ops.creation import zeros
    mn, k = a.shape[-2], tau.shape[-1]
    order = range(k) if left == transpose else reversed(range(k))
    for i in order:
        unit = zeros(mn, 1, dtype=a.dtype)
        unit[i, 0] = 1
        v = a[..., :, i:i + 1].tril(-i - 1) + unit
        t = tau[..., i:i + 1, None]
        t = t.conj() if transpose else t
        c = c - t * (v @ (v.mT.conj() @ c)) if left else c - t * ((c @ v) @ v.mT.conj())
    return c


class OrmqrBackward0(Node):
    """The gradients of ``_ormqr``, recorded again from the saved inputs in backward (differentiable in turn)."""
    __slots__ = ('sides',)

    def backward(self, g):
        from . import autograd
        saved = self.saved()
        graph = MODE.graph
        if not graph:
            saved, g = [Tensor._make(t).requires_grad_() for t in saved], Tensor._make(g)
        wanted = [t for t in saved if t.requires_grad]
        with enable_grad():
            got = iter(autograd.grad(_ormqr(*saved, *self.sides), wanted, g, create_graph=graph, allow_unused=True))
        out = [next(got) if t.requires_grad else None for t in saved]
        return tuple(x if x is None or graph else x._data for x in out)


_complex.GRAD_OK.add('OrmqrBackward0')   # (its backward differentiates _ormqr's ember ops, complex ones included)


def _check_ormqr(a, tau, c, left):
    """PyTorch's checks of ormqr's shapes and dtypes, in its order."""
    op, side = 'torch.ormqr', -2 if left else -1
    for t, what in ((a, 'input'), (c, 'other')):
        if t.ndim < 2:
            raise RuntimeError(f'{op}: {what} must have at least 2 dimensions.')
    if c.shape[side] != a.shape[-2]:
        raise RuntimeError(f'{op}: other.shape[{side}] must be equal to input.shape[-2]')
    if tau.shape[-1:] != (min(c.shape[side], a.shape[-1]),):
        raise RuntimeError(f'{op}: tau.shape[-1] must be equal to min(other.shape[{side}], input.shape[-1])')
    if tau.ndim != a.ndim - 1:
        raise RuntimeError(f'{op}: Expected tau to have one dimension less than input, but got tau.ndim equal to '
                           f'{tau.ndim} and input.ndim is equal to {a.ndim}')
    if c.ndim != a.ndim:
        raise RuntimeError(f'{op}: Expected other to have the same number of dimensions as input, but got other.ndim '
                           f'equal to {c.ndim} and input.ndim is equal to {a.ndim}')
    for t, what in ((tau, 'tau'), (c, 'other')):
        if t.shape[:a.ndim - 2] != a.shape[:-2]:
            raise RuntimeError(f'{op}: Expected batch dimensions of {what} to be equal to input.shape[:-2], but got '
                               f'{list(t.shape[:a.ndim - 2])}')
    from ._dtype import scalar_name
    for t, what in ((tau, 'tau'), (c, 'other')):
        if t.dtype != a.dtype:
            raise RuntimeError(f'{op}: Expected input and {what} to have the same dtype, but input has dtype'
                               f'{scalar_name(a.dtype)} and {what} has dtype {scalar_name(t.dtype)}')
    if a.dtype.kind not in 'fc':
        raise NotImplementedError(f'"ormqr_cpu" not implemented for \'{scalar_name(a.dtype)}\'')


def ormqr(input, input2, input3, left=True, transpose=False, *, out=None):
    """``input3`` multiplied by the Q of the Householder reflectors in ``input`` and ``input2`` (what geqrf
    returns), without forming Q: Q C, Q^H C (transpose), C Q, C Q^H (left=False), as LAPACK's ormqr."""
    _ormqr_args(input, (('input2', 2, input2), ('input3', 3, input3)))
    return _ormqr_op(input, input2, input3, left, transpose, out)


def ormqr_method(self, input2, input3, left=True, transpose=False):
    """``Tensor.ormqr`` (its argument errors count from input2)."""
    _ormqr_args(self, (('input2', 1, input2), ('input3', 2, input3)))
    return _ormqr_op(self, input2, input3, left, transpose, None)


ormqr_method.__name__ = ormqr_method.__qualname__ = 'ormqr'


def _ormqr_args(input, others):
    from .ops._util import arg_error
    for arg, pos, t in (('input', 1, input),) + others:
        if not isinstance(t, Tensor):
            raise arg_error('ormqr', arg, pos, t)


def _ormqr_op(input, input2, input3, left, transpose, out):
    _check_ormqr(input._data, input2._data, input3._data, left)
    ins = (input, input2, input3)
    with no_grad():
        res = _ormqr(*(Tensor._make(t._data) for t in ins), bool(left), bool(transpose))._data
    res = lapack_order(np.ascontiguousarray(res))
    if GRAD.enabled and any(t.requires_grad for t in ins):
        node = OrmqrBackward0(ins)
        node.sides = (bool(left), bool(transpose))
        node.save(*ins)
        res = Tensor._make(res, node)
    else:
        res = Tensor._make(res)
    if out is not None:
        from .ops._out import write
        return write('ormqr', res, out)
    return res
