"""In-place ops (``add_``, ``mul_``, ``+=``, ...): computed out of place, then written into the tensor's
own array, with PyTorch's checks (leaves that require grad, dtype casts) and version bumps."""
import numbers
import re

import numpy as np

from .. import _meta
from .._dtype import FROM_NP, NoComplexHalf, can_cast, scalar_name, cpp_name
from ..autograd.grad_mode import GRAD
from ..autograd.graph import Node, _version_cell
from ..tensor import Tensor
from . import _fused, _old_overloads, _views
from ._util import via_float, check_call, arg_error, check_tensor_args

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_F16 = np.dtype(np.float16)

_LEAF = 'a leaf Variable that requires grad is being used in an in-place operation.'
_VIEW_LEAF = 'a view of a leaf Variable that requires grad is being used in an in-place operation.'
_REINTERPRETED = ('ember does not record an in-place change, under grad mode, through a real view of a complex tensor '
                  '(view_as_real, .real, .imag) or a complex view of a real one (view_as_complex): change the base '
                  'out of place (torch.complex(re, im), torch.view_as_complex(...)) or under torch.no_grad()')


def check_inplace(t, *others):
    """Raise for an in-place change autograd forbids; True when the change must be recorded."""
    if not GRAD.enabled:
        return False
    tracked = t._requires_grad or any(isinstance(o, Tensor) and o._requires_grad for o in others)
    if not tracked:
        if t._vkind is not None and t._vkind[0] == 'nograd' and t._base._requires_grad:
            _views.check_view_inplace(t)    # a view made under no_grad of a tensor that requires grad
        return False
    b = t._base
    if b is not None:   # PyTorch's order: the view's own refusal, then a view (that requires grad) of a leaf
        _views.check_view_inplace(t)
        if t._requires_grad and b.grad_fn is None:   # (the leaf need not require grad: r.t().requires_grad_())
            raise RuntimeError(_VIEW_LEAF)
        if t._data.dtype != b._data.dtype and (t._data.dtype.kind == 'c') != (b._data.dtype.kind == 'c'):
            raise RuntimeError(_REINTERPRETED)
    if t._requires_grad and t.grad_fn is None:
        raise RuntimeError(_LEAF)
    return True


def commit(t, r, op=None):
    """Write result ``r`` into ``t`` and make ``r``'s grad_fn the history of ``t`` (``op``: the in-place op's name,
    for its error)."""
    if r._data.shape != t._data.shape:   # PyTorch checks the shape, then the dtype
        try:
            np.broadcast_to(r._data, t._data.shape)
        except ValueError:
            raise _shape_error(t._data.shape, r._data.shape) from None
        if r.grad_fn is not None:
            raise _shape_error(t._data.shape, r._data.shape)
    if r._data.dtype != t._data.dtype and not can_cast(FROM_NP[r._data.dtype], FROM_NP[t._data.dtype]):
        raise _cast_error(r.dtype, t.dtype)
    try:
        if t._data.size:   # an empty expanded view is read-only in NumPy, but nothing is written
            src = r._data
            if src.dtype is _F64 and t._data.dtype is _F16:   # PyTorch's double -> float -> half
                src = src.astype(np.float32)
            np.copyto(_write_target(t._data), src, casting='unsafe')
    except ValueError:
        raise read_only_error(t._data, op) from None
    if r.grad_fn is not None:
        adopt(t, r)
    t._bump()
    if r._vc is not None and r.grad_fn is not None:
        _resave(r, t)
    return t


def _resave(r, t):
    """r's node saved r (its output) for backward, but the output is now ``t``: what it saved becomes t at
    its version now, so a later in-place change to t (or to a view of its base) is caught in backward as
    PyTorch catches it (sigmoid_, tanh_, exp_ save self); so do the guards of its output (pow_, hypot_)."""
    node, vc = r.grad_fn, r._vc
    saved, guards = node._saved, node._guards
    if not saved and not guards:
        return
    cell = _version_cell(t)
    if saved:
        node._saved = tuple(e if e is None or len(e) != 4 or e[1] is not vc else (t._data, cell, cell[0], e[3])
                            for e in saved)
    if guards:
        node._guards = tuple(e if e[3] is None or e[1] is not vc else (t._data, cell, cell[0], e[3]) for e in guards)


def write_out(name, r, out, warn=True, same_dtype=None, reads=None, recorded=True):
    """PyTorch's ``out=``: ``r``'s values written into ``out`` (resized when its shape differs, with
    PyTorch's warning if it held elements and ``warn``), and ``out`` returned; a tuple result goes into a
    tuple of outs. Refused when the result or ``out`` needs grad under grad mode, and when r's dtype cannot
    be cast to out's (or, for ops that demand it, differs: ``same_dtype`` is then the error message's
    format, with fields name, res/out (Float), res_l/out_l (float) and res_c/out_c (C++'s long int)).
    ``reads``: an elementwise op's operands, for PyTorch's overlap checks of an out it does not resize;
    ``recorded``: False for an op autograd does not record (comparisons), whose out may require grad."""
    if out is None:
        return r
    if isinstance(r, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(r):
            raise TypeError(f'{name}(): argument \'out\' must be tuple of Tensors'
                            f' ({len(r)} tensors: {", ".join(getattr(r, "_fields", ()))})')
        if GRAD.enabled and any(o._requires_grad for o in r if isinstance(o, Tensor)):
            raise RuntimeError(_NO_AD.format(name))
        outs = tuple(write_out(name, a, o, warn, same_dtype) for a, o in zip(r, out))
        return type(r)(*outs) if hasattr(r, '_fields') else type(r)(outs)
    if not isinstance(out, Tensor):
        raise arg_error(name, 'out', None, out)
    if GRAD.enabled and (r._requires_grad or recorded and out._requires_grad):
        raise RuntimeError(_NO_AD.format(name))
    a = r._data
    if same_dtype and a.dtype != out._data.dtype:
        raise RuntimeError(same_dtype.format(name=name, out=_tname(out), res=_tname(r), out_l=_tname(out).lower(),
                                             res_l=_tname(r).lower(), out_c=cpp_name(out.dtype),
                                             res_c=cpp_name(r.dtype)))
    if a.dtype != out._data.dtype and not can_cast(FROM_NP[a.dtype], FROM_NP[out._data.dtype]):
        raise RuntimeError(f"result type {_tname(r)} can't be cast to the desired output type {_tname(out)}")
    if reads is not None:   # (an out that is resized has no input to overlap, but its own overlap is refused)
        check_overlap(out, reads if out._data.shape == a.shape else ())
    if out._data.shape != a.shape:
        if out._data.size and warn:
            from .._warn import warn_user
            warn_user(f'An output with one or more elements was resized since it had shape '
                      f'[{", ".join(map(str, out._data.shape))}], which does not match the required output '
                      f'shape [{", ".join(map(str, a.shape))}]. This behavior is deprecated, and in a future '
                      'PyTorch release outputs will not be resized unless they have zero elements. You can '
                      'explicitly reuse an out tensor t by resizing it, inplace, to zero elements with '
                      't.resize_(0).')
        out._data = np.empty(a.shape, out._data.dtype)
    if a.dtype == out._data.dtype:
        np.copyto(out._data, a)
    else:
        with np.errstate(all='ignore'):   # a cast that overflows gives inf silently, as in PyTorch
            np.copyto(out._data, via_float(a, out._data.dtype), casting='unsafe')
    out._bump()
    return out


_NO_AD = ("{}(): functions with out=... arguments don't support automatic differentiation, but one of the "
          'arguments requires grad.')


_OVERLAP = ('unsupported operation: more than one element of the written-to tensor refers to a single memory '
            'location. Please clone() the tensor before performing the operation.')


def read_only_error(a, op=None):
    """The error for an in-place write NumPy refuses into array ``a``: PyTorch's overlap error where ``a`` repeats
    elements (an expanded view), else that its memory is read-only (a tensor over a read-only buffer)."""
    if not a.size or any(st == 0 and n > 1 for n, st in zip(a.shape, a.strides)) or not _distinct(a):
        return RuntimeError(_OVERLAP)
    return RuntimeError(f"{op or 'an in-place op'}: this tensor's memory is read-only (a tensor over a NumPy "
                        'array or buffer that cannot be written, such as bytes or a read-only memory map), so ember '
                        'cannot write it; PyTorch would write into it anyway. Copy it first (torch.tensor(array) '
                        'or t.clone()), or give torch.from_numpy a writable array')
_PARTIAL = ('unsupported operation: some elements of the input tensor and the written-to tensor refer to a single '
            'memory location. Please clone() the tensor before performing the operation.')


def check_overlap(t, args, kwargs=None):
    """PyTorch's memory-overlap rule for an op writing ``t`` and reading the tensors in args/kwargs: raise when
    two elements of t share memory (a stride 0 over a size > 1) or when an input partly overlaps t (full
    identity is allowed). Only arrays that share an owner are compared (numpy collapses a view's ``base`` to
    the owner), so the usual call costs two attribute reads per tensor argument."""
    a = t._data
    owner = a.base
    if owner is None:
        owner = a
    elif 0 in a.strides and a.size and any(st == 0 and n > 1 for n, st in zip(a.shape, a.strides)):
        if type(a) is not _meta.MetaArray:  # (a meta tensor's strides 0 are ember's, not the user's: no data)
            raise RuntimeError(_OVERLAP)
    for o in args:
        if isinstance(o, Tensor):
            b = o._data
            if b is not a and (b is owner or b.base is owner) and _partial_overlap(a, b):
                raise RuntimeError(_PARTIAL)
    if kwargs:
        for o in kwargs.values():
            if isinstance(o, Tensor):
                b = o._data
                if b is not a and (b is owner or b.base is owner) and _partial_overlap(a, b):
                    raise RuntimeError(_PARTIAL)


def check_setitem_overlap(t, idx, value, basic):
    """check_overlap for ``t[idx] = value``: the written-to tensor is the indexed view for a basic index,
    t itself for an advanced one (index_put_), as in PyTorch; only a value on t's memory is looked at."""
    a, v = t._data, value._data
    owner = a if a.base is None else a.base
    if v is owner or v.base is owner:
        dest = a[idx] if basic else a
        if isinstance(dest, np.ndarray):
            check_overlap(Tensor._make(dest), ())
            if basic and v.shape != dest.shape:   # PyTorch's copy_to expands the value to the slice first
                try:
                    v = np.broadcast_to(v, dest.shape)
                except ValueError:
                    pass
            if v is not a and _partial_overlap(dest, v):
                raise RuntimeError(_PARTIAL)


def _partial_overlap(a, b):
    """PyTorch's get_overlap_status(a, b) == Partial for two arrays on one memory: both dense (else PyTorch
    does not decide), their byte ranges intersect and they are not the same range with the same strides."""
    if not a.size or not b.size or not _dense(a) or not _dense(b):
        return False
    a0, b0 = a.__array_interface__['data'][0], b.__array_interface__['data'][0]
    a1, b1 = a0 + a.nbytes, b0 + b.nbytes
    if a0 == b0 and a1 == b1:   # (NumPy's strides of size-1 dims are not PyTorch's: those are not compared)
        return a.ndim != b.ndim or [st for n, st in zip(a.shape, a.strides) if n != 1] != \
            [st for n, st in zip(b.shape, b.strides) if n != 1]
    return a0 < b1 and b0 < a1


def _dense(a):
    """PyTorch's is_non_overlapping_and_dense: the strides (size-1 dims aside) are a permutation of a
    contiguous array's (negative strides never: ember's views with them are PyTorch's copies)."""
    expected = a.itemsize
    for st, n in sorted((st, n) for n, st in zip(a.shape, a.strides) if n != 1):
        if st != expected:
            return False
        expected *= n
    return True


def adopt(t, r):
    """Make ``r``'s grad_fn the history of ``t`` (just overwritten with r's values). When ``t`` is a view, its
    base's history becomes a CopySlices of r's node (PyTorch's record), so gradients reach the base's old
    history and r's inputs; either way the views of the base then take the new history (_views.regenerate)."""
    b = t._base
    if b is not None:
        prior = (t.grad_fn, t._output_nr) if t.grad_fn is not None else (None, 0)
        if _views.rebase(t, r, prior):
            return
        _copy_slices(t, r)
        return
    old = t.grad_fn
    t.grad_fn, t._output_nr, t._requires_grad = r.grad_fn, r._output_nr, True
    if t._retains_grad and old is not None:
        t._move_retain(old)
    _views.regenerate(t)


def _copy_slices(t, r):
    """adopt for a view that _views.rebase cannot record (r from a node with several outputs): the base's
    history becomes an index_put of r over the view's elements."""
    t.grad_fn, t._output_nr, t._requires_grad = r.grad_fn, r._output_nr, True
    b = t._base
    idx = view_index(b._data, t._data)
    if idx is None:
        return
    from .indexing import CopySlices
    old = Tensor._make(b._data, b.grad_fn)
    old._output_nr, old._requires_grad = b._output_nr, b._requires_grad
    node = CopySlices((old, r))
    node.idx, node.accumulate, node.basic = idx, False, False
    node.vshape, node.vdtype = r._data.shape, r._data.dtype
    b.grad_fn, b._output_nr, b._requires_grad = node, 0, True


def view_index(base, view):
    """Index arrays into ``base`` giving each element of ``view`` (an array that shares base's memory);
    None when it lies outside the base's memory. An empty view gets empty index arrays (its in-place change
    is recorded as PyTorch records any view's); a view of a 0-d base, which NumPy cannot index with arrays,
    gets ``None`` axes (its one element), so ``base_like[idx]`` has the view's shape either way."""
    if view.size == 0:
        return tuple(np.zeros(view.shape, np.intp) for _ in range(base.ndim)) if base.ndim else None
    if base.ndim == 0:
        return (None,) * view.ndim if view.size == 1 else None
    start = view.__array_interface__['data'][0] - base.__array_interface__['data'][0]
    off = start + _offsets(view)
    if base.flags.c_contiguous:
        pos = off // base.itemsize
        ok = off.min() >= 0 and off.max() < base.nbytes
    else:
        boff = _offsets(base).ravel()
        order = np.argsort(boff, kind='stable')
        pos = order[np.minimum(np.searchsorted(boff[order], off), boff.size - 1)]
        ok = np.array_equal(boff[pos], off)
    return np.unravel_index(pos, base.shape) if ok else None


def _offsets(a):
    """Byte offset of every element of ``a`` from its first element's address."""
    off = np.zeros(a.shape, np.int64)
    for d, (n, st) in enumerate(zip(a.shape, a.strides)):
        off += (np.arange(n, dtype=np.int64) * st).reshape((n,) + (1,) * (a.ndim - d - 1))
    return off


def overwritten(t, name):
    """Record that ``t`` was filled with values that do not depend on it (its old values get zero grad)."""
    cls = _FILL_NODES.get(name)
    if cls is None:
        cls = _FILL_NODES[name] = type(name, (Node,), {'__slots__': (), 'backward': lambda self, g: g * 0,
                                                       '__doc__': 'Zero gradient: the values were overwritten.'})
    adopt(t, Tensor._make(t._data, cls((t,))))


_FILL_NODES = {}


def _tname(t):
    """PyTorch's name of t's dtype ('Float'); of the tensor's dtype, since bfloat16 is stored as float32."""
    return scalar_name(t.dtype)


def _snapshot(t):
    """The value of ``t`` before the change, still attached to its history (saved by the new node)."""
    s = Tensor._make(t._data.copy(), t.grad_fn)
    s._output_nr = t._output_nr
    s._requires_grad = t._requires_grad
    return s


# the out-of-place op's argument error, reworded for the method, whose positions do not count self
_ARG_ERROR = re.compile(r"^(\w+)\(\): argument '(\w+)' \(position (\d+)\)(.*)$", re.S)


def make_inplace(fn, name):
    """The in-place variant ``name`` of the out-of-place op ``fn(self, *args)``."""
    def op_(self, *args, **kwargs):
        try:
            check_overlap(self, args, kwargs)
            return _apply_method(fn, self, args, kwargs, name)
        except Exception:
            check_call(name, fn, (self, *args), kwargs, reword=True)
            raise
    op_.__name__ = name
    op_.__doc__ = f'In-place version of ``{fn.__name__}`` (returns self).'
    return op_


def _apply_method(fn, self, args, kwargs, name):
    """_apply_inplace, the out-of-place op's argument error reworded for the in-place method ``name``."""
    try:
        return _apply_inplace(fn, self, args, kwargs, name)
    except TypeError as e:
        m = _ARG_ERROR.match(str(e))
        if m is None or m[1] != name[:-1]:   # (an error already worded for the method stays)
            raise
        raise TypeError(f"{name}(): argument '{m[2]}' (position {int(m[3]) - 1}){m[4]}") from None


def _apply_inplace(fn, self, args, kwargs, name=None):
    """``fn(self, *args)`` written into self (after the overlap check). Where the op refuses its operands,
    PyTorch's earlier checks win: the broadcast shape must be self's, then the promoted dtype castable to it."""
    tracked = check_inplace(self, *args)
    try:
        return commit(self, fn(_snapshot(self) if tracked else self, *args, **kwargs), name)
    except NoComplexHalf:   # float16 self with a complex operand: PyTorch's complex32 result, never castable
        raise RuntimeError("result type ComplexHalf can't be cast to the desired output type Half") from None
    except (NotImplementedError, ValueError, RuntimeError) as e:   # the kernel refuses a dtype, NumPy the shapes
        if name is None or name.startswith('__'):
            name = getattr(fn, '__name__', None)
        else:
            name = name[:-1]
        first = None
        if not isinstance(e, (NotImplementedError, ValueError)) and not str(e).startswith(_ALPHA):
            raise
        if name in _POINTWISE:
            first = _operand_error(self, args)
        elif name in _COMPARISONS:
            first = _operand_error(self, args, cast=False)
        if first is None:
            raise
        raise first from e


# add/sub's refusals of alpha, which PyTorch makes after the operands' shape and cast checks
_ALPHA = ('For non-complex input tensors, argument alpha', 'Boolean alpha',
          'For integral input tensors, argument alpha')
# ops whose bool result goes into self whatever its dtype: the shapes are checked before the kernel, not the cast
_COMPARISONS = frozenset(('eq', 'ne', 'lt', 'le', 'gt', 'ge', 'less', 'less_equal', 'greater', 'greater_equal',
                          'not_equal', 'logical_and', 'logical_or', 'logical_xor'))


# the ops whose operands all broadcast and promote together (TensorIterator's), named as make_inplace's fn
_POINTWISE = frozenset((
    'add', 'sub', 'subtract', 'mul', 'multiply', 'div', 'divide', 'true_divide', 'floor_divide', 'remainder',
    'fmod', 'pow', 'bitwise_and', 'bitwise_or', 'bitwise_xor', 'bitwise_left_shift', 'bitwise_right_shift',
    'atan2', 'arctan2', 'hypot', 'copysign', 'xlogy', 'lerp', 'addcmul', 'addcdiv', 'clamp', 'clip', 'clamp_min',
    'clamp_max', 'maximum', 'minimum', 'fmax', 'fmin', 'nextafter', 'ldexp', 'logaddexp', 'logaddexp2', 'heaviside',
    'gcd', 'lcm'))   # (comparisons and logical ops write a bool result into any dtype: their kernel errors stand)


def _operand_error(self, args, cast=True):
    """PyTorch's error for an in-place pointwise op whose tensor/number operands ``args`` do not fit ``self``:
    the shapes do not broadcast, their broadcast is not self's shape, or (``cast``) the promoted dtype does not
    cast to self's; None when they fit (the op's own error stands)."""
    ops = [a for a in args if isinstance(a, (Tensor, bool, int, float, complex))]
    shapes = [self._data.shape] + [a._data.shape for a in ops if isinstance(a, Tensor)]
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        from ._util import broadcast_mismatch
        return broadcast_mismatch(shapes)
    if shape != self._data.shape:
        return _shape_error(self._data.shape, shape)
    if not cast:
        return None
    from .._dtype import result_type
    r = result_type(self, *ops)
    if not can_cast(r, self.dtype):
        return _cast_error(r, self.dtype)
    return None


def _shape_error(out, shape):
    return RuntimeError(f'output with shape [{", ".join(map(str, out))}] doesn\'t match the broadcast shape '
                        f'[{", ".join(map(str, shape))}]')


def _cast_error(result, out):
    return RuntimeError(f'result type {scalar_name(result)} can\'t be cast to the desired output type '
                        f'{scalar_name(out)}')


def make_accumulate(fn, name, ufunc, mul):
    """``add_``/``sub_`` (``fn`` add or sub, ``ufunc`` its NumPy ufunc, ``mul`` ember's mul): make_inplace's op,
    with a fast path for an update autograd does not record (under no_grad, or of ``p.data``) by a tensor of
    self's dtype (float32/64) and shape: self's array takes the result in place, one pass and one temporary
    fewer (``p.data.add_(p.grad, alpha=-lr)`` on 2M float32 values: 0.87 -> 0.49 ms, min of paired runs);
    the values are the out-of-place op's (with ``alpha``, one fused multiply-add: ``_fused.fma_``)."""
    def make(operator):
        """The op; ``operator``: the ``+=``/``-=`` form, NotImplemented for an ndarray (ops._numpy_operand), tested
        off the fast path."""
        def op_(self, *args, **kwargs):
            a = self._data
            if len(args) == 1 and type(args[0]) is Tensor and (a.dtype is _F32 or a.dtype is _F64) and \
                    type(a) is np.ndarray and a.flags.c_contiguous and a.flags.writeable and \
                    kwargs.keys() <= {'alpha'} and not (GRAD.enabled and (self._requires_grad or args[0]._requires_grad)):
                other = args[0]
                b = other._data
                alpha = kwargs.get('alpha', 1)
                if type(b) is np.ndarray and b.dtype is a.dtype and b.shape == a.shape and type(alpha) in (int, float):
                    if a.base is not None or b.base is not None:   # two owning arrays never overlap
                        check_overlap(self, args)
                    if alpha != 1:
                        _fused.fma_(a, alpha if ufunc is np.add else -alpha, b, a)
                    else:
                        try:
                            ufunc(a, b, out=a)
                        except RuntimeWarning:  # inf - inf, an overflow: raised by the user's filter (see _quiet)
                            pass    # after NumPy's loop has written every value, so nothing is left to do
                    self._bump()
                    return self
            if operator and args and isinstance(args[0], np.ndarray):
                return NotImplemented
            if _old_overloads.is_old(name, args, kwargs):
                args, kwargs = _old_overloads.modern(name, args, kwargs)
            check_overlap(self, args, kwargs)
            try:
                return _apply_method(fn, self, args, kwargs, name)
            except TypeError:
                if operator and not isinstance(args[0], Tensor):   # PyTorch's ``t += x``: x.__radd__ or Python's error
                    return NotImplemented
                raise
        op_.__name__ = name
        op_.__doc__ = f'In-place version of ``{fn.__name__}`` (returns self).'
        return op_
    op_ = make(False)
    op_.operator = make(True)
    return op_


def make_reshape_inplace(fn, name):
    """In-place shape change (``unsqueeze_``, ``squeeze_``, ``t_``...): self takes the view's shape."""
    def op_(self, *args, **kwargs):
        if self._requires_grad and self.grad_fn is None and GRAD.enabled:
            raise RuntimeError(_LEAF)
        r = fn(self, *args, **kwargs)
        self._data = r._data
        if r.grad_fn is not None:
            cls = _INPLACE_NODE.get(type(r.grad_fn).__name__)
            if cls is not None:
                r.grad_fn.__class__ = cls(type(r.grad_fn))
            self.grad_fn, self._output_nr = r.grad_fn, r._output_nr
        self._bump()
        return self
    op_.__name__ = name
    op_.__doc__ = f'In-place version of ``{fn.__name__}``: changes this tensor\'s shape (returns self).'
    return op_


def _renamed(name):
    """The in-place node class PyTorch names ``name``: the out-of-place one under another name (made once)."""
    made = {}

    def get(base):
        cls = made.get(base)
        if cls is None:
            cls = made[base] = type(name, (base,), {'__slots__': ()})
        return cls
    return get


_INPLACE_NODE = {old: _renamed(new) for old, new in (
    ('UnsqueezeBackward0', 'UnsqueezeBackward1'), ('SqueezeBackward0', 'SqueezeBackward3'),
    ('SqueezeBackward1', 'SqueezeBackward4'), ('SqueezeBackward2', 'SqueezeBackward5'),
    ('TBackward0', 'TBackward1'), ('TransposeBackward0', 'TransposeBackward1'))}


def _write_target(a):
    """The array an in-place op writes: ``a``, or where ``a`` is NumPy-read-only only because it was taken from
    an expanded view (``x.expand(2, 3, 4)[0]``) and repeats no element, a writeable alias of it, as PyTorch
    writes such a view; an array that repeats elements, or whose memory is read-only, stays as it is."""
    if a.flags.writeable or not a.size or any(st == 0 and n > 1 for n, st in zip(a.shape, a.strides)):
        return a
    root = a
    while isinstance(root.base, np.ndarray):
        root = root.base
    if not root.flags.writeable or not _distinct(a):
        return a
    iface = dict(a.__array_interface__, data=(a.__array_interface__['data'][0], False))
    return np.asarray(_Interface(iface, a)).view(type(a))


def writable_alias(a):
    """A NumPy array over ``a``'s memory that can be written, where ``a`` is read-only only by its flag: NumPy
    lets the flag be set back (its memory is an array's own, or a writable buffer's) and it repeats no element;
    else None."""
    root = a
    while isinstance(root.base, np.ndarray):
        root = root.base
    if root.base is not None:
        try:
            if memoryview(root.base).readonly:
                return None
        except TypeError:
            return None
    if not a.size or not _distinct(a):
        return None
    iface = dict(a.__array_interface__, data=(a.__array_interface__['data'][0], False))
    alias = np.asarray(_Interface(iface, a))     # (its base is the interface, whose owner is a)
    return alias if type(a) is np.ndarray else alias.view(type(a))


def _distinct(a):
    """No two elements of ``a`` share memory: its dims, by stride, each step past all the ones below."""
    span = a.itemsize
    for st, n in sorted((abs(st), n) for n, st in zip(a.shape, a.strides) if n != 1):
        if st < span:
            return False
        span = st * (n - 1) + span
    return True


def _fill_target(a, op=None):
    """The array a fill writes: an expanded (stride-0) view is NumPy-read-only, but PyTorch's fill_/zero_ write
    its shared elements all the same (they take no overlap check), so such a view is written through a
    writeable alias of the same memory; read-only memory is refused naming ``op``."""
    if a.flags.writeable or not a.size:
        return a
    if 0 not in a.strides:
        target = _write_target(a)
        if not target.flags.writeable:
            raise read_only_error(a, op)
        return target
    iface = dict(a.__array_interface__, data=(a.__array_interface__['data'][0], False))
    return np.asarray(_Interface(iface, a)).view(a.dtype)


class _Interface:
    """An array interface over ``owner``'s memory (which it keeps alive), for ``np.asarray``."""

    def __init__(self, iface, owner):
        self.__array_interface__, self.owner = iface, owner


def zero_(t):
    """Fill with zeros in place."""
    try:
        tracked = check_inplace(t)
        _fill_target(t._data, 'zero_')[...] = 0
        t._bump()
        if tracked:
            overwritten(t, 'ZeroBackward0')
        return t
    except (AttributeError, TypeError):
        check_tensor_args('zero_', 't:input')
        raise


def fill_(t, value):
    """Fill with ``value`` in place."""
    try:
        tracked = check_inplace(t, value)   # (autograd's refusal first, as PyTorch's)
        if isinstance(value, Tensor) and value._data.ndim:
            raise RuntimeError(f'fill_ only supports 0-dimension value tensor but got tensor with {value._data.ndim} '
                               'dimensions.')
        if tracked and isinstance(value, Tensor) and value._requires_grad:
            from .indexing import setitem   # a whole write of a 0-d value: PyTorch's FillBackward3
            setitem(t, Ellipsis, value)
            return t
        if isinstance(value, Tensor):
            _fill_target(t._data, 'fill_')[...] = via_float(value._data, t._data.dtype)
        else:   # PyTorch's checked conversion: uint8 fill -1 is 255, int8 fill 300 an error (NumPy's OverflowError)
            from ._util import checked_scalar
            _fill_target(t._data, 'fill_')[...] = via_float(np.asarray(checked_scalar(value, t.dtype)),
                                                          t._data.dtype)
        t._bump()
        if tracked:
            overwritten(t, 'FillBackward2')
        return t
    except Exception:
        check_tensor_args('fill_', 't:input', 'value#')
        raise


def copy_(t, src, non_blocking=False):
    """Copy ``src`` (broadcast, cast to t's dtype) into t."""
    if not isinstance(src, Tensor):
        if not isinstance(src, numbers.Number):   # (a number fills, as PyTorch's copy_ takes one)
            check_tensor_args('copy_', 't:self', 'src:other')
        src = Tensor._make(np.asarray(src))
    if src.is_meta and not t.is_meta:
        raise _meta.no_data()
    if t.is_meta:       # nothing to copy into: PyTorch's meta copy_ checks the shapes only
        np.broadcast_shapes(src._data.shape, t._data.shape)
        return t
    check_overlap(t, (src,))
    if check_inplace(t, src):
        if t._base is None:
            return _copy_recorded(t, src)
        from .shape import expand, to
        r = expand(to(src, t.dtype), t.shape) if src._data.shape != t._data.shape else to(src, t.dtype)
        if not r._requires_grad:
            r = Tensor._make(r._data)
        from .pointwise import add, mul
        return commit(t, add(mul(_snapshot(t), 0), r))
    try:
        np.copyto(t._data, via_float(src._data, t._data.dtype), casting='unsafe')
    except ValueError:
        if not t._data.flags.writeable:
            raise read_only_error(t._data, 'copy_') from None
        raise RuntimeError(f'The size of tensor a ({t._data.shape}) must match the size of tensor b '
                           f'({src._data.shape}) for copy_') from None
    t._bump()
    return t


def _copy_recorded(t, src):
    """``t.copy_(src)`` under autograd for a tensor that is no view: PyTorch's CopyBackwards, whose edges go to
    t's old history (a zero gradient) and to src itself (the broadcast and dtype cast done inside the node)."""
    from ._util import broadcast_mismatch, fmt_shape
    from .indexing import index_put, CopyBackwards
    shape, sshape = t._data.shape, src._data.shape
    try:
        both = np.broadcast_shapes(shape, sshape)
    except ValueError:
        raise broadcast_mismatch([shape, sshape]) from None
    if both != shape:
        raise RuntimeError(f"output with shape {fmt_shape(shape)} doesn't match the broadcast shape {fmt_shape(both)}")
    r = src if src._requires_grad else Tensor._make(src._data)
    return commit(t, index_put(_snapshot(t), (Ellipsis,), r, _node=CopyBackwards))


def resize_as_(self, the_template, memory_format=None):
    """``self.resize_(the_template.shape)``: the template's shape, self's dtype and elements (in memory order)."""
    try:
        return resize_(self, the_template.shape, memory_format=memory_format)
    except (AttributeError, TypeError):
        check_tensor_args('resize_as_', 'self:input', 'the_template')
        raise


def _only_untracked(t):
    """as_strided_/set_ replace what the tensor views: PyTorch refuses it on a leaf that requires grad; ember
    records no history for it, so it refuses a tensor with history too (naming the gap)."""
    if GRAD.enabled and t._requires_grad:
        if t.grad_fn is None:
            raise RuntimeError(_LEAF)
        raise RuntimeError('ember does not record this in-place view change on a tensor with history; detach() it '
                           'first')


def as_strided_(self, size, stride, storage_offset=None):
    """Make this tensor the view ``as_strided(self, size, stride, storage_offset)`` of its own memory, in place."""
    from .shape import as_strided
    _only_untracked(self)
    self._data = as_strided(Tensor._make(self._data), size, stride, storage_offset)._data
    self._bump()
    return self


def set_(self, source=None, storage_offset=0, size=None, stride=None):
    """Make this tensor share ``source``'s memory: a tensor's (its view: shape, strides, offset), or a storage's
    (``tensor.untyped_storage()``/``storage()``) viewed from ``storage_offset`` with ``size`` and ``stride``
    (contiguous when not given); with no source, an empty tensor. ``source`` must have self's dtype."""
    from .. import _dtype
    from ..storage import TypedStorage, UntypedStorage
    _only_untracked(self)
    if source is None:
        self._data = np.empty(0, self._data.dtype)
    elif isinstance(source, Tensor):
        if source._data.dtype != self._data.dtype:
            raise RuntimeError(f'Could not set tensor of type {cpp_name(source.dtype)} to a tensor of type '
                               f'{cpp_name(self.dtype)}')
        self._data = source._data
    elif isinstance(source, (TypedStorage, UntypedStorage)):
        raw = source._untyped if isinstance(source, TypedStorage) else source
        if isinstance(source, TypedStorage) and source.dtype != self.dtype:
            raise RuntimeError(f'Expected a Storage of type {self.dtype} or an UntypedStorage, but got type '
                               f'{source.dtype} for argument #1 \'source\' (while checking arguments for set_)')
        flat = raw._elements(self._data.dtype)
        size = (flat.size - storage_offset,) if size is None else tuple(int(n) for n in size)
        if stride is None:
            stride = tuple(int(np.prod(size[i + 1:])) for i in range(len(size)))
        from .shape import as_strided
        self._data = as_strided(Tensor._make(flat), size, stride, storage_offset)._data
    else:
        raise TypeError(f'set_(): argument \'source\' must be Tensor or Storage, not {type(source).__name__}')
    self._bump()
    return self


def resize_(self, *sizes, memory_format=None):
    """Give this tensor the shape ``sizes`` in place, keeping its elements in memory order: same or fewer
    elements reuse its memory, more get new memory with the old elements first (the rest uninitialised in
    PyTorch; zeros here)."""
    from ._util import shape_arg
    if self._requires_grad:
        raise RuntimeError('cannot resize variables that require grad')
    shape = shape_arg(sizes, 'resize_')
    if any(s < 0 for s in shape):
        raise RuntimeError(f'Trying to create tensor with negative dimension {min(shape)}: {list(shape)}')
    a, n = self._data, int(np.prod(shape))
    flat = a.ravel(order='K')
    if n <= a.size:
        self._data = flat[:n].reshape(shape)
    else:
        from ..storage import is_foreign, _NOT_RESIZABLE
        if is_foreign(a):     # memory lent by the program (from_numpy, frombuffer): PyTorch cannot grow it
            raise RuntimeError(_NOT_RESIZABLE)
        grown = np.zeros(n, a.dtype)
        grown[:a.size] = flat
        self._data = grown.reshape(shape)
    self._bump()
    return self
