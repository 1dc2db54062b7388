"""Matrix products (matmul/@, mm, bmm, mv, dot, outer, addmm, linear) and einsum: NumPy's GEMM forward,
and backward as two more GEMMs."""
import math
import re

import numpy as np

from .. import _bf16, _complex, _layout, _quiet, _sparse
from . import _halfgemm, _mkl_narrow
from .. import _exact
from .._dtype import cpp_name, result_type
from ..autograd import dual
from ..backend import blas_threads, col_sums, gemm, gemm_pair, mkl_rows
from ._sumorder import ordered_sum
from ..autograd.grad_mode import GRAD
from ..autograd.graph import ANOMALY, SEQ, AccumulateGrad, Node, _edge, _NO_EDGE, saved_attributes
from ..tensor import Tensor
from . import _composite, _flop_hook
from ._util import broadcast_mismatch, fmt_shape, not_implemented, wrap_dim, check_tensor_args, torch_function_operand
from .shape import CloneBackward0, TBackward0, ViewBackward0, UnsafeViewBackward0, UnsqueezeBackward0
from ..amp import _state as _autocast

_EXACT_ON = _exact.ON     # the exact kernels' switch, read on every 2-D product


def _same_dtype(a, b, op):
    if a.dtype != b.dtype and (op in ('dot', 'vdot') or op == 'matmul' and a.ndim == b.ndim == 1):
        from .._dtype import scalar_name   # PyTorch's dot kernel's own wording
        raise RuntimeError(f'dot : expected both vectors to have same dtype, but found {scalar_name(a.dtype)} and '
                           f'{scalar_name(b.dtype)}')
    if a.dtype != b.dtype:
        kernel = op if op != 'matmul' else 'mv' if b.ndim == 1 else 'bmm' if b.ndim >= 3 else 'mm'
        if kernel == 'mv':    # matmul takes mv for a vector on the right, bmm for a batch of matrices there
            _addmv_dtypes(b, a, b)
        from .._dtype import from_np, scalar_name
        da, db = from_np(a.dtype), from_np(b.dtype)      # bfloat16's arrays are big-endian float32
        if kernel == 'bmm':
            raise RuntimeError(f'expected scalar type {scalar_name(da)} but found {scalar_name(db)}')
        raise RuntimeError(f'expected m1 and m2 to have the same dtype, but got: {cpp_name(da)} != '
                           f'{cpp_name(db)}\n({op}: convert one operand, e.g. with .float() or .double())')
    if a.dtype == _BOOL:
        raise not_implemented(_bool_kernel(a, b, op), a.dtype)


_BOOL = np.dtype(np.bool_)


def _addmv_dtypes(out, mat, vec):
    """addmv's check, which mv and matmul with a vector reach (``out`` is mv's result, made like ``vec``): arrays
    or tensors."""
    if not out.dtype == mat.dtype == vec.dtype:
        from .._dtype import from_np, scalar_name
        names = [scalar_name(t.dtype if isinstance(t, Tensor) else from_np(t.dtype)) for t in (out, mat, vec)]
        raise RuntimeError(f'addmv input tensors must have the same dtype, but got {names[0]}, {names[1]}, and '
                           f'{names[2]}')


def _bool_kernel(a, b, op):
    """The kernel PyTorch's product of bools reaches, and refuses (no Bool BLAS): matmul folds a batch into one
    matrix product where it can, as PyTorch's does for a contiguous batch."""
    if op != 'matmul':
        return {'mm': 'addmm_impl_cpu_', 'mv': 'addmv_impl_cpu', 'vdot': 'dot'}.get(op, op)
    if a.ndim == 1 and b.ndim == 1:
        return 'dot'
    if b.ndim <= 2:
        return 'addmv_impl_cpu' if b.ndim == 1 else 'addmm_impl_cpu_'
    return 'bmm'


def _matmul_bw(self, g):
    a, b = self.saved()
    a1, b1 = self.vec
    sa, sb = self.shapes
    if not (a1 or dual.is_array(g)):
        out = _matrix_grads_graph(g, a, b, sa, sb, self.need) if not b1 else \
            _mv_grads_graph(g, a, b, sa, self.need) if len(sa) == 2 else None
        if out is not None:
            return out
    sa2 = (1,) + tuple(sa) if a1 else tuple(sa)
    sb2 = tuple(sb) + (1,) if b1 else tuple(sb)
    if a1:
        g = g.reshape(tuple(g.shape[:-1]) + (1, g.shape[-1])) if not b1 else g.reshape((1,))
    if b1:
        g = g.reshape(tuple(g.shape) + (1,))
    ga = gb = None
    if len(sa2) == len(sb2) == 3 and sa2[0] == sb2[0] and dual.is_array(g):
        return _bmm_grads(g, a, b, self.need)
    if self.need[0]:
        ga = dual.sum_to(dual.matmul(g, b.reshape(sb2).swapaxes(-1, -2)), sa2).reshape(sa)
    if self.need[1]:
        if len(sb2) == 2 and len(sa2) > 2:
            # (..., n, k) @ (k, m) is one (N, k) @ (k, m) product (PyTorch folds it too), so b's gradient is one
            # (k, N) @ (N, m) GEMM, not a stack of products summed over the batch: (32, 4, 48) @ (48, 128)
            # backward 161 -> 27 us (makemore part 5's layers, min of interleaved runs)
            rows = math.prod(sa2[:-1])      # (not -1: NumPy cannot infer it for an empty batch)
            gb = dual.matmul(a.reshape(rows, sa2[-1]).swapaxes(-1, -2), g.reshape(rows, g.shape[-1])).reshape(sb)
        else:
            gb = dual.sum_to(dual.matmul(a.reshape(sa2).swapaxes(-1, -2), g), sb2).reshape(sb)
    return ga, gb


def _bmm_grads(g, a, b, need):
    """bmm's gradients as PyTorch's backward computes them, two more bmm (its small-product loop included: through
    gemm, 'bhqd,bhkd->bhqk' (2,3,4,8) gradients were a step off in places)."""
    return (_stack_product(g, b.swapaxes(-1, -2)) if need[0] else None,
            _stack_product(a.swapaxes(-1, -2), g) if need[1] else None)


def _col_major(t):
    """Whether matrix ``t`` is stored transposed (PyTorch's mm backward then takes the transposed product); False
    for an operand not saved (no other gradient needed it)."""
    if t is None:
        return False
    st = t.stride()
    return st[0] == 1 and st[1] == t.shape[0]


def _mm_grads_graph(g, a, b, need_a, need_b):
    """PyTorch's mm_mat1_backward and mm_mat2_backward on tensors (create_graph): g.mm(b.t()) and a.t().mm(g), or
    (b.mm(g.t())).t() and (g.t().mm(a)).t() for an operand stored transposed, so the gradient's graph records PyTorch's
    MmBackward0/TBackward0 nodes."""
    ga = gb = None
    if need_a:
        ga = b.mm(g.t()).t() if _col_major(a) else g.mm(b.t())
    if need_b:
        gb = g.t().mm(a).t() if _col_major(b) else a.t().mm(g)
    return ga, gb


def _mv_grads_graph(g, a, b, sa, need):
    """PyTorch's mv gradients on tensors (create_graph): grad.ger(vec), which is g.reshape(n, 1) * vec, and
    self.t().mv(grad) (ember recorded them as matrix products with views around)."""
    return (g.reshape(sa[0], 1) * b if need[0] else None, a.t().mv(g) if need[1] else None)


def _matrix_grads_graph(g, a, b, sa, sb, need):
    """A matrix product's gradients under create_graph as PyTorch's graph has them: mm of two matrices, bmm of two
    equal batches, a batch times a matrix folded into one mm (views around it); None for the other forms."""
    if len(sa) == 2 and len(sb) == 2:
        return _mm_grads_graph(g, a, b, need[0], need[1])
    if len(sa) == 3 and len(sb) == 3 and sa[0] == sb[0] and tuple(g.shape) == (sa[0], sa[1], sb[2]):
        return (g.bmm(b.transpose(1, 2)) if need[0] else None,
                a.transpose(1, 2).bmm(g) if need[1] else None)
    if len(sb) == 2 and len(sa) > 2:
        rows = math.prod(sa[:-1])
        g2 = g.reshape(rows, sb[1])
        ga = g2.mm(b.t()).view(tuple(sa)) if need[0] else None
        gb = a.reshape(rows, sa[-1]).t().mm(g2) if need[1] else None
        return ga, gb
    return None


_NAMES = ('MmBackward0', 'MvBackward0', 'DotBackward0', 'VdotBackward0', 'BmmBackward0', 'UnsafeViewBackward0',
          'SqueezeBackward4', 'AddmmBackward0', 'ViewBackward0', 'LinalgMatmulBackward0')
_NODES = {n: type(n, (Node,), {'__slots__': ('vec', 'shapes', 'need', 'strides'), 'backward': _matmul_bw,
                               '_need_order': True,
                               '__doc__': 'Backward of a matrix product: two more products.'}) for n in _NAMES}
for _n in _NAMES:      # their formulas' transposes, conjugated, are the complex gradients: even where the name is a
    _NODES[_n].holomorphic = True   # view's (UnsafeViewBackward0 of a batched matmul), see _complex.check_grad
for _n in ('MmBackward0', 'BmmBackward0', 'UnsafeViewBackward0', 'LinalgMatmulBackward0'):
    _NODES[_n]._pack_order = (1, 0)     # PyTorch saves mat2 before self (what a saved-tensor hook sees first)


def _record(name, x, y, arr, saved=None):
    """``arr``, x's product by y, recorded as PyTorch's node ``name`` (``saved``: the pair it saves, if not x, y)."""
    if GRAD.enabled and (x._requires_grad or y._requires_grad):
        node = _NODES[name]((x, y))
        node.vec = (x._data.ndim == 1, y._data.ndim == 1)
        node.shapes = (x._data.shape, y._data.shape)
        node.need = (x._requires_grad, y._requires_grad)
        node.strides = (x._data.strides, y._data.strides, x._data.itemsize)    # (PyTorch's _saved_*_sym_strides)
        sx, sy = (x, y) if saved is None else saved
        node.save(sx if y._requires_grad else None, sy if x._requires_grad else None)
        return Tensor._make(arr, node)
    return Tensor._make(arr)


def _folded_saved(self, graph=None):
    """The saved stack as the matrix PyTorch's folded product saved (``input.reshape(-1, k)``)."""
    a, b = Node.saved(self, graph)
    return (None if a is None else a.reshape(self.shapes[0])), b


# mm and mv of a stack folded into a matrix: the saved stack reads as that matrix
_FOLDED = {n: type(n, (_NODES[n],), {'__slots__': (), 'saved': _folded_saved}) for n in ('MmBackward0', 'MvBackward0')}


def _viewable(a):
    """Whether a stack's leading dims fold into rows without a copy (PyTorch's should_fold stride test)."""
    st, sh = a.strides, a.shape
    for i in range(a.ndim - 2):
        if st[i] != st[i + 1] * sh[i + 1]:
            return False
    return True


def _fold_record(input, other, arr, viewable):
    """A stack (..., n, k) times a matrix or vector, recorded as PyTorch's matmul folds it (when ``other`` requires
    grad or the stack is ``viewable``): UnsafeViewBackward0 over MmBackward0 (MvBackward0) over the stack's
    reshape(rows, k), a ViewBackward0 or, where it copies, UnsafeViewBackward0 over CloneBackward0; ember recorded
    one node with edges to both operands."""
    a, b = input._data, other._data
    rows = math.prod(a.shape[:-1])
    need = (input._requires_grad, other._requires_grad)
    xe = _NO_EDGE
    if need[0]:
        xe = _edge(input)
        if not viewable:
            clone = _new(CloneBackward0)
            clone._seq = next(SEQ)
            clone.next_functions = (xe,)
            xe = (clone, 0)
        xe = _view_node(ViewBackward0 if viewable else UnsafeViewBackward0, xe, a.shape)
    node = _new(_FOLDED['MvBackward0' if b.ndim == 1 else 'MmBackward0'])
    node.next_functions = (xe, _edge(other) if need[1] else _NO_EDGE)
    node._seq = next(SEQ)
    node.vec, node.shapes, node.need = (False, b.ndim == 1), ((rows, a.shape[-1]), b.shape), need
    node.strides = ((a.shape[-1] * a.itemsize, a.itemsize), b.strides, a.itemsize)   # the stack as a new matrix
    node.save(input if need[1] else None, other if need[0] else None)
    if arr.dtype.kind == 'c':   # (the result's node is the view: the product's is checked here)
        _complex.check_grad(node)
    return Tensor._make(arr, _view_node(UnsafeViewBackward0, (node, 0), (rows,) + b.shape[1:])[0])


def _matmul_name(na, nb):
    if na == 2 and nb == 2:
        return 'MmBackward0'
    if na == 2 and nb == 1:
        return 'MvBackward0'
    if na == 1 and nb == 1:
        return 'DotBackward0'
    if na == 1 and nb == 2:
        return 'SqueezeBackward4'
    return 'UnsafeViewBackward0'


@_autocast.lower_precision
def matmul(input, other, *, out=None):
    """Matrix product with NumPy's broadcasting rules for batches and 1-D operands."""
    if out is not None:
        from ._out import write
        return write('matmul', matmul(input, other), out)
    if not isinstance(other, Tensor) or not isinstance(input, Tensor):
        recorded = torch_function_operand('matmul', input, other)   # (linear_operator: dense.matmul(DiagLinearOperator))
        if recorded is not None:
            return recorded
        check_tensor_args('matmul', 'input', 'other')
    if (type(input) is not Tensor or type(other) is not Tensor) and _sparse.is_sparse_arg(input, other):
        return _sparse.mm(input, other)
    a, b = input._data, other._data
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f'both arguments to matmul need to be at least 1D, but they are {a.ndim}D and {b.ndim}D')
    _same_dtype(a, b, 'matmul')
    ka = a.shape[-1]
    kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if ka != kb:
        if a.ndim == 1 and b.ndim == 1:
            raise RuntimeError(f'inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to '
                               'have the same number of elements, but got '
                               f'{a.shape[0]} and {b.shape[0]} elements respectively')
        raise _matmul_shape_error(a, b, ka, kb)
    try:
        arr = _stack_product(a, b) if a.ndim >= 3 and b.ndim >= 3 else _mat_product(a, b)
    except ValueError:
        raise _batch_mismatch(a, b) from None
    viewable = a.ndim > 2 and b.ndim <= 2 and _viewable(a)
    if a.ndim <= 2 and b.ndim > 2 and GRAD.enabled and input._requires_grad:
        out = _flop_hook.quietly(_fold_transposed, input, other)     # (counted as the matmul below)
    elif a.ndim > 2 and b.ndim <= 2 and GRAD.enabled and (input._requires_grad or other._requires_grad) \
            and (viewable or other._requires_grad or not a.size):
        out = _fold_record(input, other, np.asarray(arr), viewable)
    elif a.ndim >= 3 or b.ndim >= 3:
        out = _record('UnsafeViewBackward0', input, other, np.asarray(arr), _batch_operands(input, other))
    else:
        out = _record(_matmul_name(a.ndim, b.ndim), input, other, np.asarray(arr))
    if _flop_hook.COUNTERS:
        _flop_hook.matmul(input, other, out)
    return out


def _fold_transposed(input, other):
    """A vector or matrix requiring grad times a stack, as PyTorch's matmul folds it: the stack's transpose folded
    into rows (a copy, which an in-place change to the stack does not reach) times the small operand (its
    transpose, a view: its in-place change is caught), viewed back, and for a matrix transposed and made
    contiguous (grad_fn CloneBackward0)."""
    t1 = other.mT
    rows, k = math.prod(t1.shape[:-1]), t1.shape[-1]
    folded = t1.reshape(rows, k)
    small = input if input._data.ndim == 1 else input.t()
    prod = folded.mv(small) if input._data.ndim == 1 else folded.mm(small)
    shape = tuple(t1.shape[:-1]) + tuple(prod.shape[1:])
    out = Tensor._make(prod._data.reshape(shape), _view_node(UnsafeViewBackward0, (prod.grad_fn, 0), prod._data.shape)[0])
    return out if input._data.ndim == 1 else out.mT.contiguous()


def _batch_operands(input, other):
    """The operands a batched matmul saves: PyTorch's bmm saves each expanded to the broadcast batch and folded into
    one batch dim, a view of the operand where the strides fold, else a copy, which a later in-place change to the
    operand does not reach (so ember saves a copy of that operand, only when a gradient needs it; a clone, whose
    node carries a gradient under create_graph back to the operand, as PyTorch's copy does)."""
    a, b = input._data, other._data
    if a.shape[:-2] == b.shape[:-2] and a.flags.c_contiguous and b.flags.c_contiguous:
        return input, other     # the usual stacks: both fold as views (np.broadcast_shapes alone costs ~3 us)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return (input.clone() if other._requires_grad and not _folds(a, batch) else input,
            other.clone() if input._requires_grad and not _folds(b, batch) else other)


def _folds(a, batch):
    """Whether ``a`` expanded to the ``batch`` dims reshapes to one batch dim as a view (PyTorch's computeStride:
    each dim's stride is the next one's times its size, dims of size 1 aside; broadcast dims have stride 0)."""
    if a.ndim < 2:
        return True     # a vector's batch dims are all broadcast (stride 0)
    own = a.shape[:-2]
    pad = len(batch) - len(own)
    st = [0 if i < pad or own[i - pad] != n else a.strides[i - pad] for i, n in enumerate(batch)]
    dims = [(n, s) for n, s in zip(batch, st) if n != 1]
    return all(s == s2 * n2 for (_, s), (n2, s2) in zip(dims, dims[1:]))


def _matmul_shape_error(a, b, ka, kb):
    """PyTorch's error for ``a @ b`` whose inner dims ``ka`` and ``kb`` differ, as the kernel matmul picks raises
    it: mv (a matrix, or a folded stack, by a vector), mm (a vector or a folded stack by a matrix), or bmm after
    broadcasting the batch dims (whose mismatch is raised first); ember's hint on a second line."""
    hint = (f'\n(matmul of {fmt_shape(a.shape)} by {fmt_shape(b.shape)}: the last dim of the first ({ka}) must '
            f'equal the {"first" if b.ndim == 1 else "second-to-last"} dim of the second ({kb}); transpose or '
            'reshape one operand)')
    m = math.prod(a.shape[:-1])
    if b.ndim == 1:
        return RuntimeError(f'size mismatch, got input ({m}), mat ({m}x{ka}), vec ({kb}){hint}')
    if b.ndim == 2:
        return RuntimeError(f'mat1 and mat2 shapes cannot be multiplied ({m}x{ka} and {kb}x{b.shape[-1]}){hint}')
    try:
        batch = math.prod(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
    except ValueError:
        return _batch_mismatch(a, b)
    return RuntimeError(f'Expected size for first two dimensions of batch2 tensor to be: [{batch}, {ka}] but got: '
                        f'[{batch}, {kb}].{hint}')


def _batch_mismatch(a, b):
    """PyTorch's error for batch dims of ``a @ b`` that do not broadcast (infer_size's), ember's hint after."""
    e = broadcast_mismatch([a.shape[:-2], b.shape[:-2]])
    return RuntimeError(f'{e}\n(matmul: batch dims of {fmt_shape(a.shape)} and {fmt_shape(b.shape)} do not broadcast)')


def _mat2(a, right=False):
    if a.ndim == 1:
        return f'{a.shape[0]}x1' if right else f'1x{a.shape[0]}'
    return f'{int(np.prod(a.shape[:-1]))}x{a.shape[-1]}' if not right else f'{a.shape[-2]}x{a.shape[-1]}'


@_autocast.lower_precision
def mm(input, mat2):
    """Product of two matrices."""
    if (type(input) is not Tensor or type(mat2) is not Tensor) and _sparse.is_sparse_arg(input, mat2):
        return _sparse.mm(input, mat2)
    try:
        a, b = input._data, mat2._data
    except (AttributeError, TypeError):
        check_tensor_args('mm', 'input', 'mat2')
        raise
    if a.ndim != 2:
        raise RuntimeError('self must be a matrix')
    if b.ndim != 2:
        raise RuntimeError('mat2 must be a matrix')
    _same_dtype(a, b, 'mm')
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f'mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and '
                           f'{b.shape[0]}x{b.shape[1]})')
    out = _record('MmBackward0', input, mat2, _mat_product(a, b))
    if _flop_hook.COUNTERS:
        _flop_hook.product('mm', a.shape, b.shape, out, (input._requires_grad, mat2._requires_grad))
    return out


def _mat_product(a, b):
    """``a @ b`` of 2-D arrays through gemm; float16 as PyTorch's CPU kernel sums it where that is reproduced
    (ops._halfgemm), float32 of 1-3 rows as MKL's under the exact kernels (backend.mkl_rows)."""
    if a.dtype is _F16 and b.ndim == 2 and a.ndim == 2:
        r = _halfgemm.matmul(a, b)
        if r is not None:
            return r
    if _EXACT_ON[0]:
        r = mkl_rows(a, b)
        if r is not None:
            return r
    return gemm(a, b)


# PyTorch's bmm (and matmul of two stacks, which calls it) runs its own loop below this many multiply-adds per
# matrix (rows * contraction * cols; baddbmm_cpu_kernel in LinearAlgebra.cpp), not BLAS
_NAIVE_BMM_MACS = 400
_F16 = np.dtype(np.float16)


def _naive_product(a, b):
    """_stack_product's sums in contraction order."""
    prods = np.add.accumulate(a[..., :, :, None] * b[..., None, :, :], axis=-2)[..., -1, :]
    return np.add(prods, a.dtype.type(0), out=np.empty(prods.shape, prods.dtype))   # row-major, as bmm's result


def _stack_product(a, b):
    """``a @ b`` for stacks of matrices: small float32/float64 products as PyTorch's naive bmm loop sums them
    (each entry in contraction order, every product rounded before it is added: d2l's attention examples print
    10.0000 where BLAS's order gives 10.), the rest through gemm. PyTorch's sums start from +0, so an entry whose
    products are all -0.0 is +0.0 (the final + 0.0: NumPy's accumulate starts from the first product)."""
    k = a.shape[-1]
    if (a.dtype.kind == 'f' and a.dtype.itemsize >= 4 and not _bf16.is_bf16(a.dtype) and k
            and a.shape[-2] * k * b.shape[-1] < _NAIVE_BMM_MACS):
        try:
            return _naive_product(a, b)
        except RuntimeWarning:  # inf * 0, an overflow: raised by the user's filter (a try costs nothing: see _quiet)
            return _quiet.again(_naive_product, a, b)
    if a.dtype is _F16 and a.ndim == 3 and b.ndim == 3 and a.shape[0] == b.shape[0]:
        parts = [_halfgemm.matmul(x, y) for x, y in zip(a, b)]     # float16: per matrix, as PyTorch's bmm
        if parts and all(p is not None for p in parts):
            return np.stack(parts)
    return gemm(a, b)


@_autocast.lower_precision
def bmm(input, mat2):
    """Batched product of (b, n, m) and (b, m, p) tensors."""
    try:
        a, b = input._data, mat2._data
    except (AttributeError, TypeError):
        check_tensor_args('bmm', 'input', 'mat2')
        raise
    if a.ndim != 3:
        raise RuntimeError('batch1 must be a 3D tensor')
    if b.ndim != 3:
        raise RuntimeError('batch2 must be a 3D tensor')
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(f'Expected size for first two dimensions of batch2 tensor to be: [{a.shape[0]}, '
                           f'{a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}].')
    _same_dtype(a, b, 'bmm')
    out = _record('BmmBackward0', input, mat2, _stack_product(a, b))
    if _flop_hook.COUNTERS:
        _flop_hook.product('bmm', a.shape[1:], b.shape[1:], out, (input._requires_grad, mat2._requires_grad),
                           a.shape[0])
    return out


def mv(input, vec):
    """Matrix-vector product."""
    try:
        a, b = input._data, vec._data
    except (AttributeError, TypeError):
        check_tensor_args('mv', 'input', 'vec')
        raise
    if a.ndim != 2 or b.ndim != 1:
        raise RuntimeError(f'vector + matrix @ vector expected, got {a.ndim}, {b.ndim}, {b.ndim}')
    _addmv_dtypes(b, a, b)
    _same_dtype(a, b, 'mv')     # bools
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f'size mismatch, got input ({a.shape[0]}), mat ({a.shape[0]}x{a.shape[1]}), vec '
                           f'({b.shape[0]})')
    try:
        r = a @ b
    except RuntimeWarning:  # inf * 0, an overflow: raised by the user's filter (a try costs nothing: see _quiet)
        r = _quiet.again(np.matmul, a, b)
    return _record('MvBackward0', input, vec, r)


def _dot(input, other, name, node):
    """The inner product of two 1-D tensors of one dtype, recorded as ``node``."""
    a, b = input._data, other._data
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f'1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors')
    _same_dtype(a, b, name)
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f'inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to have '
                           f'the same number of elements, but got {a.shape[0]} and {b.shape[0]} elements respectively')
    fn = _strided_dot if a.dtype == _F32 and a.size > 1 and (a.strides[0] != 4 or b.strides[0] != 4) else np.dot
    try:
        r = fn(a, b)
    except RuntimeWarning:  # inf * 0, an overflow: raised by the user's filter (a try costs nothing: see _quiet)
        r = _quiet.again(fn, a, b)
    return _record(node, input, other, np.asarray(r))


_F32 = np.dtype(np.float32)


def _strided_dot(a, b):
    """A float32 dot with a strided operand (a matrix's column) as PyTorch's BLAS sums it: each product rounded,
    added in order from +0 (exact on every length and stride measured; course22p2's 01_matmul compares such dots
    with its loop's sum at 1e-5, passing in PyTorch and failing on NumPy's blocked np.dot)."""
    return np.add(np.add.accumulate(a * b)[-1], _F32.type(0))


def dot(input, other):
    """Inner product of two 1-D tensors."""
    try:
        return _dot(input, other, 'dot', 'DotBackward0')
    except (AttributeError, TypeError):
        check_tensor_args('dot', 'input', 'other:tensor')
        raise


class _ComplexVdotBackward(Node):
    """vdot(x, y) = sum conj(x) y on complex tensors, by PyTorch's convention: gx = conj(g) y, gy = g x (x's
    derivative is antiholomorphic, so its real formula's conjugations would be wrong)."""
    __slots__ = ('need',)

    def backward(self, g):
        x, y = self.saved()
        return (_complex._conj(g) * y if self.need[0] else None), (g * x if self.need[1] else None)


_ComplexVdotBackward.__name__ = _ComplexVdotBackward.__qualname__ = 'VdotBackward0'
_complex.GRAD_OK.add('VdotBackward0')   # (the real VdotBackward0 never makes a complex result)


def vdot(input, other):
    """Inner product of two 1-D tensors, the first conjugated (for real tensors: ``dot``, as VdotBackward0)."""
    try:
        complex_ = input._data.dtype.kind == 'c' or other._data.dtype.kind == 'c'
    except (AttributeError, TypeError):
        check_tensor_args('vdot', 'input', 'other')
        raise
    if not complex_:
        return _dot(input, other, 'vdot', 'VdotBackward0')
    need = (input._requires_grad, other._requires_grad)
    if not (GRAD.enabled and any(need)):
        return _dot(Tensor._make(np.conj(input._data)), other, 'vdot', 'VdotBackward0')
    with _no_grad():
        r = _dot(Tensor._make(np.conj(input._data)), other, 'vdot', 'VdotBackward0')
    node = _ComplexVdotBackward((input, other))
    node.need = need
    node.save(input if need[1] else None, other if need[0] else None)
    return Tensor._make(r._data, node)


def _no_grad():
    from ..autograd.grad_mode import no_grad
    return no_grad()


def inner(input, other):
    """Sum of products over the last dims (a product when either is 0-d), as PyTorch composes it."""
    try:
        scalar = input._data.ndim == 0 or other._data.ndim == 0
    except (AttributeError, TypeError):
        check_tensor_args('inner', 'input', 'other')
        raise
    if scalar:
        from .pointwise import mul
        return mul(input, other)
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f'inner() the last dimension must match on both input tensors but got shapes '
                           f'{list(input.shape)} and {list(other.shape)}')
    return tensordot(input, other, ([-1], [-1]))


def outer(input, vec2):
    """Outer product of two vectors (PyTorch records it as a broadcast multiply)."""
    from .pointwise import mul
    from .shape import unsqueeze
    for name, v in (('self', input), ('vec2', vec2)):
        if not isinstance(v, Tensor):
            check_tensor_args('outer', 'input', 'vec2')
        if v.dim() != 1:
            raise RuntimeError(f'outer: Expected 1-D argument {name}, but got {v.dim()}-D')
    return mul(unsqueeze(input, 1), vec2)


ger = outer


class AddmmBackward0(Node):
    """Backward of bias + x @ w (what ``nn.Linear`` records): three small GEMM-shaped pieces."""
    __slots__ = ('need', 'bshape', 'alpha', 'beta', 'shapes', 'strides')
    _need_order = True

    def backward(self, g):
        _, x, w = self.saved()
        if not dual.is_array(g):    # PyTorch's graph (maybe_multiply: C++'s t * s, MulBackward1, unless s is 1)
            gb = dual.sum_to(_maybe_multiply(g, self.beta), self.bshape) if self.need[0] else None
            gx, gw = _mm_grads_graph(g, x, w, self.need[1], self.need[2])
            gx, gw = (None if t is None else _maybe_multiply(t, self.alpha) for t in (gx, gw))
            return gb, gx, gw
        gb = dual.sum_to(g * self.beta, self.bshape) if self.need[0] else None
        gx = dual.matmul(g, w.swapaxes(-1, -2)) * self.alpha if self.need[1] else None
        gw = dual.matmul(x.swapaxes(-1, -2), g) * self.alpha if self.need[2] else None
        return gb, gx, gw


def _wide_product(fn, a, b, c):
    """``fn(a, b)``'s array, float32 and unrounded for bfloat16/float16 operands and input ``c`` (PyTorch's addmm
    family accumulates the product and adds ``beta * input`` in float32, rounding once: timm's Muon Newton-Schulz
    ``addmm(A, A, A, beta=b, alpha=c)`` in bfloat16 differed by 0.03 rounding the product first)."""
    if _flop_hook.COUNTERS and not _flop_hook.QUIET[0]:   # the product counts as the caller's addmm/baddbmm
        return _flop_hook.quietly(_wide_product, fn, a, b, c)
    dt = a._data.dtype
    if (dt == np.float16 or _bf16.is_bf16(dt)) and b._data.dtype == dt == c._data.dtype:   # not int16
        return fn(Tensor._make(_bf16.to_f32(a._data)), Tensor._make(_bf16.to_f32(b._data)))._data, dt
    return fn(Tensor._make(a._data), Tensor._make(b._data))._data, None


def _narrow(r, dt):
    """The float32 result ``r`` of _wide_product's sum (``beta * input`` taken in float32 too, the number
    unrounded) rounded once to the operands' dtype ``dt``."""
    if dt is None:
        return r
    return _bf16.from_f32(r) if _bf16.is_bf16(dt) else np.asarray(r).astype(dt)


def _addmm_dtypes(input, mat1, mat2):
    """PyTorch's addmm dtype checks, input against mat2 first (ember promoted a float32 bias with bfloat16
    matrices where PyTorch refuses). Every F.linear with a bias runs it: the equal case returns first."""
    d = mat2.dtype
    if input.dtype == d and mat1.dtype == d:
        return
    from .._dtype import scalar_name
    for name, t in (('self', input), ('mat1', mat1)):
        if t.dtype != mat2.dtype:
            raise RuntimeError(f'{name} and mat2 must have the same dtype, but got {scalar_name(t.dtype)} and '
                               f'{scalar_name(mat2.dtype)}')


@_autocast.lower_precision
@_quiet.rerun
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2)."""
    try:
        _addmm_dtypes(input, mat1, mat2)
        beta, alpha = _truncated_scalars(mat2, beta, alpha)
        m, dt = _wide_product(mm, mat1, mat2, input)
        r = m if alpha == 1 else m * alpha
        if beta != 0:   # beta == 0 ignores input, its NaN and inf included
            c = input._data if dt is None else _bf16.to_f32(input._data)
            r = r + (c if beta == 1 else c * beta)
        r = _narrow(r, dt)
        need = (input._requires_grad, mat1._requires_grad, mat2._requires_grad)
        if GRAD.enabled and any(need):
            node = AddmmBackward0((input, mat1, mat2))
            node.need, node.bshape, node.alpha, node.beta = need, input._data.shape, alpha, beta
            node.shapes, node.strides = (mat1._data.shape, mat2._data.shape), (mat1._data.strides, mat2._data.strides,
                                                                               mat1._data.itemsize)
            node.save(None, mat1 if need[2] else None, mat2 if need[1] else None)
            out = Tensor._make(r, node)
        else:
            out = Tensor._make(r)
        if _flop_hook.COUNTERS:
            _flop_hook.product('addmm', mat1.shape, mat2.shape, out, need[1:])
        return out
    except Exception:
        check_tensor_args('addmm', 'input', 'mat1', 'mat2')
        raise


class _LinearMm(Node):
    """The product inside ``F.linear`` on a 2-D view x2 of the input: edges (bias, x2, weight.T) for
    AddmmBackward0, (x2, weight.T) for MmBackward0, in PyTorch's order; it returns weight.T's gradient
    as the transposed view of a contiguous g^T x2, which TBackward0 turns back."""
    __slots__ = ('need',)

    def backward(self, g):
        x, w = self.saved()
        if not dual.is_array(g):
            return self._graph_backward(g, x, w)
        gx = _mkl_input_grad(g, w) if self.need[0] else None
        gwt = _mkl_weight_grad(g, x) if self.need[1] else None
        x2 = x.reshape((g.shape[0], x.shape[-1])) if self.need[1] else None
        if self.need[0] and self.need[1] and gx is None and gwt is None:
            gx, gw = gemm_pair(g, w, g.swapaxes(0, 1), x2, self._to_leaf())
            gwt = gw.swapaxes(0, 1)
        else:
            gx = dual.matmul(g, w) if self.need[0] and gx is None else gx
            gwt = dual.matmul(g.swapaxes(0, 1), x2).swapaxes(0, 1) if self.need[1] and gwt is None else gwt
        if self._n_edges == 2:
            return gx, gwt
        return (_bias_grad(g) if self.need[2] else None), gx, gwt

    def _graph_backward(self, g, x, w):
        """Under create_graph, PyTorch's graph: the product's second operand is weight.t() (stored transposed), so
        x2's gradient is g.mm(w.t().t()) and weight.t()'s is (g.t().mm(x2)).t(); the bias's is summed to its shape."""
        x2 = x if x is None or x.dim() == 2 else x.reshape(g.shape[0], x.shape[-1])
        gx, gwt = _mm_grads_graph(g, x2, None if w is None else w.t(), self.need[0], self.need[1])
        if self._n_edges == 2:
            return gx, gwt
        return (dual.sum_to(g, (g.shape[1],)) if self.need[2] else None), gx, gwt

    def _view_saved_shape(self, obj):
        """The shape of the view PyTorch saves in place of ``obj`` (its version error names that view): weight.t(),
        and an input that is not 2-D as a matrix; None for a 2-D input, saved as it is."""
        x, w = (None if e is None else e[0] for e in self._saved[:2])
        if obj is w:
            return w._data.shape[::-1]
        if obj is x and x._data.ndim != 2:
            return math.prod(x._data.shape[:-1]), x._data.shape[-1]
        return None

    def _to_leaf(self):
        """Whether the weight's gradient goes, unread, into a leaf's ``.grad``: inside the engine's pass (not
        under anomaly detection), through a plain TBackward0 to an AccumulateGrad. Its product may then run on
        while the backward goes on (backend.gemm_pair's ``overlap``); the engine settles it before any read. Not
        when this node has hooks: a post-hook reads its grad_inputs, the unfinished product among them."""
        t = self.next_functions[-1][0]
        if self._special or type(t) is not TBackward0 or t._special or GRAD.callbacks is False or ANOMALY[0]:
            return False
        leaf = t.next_functions[0][0]
        return type(leaf) is AccumulateGrad and not leaf._special


# need is (input, weight, bias); the edges (bias, input, weight.T) or (input, weight.T)
_LIN_MM = {n: type(n, (_LinearMm,), {'__slots__': (), '_n_edges': k, '_pack_order': order, '_need_order': need})
           for n, k, order, need in (('AddmmBackward0', 3, None, (2, 0, 1)), ('MmBackward0', 2, (1, 0), (0, 1)))}
_new = object.__new__


def _linear_mat1(node):
    """The product's first operand PyTorch saves for the weight's gradient: the input as a matrix."""
    x = node.saved(True)[0]
    return x if x is None or x.dim() == 2 else Tensor._make(x._data.reshape(-1, x.shape[-1]))


def _linear_mat2(node):
    """The second, saved for the input's gradient: the weight transposed."""
    w = node.saved(True)[1]
    return None if w is None else Tensor._make(w._data.T)


def _linear_saved(first):
    """PyTorch's saved attributes of F.linear's product node, its first operand called ``first`` ('mat1' for
    AddmmBackward0, 'self' for MmBackward0): the operands (each saved for the other's gradient), their sizes, and
    the strides of those that need a gradient."""
    return {first: _linear_mat1, 'mat2': _linear_mat2,
            f'{first}_sym_sizes': lambda node: (math.prod(node.xshape[:-1]), node.xshape[-1]),
            f'{first}_sym_strides': lambda node: (node.xshape[-1], 1) if node.need[0] else (),
            'mat2_sym_sizes': lambda node: (node.xshape[-1], node.out_features),
            'mat2_sym_strides': lambda node: (1, node.xshape[-1]) if node.need[1] else ()}


saved_attributes(_LIN_MM['AddmmBackward0'], alpha=lambda node: 1, beta=lambda node: 1, **_linear_saved('mat1'))
saved_attributes(_LIN_MM['MmBackward0'], **_linear_saved('self'))


def _product_saved(first, k):
    """PyTorch's saved attributes of a product node whose operands are ``saved()[k:k + 2]``, the first called
    ``first``: the operands, their sizes, and the strides of each that needs a gradient (in elements)."""
    def strides(i):
        def get(node):
            if not node.need[k + i]:
                return ()
            st, size = node.strides[i], node.strides[2]
            return tuple(s // size for s in st)
        return get
    return {first: lambda node: node.saved(True)[k], 'mat2': lambda node: node.saved(True)[k + 1],
            f'{first}_sym_sizes': lambda node: tuple(node.shapes[0]), f'{first}_sym_strides': strides(0),
            'mat2_sym_sizes': lambda node: tuple(node.shapes[1]), 'mat2_sym_strides': strides(1)}


def _raw_saved(cls, k, *names):
    """``_raw_saved_<name>`` of ``cls``: the SavedTensor of ``saved()[k + i]``."""
    from ..autograd import _saved_hooks
    for i, name in enumerate(names):
        setattr(cls, f'_raw_saved_{name}', property(lambda node, j=k + i: _saved_hooks.SavedTensor(node, j)))


saved_attributes(_NODES['MmBackward0'], **_product_saved('self', 0))
_raw_saved(_NODES['MmBackward0'], 0, 'self', 'mat2')
saved_attributes(AddmmBackward0, alpha=lambda node: node.alpha, beta=lambda node: node.beta,
                 **_product_saved('mat1', 1))
_raw_saved(AddmmBackward0, 1, 'mat1', 'mat2')
_SqueezeBackward4 = type('SqueezeBackward4', (Node,), {'__slots__': ('shape',), 'backward': lambda self, g: g.reshape(
    self.shape), '__doc__': 'Backward of dropping the row dim a 1-D input to F.linear gained.'})


def _view_node(cls, edge, shape):
    """A reshape node (ViewBackward0 and kin) on ``edge`` that gives gradients the shape ``shape``."""
    node = _new(cls)
    node._seq = next(SEQ)
    node.next_functions = (edge,)
    node.shape = shape
    return (node, 0)


def _linear_graph(input, weight, bias, r, need):
    """Record F.linear as PyTorch does: [View](Addmm|Mm)(bias, [View|Unsqueeze](x), TBackward0(weight))."""
    x = input._data
    xe = _edge(input) if need[0] else _NO_EDGE
    if need[0] and x.ndim > 2 and not input.is_contiguous():   # reshape copies it: PyTorch's clone, viewed
        clone = _new(CloneBackward0)
        clone._seq = next(SEQ)
        clone.next_functions = (xe,)
        xe = _view_node(UnsafeViewBackward0, (clone, 0), x.shape)
    elif need[0] and x.ndim != 2:
        xe = _view_node(UnsqueezeBackward0 if x.ndim == 1 and bias is None else ViewBackward0, xe, x.shape)
    we = _NO_EDGE
    if need[1]:
        t = _new(TBackward0)
        t._seq = next(SEQ)
        t.next_functions = (_edge(weight),)
        we = (t, 0)
    if bias is None:
        mm = _new(_LIN_MM['MmBackward0'])
        mm.next_functions = (xe, we)
    else:
        mm = _new(_LIN_MM['AddmmBackward0'])
        mm.next_functions = (_edge(bias) if need[2] else _NO_EDGE, xe, we)
    mm._seq = next(SEQ)
    mm.need, mm.xshape, mm.out_features = need, x.shape, weight._data.shape[0]
    mm.save(input if need[1] else None, weight if need[0] else None)
    if x.ndim == 2:
        return Tensor._make(r, mm)
    if x.ndim == 1:
        out = _SqueezeBackward4 if bias is None else ViewBackward0
    else:
        out = UnsafeViewBackward0 if bias is None else ViewBackward0
    node, _ = _view_node(out, (mm, 0), (math.prod(x.shape[:-1]), r.shape[-1]))
    return Tensor._make(r, node)


@_autocast.lower_precision
def linear(input, weight, bias=None):
    """x @ weight.T + bias: one GEMM forward, two backward; the graph is PyTorch's (see _linear_graph)."""
    x, w = input._data, weight._data
    if w.ndim < 2 or x.ndim == 0:
        return _linear_vector(input, weight, bias)
    addmm = bias is not None and (x.ndim == 2 or bias.dim() == 1 and input.is_contiguous())
    if addmm:
        _addmm_dtypes(bias, input, weight)
    elif x.dtype != w.dtype:
        _same_dtype(x, w.T, 'linear')
    if x.shape[-1] != w.shape[-1]:
        raise RuntimeError(f'mat1 and mat2 shapes cannot be multiplied ({_mat2(x)} and {w.shape[-1]}x{w.shape[0]})'
                           f'\n(linear: input {fmt_shape(x.shape)} needs last dim = in_features = {w.shape[-1]})')
    if x.dtype.kind == 'b':
        raise not_implemented('addmm_impl_cpu_', x.dtype)
    if bias is not None and not addmm:
        # PyTorch folds the bias into addmm only for a 2-D input or a contiguous one with a 1-D bias; else it is matmul
        # and then an in-place add (AddBackward0 over the product, in the input's dtype whatever the bias's; in
        # bfloat16/float16 two roundings: diffusers' attention projections of a transposed input under
        # autocast(bfloat16), 31% of values one ulp off when rounded once)
        return linear(input, weight).add_(bias)
    if bias is not None and bias._data.shape != w.shape[:1] and w.ndim == 2:
        bias = bias.expand(w.shape[:1])   # a broadcast (0-d, (1,)) bias: its gradient summed back by ExpandBackward0
    r = _half_linear(x, w, bias) if x.dtype is _F16 and w.ndim == 2 else None
    if r is None and x.dtype is _F16 and bias is not None:
        # float16: the bias added to the float32 product, rounded once, as PyTorch's addmm (was rounded twice: 31 of
        # 128 values of an (8, 64) x (64, 16) layer differed from PyTorch's, none now)
        r = gemm(x.astype(np.float32), w.T.astype(np.float32), bias=bias._data.astype(np.float32)).astype(_F16)
    elif r is None:
        r = _mkl_linear(x, w, bias)
    if r is None:
        r = gemm(x, w.T, bias=None if bias is None else bias._data)
    need = (input._requires_grad, weight._requires_grad, bias is not None and bias._requires_grad)
    out = _linear_graph(input, weight, bias, r, need) if GRAD.enabled and (need[0] or need[1] or need[2]) else \
        Tensor._make(r)
    if _flop_hook.COUNTERS:
        _flop_hook.product('addmm' if addmm else 'mm', (math.prod(x.shape[:-1]), x.shape[-1]), w.T.shape, out,
                           need[:2])
    return out


def _mkl_linear(x, w, bias):
    """Under the opt-in exact kernels, a float32 layer of 1-11 outputs in MKL's summation order (ops._mkl_narrow:
    bit for bit PyTorch's, where OpenBLAS's differed in most shapes; 5-60x the plain product's cost), else None."""
    if not _exact.enabled() or w.ndim != 2 or not x.ndim or not x.flags.c_contiguous:
        return None
    rows = x.reshape(-1, x.shape[-1])
    if not _mkl_narrow.applies(rows, w):
        return None
    return _mkl_narrow.linear(rows, w, None if bias is None else bias._data).reshape(x.shape[:-1] + w.shape[:1])


def _mkl_input_grad(g, w):
    """Under the opt-in exact kernels, a float32 linear layer's input gradient g @ w in MKL's order: the same kernels
    as the weight's gradient with the outputs summed (ops._mkl_narrow.weight_grad of g.T and w); one input feature
    is MKL's matrix-vector kernel with g's rows as its outputs (ops._mkl_narrow.linear of g and w.T: batch 1 of 7-255
    outputs was a step off in 3 of 11 widths). Else None."""
    if not _exact.enabled() or type(g) is not np.ndarray or type(w) is not np.ndarray or w.ndim != 2 or \
            g.ndim != 2:
        return None
    if w.shape[1] == 1:
        wt = w.T
        return _mkl_narrow.linear(g, wt) if g.flags.c_contiguous and wt.flags.c_contiguous and \
            _mkl_narrow.applies(g, wt) else None
    gt, threads = np.ascontiguousarray(g.T), blas_threads()
    if not _mkl_narrow.grad_applies(gt, w, threads):
        return None
    return _mkl_narrow.weight_grad(gt, w, threads)


def _bias_grad(g):
    """A linear layer's bias gradient, g summed over its rows: under the opt-in exact kernels in PyTorch's sum order
    (ops._sumorder, bit for bit where it has that order; 4-50x the product with ones that col_sums is otherwise)."""
    r = ordered_sum(g, axis=(0,)) if _exact.enabled() and type(g) is np.ndarray and g.ndim == 2 else None
    return col_sums(g) if r is None else r


def _mkl_weight_grad(g, x):
    """Under the opt-in exact kernels, a float32 linear layer's weight gradient (g.T @ x, returned as its transposed
    view) in MKL's order where ops._mkl_narrow emulates it (see its docstring), else None."""
    if not _exact.enabled() or type(g) is not np.ndarray or type(x) is not np.ndarray:
        return None
    x2 = x.reshape(g.shape[0], x.shape[-1]) if x.ndim != 2 and x.flags.c_contiguous else x
    threads = blas_threads()
    if not _mkl_narrow.grad_applies(g, x2, threads):
        return None
    return _mkl_narrow.weight_grad(g, x2, threads).swapaxes(0, 1)


def _linear_vector(input, weight, bias):
    """F.linear with a 1-D weight (norse's recurrent weights of one neuron) as PyTorch computes it:
    ``matmul(input, weight)`` (a dot or mv, PyTorch's graph), plus the bias; 0-D operands are refused, and so is a
    bias with a 2-D input, or a 1-D bias with a contiguous input, which PyTorch sends to addmm."""
    if input.dim() == 0 or weight.dim() == 0:
        raise RuntimeError(f'both arguments to linear need to be at least 1D, but they are {input.dim()}D and '
                           f'{weight.dim()}D')
    if bias is not None and (input.dim() == 2 or bias.dim() == 1 and input.is_contiguous()):
        raise RuntimeError('mat2 must be a matrix, got 1-D tensor')
    out = matmul(input, weight)
    if bias is None:
        return out
    from .pointwise import add
    return add(out, bias)


def _half_linear(x, w, bias):
    """A float16 linear layer as PyTorch's addmm on the rows of ``x`` (ops._halfgemm's vectorised dot), or None
    where that kernel does not apply."""
    rows = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
    r = _halfgemm.matmul(rows, w.T, None if bias is None else bias._data)
    return None if r is None else r.reshape(x.shape[:-1] + (w.shape[0],))


def _trilinear(x1, weight, x2):
    return einsum('ni,oij,nj->no', x1, weight, x2)


TrilinearBackward0 = _composite.node_class('TrilinearBackward0')


def _check_bilinear(input1, input2, weight, bias):
    """aten's checks of bilinear's shapes, in its order and words."""
    if input1.dim() != input2.dim():
        raise RuntimeError(f'bilinear(): input dimensions do not match: got {input1.dim()} and {input2.dim()}')
    for i in range(input1.dim() - 1):
        if input1.shape[i] != input2.shape[i]:
            raise RuntimeError(f'bilinear(): input batch dimensions do not match at dim {i}: got {input1.shape[i]} '
                               f'and {input2.shape[i]}')
    for k, x in ((1, input1), (2, input2)):
        if x.shape[-1] != weight.size(k):
            raise RuntimeError(f'bilinear(): input{k} size does not match weight size: got {x.shape[-1]} but '
                               f'expected {weight.size(k)}')
    if bias is not None and bias.size(0) != weight.size(0):
        raise RuntimeError(f'bilinear(): bias size does not match weight size: got {bias.size(0)} but expected '
                           f'{weight.size(0)}')
    if weight.dim() != 3:
        raise RuntimeError('number of dimensions must match')


def bilinear(input1, input2, weight, bias=None):
    """x1^T A x2 + b for each output feature, in PyTorch's graph: the inputs flattened to 2-D, one
    TrilinearBackward0 node, reshaped to the batch shape (ViewBackward0), plus the bias (AddBackward0)."""
    try:
        _check_bilinear(input1, input2, weight, bias)
        out_shape = tuple(input1.shape[:-1]) + (weight.shape[0],)
        x1, x2 = input1.reshape(-1, input1.shape[-1]), input2.reshape(-1, input2.shape[-1])
        r = _composite.composite(TrilinearBackward0, _trilinear, (x1, weight, x2)).reshape(out_shape)
        if bias is not None:
            from .pointwise import add
            r = add(r, bias)
        return r
    except (AttributeError, TypeError):
        check_tensor_args('bilinear', 'input1', 'input2', 'weight', 'bias?')
        raise


# -- einsum ---------------------------------------------------------------------------------------------
def _parse(eq, arrays):
    """Explicit subscripts for each operand and the output (ellipsis expanded to letters)."""
    eq = eq.replace(' ', '')
    lhs, _, rhs = eq.partition('->')
    ins = lhs.split(',')
    if len(ins) != len(arrays):
        more = 'more' if len(arrays) > len(ins) else 'fewer'
        raise RuntimeError(f'einsum(): {more} operands were provided than specified in the equation\n'
                           f'({len(ins)} in the equation, {len(arrays)} given)')
    used = set(re.sub(r'[^a-zA-Z]', '', eq))
    spare = [c for c in 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz' if c not in used]
    ell_n = 0
    for s, a in zip(ins, arrays):
        if '...' in s:
            ell_n = max(ell_n, a.ndim - len(s.replace('...', '')))
    ell = ''.join(spare[:ell_n])
    subs = []
    for s, a in zip(ins, arrays):
        if '...' in s:
            k = a.ndim - len(s.replace('...', ''))
            s = s.replace('...', ell[ell_n - k:] if k else '')
        subs.append(s)
    if _ == '':
        counts = {}
        for s in subs:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = ell + ''.join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        out = rhs.replace('...', ell)
    return subs, out


def _einsum_dtypes(subs, out, dtypes):
    """PyTorch's einsum dtypes: (each operand's, the result's). It sums an operand's own labels first (integers
    and bools then count in int64, as sum does) and folds the operands left to right: a pair that contracts a
    label goes through bmm (one dtype, no bool), one that does not through mul (promoted). Raises bmm's errors."""
    from .._dtype import int64, promote_types, scalar_name
    dts = []
    for i, (s, d) in enumerate(zip(subs, dtypes)):
        others = set(out).union(*(t for j, t in enumerate(subs) if j != i))
        dts.append(int64 if d._cat < 2 and any(c not in others for c in s) else d)
    cur, labels = dts[0], set(subs[0])
    for i in range(1, len(subs)):
        later = set(out).union(*subs[i + 1:])
        if any(c in subs[i] and c not in later for c in labels):   # a contraction: bmm
            if cur._cat == 0:
                raise not_implemented('bmm', cur.np)
            if cur is not dts[i]:
                raise RuntimeError(f'expected scalar type {scalar_name(cur)} but found {scalar_name(dts[i])}')
        else:
            cur = promote_types(cur, dts[i])
        labels |= set(subs[i])
    return dts, cur


def _einsum_arr(eq, *arrays):
    """NumPy's einsum; three or more operands folded left to right, a pair at a time, each intermediate keeping
    the labels still needed, as PyTorch contracts them without opt_einsum (NumPy's optimized path pairs them
    otherwise: e3nn's complex change of basis left 1e-17 residues, printed -0.0000, where PyTorch's are exact 0)."""
    if len(arrays) < 3:
        return np.einsum(eq, *arrays)
    lhs, out = eq.split('->')
    subs = lhs.split(',')
    acc, acc_s = arrays[0], subs[0]
    for i in range(1, len(subs)):
        later = set(out).union(*subs[i + 1:])
        keep = ''.join(c for c in dict.fromkeys(acc_s + subs[i]) if c in later)
        acc, acc_s = np.einsum(f'{acc_s},{subs[i]}->{keep}', acc, arrays[i]), keep
    return np.einsum(f'{acc_s}->{out}', acc)


def _is_product(subs, out):
    """Whether an einsum only multiplies two operands: no label repeated, none contracted by both."""
    return len(subs) == 2 and all(len(set(s)) == len(s) for s in subs) and \
        not any(c not in out and c in subs[1] for c in subs[0])


def _product_arr(subs, out, arrays):
    """A two-operand einsum that only multiplies (no label repeated, none contracted by both) as PyTorch computes
    it: an operand's own labels summed first, each permuted to the output's order and broadcast, one elementwise
    product laid out as PyTorch's mul lays it out (NumPy's einsum follows its operands). None where not so."""
    if not _is_product(subs, out):
        return None
    from .reduction import _sum
    views = []
    for s, a, other in zip(subs, arrays, subs[::-1]):
        v = a.transpose(sorted(range(len(s)), key=lambda k: out.index(s[k]) if s[k] in out else len(out)))
        s = ''.join(sorted(s, key=lambda c: out.index(c) if c in out else len(out)))
        if len(set(s) - set(out)):   # labels of this operand alone, summed first (a contiguous sum) as PyTorch does
            n = len(s) - len(set(s) - set(out))
            v, s = _sum(v, tuple(range(n, len(s))), False, v.dtype), s[:n]
            v = v if v.flags.c_contiguous else v.copy(order='C')
        views.append(v.reshape(tuple(v.shape[s.index(c)] if c in s else 1 for c in out)))
    r = np.multiply(*views)
    return r if all(v.flags.c_contiguous for v in views) else _layout.follow(r, views)


def _contract_plan(subs, out, shapes, kinds, ell=()):
    """How a two-operand einsum that contracts labels shared by both runs as PyTorch computes it: each operand's own
    labels summed first, then one bmm of (batch, left, summed) by (batch, summed, right), so the result equals ``@``
    bit for bit as PyTorch's does (exact vs PyTorch on 26 of 150 random float32 'ij,jk->ik' against NumPy's einsum
    loop's 13; the rest is gemm's rounding, as matmul's). None where not so (a repeated or broadcast label)."""
    if len(subs) != 2 or any(len(set(s)) != len(s) for s in subs) or any(k != 'f' for k in kinds):
        return None
    size = [dict(zip(s, sh)) for s, sh in zip(subs, shapes)]
    shared = set(subs[0]) & set(subs[1])
    if any(size[0][c] != size[1][c] for c in shared) or not shared - set(out):
        return None
    own = tuple(tuple(k for k, c in enumerate(s) if c not in out and c not in shared) for s in subs)
    sl, sr = (''.join(c for c in s if c in out or c in shared) for s in subs)
    dims = {**size[0], **size[1]}
    batch = [c for c in out if c in shared]
    summed = sorted((c for c in sl if c not in out), key=lambda c: (c not in ell, c))   # PyTorch's order: an
    # ellipsis's dims, then labels A-Z, a-z (it sums them in that order: 'a...c,ca...->c' was a step off)
    lo, ro = [c for c in out if c in sl and c not in shared], [c for c in out if c in sr and c not in shared]
    ko = [out.index(c) for c in lo] or [-1]
    kr = [out.index(c) for c in ro] or [-1]
    swap = bool(lo and ro and min(kr) < min(ko) and max(ko) > max(kr))   # PyTorch 2.13 runs bmm(right, left) here
    stacks = ((1, sr, ro, summed), (0, sl, summed, lo)) if swap else ((0, sl, lo, summed), (1, sr, summed, ro))
    views = []
    for i, s, rows, cols in stacks:
        perm = tuple(s.index(c) for c in batch + rows + cols)
        views.append((i, None if perm == tuple(range(len(s))) else perm,
                      tuple(math.prod(dims[c] for c in part) for part in (batch, rows, cols))))
    (_, _, (n, m, k)), (_, _, (_, _, p)) = views
    gemm2d = n == 1 and m * k * p >= _NAIVE_BMM_MACS   # one matrix: 2-D gemm, the stack's bits 4x faster (256^3)
    got = batch + (ro + lo if swap else lo + ro)
    back = tuple(got.index(c) for c in out)
    return own, tuple(views), gemm2d, tuple(dims[c] for c in got), None if back == tuple(range(len(out))) else back


def _contract_run(plan, arrays):
    """The contraction ``plan`` (_contract_plan's) of two arrays."""
    from .reduction import _sum
    own, views, gemm2d, got, back = plan
    arrays = [_sum(a, o, False, a.dtype) if o else a for a, o in zip(arrays, own)]   # labels of one operand alone
    (i, pi, si), (j, pj, sj) = views
    x = (arrays[i] if pi is None else arrays[i].transpose(pi)).reshape(si)
    y = (arrays[j] if pj is None else arrays[j].transpose(pj)).reshape(sj)
    r = (_mat_product(x[0], y[0]) if gemm2d else _stack_product(x, y)).reshape(got)
    return r if back is None else r.transpose(back)


def _layout_plan(subs, out, shapes):
    """How PyTorch's einsum lays its result in memory (NumPy's follows the operands' order, so ``.view`` of it
    failed where PyTorch's works and later ops ran strided): True for one operand summed (contiguous, as sum's
    result); for two that contract a label, bmm's dim order (batch labels, left-only, right-only; each in output
    order) and its inverse; None (NumPy's layout kept) for views, products without a contraction and 3+ operands."""
    if len(subs) == 1:
        return set(out) != set(subs[0]) or None
    if len(subs) != 2:
        return None
    size = [dict(zip(s, sh)) for s, sh in zip(subs, shapes)]
    if not any(size[0].get(c, 1) != 1 and size[1].get(c, 1) != 1 for c in set(subs[0] + subs[1]) - set(out)):
        return None   # no label contracted by both: PyTorch multiplies
    groups = ([], [], [])
    for k, c in enumerate(out):
        sl, sr = size[0].get(c, 1) != 1, size[1].get(c, 1) != 1
        groups[0 if sl and sr else 1 if sl else 2].append(k)
    lo = [k for k, c in enumerate(out) if c not in subs[1]]   # (by subscripts, whatever the sizes)
    ro = [k for k, c in enumerate(out) if c not in subs[0]]
    swap = lo and ro and min(ro) < min(lo) and max(lo) > max(ro)   # PyTorch 2.13 then runs bmm(right, left)
    lo, ro = groups[1], groups[2]
    order = groups[0] + (ro + lo if swap else lo + ro)
    return tuple(order), tuple(sorted(range(len(order)), key=order.__getitem__))


def _einsum_layout(r, plan):
    """``r`` laid out as _layout_plan's ``plan`` says."""
    if plan is None:
        return r
    if plan is True:
        return r if r.flags.c_contiguous else r.copy(order='C')
    order, inverse = plan
    mem = r.transpose(order)
    if not mem.flags.c_contiguous:
        r = np.ascontiguousarray(mem).transpose(inverse)
    if 1 not in r.shape:
        return r
    want = list(r.strides)   # a size-1 dim's stride as PyTorch's final view gives it: the next dim's extent
    for k in range(r.ndim - 1, -1, -1):
        if r.shape[k] == 1:
            want[k] = want[k + 1] * r.shape[k + 1] if k + 1 < r.ndim else r.itemsize
    return r if tuple(want) == r.strides else np.lib.stride_tricks.as_strided(r, strides=want)


class EinsumBackward0(Node):
    """Each operand's gradient is another einsum of the output gradient with the other operands."""
    __slots__ = ('subs', 'out', 'shapes', 'need')
    _need_order = True

    def backward(self, g):
        ops = self.saved()
        grads = []
        for i, s in enumerate(self.subs):
            if not self.need[i]:
                grads.append(None)
                continue
            u = ''.join(dict.fromkeys(s))       # a repeated index (a diagonal) once
            size = {c: self.shapes[i][s.index(c)] for c in u}
            others = [o for j, o in enumerate(ops) if j != i]
            osubs = [self.out] + [t for j, t in enumerate(self.subs) if j != i]
            avail = set(''.join(osubs))
            keep = ''.join(c for c in u if c in avail)
            eq = ','.join(osubs) + '->' + keep
            r = _einsum_arr(eq, g, *others) if dual.is_array(g) else einsum(eq, g, *others)
            target = tuple(size[c] for c in keep)   # a label of size 1 in one operand broadcasts: summed back
            r = dual.sum_to(r, target)              # here, or spread to this operand's size where only it is wide
            if tuple(r.shape) != target:
                r = dual.expand(r, target)
            if keep != u:
                r = dual.expand(r.reshape(tuple(size[c] if c in avail else 1 for c in u)), tuple(size[c] for c in u))
            if u != s:
                grid = np.indices(tuple(size[c] for c in u), sparse=True)
                r = dual.index_add(self.shapes[i], tuple(grid[u.index(c)] for c in s), r)
            grads.append(r)
        return tuple(grads)


# A two-operand contraction (_contract_plan's) that needs a gradient keeps one node, named as PyTorch's last op of
# its decomposition (a view of the bmm): its gradients are the same bmm products (bitwise, checked in
# tests/test_einsum_exact.py), without the ~12 view/permute nodes composing it costs ('bi,ij->bj' (4,8)x(8,16)
# fwd+bwd 41 us this way, 158 composed).
class _ContractBackward(EinsumBackward0):
    """The gradients of a contraction run from its plan: bmm's two products (_bmm_grads) of the output gradient
    laid out as the bmm's result, each permuted back and spread over the operand's own summed labels."""
    __slots__ = ('plan',)

    def backward(self, g):
        if not dual.is_array(g):
            return EinsumBackward0.backward(self, g)
        from .reduction import _sum
        own, views, _, got, back = self.plan
        arrays = [None if a is None else _sum(a, o, False, a.dtype) if o else a for a, o in zip(self.saved(), own)]
        if back is not None:
            g = g.transpose(np.argsort(back))
        (i, pi, si), (j, pj, sj) = views
        mats = [None if a is None else (a if p is None else a.transpose(p)).reshape(sh)
                for a, p, sh in ((arrays[i], pi, si), (arrays[j], pj, sj))]
        need = (self.need[i], self.need[j])
        grads = dict(zip((i, j), _bmm_grads(g.reshape(si[0], si[1], sj[2]), mats[0], mats[1], need)))
        out = []
        for k, p in ((i, pi), (j, pj)):
            r = grads[k]
            if r is not None:
                shape = tuple(n for d, n in enumerate(self.shapes[k]) if d not in own[k])   # after its own sums
                r = r.reshape(shape if p is None else tuple(shape[d] for d in p))
                r = r if p is None else r.transpose(np.argsort(p))
                if own[k]:
                    r = np.ascontiguousarray(np.broadcast_to(np.expand_dims(r, own[k]), self.shapes[k]))
            out.append(r)
        return tuple(out) if i == 0 else tuple(out[::-1])


_ContractBackward.__name__ = _ContractBackward.__qualname__ = 'ViewBackward0'


def _sublist_equation(args):
    """PyTorch's sublist form ``einsum(op1, [0, 1], op2, [1, 2], [0, 2])`` as (equation, operands): subscripts
    0-25 are 'A'-'Z', 26-51 'a'-'z', Ellipsis '...'; a trailing odd list is the output's."""
    def letter(n):
        if n is Ellipsis:
            return '...'
        if 0 <= n < 26:
            return chr(ord('A') + n)
        if 26 <= n < 52:
            return chr(ord('a') + n - 26)
        raise ValueError('einsum(): subscript in subscript list is not within the valid range [0, 52)')
    equation = ','.join(''.join(letter(n) for n in sub) for sub in args[1::2])
    if len(args) % 2 == 1:
        return equation + '->' + ''.join(letter(n) for n in args[-1]), args[:-1:2]
    return equation, args[::2]


def _check_label_sizes(subs, arrays, ellipsis):
    """PyTorch's errors where a subscript's sizes differ across the operands and neither is 1 (backpack's
    BatchL2Grad on a grouped convolution met it), or within one operand; ``ellipsis``: the labels '...' became."""
    seen = {}
    for k, (s, a) in enumerate(zip(subs, arrays)):
        own = {}
        for d, (label, size) in enumerate(zip(s, a.shape)):
            if label in own and own[label] != size:
                raise RuntimeError(f'einsum(): subscript {label} is repeated for operand {k} but the sizes don\'t '
                                   f'match, {size} != {own[label]}')
            own[label] = size
            prev = seen.get(label, 1)
            if size != 1 and prev != 1 and size != prev:
                if label in ellipsis:
                    raise RuntimeError(f'einsum(): dimension {d} covered by ellipsis in operand {k}has size {size} '
                                       f'which does not broadcast with previously seen ellipsis with size {prev} for '
                                       'the respective dimension')
                raise RuntimeError(f'einsum(): subscript {label} has size {size} for operand {k} which does not '
                                   f'broadcast with previously seen size {prev}')
            if prev == 1:
                seen[label] = size


def _contracts_by_bmm(subs, out):
    """Whether PyTorch's einsum runs ``subs -> out`` as one bmm of its two operands as given (every summed label
    in both, none repeated): under CPU autocast that bmm casts them to the autocast dtype. Other equations (a
    product without sums, an operand's own sum first, three or more operands) keep their dtypes here."""
    if len(subs) != 2 or any('.' in s or len(set(s)) != len(s) for s in subs):
        return False
    summed = (set(subs[0]) | set(subs[1])) - set(out)
    return bool(summed) and summed <= set(subs[0]) & set(subs[1])


def einsum(*args):
    """Einstein summation over the operands' subscripts (NumPy's einsum forward); the equation may also be
    given as PyTorch's sublists."""
    if len(args) < 2:
        raise ValueError('einsum(): must specify the equation string and at least one operand, or at least one '
                         'operand and its subscripts list')
    if not isinstance(args[0], str):
        equation, operands = _sublist_equation(args)
    else:
        equation, operands = args[0], args[1:]
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    arrays = [o._data for o in operands]
    shapes = tuple(a.shape for a in arrays)
    dtypes = tuple(o.dtype for o in operands)
    if _autocast.STATE.enabled:   # (its bmm casts float operands to one dtype: a bfloat16/float32 pair passes)
        low = _autocast.STATE.dtype
        dtypes = tuple(low if d.is_floating_point and d.itemsize <= 4 else d for d in dtypes)
    plan = _EINSUM_PLANS.get((equation, shapes, dtypes))
    if plan is None:
        plan = _einsum_plan(equation, arrays, dtypes)
    subs, out, dts, dt, contract, layout = plan
    need = tuple(o._requires_grad for o in operands)
    # half operands: three or more go pairwise, each product rounded, as PyTorch's (one float32 contraction had 6
    # of 12 float16 bilinear values off)
    if _autocast.STATE.enabled or GRAD.enabled and any(need) and contract is None or \
            len(subs) > 2 and dt.is_floating_point and dt.itemsize == 2:
        from ._einsum_composed import einsum_composed   # PyTorch's grad_fn, gradients and autocast dtypes
        return einsum_composed(equation, operands)
    try:   # (an operand's own sum in int64, as PyTorch's: NumPy would sum bools as bools, int8 in int8)
        cast = [a if a.dtype == d.np else a.astype(d.np) for a, d in zip(arrays, dts)]
        if contract is not None:
            r = _contract_run(contract, cast)
        else:
            r = _product_arr(subs, out, cast)
            r = np.asarray(_einsum_arr(','.join(subs) + '->' + out, *cast) if r is None else r)
    except ValueError as e:
        raise RuntimeError(f'einsum(): operands do not broadcast with the subscripts {equation!r}: {e}') from None
    if r.dtype != dt.np:   # (NumPy promotes as NumPy does: int64 with float32 to float64)
        from ._util import cast_array
        r = cast_array(r, dt.np)
    r = _einsum_layout(r, layout)
    if GRAD.enabled and any(need):
        node = _ContractBackward(operands)
        node.subs, node.out, node.shapes, node.need, node.plan = subs, out, list(shapes), need, contract
        node.save(*(o if need[1 - k] else None for k, o in enumerate(operands)))   # each for the other's gradient
        result = Tensor._make(r, node)
    else:
        result = Tensor._make(r)
    if _flop_hook.COUNTERS and len(subs) == 2:
        _flop_hook.einsum(subs, out, list(shapes), result, need)
    return result


def _einsum_plan(equation, arrays, dtypes):
    """(subscripts, output, operand dtypes, result dtype, _contract_plan, _layout_plan) of an einsum, after its
    checks; kept by (equation, shapes, dtypes), so a repeated small einsum skips them (they were 4/5 of
    'bi,ij->bj' (4,8)x(8,6): 64 -> 12 us measured; a first call 45)."""
    subs, out = _parse(equation, arrays)
    for s, a in zip(subs, arrays):
        if len(s) != a.ndim:
            raise RuntimeError(f'einsum(): the number of subscripts in the equation ({len(s)}) does not match the '
                               f'number of dimensions ({a.ndim}) for operand {subs.index(s)}')
    ell = set(''.join(subs)) - set(equation)
    _check_label_sizes(subs, arrays, ell)
    dts, dt = _einsum_dtypes(subs, out, dtypes)
    shapes = tuple(a.shape for a in arrays)
    plan = subs, out, dts, dt, _contract_plan(subs, out, shapes, [d.np.kind for d in dts], ell), \
        _layout_plan(subs, out, shapes)
    if len(_EINSUM_PLANS) >= 1024:
        _EINSUM_PLANS.clear()
    _EINSUM_PLANS[equation, shapes, dtypes] = plan
    return plan


_EINSUM_PLANS = {}


def _tensordot_dims(a, b, dims):
    """tensordot's ``dims`` as the two lists of dims PyTorch's front end makes: an int n is a's last n dims (as
    negative dims) and b's first n, a one-element tensor the same, a pair of lists (or a 2 x k tensor) as given."""
    if isinstance(dims, Tensor):
        if dims.numel() > 1:
            if dims.shape[0] != 2:
                raise AssertionError(f'dims tensor must have size 2 in first dimension, got {dims.shape[0]}')
            dims = (dims[0].tolist(), dims[1].tolist())
        elif int(dims.item()) < 0:
            raise RuntimeError(f'tensordot expects dims >= 0, but got dims={dims}')
        else:
            n = int(dims.item())
            return list(range(-n, 0)), list(range(n))
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f'tensordot expects dims >= 0, but got dims={dims}')
        if dims > min(a.dim(), b.dim()):
            raise RuntimeError(f'tensordot expects dims < ndim_a or ndim_b, but got dims={dims}')
        return list(range(-dims, 0)), list(range(dims))
    if not isinstance(dims, (tuple, list)):
        raise RuntimeError('tensordot expects dims to be int or tuple[list[int], list[int]] or list[list[int]] '
                           f'containing two lists, but got dims={dims}')
    da, db = dims
    for d, arg in ((da, "'dims_self' (position 3)"), (db, "'dims_other' (position 4)")):
        if not isinstance(d, (tuple, list)):
            raise TypeError(f'tensordot(): argument {arg} must be tuple of ints, not {type(d).__name__}')
    return list(da), list(db)


def tensordot(a, b, dims=2):
    """Contract dims ``dims`` of a with those of b: both permuted and reshaped to matrices, one mm, then the
    result reshaped (PyTorch's composition, so grad_fn is ViewBackward0)."""
    from .shape import permute, reshape
    from .reduction import sum as _sum
    given_a, given_b = _tensordot_dims(a, b, dims)
    if len(given_a) != len(given_b):
        raise RuntimeError('both dimension lists should have same length')
    da, db = [wrap_dim(d, a.dim()) for d in given_a], [wrap_dim(d, b.dim()) for d in given_b]
    csize, t1, t2 = 1, a, b
    for i, j, gi, gj in zip(da, db, given_a, given_b):
        s1, s2 = a.shape[i], b.shape[j]
        if s2 == 1:         # a broadcast dim is summed right away (in the operand's dtype: int32 stays int32)
            t1 = _sum(t1, i, keepdim=True, dtype=t1.dtype)
        elif s1 == 1:
            t2 = _sum(t2, j, keepdim=True, dtype=t2.dtype)
        elif s1 != s2:
            raise RuntimeError(f'contracted dimensions need to match, but first has size {s1} in dim {gi} and second '
                               f'has size {s2} in dim {gj}')
        else:
            csize *= s1
    keep1 = [k for k in range(a.dim()) if k not in da]
    keep2 = [k for k in range(b.dim()) if k not in db]
    rsizes = [t1.shape[k] for k in keep1] + [t2.shape[k] for k in keep2]
    size1 = int(np.prod([t1.shape[k] for k in keep1], dtype=np.int64))
    size2 = int(np.prod([t2.shape[k] for k in keep2], dtype=np.int64))
    m1 = reshape(permute(t1, keep1 + da), (size1, csize))
    m2 = reshape(permute(t2, db + keep2), (csize, size2))
    return reshape(mm(m1, m2), rsizes)


class _AddProduct(Node):
    """beta * input + alpha * (x @ y) as one node (AddmvBackward0, BaddbmmBackward0)."""
    __slots__ = ('need', 'bshape', 'alpha', 'beta')
    _need_order = True

    def backward(self, g):
        x, y = self.saved()
        if not dual.is_array(g):
            return self._graph_backward(g, x, y)
        gi = dual.sum_to(g * self.beta if self.beta != 1 else g, self.bshape) if self.need[0] else None
        gx = gy = None
        if self.need[1]:
            gx = dual.matmul(g[..., None], y[..., None, :]) if y.ndim == 1 else dual.matmul(g, y.swapaxes(-1, -2))
            gx = gx * self.alpha if self.alpha != 1 else gx
        if self.need[2]:
            gy = dual.matmul(x.swapaxes(-1, -2), g[..., None])[..., 0] if y.ndim == 1 else \
                dual.matmul(x.swapaxes(-1, -2), g)
            gy = gy * self.alpha if self.alpha != 1 else gy
        return gi, gx, gy


    def _graph_backward(self, g, x, y):
        """Under create_graph, PyTorch's formulas: baddbmm's g.bmm(y.transpose(1, 2)) and x.transpose(1, 2).bmm(g),
        addmv's g.ger(vec) (g.reshape(n, 1) * vec) and mat.t().mv(g), each through maybe_multiply (C++'s t * s,
        MulBackward1, unless s is 1); ember's array formula recorded MulBackward0 with a None edge and matmul's
        nodes."""
        need = self.need
        gi = dual.sum_to(_maybe_multiply(g, self.beta), self.bshape) if need[0] else None
        if y.dim() == 1:
            gx = g.reshape(g.shape[0], 1) * y if need[1] else None
            gy = x.t().mv(g) if need[2] else None
        else:
            gx = g.bmm(y.transpose(1, 2)) if need[1] else None
            gy = x.transpose(1, 2).bmm(g) if need[2] else None
        return gi, *(None if t is None else _maybe_multiply(t, self.alpha) for t in (gx, gy))


def _maybe_multiply(t, s):
    """PyTorch's maybe_multiply: t unless s is 1, else C++'s t * s (MulBackward1 on tensors)."""
    return t if s == 1 else dual.scale(t, s)


AddmvBackward0 = type('AddmvBackward0', (_AddProduct,), {'__slots__': ()})
BaddbmmBackward0 = type('BaddbmmBackward0', (_AddProduct,), {'__slots__': ()})


def _add_product(cls, input, x, y, m, beta, alpha, dt=None):
    """beta * input + alpha * m (m = x @ y), with beta == 0 ignoring input (NaN included), as in PyTorch;
    ``dt``: m is _wide_product's float32 product, the result is rounded to ``dt`` once."""
    r = m if alpha == 1 else m * alpha
    if beta != 0:
        c = input._data if dt is None else _bf16.to_f32(input._data)
        r = r + (c if beta == 1 else c * beta)
    else:
        r = np.broadcast_to(r, np.broadcast_shapes(r.shape, input._data.shape)).copy()
    r = _narrow(r, dt)
    need = (input._requires_grad, x._requires_grad, y._requires_grad)
    if GRAD.enabled and any(need):
        node = cls((input, x, y))
        node.need, node.bshape, node.alpha, node.beta = need, input._data.shape, alpha, beta
        node.save(x, y)
        return Tensor._make(r, node)
    return Tensor._make(r)


def _baddbmm_dtypes(input, batch1, batch2):
    """PyTorch's baddbmm checks: the input's dtype against batch1's (ember promoted a float32 input with float64
    batches, where PyTorch refuses), then the batches' (bmm's message)."""
    if input.dtype != batch1.dtype:
        raise RuntimeError(f'Input dtypes must be the same, got: input {cpp_name(input.dtype)}, batch1: '
                           f'{cpp_name(batch1.dtype)}, batch2: {cpp_name(batch2.dtype)}')
    if batch1.dtype != batch2.dtype:
        _same_dtype(batch1._data, batch2._data, 'bmm')


@_autocast.lower_precision
@_quiet.rerun
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * (batch1 @ batch2), batch by batch."""
    try:
        if isinstance(batch1, Tensor) and isinstance(batch2, Tensor) and isinstance(input, Tensor):
            _baddbmm_dtypes(input, batch1, batch2)
        beta, alpha = _truncated_scalars(batch1, beta, alpha)
        m, dt = _wide_product(bmm, batch1, batch2, input)
        out = _add_product(BaddbmmBackward0, input, batch1, batch2, m, beta, alpha, dt)
        if _flop_hook.COUNTERS:
            _flop_hook.product('baddbmm', batch1.shape[1:], batch2.shape[1:], out,
                               (batch1._requires_grad, batch2._requires_grad), batch1.shape[0])
        return out
    except (AttributeError, TypeError):
        check_tensor_args('baddbmm', 'input', 'batch1', 'batch2')
        raise


@_quiet.rerun
def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta * input + alpha * (mat @ vec)."""
    try:
        if isinstance(mat, Tensor) and isinstance(vec, Tensor) and isinstance(input, Tensor):
            _addmv_dtypes(input, mat, vec)
        beta, alpha = _truncated_scalars(mat, beta, alpha)
        m = mv(Tensor._make(mat._data), Tensor._make(vec._data))._data
        return _add_product(AddmvBackward0, input, mat, vec, m, beta, alpha)
    except (AttributeError, TypeError):
        check_tensor_args('addmv', 'input', 'mat', 'vec')
        raise


class TraceBackward0(Node):
    """The gradient of the diagonal's sum: ``g`` on the diagonal, zeros elsewhere."""
    __slots__ = ('shape',)

    def backward(self, g):
        n = min(self.shape)
        if dual.is_array(g):
            out = np.zeros(self.shape, g.dtype)
            out[np.arange(n), np.arange(n)] = g
            return out
        from .creation import eye
        return eye(*self.shape, dtype=g.dtype) * g


@_quiet.quietly
@_autocast.fp32
def trace(input):
    """The sum of the main diagonal of a 2-D tensor (integers sum as int64)."""
    try:
        a = input._data
        if a.ndim != 2:
            raise RuntimeError(f'trace: expected a matrix, but got tensor with dim {a.ndim}')
        if a.dtype == np.bool_:
            raise NotImplementedError('"trace" not implemented for \'Bool\'')
        d = np.diagonal(a)
        r = np.asarray(d.sum(dtype=np.int64) if a.dtype.kind in 'iu' else d.sum(dtype=a.dtype))
        if GRAD.enabled and input._requires_grad:
            node = TraceBackward0((input,))
            node.shape = a.shape
            return Tensor._make(r, node)
        return Tensor._make(r)
    except (AttributeError, TypeError):
        check_tensor_args('trace', 'input')
        raise


# -- ops real programs call (ops2): addr, addbmm --------------------------------------------------------------
# (PyTorch's nodes save the two factors, not the added input)
_AddrBackward0 = _composite.node_class('AddrBackward0', unchecked=(0,))
_AddbmmBackward0 = _composite.node_class('AddbmmBackward0', unchecked=(0,))


def _scaled_sum(input, m, beta, alpha):
    """beta * input + alpha * m in ember ops; beta == 0 ignores input (NaN included), as PyTorch does."""
    from .indexing import masked_fill
    r = m if alpha == 1 else m * alpha
    if beta == 0:   # input's zeros (its gradient: zeros, as PyTorch's) without input * 0's NaNs
        return r + masked_fill(input, Tensor._make(np.ones((), np.bool_)), 0)
    return r + (input if beta == 1 else input * beta)


def _expandable(input, shape):
    """PyTorch's error when ``input`` does not expand to the product's ``shape``."""
    try:
        ok = np.broadcast_shapes(tuple(input.shape), tuple(shape)) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(f'The expanded size of the tensor must match the existing size: target sizes '
                           f'{list(shape)}, tensor sizes {list(input.shape)}')


def _integral_scalars(input, beta, alpha):
    """addr's refusal of a float beta or alpha for an integral input (PyTorch names the first such)."""
    if input._data.dtype.kind in 'iub':
        for name, v in (('beta', beta), ('alpha', alpha)):
            if isinstance(v, float):
                raise RuntimeError(f'For integral input tensors, argument {name} must not be a floating point number.')


def _truncated_scalars(t, beta, alpha):
    """beta and alpha as the addmm/addmv/baddbmm/addbmm kernels of an integer tensor ``t`` read them: truncated to
    integers (0.6 is 0, where ember's float product had promoted the result to float64)."""
    if t._data.dtype.kind in 'iu':
        return int(beta), int(alpha)
    return beta, alpha


def _addr_values(x, a, b, beta, alpha):
    """PyTorch's addr kernel elementwise in the operands' common dtype: beta * x + (alpha * a_i) * b_j, each op and
    the numbers rounded to that dtype (float16 and bfloat16 round each of the four); bools: (beta and x) or (alpha
    and a_i and b_j), the numbers read as bools; beta == 0 ignores x."""
    from .pointwise import mul
    from .creation import scalar_tensor
    dt = result_type(x, a, b)
    x, a, b = (t.to(dt) for t in (x, a, b))
    beta, alpha = scalar_tensor(beta, dtype=dt), scalar_tensor(alpha, dtype=dt)
    m = mul(mul(alpha, a.unsqueeze(1)), b)
    if beta == 0:   # input's zeros, without input * 0's NaNs (see _scaled_sum)
        from .indexing import masked_fill
        x = masked_fill(x, Tensor._make(np.ones((), np.bool_)), 0)
    elif beta != 1:
        x = x * beta
    # input first, as the kernel's TensorIterator orders its result by it (a transposed input: transposed result)
    return x + m


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """beta * input + alpha * outer(vec1, vec2)."""
    try:
        for name, v in (('vec1', vec1), ('vec2', vec2)):
            if v.dim() != 1:
                raise RuntimeError(f'addr: Expected 1-D argument {name}, but got {v.dim()}-D')
        _integral_scalars(input, beta, alpha)
        _expandable(input, (vec1.shape[0], vec2.shape[0]))
        return _composite.composite(_AddrBackward0, _addr_values, (input, vec1, vec2), beta=beta, alpha=alpha)
    except Exception:
        check_tensor_args('addr', 'input', 'vec1', 'vec2')
        raise


def _addbmm_values(x, a, b, beta, alpha):
    """PyTorch's addbmm: one addmm per batch into the result (beta on the first only), each rounded to the dtype;
    no batches: beta * x (zeros for beta == 0)."""
    shape = (a.shape[1], b.shape[2])
    if a.shape[0] == 0:
        return x.expand(shape) * beta if beta != 0 else _scaled_sum(x.expand(shape), a.new_zeros(shape), 0, 1)
    r = addmm(x.expand(shape), a[0], b[0], beta=beta, alpha=alpha)
    for i in range(1, a.shape[0]):
        r = addmm(r, a[i], b[i], alpha=alpha)
    return r


@_quiet.rerun
def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * the sum over the batch of batch1[i] @ batch2[i]."""
    try:
        for name, b in (('batch1', batch1), ('batch2', batch2)):
            if b.dim() != 3:
                raise RuntimeError(f'{name} must be a 3D tensor')
        _addmm_dtypes(input, batch1, batch2)
        beta, alpha = _truncated_scalars(batch1, beta, alpha)
        _expandable(input, (batch1.shape[1], batch2.shape[2]))
        return _composite.composite(_AddbmmBackward0, _addbmm_values, (input, batch1, batch2), beta=beta, alpha=alpha)
    except Exception:
        check_tensor_args('addbmm', 'input', 'batch1', 'batch2')
        raise
