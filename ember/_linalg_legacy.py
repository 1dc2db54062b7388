"""torch's deprecated ``triangular_solve`` (before torch.linalg.solve_triangular), as old scripts call it: its
once-a-process warning, both outputs and their gradients."""
import numpy as np

from ._dtype import scalar_name
from ._linalg import _mT, _result_type, _solve, _triangle, _triangular_grads, _triangular_solution, lapack_order
from ._warn import warn_user
from .autograd import dual, forward_refusal
from .autograd.grad_mode import GRAD
from .autograd.graph import Node
from .tensor import Tensor

_DEPRECATED = ('torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangularand will be removed in '
               'a future PyTorch release.\ntorch.linalg.solve_triangular has its arguments reversed and does not '
               'return a copy of one of the inputs.\nX = torch.triangular_solve(B, A).solution\nshould be replaced '
               'with\nX = torch.linalg.solve_triangular(A, B).')
_TriangularSolveResult = _result_type('triangular_solve', ['solution', 'cloned_coefficient'])


class TriangularSolveBackward0(Node):
    """(solution, cloned_coefficient) from (b, A): the solution's gradients are solve_triangular's (of A^T X = b
    when ``transpose``, taken as X^T A = b^T); the clone's gradient goes to A whole."""
    __slots__ = ('upper', 'unit', 'transpose', 'need')

    def backward(self, gx, gclone):
        a, x = self.saved()
        if self.need[0] and not dual.is_array(gx) and forward_refusal.SOURCES:
            return self._forward_form(a, x, gx, gclone)
        if self.transpose:
            x, gx = _mT(x), _mT(gx)
        ga, gb = _triangular_grads(a, x, gx, self.upper, self.unit, not self.transpose, self.need)
        if gb is not None and self.transpose:
            gb = _mT(gb)
        if self.need[0]:
            ga = ga + (dual.sum_to(gclone, self.need[3]) if gclone.shape != self.need[3] else gclone)
        return gb, ga


    def _forward_form(self, a, x, gx, gclone):
        """Under a forward-mode transform (which differentiates this in the cotangents): the adjoint of PyTorch's
        triangular_solve jvp, dX = op(A)^-1 (dB - dA X) with dA whole (generic_solve_jvp neither keeps A's triangle
        nor transposes dA), so that tangents are PyTorch's off the triangle too."""
        a = _triangle(a, self.upper, self.unit)
        gb = _solve(a if self.transpose else _mT(a), gx)
        ga = -(gb @ _mT(x))
        ga = ga + gclone
        shape = self.need[3]
        return (dual.sum_to(gb, self.need[2]) if self.need[1] else None,
                dual.sum_to(ga, shape) if ga.shape != shape else ga)


def _check(b, A):
    for name, x in (('b', b), ('A', A)):
        if x.ndim < 2:
            raise RuntimeError(f'torch.triangular_solve: Expected {name} to have at least 2 dimensions, but it has '
                               f'{x.ndim} dimensions instead')
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f'A must be batches of square matrices, but they are {A.shape[-2]} by {A.shape[-1]} '
                           'matrices')
    if A.shape[-1] != b.shape[-2]:
        raise RuntimeError(f'Incompatible matrix sizes for triangular_solve: each A matrix is {A.shape[-2]} by '
                           f'{A.shape[-1]} but each b matrix is {b.shape[-2]} by {b.shape[-1]}')
    if b.dtype != A.dtype:
        raise RuntimeError(f'Expected b and A to have the same dtype, but found b of type {scalar_name(b.dtype)} '
                           f'and A of type {scalar_name(A.dtype)} instead.')
    if b.dtype.kind not in 'fc':
        raise NotImplementedError(f'"triangular_solve_cpu" not implemented for \'{scalar_name(b.dtype)}\'')
    _batch_shape(b.shape[:-2], A.shape[:-2])


def _batch_shape(bb, ab):
    """Refuse batch shapes that do not broadcast, with PyTorch's message."""
    for i, (p, q) in enumerate(zip(bb[::-1], ab[::-1])):
        if p != q and p != 1 and q != 1:
            raise RuntimeError(f'The size of tensor a ({p}) must match the size of tensor b ({q}) at non-singleton '
                               f'dimension {max(len(bb), len(ab)) - 1 - i}')


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False):
    """The deprecated ``torch.triangular_solve``: X of op(A) X = b for triangular A (op: transposed when
    ``transpose``; only A's ``upper`` or lower triangle is read), and A's copy broadcast to X's batch."""
    warn_user(_DEPRECATED, once=True)
    bd, ad = b._data, A._data
    _check(bd, ad)
    if transpose:                      # A^T X = b is X^T A = b^T
        x = lapack_order(_mT(_triangular_solution(ad, _mT(bd), upper, False, unitriangular)))
    else:
        x = _triangular_solution(ad, bd, upper, True, unitriangular)
    clone = lapack_order(np.broadcast_to(ad, x.shape[:-2] + ad.shape[-2:]))
    if not (GRAD.enabled and (A._requires_grad or b._requires_grad)):
        return _TriangularSolveResult(Tensor._make(x), Tensor._make(clone))
    node = TriangularSolveBackward0((b, A))
    node.upper, node.unit, node.transpose = upper, unitriangular, transpose
    node.need = (A._requires_grad, b._requires_grad, bd.shape, ad.shape)   # b as the left solve sees it, and A's
    node._out_meta = [(x.shape, x.dtype), (clone.shape, clone.dtype)]
    sol, cloned = Tensor._make(x, node), Tensor._make(clone, node)
    cloned._output_nr = 1
    node.save(A)
    node.save_output(sol)
    node.guard(b)   # (PyTorch's node saves self, b; the backward reads the solution)
    return _TriangularSolveResult(sol, cloned)
