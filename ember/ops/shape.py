"""Shape ops: views (view, reshape, transpose, permute, expand, squeeze, ...), copies (clone, to,
repeat, flip) and joins (cat, stack, split, chunk, unbind), each with its backward."""
import numpy as np

from .. import _bf16, _layout, _meta, _quiet
from .._dtype import FROM_NP, scalar_name, to_np, dtype as _dtype_cls
from .._warn import warn_user
from ..autograd import dual
from ..autograd.grad_mode import GRAD
from ..autograd.graph import Node, saved_attributes
from ..tensor import Tensor, Size, _check_device
from ._views import view_of as _view_of, AsStridedBackward0 as _AsStridedRegenerated
from ._util import short_type_name, wrap_dim, wrap_dims, shape_arg, fmt_shape, broadcast_mismatch, via_float, check_tensor_args


def _result(input, arr, node_cls, view=True, **state):
    """Wrap ``arr``; record ``node_cls`` (with attributes ``state``) when grad is on."""
    if GRAD.enabled and input._requires_grad:
        node = node_cls((input,))
        for k, v in state.items():
            setattr(node, k, v)
    else:
        node = None
    if view:
        return _view_of(input, arr, node)
    return Tensor._make(arr, node)


def _given_dim(d):
    """A dim as PyTorch's saved attributes show the one given: an int64 read as unsigned (-1 is 2**64 - 1)."""
    return d % (1 << 64) if isinstance(d, int) else d


def _node(name, backward, slots=()):
    return type(name, (Node,), {'__slots__': slots, 'backward': backward,
                                '__doc__': f'Backward of a shape op ({name}).'})


# -- reshaping views ------------------------------------------------------------------------------------
def _infer_shape(shape, numel, op='view'):
    shape = list(shape)
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError('only one dimension can be inferred')
    known = 1
    for i, s in enumerate(shape):
        if s != -1:
            if s < 0:
                raise RuntimeError(f'invalid shape dimension {s}')
            known *= s
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{fmt_shape(shape)}' is invalid for input of size {numel}")
        shape[neg[0]] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '{fmt_shape(shape)}' is invalid for input of size {numel}")
    return tuple(shape)


ViewBackward0 = _node('ViewBackward0', lambda self, g: g.reshape(self.shape), ('shape',))
saved_attributes(ViewBackward0, self_sym_sizes=lambda node: tuple(node.shape))
UnsafeViewBackward0 = _node('UnsafeViewBackward0', lambda self, g: g.reshape(self.shape), ('shape',))
saved_attributes(UnsafeViewBackward0, self_sym_sizes=lambda node: tuple(node.shape))
ReshapeAliasBackward0 = _node('ReshapeAliasBackward0', lambda self, g: g.reshape(self.shape), ('shape',))
AliasBackward0 = _node('AliasBackward0', lambda self, g: g)


def alias(input):
    """A view of all of ``input`` (aten's alias, recorded as AliasBackward0): what ``as_subclass`` retypes."""
    return _result(input, input._data, AliasBackward0)


def view(input, *shape, size=None, dtype=None):
    """Same data seen with another shape (no copy); errors where a copy would be needed. ``view(dtype)``
    reinterprets the bytes (see _view_dtype)."""
    if dtype is not None or (len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list))):
        if dtype is None and not isinstance(shape[0], _dtype_cls):
            raise _view_refusal(shape[0])
        return _view_dtype(input, shape[0] if dtype is None else dtype)
    if size is not None:
        shape = _one_form('view', 'size', shape, size)
    a = input._data
    shape = _infer_shape(shape_arg(shape, 'view'), a.size)
    arr = a.view()
    try:
        arr.shape = shape
    except AttributeError:
        raise RuntimeError('view size is not compatible with input tensor\'s size and stride (at least one '
                           'dimension spans across two contiguous subspaces). Use .reshape(...) instead.') from None
    return _result(input, arr, ViewBackward0, shape=a.shape)


def _view_refusal(arg):
    """PyTorch's TypeError for ``x.view(arg)`` with ``arg`` neither a dtype nor sizes (a string, None, a method such as
    ``x.size``: NumPy's dtype parser had printed its repr, "Cannot interpret '<bound method ...>'")."""
    from ._util import _parser_type
    t = _parser_type(arg)
    return TypeError(f"view() received an invalid combination of arguments - got ({t}), but expected one of:\n"
                     f" * (torch.dtype dtype)\n      didn't match because some of the arguments have invalid types: "
                     f"(!{t}!)\n * (tuple of ints size)\n      didn't match because some of the arguments have invalid "
                     f"types: (!{t}!)\n")


def reshape(input, *sizes, shape=None):
    """Same data with another shape, recorded as PyTorch's reshape records it: a view of a contiguous input
    (ViewBackward0), a view with other strides of a non-contiguous one (ReshapeAliasBackward0), else a
    contiguous clone viewed (UnsafeViewBackward0 over CloneBackward0)."""
    try:
        if shape is not None:
            sizes = _one_form('reshape', 'shape', sizes, shape)
        a = input._data
        shape = _infer_shape(shape_arg(sizes, 'reshape', 'shape'), a.size)
        arr = a.view()
        try:
            arr.shape = shape
        except AttributeError:
            if GRAD.enabled and input._requires_grad:
                input = _result(input, np.ascontiguousarray(a), CloneBackward0, view=False)
            return _result(input, input._data.reshape(shape), UnsafeViewBackward0, view=False, shape=a.shape)
        return _result(input, arr, ViewBackward0 if a.flags.c_contiguous else ReshapeAliasBackward0, shape=a.shape)
    except (AttributeError, TypeError):
        check_tensor_args('reshape', 'input')
        raise


def _one_form(op, name, positional, keyword):
    """The sizes of a varargs method (``x.view(2, 3)``) given by keyword instead (``x.view(size=(2, 3))``),
    as one sequence; both at once is PyTorch's TypeError."""
    if positional:
        raise TypeError(f"{op}() got multiple values for argument '{name}'")
    return (keyword,)


def _view_dtype(input, dtype):
    """``x.view(dtype)``: the same bytes read as ``dtype`` (a view sharing memory and version counter, not
    differentiable, as PyTorch's). A different element size scales the last dim, which must then be
    contiguous, divisible, and not the only one of a 0-d tensor: PyTorch's conditions and messages. A view to
    or from bfloat16 reads its 16-bit patterns (``_bf16.bits_view``) into a copy, as ember keeps bfloat16 widened,
    linked to its source so that in-place writes to either reach the other (``_bf16.link``)."""
    a = input._data
    nd = to_np(dtype)
    bf16 = nd is not None and (_bf16.is_bf16(nd) or _bf16.is_bf16(a.dtype))
    if type(a) is not np.ndarray and not bf16 or nd is None:
        raise NotImplementedError(f'ember views plain NumPy dtypes only as others (not {input.dtype} as {dtype})')
    if dtype == input.dtype:
        arr = a.view(type(a))
    else:
        _check_dtype_view(input, dtype)
        arr = _bf16.bits_view(a, nd) if bf16 else a.view(nd) if a.ndim else a.reshape(1).view(nd).reshape(())
    from ..autograd.graph import _version_cell
    t = Tensor._make(arr)
    t._vc = _version_cell(input)     # in-place writes through either bump the other's version, as detach()'s
    if bf16 and dtype != input.dtype:
        _bf16.link(t._vc, a, t._data)
    return t


def _check_dtype_view(input, dtype):
    """PyTorch's conditions for viewing ``input`` as a dtype of another element size, with its messages."""
    old, new = input.dtype.itemsize, dtype.itemsize
    if old == new:
        return
    shape, strides = input.shape, input.stride()
    names = f"{scalar_name(input.dtype)} as {scalar_name(dtype)} (different element sizes)"
    if not shape:
        raise RuntimeError(f'self.dim() cannot be 0 to view {names}')
    if strides[-1] != 1 and shape[-1] != 1:
        raise RuntimeError(f'self.stride(-1) must be 1 to view {names}, but got {strides[-1]}')
    if new > old:
        ratio = new // old
        if shape[-1] % ratio:
            raise RuntimeError(f'self.size(-1) must be divisible by {ratio} to view {names}, but got {shape[-1]}')
        for d in range(len(shape) - 1):
            if strides[d] % ratio:
                raise RuntimeError(f'self.stride({d}) must be divisible by {ratio} to view {names}, but got '
                                   f'{strides[d]}')


def view_as(input, other):
    try:
        other._data   # (a Tensor: anything else is refused, an ndarray too, as PyTorch's parser does)
    except (AttributeError, TypeError):
        check_tensor_args('view_as', 'input', 'other')
    return view(input, other.shape)


def reshape_as(input, other):
    try:
        other._data   # (a Tensor: anything else is refused, an ndarray too, as PyTorch's parser does)
    except (AttributeError, TypeError):
        check_tensor_args('reshape_as', 'input', 'other')
    return reshape(input, other.shape)


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims start_dim..end_dim into one."""
    try:
        nd = input._data.ndim
        if nd == 0:
            return reshape(input, (1,))
        s, e = wrap_dim(start_dim, nd), wrap_dim(end_dim, nd)
        if s > e:
            raise RuntimeError('flatten() has invalid args: start_dim cannot come after end_dim')
        if s == e:
            return input
        sh = input._data.shape
        n = 1
        for d in sh[s:e + 1]:
            n *= d
        return reshape(input, sh[:s] + (n,) + sh[e + 1:])
    except (AttributeError, TypeError):
        check_tensor_args('flatten', 'input')
        raise


def _unflatten_sizes(sizes, n, d):
    """``sizes`` with its -1 inferred for dim ``d`` of size ``n``, refused in PyTorch's unflatten words."""
    if not len(sizes):
        raise RuntimeError('unflatten: sizes must be non-empty')
    try:
        return _infer_shape(sizes, n)
    except RuntimeError as e:
        if 'is invalid for input of size' in str(e):
            raise RuntimeError(f"unflatten: Provided sizes {fmt_shape(list(sizes))} don't multiply up to the size "
                               f'of dim {d} ({n}) in the input tensor') from None
        raise RuntimeError(f'unflatten got an unexpected error:\n{e}') from None


def unflatten(input, dim, sizes):
    try:
        sh = input._data.shape
        d = wrap_dim(dim, len(sh))
        sizes = _unflatten_sizes(sizes, sh[d], d)
        return view(input, sh[:d] + tuple(sizes) + sh[d + 1:])
    except (AttributeError, TypeError):
        check_tensor_args('unflatten', 'input')
        raise


SqueezeBackward0 = _node('SqueezeBackward0', lambda self, g: g.reshape(self.shape), ('shape',))
SqueezeBackward1 = _node('SqueezeBackward1', lambda self, g: g.reshape(self.shape), ('shape',))
SqueezeBackward2 = _node('SqueezeBackward2', lambda self, g: g.reshape(self.shape), ('shape',))


def _unsqueeze_back(self, g):
    """unsqueeze's gradient: the grad reshaped back; under create_graph squeezed at the added dim, as PyTorch's
    formula ``grad.squeeze(dim)`` records it (SqueezeBackward1, not a view)."""
    if dual.is_array(g):
        return g.reshape(self.shape)
    gs, shape = g.shape, self.shape
    d = next(i for i in range(len(gs)) if i == len(shape) or gs[i] != shape[i])
    return g.squeeze(d)


UnsqueezeBackward0 = _node('UnsqueezeBackward0', _unsqueeze_back, ('shape',))


def squeeze(input, dim=None, *, axis=None):
    """Remove size-1 dims (all, or those in ``dim``)."""
    try:
        dim = dim if axis is None else axis   # NumPy's spelling, which PyTorch accepts
        a = input._data
        if dim is None:
            return _result(input, a.reshape(tuple(s for s in a.shape if s != 1)), SqueezeBackward0, shape=a.shape)
        dims = wrap_dims(dim, a.ndim)
        new = tuple(s for i, s in enumerate(a.shape) if not (i in dims and s == 1))
        cls = SqueezeBackward1 if isinstance(dim, (int, np.integer)) else SqueezeBackward2
        return _result(input, a.reshape(new), cls, shape=a.shape)
    except (AttributeError, TypeError):
        check_tensor_args('squeeze', 'input')
        raise


def unsqueeze(input, dim):
    """Insert a size-1 dim at ``dim``."""
    if getattr(input, 'is_sparse', False):
        return input.unsqueeze(dim)
    try:
        a = input._data
        d = wrap_dim(dim, a.ndim + 1)
        # (a NumPy newaxis: stride 0, which stride() reports as PyTorch's unsqueeze does; reshape's may differ)
        arr = a[(slice(None),) * d + (None,)] if type(a) is np.ndarray else a.reshape(a.shape[:d] + (1,) + a.shape[d:])
        return _result(input, arr, UnsqueezeBackward0, shape=a.shape)
    except (AttributeError, TypeError):
        check_tensor_args('unsqueeze', 'input')
        raise


# -- permuting views -------------------------------------------------------------------------------------
TransposeBackward0 = _node('TransposeBackward0', lambda self, g: g.swapaxes(self.d0, self.d1) if g.ndim else g,
                           ('d0', 'd1', 'args'))
saved_attributes(TransposeBackward0, dim0=lambda node: _given_dim(getattr(node, 'args', (node.d0,))[0]),
                 dim1=lambda node: _given_dim(getattr(node, 'args', (0, node.d1))[1]))
# g.t() under create_graph: the gradient of a .t() records TBackward0 in PyTorch's graph
TBackward0 = _node('TBackward0', lambda self, g: (g.swapaxes(0, 1) if dual.is_array(g) else g.t()) if g.ndim == 2
                   else g, ())
PermuteBackward0 = _node('PermuteBackward0', lambda self, g: dual.permute(g, tuple(np.argsort(self.perm))),
                         ('perm',))


def transpose(input, dim0, dim1):
    """Swap two dims (a view)."""
    if getattr(input, 'is_sparse', False):
        return input.transpose(dim0, dim1)
    try:
        a = input._data
        d0, d1 = wrap_dim(dim0, a.ndim), wrap_dim(dim1, a.ndim)
        return _result(input, a.swapaxes(d0, d1) if a.ndim else a[()], TransposeBackward0, d0=d0, d1=d1,
                       args=(dim0, dim1))
    except (AttributeError, TypeError):
        check_tensor_args('transpose', 'input')
        raise


swapaxes = swapdims = transpose


def t(input):
    """Transpose of a tensor of at most 2 dims."""
    if getattr(input, 'is_sparse', False):
        return input.t()
    try:
        a = input._data
        if a.ndim > 2:
            raise RuntimeError(f't() expects a tensor with <= 2 dimensions, but self is {a.ndim}D')
        return _result(input, a.T, TBackward0)
    except (AttributeError, TypeError):
        check_tensor_args('t', 'input')
        raise


def permute(input, *args, dims=None):
    """Reorder dims (a view): ``x.permute(1, 0)``, ``x.permute((1, 0))`` or ``dims=(1, 0)``."""
    try:
        dims = args if dims is None else _one_form('permute', 'dims', args, dims)
        sparse = getattr(input, 'is_sparse', False)
        a = None if sparse else input._data
        nd = input.dim() if sparse else a.ndim
        if not dims:
            raise TypeError('permute() missing 1 required positional arguments: "dims"')
        raw = shape_arg(dims) if not isinstance(dims[0], (tuple, list)) else tuple(dims[0])
        if len(raw) != nd:   # (before the dims are wrapped: PyTorch counts them first)
            raise RuntimeError(f'permute(sparse_coo): number of dimensions in the tensor input does not match the '
                               f'length of the desired ordering of dimensions i.e. input.dim() = {nd} is not '
                               f'equal to len(dims) = {len(raw)}')
        perm = tuple(wrap_dim(d, nd) for d in raw)
        if len(set(perm)) != len(perm):
            raise RuntimeError('permute(): duplicate dims are not allowed.')
        if sparse:
            return input._permute(perm, raw[0])
        return _result(input, a.transpose(perm), PermuteBackward0, perm=perm)
    except (AttributeError, TypeError):
        check_tensor_args('permute', 'input')
        raise


def movedim(input, source, destination):
    try:
        a = input._data
        src = wrap_dims(source, a.ndim)
        dst = wrap_dims(destination, a.ndim)
        perm = [d for d in range(a.ndim) if d not in src]
        for d, s in sorted(zip(dst, src)):
            perm.insert(d, s)
        return permute(input, perm)
    except (AttributeError, TypeError):
        check_tensor_args('movedim', 'input')
        raise


moveaxis = movedim


def T_(input):
    """``.T``: all dims reversed (PyTorch deprecates it, with a warning, on other than 2-D tensors)."""
    nd = input.dim()
    if nd != 2:
        warn_user(_T_DEPRECATED[min(nd, 1)], once=True,
                  internally=f'aten/src/ATen/native/TensorShape.cpp:{4314 if nd else 4321}')
    if getattr(input, 'is_sparse', False):
        return permute(input, tuple(range(nd))[::-1])
    a = input._data
    return _result(input, a.T, PermuteBackward0, perm=tuple(range(a.ndim))[::-1])


def mT_(input):
    """``.mT``: the last two dims swapped (a 0-d tensor is returned as is, with PyTorch's warning)."""
    return _matrix_transpose(input, 'mT', batches=True)


def mH_(input):
    """``.mH``: the conjugate (real tensors: plain) transpose of the last two dims."""
    return _conj_if_complex(_matrix_transpose(input, 'mH', batches=True))


def adjoint(input):
    """``torch.adjoint``: the conjugate (real tensors: plain) transpose of a matrix or a batch of matrices."""
    try:
        nd = input.dim()
        if nd == 0:
            warn_user('adjoint() is deprecated on 0-D tensors. Consider using x.conj().', once=True)
            return _conj_if_complex(input)
        if nd < 2:
            raise RuntimeError(f'tensor.adjoint() is only supported on matrices or batches of matrices. Got {nd}-D '
                               'tensor.')
        return _conj_if_complex(transpose(input, -2, -1))
    except (AttributeError, TypeError):
        check_tensor_args('adjoint', 'input')
        raise


def H_(input):
    """``.H``: the conjugate (real tensors: plain) transpose of a matrix."""
    return _conj_if_complex(_matrix_transpose(input, 'H', batches=False))


def _conj_if_complex(t):
    if not t.is_complex():
        return t
    if getattr(t, 'is_sparse', False):
        return t.conj_physical()    # (PyTorch's sparse mH conjugates the values)
    from .complex import conj
    return conj(t)


_T_DEPRECATED = ('Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases.',
                 'The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated and it '
                 'will throw an error in a future release. Consider `x.mT` to transpose batches of matrices or '
                 '`x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor.')
_ZERO_D_LINES = {'mT': 4373, 'mH': 4382, 'H': 4335}   # (their TORCH_WARN_ONCEs in PyTorch's source)
_ZERO_D = {'mT': 'Tensor.mT is deprecated on 0-D tensors. This function is the identity in these cases.',
           'mH': 'Tensor.mH is deprecated on 0-D tensors. Consider using x.conj().',
           'H': 'Tensor.H is deprecated on 0-D tensors. Consider using x.conj().'}


def _matrix_transpose(input, name, batches):
    nd = input.dim()
    if nd == 0:
        warn_user(_ZERO_D[name], once=True,
                  internally=f'aten/src/ATen/native/TensorShape.cpp:{_ZERO_D_LINES[name]}')
        return input
    if nd < 2 or (nd > 2 and not batches):
        if batches:
            raise RuntimeError(f'tensor.{name} is only supported on matrices or batches of matrices. Got {nd}-D tensor.')
        hint = ' For batches of matrices, consider using tensor.mH' if nd > 2 else ''
        raise RuntimeError(f'tensor.{name} is only supported on matrices (2-D tensors). Got {nd}-D tensor.{hint}')
    return transpose(input, -2, -1)


# -- broadcasting and copies -------------------------------------------------------------------------------
ExpandBackward0 = _node('ExpandBackward0', lambda self, g: dual.sum_to(g, self.shape), ('shape',))


def expand(input, *sizes, size=None):
    """Broadcast to a larger size without copying (-1 keeps a dim)."""
    if size is not None:
        sizes = _one_form('expand', 'size', sizes, size)
    a = input._data
    sizes = shape_arg(sizes, 'expand')
    if len(sizes) < a.ndim:
        raise RuntimeError(f'expand({input.type()}{{{fmt_shape(a.shape)}}}, size={fmt_shape(sizes)}): the number '
                           f'of sizes provided ({len(sizes)}) must be greater or equal to the number of dimensions '
                           f'in the tensor ({a.ndim})')
    lead = len(sizes) - a.ndim
    target = tuple(a.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
    for i in reversed(range(a.ndim)):   # PyTorch names the last dim that does not fit
        if a.shape[i] != 1 and a.shape[i] != target[i + lead]:
            raise RuntimeError(f'The expanded size of the tensor ({target[i + lead]}) must match the existing size '
                               f'({a.shape[i]}) at non-singleton dimension {i + lead}.  Target sizes: '
                               f'{fmt_shape(sizes)}.  Tensor sizes: {fmt_shape(a.shape)}')
    return _result(input, _broadcast_view(a, target, lead), ExpandBackward0, shape=a.shape)


def _broadcast_view(a, target, lead):
    """np.broadcast_to's read-only view; for an ndarray subclass (bfloat16) built by strides, as broadcast_to
    would compute a float32 copy there, into which writes went unseen by the expanded tensor's base. Where the
    target only adds leading size-1 dims, a plain writable view."""
    if target == (1,) * lead + a.shape:
        return a.reshape(target)   # only size-1 dims added: a writable view, as PyTorch's (in-place ops allowed)
    if type(a) is np.ndarray and not (1 in target and 1 in a.shape and _kept_unit(a.shape, target, lead)):
        return np.broadcast_to(a, target)
    # (a size-1 dim that stays size 1 keeps its stride, as PyTorch's expand: broadcast_to makes it 0)
    strides = (0,) * lead + tuple(st if n == t else 0 for st, n, t in zip(a.strides, a.shape, target[lead:]))
    return np.lib.stride_tricks.as_strided(a, target, strides, subok=True, writeable=False)


def _kept_unit(shape, target, lead):
    """Whether a size-1 dim of ``shape`` stays size 1 in ``target`` (its stride then is not NumPy's 0)."""
    return any(n == 1 == t for n, t in zip(shape, target[lead:]))


def expand_as(input, other):
    try:
        other._data   # (a Tensor: anything else is refused, an ndarray too, as PyTorch's parser does)
    except (AttributeError, TypeError):
        check_tensor_args('expand_as', 'input', 'other')
    return expand(input, other.shape)


def broadcast_to(input, size):
    try:
        return expand(input, size)
    except (AttributeError, TypeError):
        check_tensor_args('broadcast_to', 'input')
        raise


def _broadcast_to_method(input, *args, size=None):
    """``x.broadcast_to(4, 3)`` (SpeechBrain's LiGRU), ``x.broadcast_to((4, 3))`` or ``x.broadcast_to(size=...)``:
    the method's size is varargs, as PyTorch's parser reads a lone int list; ``torch.broadcast_to`` takes one."""
    if size is not None:
        return broadcast_to(input, _one_form('broadcast_to', 'size', args, size)[0])
    if not args:
        raise TypeError('broadcast_to() missing 1 required positional arguments: "size"')
    if len(args) > 1 and not all(isinstance(a, (int, np.integer)) for a in args):
        raise TypeError(f'broadcast_to() takes 1 positional argument but {len(args)} were given')
    return broadcast_to(input, args[0] if len(args) == 1 else args)


def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape (views); one already of that shape is returned itself, as
    PyTorch's (a distribution's ``loc`` keeps its own grad_fn, SplitBackward0, not ExpandBackward0)."""
    shapes = [t._data.shape for t in tensors]
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        raise broadcast_mismatch(shapes) from None
    return tuple(t if t._data.shape == shape else expand(t, shape) for t in tensors)


def broadcast_shapes(*shapes):
    """The shape that tensors of ``shapes`` broadcast to."""
    shapes = [(s,) if isinstance(s, int) else tuple(s) for s in shapes]
    out = []
    for k, s in enumerate(shapes):
        for i in range(1, len(s) + 1):
            if i > len(out):
                out.insert(0, s[-i])
            elif out[-i] == 1:
                out[-i] = s[-i]
            elif s[-i] != 1 and s[-i] != out[-i]:
                raise RuntimeError(f'Attempting to broadcast a dimension of length {s[-i]} at {-i}! Mismatching '
                                   f'argument at index {k} had {tuple(s)}; but expected shape should be broadcastable '
                                   f'to {fmt_shape(out)}')
    return Size(out)


def _repeat_bw(self, g):
    sh, reps = self.shape, self.reps
    lead = len(reps) - len(sh)
    if dual.is_array(g) and (g.dtype == np.float16 or _bf16.is_bf16(g.dtype)):
        return _repeat_bw_low(g, sh, reps[lead:], lead)
    full = (1,) * lead + tuple(sh)
    split = []
    for r, s in zip(reps, full):
        split += [r, s]
    g = g.reshape(tuple(split)).sum(axis=tuple(range(0, 2 * len(reps), 2)))
    return g.reshape(sh)


def _repeat_bw_low(g, sh, reps, lead):
    """PyTorch's repeat_backward on an array: the new leading dims summed one at a time, then the repeats in one
    sum, each in PyTorch's order and accumulation (float16/bf16 add in float32, rounding once per sum)."""
    from .reduction import _sum
    for _ in range(lead):
        g = _sum(g, (0,), False, g.dtype)
    split, dims = [], []
    for r, s in zip(reps, sh):
        if r != 1:
            dims.append(len(split))
            split.append(r)
        split.append(s)
    g = _sum(g.reshape(tuple(split)), tuple(dims), False, g.dtype) if dims else g.reshape(tuple(split))
    return g.reshape(sh)


RepeatBackward0 = _node('RepeatBackward0', _repeat_bw, ('shape', 'reps'))


def repeat(input, *sizes, repeats=None):
    """Tile the tensor ``sizes`` times along each dim (a copy)."""
    if repeats is not None:
        sizes = _one_form('repeat', 'repeats', sizes, repeats)
    a = input._data
    reps = shape_arg(sizes, 'repeat', 'repeats')
    if len(reps) < a.ndim:
        raise RuntimeError('Number of dimensions of repeat dims can not be smaller than number of dimensions of '
                           'tensor')
    if any(r < 0 for r in reps):
        out = [r * n for r, n in zip(reps, (1,) * (len(reps) - a.ndim) + a.shape)]
        raise RuntimeError(f'Trying to create tensor with negative dimension {min(out)}: {out}')
    # (a C-ordered copy as PyTorch's; np.asarray keeps a 0-d result 0-d, ascontiguousarray made it [1])
    arr = np.asarray(np.tile(a.reshape((1,) * (len(reps) - a.ndim) + a.shape), reps), order='C')
    return _result(input, arr, RepeatBackward0, view=False, shape=a.shape, reps=reps)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None, axis=None):
    """Each element (or slice along ``dim``) repeated ``repeats`` times; ``repeats`` alone (a tensor) repeats its
    indices; ``output_size``, when given, must be the result's length along ``dim``."""
    try:
        if repeats is None:
            if not isinstance(input, Tensor) or input._data.ndim > 1:
                raise RuntimeError('repeat_interleave only accept 1D vector as repeat')
            return Tensor._make(np.repeat(np.arange(input._data.size), input._data))
        out = _repeat_interleave(input, repeats, dim if axis is None else axis)  # axis: NumPy's spelling
        size = out.shape[0 if dim is None else wrap_dim(dim, out.ndim)]
        if output_size is not None and size != output_size:
            raise RuntimeError(f'repeat_interleave: Invalid output_size, expected {size} but got {output_size}')
        return out
    except (AttributeError, TypeError):
        check_tensor_args('repeat_interleave', 'input', 'repeats#')
        raise


def _repeat_interleave(input, repeats, dim):
    from .indexing import index_select
    a = input._data
    if dim is None:
        input, dim = flatten(input), 0
        a = input._data
    d = wrap_dim(dim, a.ndim)
    r = repeats._data if isinstance(repeats, Tensor) else repeats
    if np.ndim(r) and np.size(r) != 1 and np.size(r) != a.shape[d]:
        raise RuntimeError(f'repeats must have the same size as input along dim, but got repeats.size(0) = '
                           f'{np.size(r)} and input.size({d}) = {a.shape[d]}')
    if np.size(r) and np.min(r) < 0:
        raise RuntimeError('repeats can not be negative' if np.ndim(r) else 'Repeats must be non-negative')
    if not isinstance(repeats, Tensor):   # PyTorch: unsqueeze, expand, copy, flatten (so grad_fn is ViewBackward0)
        u = unsqueeze(input, d + 1)
        return flatten(clone(expand(u, u.shape[:d + 1] + (int(r),) + u.shape[d + 2:])), d, d + 1)
    idx = np.repeat(np.arange(a.shape[d]), r)
    return index_select(input, d, Tensor._make(idx))


CloneBackward0 = _node('CloneBackward0', lambda self, g: g)


def clone(input, *, memory_format=None):
    """A copy that stays connected to the graph, laid out as PyTorch lays it out (preserve_format keeps a
    transposed input's layout; channels_last copies in NHWC order)."""
    try:
        a = input._data
        arr = None if memory_format is None else _layout.in_format('clone', a, memory_format)
        if arr is None:
            order = (0,) if a.flags.c_contiguous else _layout.like_order(a, memory_format)
            if a.ndim < 2 or _layout.is_c_order(order):
                arr = a.copy()
            else:
                arr = _layout.laid_out(a.transpose(order).copy(), a.shape, order)
        return _result(input, arr, CloneBackward0, view=False)
    except (AttributeError, TypeError):
        check_tensor_args('clone', 'input')
        raise


def contiguous(input, memory_format=None):
    """Self if already contiguous (in ``memory_format``: channels_last copies into NHWC order), else a copy."""
    if memory_format is not None:
        arr = _layout.in_format('contiguous', input._data, memory_format)
        if memory_format is _layout.preserve_format or _layout.is_contiguous(input._data, memory_format):
            return input
        if arr is not None:
            return _result(input, arr, CloneBackward0, view=False)
    if input._data.flags.c_contiguous or type(input._data) is _meta.MetaArray:   # (a meta tensor is contiguous)
        return input
    return _result(input, np.ascontiguousarray(input._data), CloneBackward0, view=False)


def _to_copy_backward(self, g):
    """The gradient cast back to the source dtype ``dt``, rounded to bf16 when the copy (``odt``) or the source
    is bf16, as PyTorch's engine rounds every gradient to its tensor's dtype: under autocast a float32 weight's
    gradient is then the bf16 gradient of its bf16 copy, widened, bit for bit."""
    if dual.is_array(g):
        if _bf16.is_bf16(self.odt):
            g = _bf16.from_f32(g)
        elif _bf16.is_bf16(self.dt):
            return _bf16.from_f32(g)
    return dual.cast(g, self.dt)


ToCopyBackward0 = _node('ToCopyBackward0', _to_copy_backward, ('dt', 'odt'))


def to(input, *args, **kwargs):
    """Convert dtype (and accept device 'cpu'); returns self when nothing changes."""
    dtype = kwargs.pop('dtype', None)
    copy = kwargs.pop('copy', False)
    device = kwargs.pop('device', None)
    meta = None if device is None else _check_device(device)
    kwargs.pop('non_blocking', None)        # a CPU copy is always blocking
    fmt = kwargs.pop('memory_format', None)
    _layout.check_format('to', fmt, input._data.ndim)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif a is None or isinstance(a, bool):
            continue
        elif isinstance(a, str) or type(a).__name__ == 'device' or isinstance(a, int):
            meta = _check_device(a)
        else:
            dtype = a
    if meta is not None and meta != input.is_meta:
        return _to_device(input, dtype, meta)
    nd = to_np(dtype)
    if fmt is not None:   # channels_last: a copy in NHWC order unless nothing would change
        arr = _layout.in_format('to', input._data, fmt)
        if arr is None and fmt is _layout.contiguous_format and \
                _layout.strides_like_channels_last(input._data.shape, input.stride()):
            arr = np.array(input._data, order='C')     # back to C order, as PyTorch's to() copies then (a copy:
            # ascontiguousarray kept a one-channel NHWC array's (HW, 1, W, 1), NumPy's C flag ignoring size-1 dims)
            return _cast(input, input._data.dtype if nd is None else nd, arr)
        if arr is not None and (copy or not _layout.strides_like_channels_last(input._data.shape, input.stride()) or
                                (nd is not None and nd != input._data.dtype)):
            return _cast(input, input._data.dtype if nd is None else nd, arr)
        if fmt is _layout.contiguous_format and (copy or nd is not None and nd != input._data.dtype):
            # (np.asarray, not ascontiguousarray: that makes a 0-d array 1-d; x.float(memory_format=...) had shape [1])
            return _cast(input, input._data.dtype if nd is None else nd, np.asarray(input._data, order='C'))
    if nd is None or nd == input._data.dtype:
        return clone(input) if copy else input
    return _cast(input, nd)


def _copy_order(a):
    """The memory order of a copy of ``a`` as PyTorch lays it out: an expanded input (a stride-0 dim) gives a
    C-contiguous result (NumPy's 'K' order would run the expanded dim fastest: ones(1, 3).expand(2, 3).float()
    had strides (1, 2) and refused .view(-1)); otherwise the input's own order."""
    return 'C' if any(s == 0 and n > 1 for s, n in zip(a.strides, a.shape)) else 'K'


def _to_device(input, dtype, meta):
    """``input`` (in ``dtype``) moved to the meta device (a meta tensor of its shape), or refused from it."""
    if not meta:
        raise _meta.no_data()
    return _meta.to_meta(input if dtype is None else to(input, dtype))


def _cast(input, nd, arr=None):
    """``input`` as dtype ``nd`` (from ``arr``, input's values in another memory order, when given)."""
    a = input._data
    if a.dtype.kind == 'c' and nd.kind != 'c':
        return _complex_to_real(input, nd, arr)
    try:
        if type(a) is _meta.MetaArray:      # (a meta tensor's cast: no values, no memory at any shape)
            arr = _meta.placeholder(a.shape, nd)
        elif arr is None:
            arr = via_float(a, nd).astype(nd) if 0 not in a.strides else \
                via_float(a, nd).astype(nd, order=_copy_order(a))
        else:
            arr = via_float(arr, nd).astype(nd, copy=False)
    except RuntimeWarning:   # a value beyond nd's range, or NaN to an int: an error by the user's filter (see _quiet)
        return _quiet.again(_cast, input, nd, arr)
    if GRAD.enabled and input._requires_grad and nd.kind in 'fc':
        node = ToCopyBackward0((input,))
        node.dt, node.odt = a.dtype, nd
        return Tensor._make(arr, node)
    return Tensor._make(arr)


def _complex_to_real(input, nd, arr=None):
    """A complex tensor cast to a real dtype: its real parts, with PyTorch's warning; to a float type
    differentiated as PyTorch's ToCopyBackward0 (the real gradient cast back to complex, imaginary part 0)."""
    from .. import _complex
    warn_user('Casting complex values to real discards the imaginary part', once=True,
              internally='aten/src/ATen/native/Copy.cpp:307')
    out = _complex.discard_imag(input._data if arr is None else arr, nd)
    if GRAD.enabled and input._requires_grad and nd.kind == 'f':
        node = ToCopyBackward0((input,))
        node.dt, node.odt = input._data.dtype, nd
        return Tensor._make(out, node)
    return Tensor._make(out)


def _caster(nd):
    nd = np.dtype(nd)

    def f(input, memory_format=None):
        if memory_format is not None:     # (x.float(memory_format=torch.channels_last) copies into that layout)
            return to(input, FROM_NP[nd], memory_format=memory_format)
        return input if input._data.dtype == nd else _cast(input, nd)
    return f


float_ = _caster(np.float32)
double = _caster(np.float64)
half = _caster(np.float16)
long = _caster(np.int64)
int_ = _caster(np.int32)
short = _caster(np.int16)
char = _caster(np.int8)
byte = _caster(np.uint8)
bool_ = _caster(np.bool_)


def type_as(input, other):
    try:
        other._data   # (a Tensor: anything else is refused, an ndarray too, as PyTorch's parser does)
    except (AttributeError, TypeError):
        check_tensor_args('type_as', 'input', 'other')
    return to(input, other.dtype)


def _flip_arr(g, dims):
    if dual.is_array(g):
        return np.flip(g, dims)
    return flip(g, dims)


FlipBackward0 = _node('FlipBackward0', lambda self, g: _flip_arr(g, self.dims), ('dims',))


def flip(input, dims):
    """Reverse the order of elements along ``dims`` (a copy in the input's layout, PyTorch's preserve_format:
    a channels-last input gives a channels-last result)."""
    try:
        a = input._data
        d = wrap_dims(dims, a.ndim)
        r = np.flip(a, d)
        order = _layout.like_order(a) if type(a) is not _meta.MetaArray else ()
        r = _layout.copy_in_order(r, order) if order != tuple(range(a.ndim)) else r.copy()
        return _result(input, r, FlipBackward0, view=False, dims=d)
    except (AttributeError, TypeError):
        check_tensor_args('flip', 'input')
        raise


def flip_method(input, *args, dims=None):
    """``Tensor.flip``: dims as varargs (``x.flip(0, 1)``), one sequence, or ``dims=``, as PyTorch's method
    takes them."""
    if dims is not None:
        args = _one_form('flip', 'dims', args, dims)
    elif not args:
        raise TypeError('flip() missing 1 required positional arguments: "dims"')
    return flip(input, args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args)


def fliplr(input):
    """Reverse the columns (dim 1)."""
    try:
        if input._data.ndim < 2:
            raise RuntimeError('Input must be >= 2-d.')
        return flip(input, (1,))
    except (AttributeError, TypeError):
        check_tensor_args('fliplr', 'input')
        raise


def flipud(input):
    """Reverse the rows (dim 0)."""
    try:
        if input._data.ndim < 1:
            raise RuntimeError('Input must be >= 1-d.')
        return flip(input, (0,))
    except (AttributeError, TypeError):
        check_tensor_args('flipud', 'input')
        raise


def _roll_bw(self, g):
    back = -self.shifts if self.dims is None else tuple(-s for s in self.shifts)
    return np.roll(g, back, self.dims) if dual.is_array(g) else roll(g, back, self.dims)


RollBackward0 = _node('RollBackward0', _roll_bw, ('shifts', 'dims'))


def roll(input, shifts, dims=None):
    """Rotate the elements along ``dims`` by ``shifts`` (over the flattened tensor when dims is None)."""
    try:
        shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
        a = input._data
        if dims is None:
            if len(shifts) != 1:
                raise RuntimeError(f'shifts and dimensions must align. shifts: {len(shifts)}, dims:0')
            axes = None
        else:
            dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
            if len(shifts) != len(dims):
                raise RuntimeError(f'shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}')
            axes = tuple(wrap_dim(d, a.ndim) for d in dims)
        shifts = tuple(int(s) for s in shifts)
        r = np.roll(a, shifts if axes is not None else shifts[0], axes)
        if not r.flags.c_contiguous and not _layout.suggests_channels_last(a):   # (PyTorch's result: contiguous,
            r = np.ascontiguousarray(r)                                          # or channels-last as its input)
        return _result(input, r, RollBackward0, view=False, shifts=shifts if axes is not None else shifts[0], dims=axes)
    except (AttributeError, TypeError):
        check_tensor_args('roll', 'input')
        raise


# -- joins and splits ----------------------------------------------------------------------------------------
def _cat_bw(self, g):
    out, start = [], 0
    dim = self.dim
    for n in self.sizes:
        idx = (slice(None),) * dim + (slice(start, start + n),)
        out.append(g[idx] if n is not None else None)
        start += n
    return tuple(out)


CatBackward0 = _node('CatBackward0', _cat_bw, ('dim', 'sizes', 'arg'))
saved_attributes(CatBackward0, dim=lambda node: _given_dim(getattr(node, 'arg', node.dim)))


def _promote_all(tensors, op):
    if not tensors:
        if op == 'cat':
            raise ValueError('torch.cat(): expected a non-empty list of Tensors')
        raise RuntimeError(f'{op} expects a non-empty TensorList')
    first = tensors[0]._data.dtype
    if all(t._data.dtype is first for t in tensors):
        return [t._data for t in tensors]
    from .._dtype import promote_types
    dt = tensors[0].dtype
    for t in tensors[1:]:
        dt = promote_types(dt, t.dtype)
    if _bf16.is_bf16(dt.np):   # rounded bfloat16 arrays (a bare astype leaves float32 values NumPy concatenates
        return [t._data if t._data.dtype == dt.np else _bf16.from_f32(t._data) for t in tensors]   # as float32)
    return [t._data if t._data.dtype == dt.np else t._data.astype(dt.np) for t in tensors]


def cat(tensors, dim=0, *, out=None, axis=None):
    """Join tensors along an existing dim."""
    dim = dim if axis is None else axis   # NumPy's spelling, which PyTorch accepts
    if out is not None:
        from ._out import write
        return write('cat', cat(tensors, dim), out)
    tensors = list(tensors)
    try:
        sparse = _sparse_among(tensors)
    except TypeError:
        result = _tensor_like_join('cat', tensors, dim, out)
        if result is NotImplemented:
            raise
        return result
    if sparse:
        from .. import _sparse
        _sparse.joined(tensors, 'cat')
        return _sparse.cat(tensors, dim)
    arrs = _promote_all(tensors, 'cat')
    if _same_shape(arrs):
        return _cat_same(tensors, arrs, dim)
    keep = [(t, a) for t, a in zip(tensors, arrs) if a.shape != (0,)]
    if not keep:
        return Tensor._make(np.concatenate(arrs))
    nd = keep[0][1].ndim
    if not nd:
        _cat_error(tensors, arrs, keep, dim)
    try:
        d = wrap_dim(dim, nd)
        arr = _joined_layout(np.concatenate([a for _, a in keep], axis=d), [a for _, a in keep])
    except (ValueError, IndexError):
        # the sizes are checked only when NumPy refuses: generate's cat of (4, 8) and (4, 1) 3.97 -> 3.44 us
        _cat_error(tensors, arrs, keep, dim)
        raise
    if GRAD.enabled and any(t._requires_grad for t, _ in keep):
        node = CatBackward0([t for t, _ in keep])
        node.dim, node.sizes, node.arg = d, [a.shape[d] for _, a in keep], dim
        return Tensor._make(arr, node)
    return Tensor._make(arr)


def _tensor_like_join(name, tensors, dim, out):
    """``torch.<name>`` of items that are not tensors: the result of a Tensor-like's ``__torch_function__`` among them
    (tensordict's TensorDict stacks so), even before ember's namespaces dispatch; NotImplemented if none takes it."""
    import ember
    from .._torch_function import handle_failed
    return handle_failed(getattr(ember, name), (tensors, dim), {} if out is None else {'out': out})


def _sparse_among(tensors):
    """Whether a sparse tensor is among cat/stack's ``tensors`` (each checked to be a tensor): a plain tensor
    costs one class comparison."""
    sparse = False
    for i, t in enumerate(tensors):
        if t.__class__ is not Tensor:
            if not isinstance(t, Tensor):
                raise TypeError(f'expected Tensor as element {i} in argument 0, but got {short_type_name(t)}')
            sparse = sparse or t.layout is not _layout.strided
    return sparse


def _cat_error(tensors, arrs, keep, dim):
    """Raise PyTorch's error for tensors cat cannot join (0-d ones, other ranks, other sizes), without NumPy's
    error as its context (cat calls this in an except clause; PyTorch's traceback shows one error)."""
    for i, a in enumerate(arrs):
        if not a.ndim:
            raise RuntimeError(f'zero-dimensional tensor (at position {i}) cannot be concatenated') from None
    nd = keep[0][1].ndim
    d = wrap_dim(dim, nd)
    for t, a in keep:
        if a.ndim != nd:
            raise RuntimeError(f'Tensors must have same number of dimensions: got {nd} and {a.ndim}') from None
        for k in range(nd):
            if k != d and a.shape[k] != keep[0][1].shape[k]:
                n = next(i for i, u in enumerate(tensors) if u is t)
                raise RuntimeError(f'Sizes of tensors must match except in dimension {d}. Expected size '
                                   f'{keep[0][1].shape[k]} but got size {a.shape[k]} for tensor number '
                                   f'{n} in the list.') from None


def _same_shape(arrs):
    """The one shape of ``arrs`` when all share it and it has a dim of nonzero size, else None."""
    shape = arrs[0].shape
    if not shape or shape == (0,) or not all(a.shape == shape for a in arrs):
        return None
    return shape


def _joined_layout(arr, arrs):
    """cat/stack's result in PyTorch's memory format: channels-last when every input is, else C-contiguous (NumPy
    keeps transposed inputs' order: cat of x.t() parts came out column-major, and a .view() of it failed)."""
    if arr.flags.c_contiguous or (arrs and all(_layout.suggests_channels_last(a) for a in arrs)):
        return arr
    return np.ascontiguousarray(arr)


def _cat_same(tensors, arrs, dim):
    """cat of arrays of one shape, without the per-dim size checks (64 tensors of (4, 3): 64 -> 16 us)."""
    d = wrap_dim(dim, arrs[0].ndim)
    arr = _joined_layout(np.concatenate(arrs, axis=d), arrs)
    if GRAD.enabled and any(t._requires_grad for t in tensors):
        node = CatBackward0(tensors)
        node.dim, node.sizes, node.arg = d, [arrs[0].shape[d]] * len(arrs), dim
        return Tensor._make(arr, node)
    return Tensor._make(arr)


concat = concatenate = cat


def _stack_bw(self, g):
    d = self.dim
    return tuple(g[(slice(None),) * d + (i,)] for i in range(self.n))


StackBackward0 = _node('StackBackward0', _stack_bw, ('dim', 'n'))


def stack(tensors, dim=0, *, out=None, axis=None):
    """Join tensors of equal shape along a new dim."""
    dim = dim if axis is None else axis   # NumPy's spelling, which PyTorch accepts
    if out is not None:
        from ._out import write
        return write('stack', stack(tensors, dim), out)
    tensors = list(tensors)
    try:
        sparse = _sparse_among(tensors)
    except TypeError:
        result = _tensor_like_join('stack', tensors, dim, out)
        if result is NotImplemented:
            raise
        return result
    if sparse:
        from .. import _sparse
        _sparse.joined(tensors, 'stack')
        return _sparse.stack(tensors, dim)
    arrs = _promote_all(tensors, 'stack')
    shape = arrs[0].shape
    if not all(a.shape == shape for a in arrs):
        i = next(i for i, a in enumerate(arrs) if a.shape != shape)
        raise RuntimeError(f'stack expects each tensor to be equal size, but got {fmt_shape(shape)} '
                           f'at entry 0 and {fmt_shape(arrs[i].shape)} at entry {i}')
    d = wrap_dim(dim, len(shape) + 1)
    # along dim 0, one concatenate and a free reshape: 64 arrays of (4, 3) 16.5 -> 6.2 us against np.stack (torch.stack of them 59 -> 16 us)
    arr = np.concatenate(arrs).reshape((len(arrs),) + shape) if d == 0 and shape else np.stack(arrs, axis=d)
    arr = _joined_layout(arr, ())
    if GRAD.enabled and any(t._requires_grad for t in tensors):
        node = StackBackward0(tensors)
        node.dim, node.n = d, len(tensors)
        return Tensor._make(arr, node)
    return Tensor._make(arr)


def hstack(tensors):
    if not tensors:
        raise RuntimeError('hstack expects a non-empty TensorList')
    tensors = [atleast_1d(t) for t in tensors]   # PyTorch's: 0-d inputs join as 1-element vectors
    return cat(tensors, 0 if tensors[0].dim() == 1 else 1)


def vstack(tensors):
    if not tensors:
        raise RuntimeError('vstack expects a non-empty TensorList')
    return cat([atleast_2d(t) for t in tensors], 0)


def _join(grads, dim):
    if dual.is_array(grads[0]):
        return np.concatenate(grads, axis=dim)
    return cat(grads, dim)


SplitBackward0 = _node('SplitBackward0', lambda self, *gs: _join(gs, self.dim), ('dim',))
SplitWithSizesBackward0 = _node('SplitWithSizesBackward0', lambda self, *gs: _join(gs, self.dim), ('dim',))
UnbindBackward0 = _node('UnbindBackward0', lambda self, *gs: stack(gs, self.dim) if not dual.is_array(gs[0])
                        else np.stack(gs, self.dim), ('dim',))


def _multi_out(input, arrs, cls, dim):
    """Outputs of one split-like node (each a view with its own output_nr)."""
    if GRAD.enabled and input._requires_grad:
        node = cls((input,))
        node.dim = dim
        node._out_meta = [(a.shape, a.dtype) for a in arrs]
    else:
        node = None
    outs = []
    multi = {'UnbindBackward0': 'Unbind', 'SplitWithSizesBackward0': 'SplitWithSizes'}.get(cls.__name__, 'Split')
    for i, a in enumerate(arrs):
        t = _view_of(input, a, node, multi)
        t._output_nr = i
        outs.append(t)
    return tuple(outs)


def split_method(self, split_size, dim=0):
    """``Tensor.split``: ``torch.split`` with the method's parameter name (``x.split(split_size=2)``)."""
    return split(self, split_size, dim)


def split(tensor, split_size_or_sections, dim=0):
    """Split into chunks of a given size (last may be smaller) or of the given sizes."""
    a = tensor._data
    d = wrap_dim(dim, a.ndim)
    n = a.shape[d]
    cls = SplitBackward0
    if isinstance(split_size_or_sections, (int, np.integer)):
        s = int(split_size_or_sections)
        sizes = [min(s, n - i) for i in range(0, n, s)] if n else [0]
    else:
        sizes = list(split_size_or_sections)
        cls = SplitWithSizesBackward0
        if sum(sizes) != n:
            raise RuntimeError(f'split_with_sizes expects split_sizes to sum exactly to {n} (input tensor\'s size '
                               f'at dimension {d}), but got split_sizes={sizes}')
    arrs, start = [], 0
    for k in sizes:
        arrs.append(a[(slice(None),) * d + (slice(start, start + k),)])
        start += k
    return _multi_out(tensor, arrs, cls, d)


UnsafeSplitBackward0 = _node('UnsafeSplitBackward0', lambda self, *gs: _join(gs, self.dim), ('dim',))
UnsafeSplitWithSizesBackward0 = _node('UnsafeSplitWithSizesBackward0', lambda self, *gs: _join(gs, self.dim), ('dim',))


def unsafe_split(tensor, split_size_or_sections, dim=0):
    """split whose pieces share the input's memory but are not views (PyTorch gives each a fresh version
    counter): an in-place change to a piece is not seen by autograd through the others."""
    try:
        if not isinstance(split_size_or_sections, (int, np.integer)):
            raise TypeError(f"unsafe_split(): argument 'split_size' (position 2) must be int, not "
                            f'{type(split_size_or_sections).__name__}')
        return _unsafe_pieces(tensor, split(tensor, split_size_or_sections, dim), UnsafeSplitBackward0)
    except (AttributeError, TypeError):
        check_tensor_args('unsafe_split', 'tensor:input')
        raise


def unsafe_split_with_sizes(input, split_sizes, dim=0):
    try:
        return _unsafe_pieces(input, split(input, list(split_sizes), dim), UnsafeSplitWithSizesBackward0)
    except (AttributeError, TypeError):
        check_tensor_args('unsafe_split_with_sizes', 'input')
        raise


def unsafe_chunk(input, chunks, dim=0):
    try:
        pieces = chunk(input, chunks, dim)
        return _unsafe_pieces(input, pieces, UnsafeSplitBackward0)
    except (AttributeError, TypeError):
        check_tensor_args('unsafe_chunk', 'input')
        raise


def _unsafe_pieces(input, pieces, cls):
    """The split ``pieces`` of ``input`` as plain tensors over the same memory, recorded as one ``cls`` node."""
    arrs = [p._data for p in pieces]
    d = pieces[0].grad_fn.dim if pieces and pieces[0].grad_fn is not None else 0
    if GRAD.enabled and input._requires_grad:
        node = cls((input,))
        node.dim = d
        node._out_meta = [(a.shape, a.dtype) for a in arrs]
    else:
        node = None
    outs = []
    for i, a in enumerate(arrs):
        t = Tensor._make(a, node)
        t._output_nr = i
        outs.append(t)
    return tuple(outs)


def chunk(input, chunks, dim=0, *, axis=None):
    """Split into ``chunks`` nearly equal pieces."""
    dim = dim if axis is None else axis   # NumPy's spelling, which PyTorch accepts
    if chunks <= 0:
        raise RuntimeError(f'chunk expects `chunks` to be greater than 0, got: {chunks}')
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    if not n:       # PyTorch gives ``chunks`` empty pieces
        return split(input, [0] * chunks, d)
    return split(input, -(-n // chunks), d)


def tensor_split(input, indices_or_sections, dim=0, *, axis=None):
    dim = dim if axis is None else axis   # NumPy's spelling, which PyTorch accepts
    a = input._data
    d = wrap_dim(dim, a.ndim)
    n = a.shape[d]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = _split_tensor_arg(indices_or_sections)
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        if k <= 0:
            raise RuntimeError(f'number of sections must be larger than 0, got {k}')
        sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
        bounds = [0]
        for size in sizes:
            bounds.append(bounds[-1] + size)
    else:   # each piece is input[idx[i-1]:idx[i]] with slicing's rules (negative wraps, out of range clamps)
        bounds = [0] + [int(i) for i in indices_or_sections] + [n]
    return tuple(_slice(input, d, bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1))


def _split_tensor_arg(t):
    """tensor_split's tensor argument as PyTorch reads it: an int64 0-d tensor is a number of sections, a 1-d one
    the indices."""
    if t._data.dtype != np.int64:
        raise RuntimeError(f'tensor_split expected tensor_indices_or_sections to have dtype of long, but got '
                           f'{scalar_name(t._data.dtype)}')
    if t.dim() > 1:
        raise RuntimeError('tensor_split expected tensor_indices_or_sections to be a zero-dimensional or '
                           f'one-dimensional tensor, but got a tensor with {t.dim()} dims')
    return t.item() if t.dim() == 0 else t.tolist()


def _slice(input, d, start, stop):
    """input[start:stop] along dim ``d``: a view recorded as SliceBackward0 (as PyTorch's slice always is)."""
    from .indexing import slice_node
    out = input[(slice(None),) * d + (slice(start, stop),)]
    if out.grad_fn is not None:
        out.grad_fn.__class__ = slice_node()
    return out


def unbind(input, dim=0, *, axis=None):
    """The slices along ``dim`` as a tuple."""
    dim = dim if axis is None else axis   # NumPy's spelling, which PyTorch accepts
    if input.is_sparse:
        return input.unbind(dim)
    a = input._data
    d = wrap_dim(dim, a.ndim)
    arrs = [a[(slice(None),) * d + (i, Ellipsis)] for i in range(a.shape[d])]   # (a 0-d view, not a copy)
    return _multi_out(input, arrs, UnbindBackward0, d)


def narrow(input, dim, start, length):
    """The slice [start, start+length) along dim (a view)."""
    try:
        if not input._data.ndim:
            raise RuntimeError('narrow() cannot be applied to a 0-dim tensor.')
        d = wrap_dim(dim, input._data.ndim)
        start, length, n = int(start), int(length), input._data.shape[d]
        if not -n <= start <= n:
            raise IndexError(f'start out of range (expected to be in range of [{-n}, {n}], but got {start})')
        if start < 0:
            start += n
        if length < 0:
            raise RuntimeError('narrow(): length must be non-negative.')
        if start + length > n:
            raise RuntimeError(f'start ({start}) + length ({length}) exceeds dimension size ({n}).')
        return _slice(input, d, start, start + length)
    except (AttributeError, TypeError):
        check_tensor_args('narrow', 'input', 'start#')
        raise


def select(input, dim, index):
    """The slice at ``index`` along ``dim``, that dimension removed (a view)."""
    try:
        if input.is_sparse:
            from .._sparse import select as sparse_select
            return sparse_select(input, dim, index)
        a = input._data
        if not a.ndim:
            raise IndexError('select() cannot be applied to a 0-dim tensor.')
        d = wrap_dim(dim, a.ndim)
        n, i = a.shape[d], int(index)
        if not -n <= i < n:
            raise IndexError(f'select(): index {i} out of range for tensor of size {fmt_shape(a.shape)} at '
                             f'dimension {d}')
        return input[(slice(None),) * d + (i,)]
    except (AttributeError, TypeError):
        check_tensor_args('select', 'input')
        raise


def ravel(input):
    """The elements as a 1-D tensor in row-major order: a view when ``input`` is contiguous, else a copy."""
    try:
        return view(contiguous(input), -1)
    except (AttributeError, TypeError):
        check_tensor_args('ravel', 'input')
        raise


def tile(input, dims):
    """``input`` repeated ``dims`` times along each dim, ones put in front of ``dims`` when it is shorter than
    the input's dims (PyTorch's tile is this repeat: RepeatBackward0)."""
    try:
        if not isinstance(dims, (tuple, list, Size)):
            raise TypeError(f"tile(): argument 'dims' (position 2) must be tuple of ints, not {type(dims).__name__}")
        dims = tuple(dims)
        return repeat(input, (1,) * (input._data.ndim - len(dims)) + dims)
    except (AttributeError, TypeError):
        check_tensor_args('tile', 'input')
        raise


def _tile_method(input, *args, dims=None):
    """``x.tile(2, 3)``, ``x.tile((2, 3))`` or ``x.tile(dims=(2, 3))``."""
    if dims is not None:
        return tile(input, _one_form('tile', 'dims', args, dims)[0])
    return tile(input, args[0] if len(args) == 1 and not isinstance(args[0], (int, np.integer)) else args)


def _unfold_bw(self, g):
    """Each window's gradient added back at its place: one strided add per position in the window."""
    d, size, step, n = self.dim, self.size, self.step, self.nwin
    if dual.is_array(g):
        out = np.zeros(self.shape, g.dtype)
        for k in range(size):
            dst = out[(slice(None),) * d + (slice(k, k + step * (n - 1) + 1, step),)] if out.ndim else out
            dst += g[..., k]
        return out
    from .indexing import index_add
    out = g.new_zeros(self.shape)
    if not self.shape:
        return g.reshape(())
    for k in range(size):
        out = index_add(out, d, Tensor._make(np.arange(k, k + step * n, step)[:n]), g.select(-1, k))
    return out


UnfoldBackward0 = _node('UnfoldBackward0', _unfold_bw, ('dim', 'size', 'step', 'nwin', 'shape'))


def unfold(input, dimension, size, step):
    """The windows of ``size`` elements, ``step`` apart, along ``dimension``, as a new last dim (a view)."""
    a = input._data
    d = wrap_dim(dimension, a.ndim)
    n = a.shape[d] if a.ndim else 1
    if size > n:
        raise RuntimeError(f'maximum size for tensor at dimension {d} is {n} but size is {size}')
    if step <= 0:
        raise RuntimeError(f'step is {step} but must be > 0')
    nwin = (n - size) // step + 1
    if a.ndim:
        shape = a.shape[:d] + (nwin,) + a.shape[d + 1:] + (size,)
        strides = a.strides[:d] + (a.strides[d] * step,) + a.strides[d + 1:] + (a.strides[d],)
    else:
        shape, strides = (size,), (a.itemsize,)
    arr = np.lib.stride_tricks.as_strided(a, shape, strides)
    return _result(input, arr, UnfoldBackward0, dim=d, size=size, step=step, nwin=nwin, shape=a.shape)


def meshgrid(*tensors, indexing=None):
    """Coordinate grids of 0-d or 1-d tensors: output i is tensor i spread along dim i ('ij'); 'xy' swaps
    the first two dims (each output an expanded view, ExpandBackward0)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warn_user('torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.',
                  once=True, internally='aten/src/ATen/native/TensorShape.cpp:4215', inside=0)
        indexing = 'ij'
    if indexing not in ('xy', 'ij'):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    if not tensors:
        raise RuntimeError('meshgrid expects a non-empty TensorList')
    for t in tensors:
        if t._data.ndim > 1:
            raise RuntimeError(f'torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t!r}')
    if any(t._data.dtype != tensors[0]._data.dtype for t in tensors):
        raise RuntimeError('meshgrid expects all tensors to have the same dtype')
    ts = list(tensors)
    swap = indexing == 'xy' and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t._data.size for t in ts)
    grids = [expand(view(t, tuple(-1 if j == i else 1 for j in range(len(ts)))), shape) for i, t in enumerate(ts)]
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def diff(input, n=1, dim=-1, prepend=None, append=None, *, axis=None):
    """The n-th forward difference along ``dim`` (after joining ``prepend`` and ``append``), as PyTorch's
    narrow-and-subtract (logical xor for bool)."""
    dim = dim if axis is None else axis   # NumPy's spelling, which PyTorch accepts
    a = input._data
    if not a.ndim:
        raise RuntimeError('diff expects input to be at least one-dimensional')
    if n < 0:
        raise RuntimeError(f'order must be non-negative but got {n}')
    d = wrap_dim(dim, a.ndim)
    for extra in (prepend, append):
        if extra is not None and extra._data.ndim != a.ndim:
            raise RuntimeError('diff expects prepend or append to be the same dimension as input')
        for i in range(a.ndim) if extra is not None else ():
            if i != d and extra._data.shape[i] != a.shape[i]:
                raise RuntimeError('diff expects the shape of tensor to prepend or append to match that of input '
                                   f'except along the differencing dimension; input.size({i}) = {a.shape[i]}, but got '
                                   f'tensor.size({i}) = {extra._data.shape[i]}')
    if n == 0:   # PyTorch returns a copy of the input, prepend and append unread
        from .inplace import copy_
        return copy_(input.new_empty(input.shape), input)
    if prepend is not None or append is not None:
        input = cat([t for t in (prepend, input, append) if t is not None], d)
    out = input
    for _ in range(n):
        m = out._data.shape[d]
        if m == 0:
            break
        hi, lo = narrow(out, d, 1, m - 1), narrow(out, d, 0, m - 1)
        if out._data.dtype == np.bool_:
            from .pointwise import logical_xor
            out = logical_xor(hi, lo)
        else:
            from .pointwise import sub
            out = sub(hi, lo)
    return out


def dstack(tensors):
    """Join along the third dim, after making each input at least 3-d."""
    if not tensors:
        raise RuntimeError('dstack expects a non-empty TensorList')
    return cat([atleast_3d(t) for t in tensors], 2)


def column_stack(tensors):
    """Join as columns: 0-d and 1-d inputs become (n, 1) columns, the rest join along dim 1."""
    if not tensors:
        raise RuntimeError('column_stack expects a non-empty TensorList')
    return cat([reshape(t, (t._data.size, 1)) if t._data.ndim <= 1 else t for t in tensors], 1)


def _each(fn, args):
    """PyTorch's atleast_Nd overloads: one tensor gives a tensor; several tensors, or one list/tuple of them,
    give a tuple."""
    if len(args) == 1 and isinstance(args[0], Tensor):
        return fn(args[0])
    items = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else args
    bad = next((i for i, x in enumerate(items) if not isinstance(x, Tensor)), None)
    if bad is not None:   # (PyTorch's parser: a lone non-tensor matches no overload, a sequence's element is named)
        from ._util import combination_error, type_name
        if len(args) == 1 and items is args:
            raise combination_error(fn.__name__.lstrip('_'), args)
        raise TypeError(f'expected Tensor as element {bad} in argument 0, but got {type_name(items[bad])}')
    return tuple(fn(x) for x in items)


def atleast_3d(*tensors):
    return _each(_atleast_3d, tensors)


def _atleast_3d(input):
    a = input._data
    if a.ndim == 0:
        return reshape(input, (1, 1, 1))
    if a.ndim == 1:
        return unsqueeze(unsqueeze(input, 0), -1)
    if a.ndim == 2:
        return unsqueeze(input, -1)
    return input


def atleast_1d(*tensors):
    return _each(_atleast_1d, tensors)


def atleast_2d(*tensors):
    return _each(_atleast_2d, tensors)


def _atleast_1d(input):
    return reshape(input, (1,)) if input._data.ndim == 0 else input


def _atleast_2d(input):
    a = input._data
    if a.ndim == 1:
        return unsqueeze(input, 0)
    return reshape(input, (1,) * (2 - a.ndim) + a.shape) if a.ndim < 2 else input


def _memory_root(a):
    """The array owning ``a``'s memory (following NumPy's bases): ember's picture of a tensor's storage. An
    array from np.lib.stride_tricks.as_strided (unfold's windows) has a DummyArray base holding the array it
    views: followed too, or the overlapping windows' nbytes would pass for the storage's size (as_strided of
    an unfold then wrote past the memory: a crash)."""
    root = a
    while True:
        b = root.base
        if not isinstance(b, np.ndarray):
            b = getattr(b, 'base', None)
            if not isinstance(b, np.ndarray):
                return root
        root = b


def _address(a):
    return a.__array_interface__['data'][0]


class AsStridedBackward0(_AsStridedRegenerated):
    """as_strided's backward: each element of the view adds its gradient to the input element it sees
    (overlapping windows see some several times)."""
    __slots__ = ()

    def backward(self, g):
        if dual.is_array(g) and self.view.size:
            from ._views import view_positions
            out = np.zeros(self.base.shape, g.dtype)
            np.add.at(out, view_positions(self.base, self.view), g)
            return out
        return super().backward(g)


def as_strided(input, size, stride, storage_offset=None):
    """A view of ``input``'s storage with the given sizes, strides and offset (in elements; the offset defaults
    to input's own), checked against the storage's size as PyTorch checks it."""
    try:
        a = input._data
        size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
        if len(size) != len(stride):
            raise RuntimeError('mismatch in length of strides and shape')
        if any(s < 0 for s in stride):
            raise RuntimeError(f'as_strided: Negative strides are not supported at the moment, got strides: '
                               f'{list(stride)}')
        root, item = _memory_root(a), a.itemsize
        own = (_address(a) - _address(root)) // item
        offset = own if storage_offset is None else int(storage_offset)
        need = 0 if 0 in size else offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1
        if need * item > root.nbytes:
            raise RuntimeError(f'setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, and '
                               f'itemsize {item} requiring a storage size of {need * item} are out of bounds for storage '
                               f'of size {root.nbytes}')
        flat = np.lib.stride_tricks.as_strided(root, (root.nbytes // item,), (item,)).view(a.dtype) \
            if root.dtype == a.dtype else np.frombuffer(root, a.dtype)
        arr = np.lib.stride_tricks.as_strided(flat[offset:], size, tuple(s * item for s in stride))
        node = None
        if GRAD.enabled and input._requires_grad:
            node = AsStridedBackward0((input,))
            node.view, node.base = arr, a
        return _view_of(input, arr, node)
    except (AttributeError, TypeError):
        check_tensor_args('as_strided', 'input')
        raise


# -- ops real programs call (ops2): vsplit/hsplit/dsplit -----------------------------------------------------
def _nsplit(name, input, indices_or_sections, dim, min_dims):
    """vsplit/hsplit/dsplit: tensor_split along ``dim``, a number of sections having to divide it evenly."""
    nd = input._data.ndim
    if nd < min_dims:
        raise RuntimeError(f'torch.{name} requires a tensor with at least {min_dims} dimension, but got a tensor '
                           f'with {nd} dimensions!')
    if isinstance(indices_or_sections, (int, np.integer)):
        n = input._data.shape[dim]
        k = int(indices_or_sections)
        if k == 0 or n % k:
            raise RuntimeError(f'torch.{name} attempted to split along dimension {dim}, but the size of the '
                               f'dimension {n} is not divisible by the split_size {k}!')
    return tensor_split(input, indices_or_sections, dim)


def vsplit(input, indices_or_sections):
    """Split along dim 0 (at least 2-D input), as ``np.vsplit``."""
    return _nsplit('vsplit', input, indices_or_sections, 0, 2)


def hsplit(input, indices_or_sections):
    """Split along dim 1 (dim 0 of a 1-D input), as ``np.hsplit``."""
    return _nsplit('hsplit', input, indices_or_sections, 1 if input._data.ndim > 1 else 0, 1)


def dsplit(input, indices_or_sections):
    """Split along dim 2 (at least 3-D input), as ``np.dsplit``."""
    return _nsplit('dsplit', input, indices_or_sections, 2, 3)
