"""Elementwise ops: arithmetic, math functions, comparisons and logic, each with its backward formula
on the same line as its forward (micrograd's locality)."""
import dis
import math
import numbers
import weakref

import numpy as np

from .. import _bf16, _complex, _layout, _meta, _parallel, _quiet
from ..backend import xp
from .._dtype import DEFAULT, FROM_NP, NoComplexHalf, scalar_name, cpp_name
from ..autograd import dual
from ..autograd.grad_mode import GRAD, OFF
from ..autograd.graph import BUMPS, SEQ, RECORDING, Node, StaleView, edge, _NO_EDGE, saved_entry, saved_properties
from ..tensor import Tensor, adopt_output
from ._util import binary_arrays, as_operand, number_as_tensor, fmt_shape, NotOperand, operand_error, not_implemented, \
    cast_array, type_name, torch_function_operand, check_tensor_args, arg_error
from .inplace import make_inplace
from . import _special, _fused, _old_overloads, _linear_twice, _vml_sqrt, _vec_exp, _sleef, _sleef_expm1, _sleef_log1p

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_multiply, _subtract, _square, _ONE = np.multiply, np.subtract, np.square, dual.ONE   # for np_backward formulas (see unary)
_F32_F64 = (np.dtype(np.float32), np.dtype(np.float64))
_HALVES = frozenset((np.dtype(np.float16), _bf16.NP))    # the dtypes mul and div compute in float32 (_opmath_scalar)
_ONE64 = _ONE[_F64]
_BF16 = _bf16.NP
_new_node = object.__new__   # make a Node (or Tensor) without running __init__ (the caller sets its fields)
_NDARRAY = np.ndarray        # prebound for the forwards' test of a result's type (a global, not np's attribute)


# the opcodes that read locals: {opcode: whether it reads two, packed 4 bits each (LOAD_FAST_LOAD_FAST, 3.13)}
_LOCAL_READS = {op: name.count('LOAD_FAST') == 2 for op, name in enumerate(dis.opname) if name.startswith('LOAD_FAST')}


def _params(fn):
    """The argument names a backward formula actually reads (only those get saved for backward). Scans the raw
    bytecode (2-byte instructions, locals first in the frame's slots): 2 us a formula where
    ``dis.get_instructions`` took 21, for the 81 formulas ``import ember`` makes; an EXTENDED_ARG or a slot past
    the locals goes to dis."""
    code = fn.__code__
    raw, names = code.co_code, code.co_varnames
    if dis.EXTENDED_ARG in raw[::2]:
        return _params_dis(fn)
    found = set()
    for i in range(0, len(raw), 2):
        packed = _LOCAL_READS.get(raw[i])
        if packed is not None:
            slots = (raw[i + 1] >> 4, raw[i + 1] & 15) if packed else (raw[i + 1],)
            if max(slots) >= len(names):
                return _params_dis(fn)
            found.update(names[j] for j in slots)
    return found | set(code.co_cellvars)   # arguments a nested function reads (LOAD_DEREF, not LOAD_FAST)


def _params_dis(fn):
    """``_params`` by dis (slow, general)."""
    return ({ins.argval for ins in dis.get_instructions(fn) if ins.opname.startswith('LOAD_FAST')}
            | set(fn.__code__.co_cellvars))


def _fit(g, shape, np_dtype):
    """A gradient summed back over broadcast dims and cast to the input's dtype."""
    if g is None:
        return None
    if g.shape != shape:
        g = dual.sum_to(g, shape)
    if dual.is_array(g):
        return g if g.dtype == np_dtype else dual.cast(g, np_dtype)     # (the common case without a call)
    return g if g._data.dtype == np_dtype else dual.cast(g, np_dtype)


def _in_dtype_of(v, g):
    """Operand ``v`` (an array or, under create_graph, a tensor; a number as it is) in the dtype of the gradient
    ``g``, the op's result dtype: PyTorch's derivative formulas are tensor ops, so a 0-d float64 operand of a
    float32 op is promoted away there too (x / scale gives scale a float32 sum, cast to float64 at the end)."""
    if dual.is_array(g):
        return v.astype(g.dtype) if type(v) is np.ndarray and v.dtype != g.dtype else v
    return dual.cast(v, g._data.dtype) if isinstance(v, Tensor) and v._data.dtype != g._data.dtype else v


def _broadcast_error(name, x, y):
    xs = x.shape if isinstance(x, Tensor) else ()
    ys = y.shape if isinstance(y, Tensor) else ()
    xs, ys = tuple(xs), tuple(ys)
    for i in range(1, max(len(xs), len(ys)) + 1):
        a = xs[-i] if i <= len(xs) else 1
        b = ys[-i] if i <= len(ys) else 1
        if a != b and a != 1 and b != 1:
            d = max(len(xs), len(ys)) - i
            return RuntimeError(f'The size of tensor a ({a}) must match the size of tensor b ({b}) at '
                                f'non-singleton dimension {d}\n({name}: shapes {fmt_shape(xs)} and '
                                f'{fmt_shape(ys)} do not broadcast; reshape or unsqueeze one operand)')
    return RuntimeError(f'{name}: shapes {fmt_shape(xs)} and {fmt_shape(ys)} do not broadcast')


# a binary node's _meta when both operands are tensors of one shape and dtype (nothing to undo in backward):
# which of them need a gradient; one shared tuple instead of a new 7-tuple per op
_EXACT_XY, _EXACT_X, _EXACT_Y = ((None, True, None, True, None, None, True), (None, True, None, None, None, None, True),
                                 (None, None, None, True, None, None, True))


_NUMBER_SAVED = (None, None)     # a binary node's saved entries when only a number operand is needed


# a + b and a - b: PyTorch's node saves alpha (1), which torchviz's make_dot(show_attrs=True) lists
_ALPHA = {n: {'_saved_alpha': property(lambda node: 1)} for n in ('AddBackward0', 'SubBackward0')}


def binary(name, np_fn, node_name, da, db, float_out=False, doc='', no_bool=False, tensors_only=False,
           scalar_node=None, one_edge=False, scalar_first_node=None, no_complex=False, opmath=False, swapped=False,
           c_order=False):
    """Make a differentiable binary op; ``da(g, a, b)`` and ``db(g, a, b)`` are the gradients for each
    operand, computed only for those that require grad (``no_bool``: refuse bool operands, as
    PyTorch's subtraction does; ``tensors_only``: refuse a Python number operand, as PyTorch's ops without
    a Scalar overload do; ``scalar_node``: the grad_fn's name when ``other`` is a number; ``one_edge``: with a
    number operand the node has one edge, to the tensor, as PyTorch's Scalar overloads of rsub and pow have
    where add/sub/mul wrap the number and keep a None edge for it; ``no_complex``: PyTorch's RuntimeError
    '<name> not implemented for complex tensors.' where a complex tensor's array refuses the ufunc; ``opmath``: a
    float16/bfloat16 tensor with a number second operand computes in float32 with the number unrounded, see
    _opmath_scalar; ``swapped``: PyTorch's kernel takes ``other`` first, as rsub, whose result follows its layout;
    ``c_order``: a number operand's result is C-contiguous whatever the tensor's layout, as PyTorch's pow(Scalar,
    Tensor))."""
    arrays = _sub_arrays if no_bool else binary_arrays
    pa, pb = _params(da), _params(db)

    def bw(self, g):
        xs, xd, ys, yd, a, b, exact = self._meta
        s = self._saved
        if s and self._epoch == BUMPS[0] and not RECORDING[0]:
            # nothing changed in place since the operands were saved (no version to check) and no create_graph
            # pass wants tensors: their arrays, without saved()'s call and list (fwd+bwd per op, min of 40
            # interleaved runs: 16-op chain 2.34 -> 2.28 us, 256-op chain 2.20 -> 2.13)
            ea, eb = s
            if ea is not None:
                a = ea[0]._data
            if eb is not None:
                b = eb[0]._data
        elif s or s is None:
            sa, sb = self.saved()
            if sa is not None:
                a = sa
            if sb is not None:
                b = sb
        if exact:   # no broadcasting or promotion happened: the formulas give the inputs' shapes and dtypes
            if yd is None:
                # the second operand has no edge: the first's gradient alone, no tuple (the engine reads a lone
                # gradient as the first edge's; engine._apply pads it for hooks). fwd+bwd per op, min of
                # interleaved runs: 64 adds 1157 -> 1116 ns, 64 muls 1643 -> 1581
                return da(g, a, b)
            return (da(g, a, b) if xd is not None else None, db(g, a, b))
        ga = gb = None
        a, b = _in_dtype_of(a, g), _in_dtype_of(b, g)   # after a promotion: the formulas in the result's dtype
        if xd is not None:
            ga = da(g, a, b)
            if type(ga) is not np.ndarray or ga.shape != xs or ga.dtype is not xd:
                ga = _fit(ga, xs, xd)
        if yd is not None:
            gb = db(g, a, b)
            if type(gb) is not np.ndarray or gb.shape != ys or gb.dtype is not yd:
                gb = _fit(gb, ys, yd)
        return ga, gb

    # _pack_order: PyTorch saves (and a saved-tensor hook sees) ``other`` before ``self`` (autograd.graph)
    cls = type(node_name, (Node,), {'__slots__': ('_meta',), 'backward': bw, '_pack_order': (1, 0),
                                    **saved_properties('self', 'other'), **_ALPHA.get(node_name, {})})
    # first's _meta is its class's: a plain class attribute shadows cls's slot, so the hot path below makes the node
    # without storing it (a store that only ever wrote _EXACT_X there). Only that path makes one, as ``first()``: its
    # __init__ is object's, so the call skips object.__new__'s checks (x + b of (4, 4) float32, callgrind: 13053 ->
    # 12776 instructions)
    first = type(node_name, (cls,), {'__slots__': (), 'backward': _first_only(bw, da), '_meta': _EXACT_X,
                                     '__init__': object.__init__})
    scls = cls if scalar_node is None else type(scalar_node, (cls,), {'__slots__': ()})
    fcls = cls if scalar_first_node is None else type(scalar_first_node, (cls,), {'__slots__': ()})
    if one_edge:    # by which operand is the tensor: the node whose one edge goes to it
        single = {xt: type((scalar_node if xt else scalar_first_node or scalar_node) or node_name, (cls,),
                           {'__slots__': (), 'backward': _one_of(bw, 1 - xt)}) for xt in (True, False)}

    def record(x, y, a, b, r):
        """Attach the backward node (operands may be tensors or Python scalars)."""
        xt, yt = isinstance(x, Tensor), isinstance(y, Tensor)
        if one_edge and xt != yt:
            node = single[xt]((x if xt else y,))
        else:
            node = (scls if not yt else cls if xt else fcls)((x if xt else None, y if yt else None))
        xg, yg = xt and x._requires_grad, yt and y._requires_grad
        node._meta = (x._data.shape if xt else None, x._data.dtype if xg else None,
                      y._data.shape if yt else None, y._data.dtype if yg else None,
                      None if xt else a, None if yt else b, False)
        need_a = xt and ((xg and 'a' in pa) or (yg and 'a' in pb))
        need_b = yt and ((xg and 'b' in pa) or (yg and 'b' in pb))
        if need_a or need_b:
            node.save(x if need_a else None, y if need_b else None)
        elif (xg and 'b' in pa and not yt) or (yg and 'a' in pb and not xt):
            # PyTorch saves a number operand the gradient needs (wrapped as a 0-d tensor), freed by backward
            # like any saved tensor: ``(x * 2).sum()`` backward twice raises there, so it does here (the number
            # itself stays in _meta; the epoch lets backward take its fast path)
            node._saved = _NUMBER_SAVED
            node._epoch = BUMPS[0]
        return Tensor._make(r, node)

    # which operands to save, by which of them require grad: (x only, y only, both)
    plan_x, plan_y, plan_xy = (_plan('a' in pa, 'b' in pa), _plan('a' in pb, 'b' in pb),
                               _plan('a' in pa or 'a' in pb, 'b' in pa or 'b' in pb))

    def make(operator, method=False):
        """The op; ``operator``: Tensor's ``+``/``*``... form, which returns NotImplemented for an ndarray operand
        (see _numpy_operand), tested off the two-tensor fast path so that the operators cost nothing more;
        ``method``: the Tensor method, whose argument errors do not count self (read on the error path alone)."""
        def op(input, other):
            if type(input) is Tensor and type(other) is Tensor:
                a, b = input._data, other._data
                dt = a.dtype
                if dt is b.dtype and (not float_out or dt.kind == 'f'):
                    try:
                        if input._lay is a and other._lay is b:     # both known C-contiguous (see _layout_pair)
                            same = input._shp if input._shp == other._shp else False
                        else:
                            same = _layout_pair(input, a, other, b)
                    except AttributeError:   # a tensor made without Tensor._make or _init: no _lay
                        same = _layout_pair(input, a, other, b)
                    try:
                        if same is not None:
                            r = np_fn(a, b)
                        else:       # PyTorch's result layout, see _layout.apply
                            r = _layout.apply(np_fn, (a, b), (b, a) if swapped else None)
                    except ValueError:
                        raise _broadcast_error(name, input, other) from None
                    except TypeError as e:
                        raise _type_error(e, input, other) from None
                    except NotImplementedError:
                        if no_complex:
                            raise RuntimeError(f'{name} not implemented for complex tensors.') from None
                        raise
                    except RuntimeWarning:   # NumPy's inf/NaN warning, an error by the user's filter (see _quiet)
                        return _quiet.again(op, input, other)
                    xg, yg = input._requires_grad, other._requires_grad
                    if (xg or yg) and (not OFF or GRAD.enabled):   # (see grad_mode.OFF)
                        # ``record`` for two tensors of one dtype, the hot path: built inline
                        if same is False or same is None and a.shape != b.shape:
                            node = _new_node(cls)
                            node._meta = (a.shape, dt if xg else None, b.shape, dt if yg else None, None, None, False)
                        elif yg:
                            node = _new_node(cls)
                            node._meta = _EXACT_XY if xg else _EXACT_Y
                        else:
                            node = first()     # its _meta: _EXACT_X (see first)
                        # edge() inline for an op's result, one call less (fwd+bwd per op, min of interleaved runs:
                        # 16-op chain 2.217 -> 2.190 us, 256-op chain 2.036 -> 2.007; 4-op forward 1.299 -> 1.283)
                        node._seq = next(SEQ)      # (see graph.SEQ)
                        fn = input.grad_fn
                        node.next_functions = ((fn, input._output_nr) if fn is not None and fn.__class__ is not StaleView
                                               else edge(input) if xg else _NO_EDGE, edge(other) if yg else _NO_EDGE)
                        plan = (plan_xy if yg else plan_x) if xg else plan_y
                        if plan is not None:    # (need_a, need_b), None when neither is saved (add, sub)
                            need_a, need_b = plan
                            node._epoch = BUMPS[0]   # read before the versions: a bump in between is then seen
                            # a second operand never changed in place and not a view (a weight, a constant) saved
                            # as saved_entry would save it, without its call: x.mul(w) 14.9 -> 14.4k instructions
                            node._saved = (saved_entry(input) if need_a else None,
                                           None if not need_b else (other, None, 0)
                                           if other._vc is None and other._base is None else saved_entry(other))
                        t = _new_node(Tensor)
                        t._data = r if type(r) is _NDARRAY else adopt_output(r, node)
                        t._requires_grad = True
                        t._grad = None
                        t.grad_fn = node
                        if same:    # C-contiguous operands of one shape: so is NumPy's result
                            t._lay, t._shp = r, same
                        else:
                            t._lay = None
                        return t
                    return Tensor._make(r)
            if operator and isinstance(other, _NDARRAY):
                return NotImplemented
            if tensors_only and not (isinstance(input, Tensor) and isinstance(other, Tensor)):
                raise operand_error(name, input, other, method, tensors_only=True)
            if not (operator or isinstance(input, Tensor) or isinstance(other, Tensor)):
                input = number_as_tensor(name, input, other)
            try:
                x, y, a, b = arrays(input, other, float_out)
            except NotOperand:
                if operator:   # Python's own error follows, as PyTorch's operators decline such operands too
                    return NotImplemented
                raise operand_error(name, input, other, method) from None
            except TypeError:
                recorded = torch_function_operand(name, input, other)
                if recorded is None:
                    raise
                return recorded
            half = False
            if opmath and getattr(a, 'dtype', None) in _HALVES:   # (a set test: the call cost x * 2.0 280 of 2830 ns)
                a, b, half = _opmath_scalar(y, a, b)
            try:
                r = np_fn(a, b)
                if half:
                    r = r.astype(_F16)
            except ValueError:
                raise _broadcast_error(name, x, y) from None
            except OverflowError:
                r = np_fn(*_wrap_ints(a, b))
            except TypeError as e:
                raise _complex_refusal(name, a, b, e) from None
            except NotImplementedError:
                if no_complex:
                    raise RuntimeError(f'{name} not implemented for complex tensors.') from None
                raise
            except RuntimeWarning:
                return _quiet.again(op, input, other)
            if c_order:
                r = r if r.flags.c_contiguous else np.ascontiguousarray(r)
            else:
                r = _follow_operands(r, b, a) if swapped else _follow_operands(r, a, b)
            if GRAD.enabled and ((isinstance(x, Tensor) and x._requires_grad) or
                                 (isinstance(y, Tensor) and y._requires_grad)):
                return record(x, y, a, b, r)
            return Tensor._make(r)
        return op
    op = make(False)
    op.operator, op.method = make(True), make(False, True)
    for f in (op, op.operator, op.method):
        f.__name__ = name
        f.__doc__ = doc or f'Elementwise {name} with broadcasting and PyTorch type promotion.'
        f.node = cls
    return op


def _layout_pair(x, a, y, b):
    """How the arrays ``a`` and ``b`` of tensors ``x`` and ``y`` lie, asked of NumPy: None unless both are C-contiguous,
    else their shape when they have one, False when not. Each tensor but a leaf requiring grad (a parameter, whose
    replaced ``_data`` would stay referenced) remembers it as ``_lay`` (its array while C-contiguous) and ``_shp``,
    which binary's fast path reads first, by identity, for NumPy's flags objects and shape tuples; a binary or
    unary result of known layout records its own. (add, mul, tanh) chains at (4, 4), fwd+bwd per op, callgrind:
    256-op 26677 -> 25991 instructions, 16-op 29859 -> 29407."""
    ca, cb = a.flags.c_contiguous, b.flags.c_contiguous
    sa, sb = a.shape, b.shape
    # set on every tensor (None where not remembered): a tensor made without Tensor._make or _init lacks the slot,
    # and binary's fast path then takes its AttributeError once, not at every op
    x._lay, x._shp = a if ca and (x.grad_fn is not None or not x._requires_grad) else None, sa
    y._lay, y._shp = b if cb and (y.grad_fn is not None or not y._requires_grad) else None, sb
    if ca and cb:
        return sa if sa == sb else False
    return None


def _apply_operands(fn, *args):
    """``fn(*args)`` (elementwise) laid out as PyTorch's result of operands ``args`` (_layout.apply)."""
    if all(not isinstance(v, np.ndarray) or v.flags.c_contiguous for v in args):
        return fn(*args)
    return _layout.apply(fn, args)


def _follow_operands(r, *arrays):
    """Pointwise result ``r`` in PyTorch's layout for operand ``arrays`` (or numbers), see _layout.follow."""
    if all(not isinstance(v, np.ndarray) or v.flags.c_contiguous for v in arrays):
        return r
    return _layout.follow(r, arrays)


def _opmath_scalar(y, a, b):
    """Operands for PyTorch's float16/bfloat16 kernels of mul and div with a scalar second operand (a number or a
    0-d tensor of another dtype): the scalar stays unrounded in float32, their opmath type, where the cast would
    round it to the tensor's dtype first (CLIP's QuickGELU ``x * sigmoid(1.702 * x)`` in float16: 1.702 ->
    1.7021). Returns (a, b, whether the float32 result is to be rounded to float16); a BF16Array computes in
    float32 and rounds when adopted."""
    dt = a.dtype      # float16 or bfloat16 (binary's caller checks)
    if isinstance(y, Tensor):
        v = y._data
        if v.ndim or v.dtype == dt or v.dtype.kind not in 'fiub':
            return a, b, False
        b = np.float32(v)
    elif type(b) is float or type(b) is int:
        b = np.float32(b)
    else:
        return a, b, False
    if dt == _F16:
        return a.astype(np.float32), b, True
    return a, b, False


def _plan(need_a, need_b):
    """Which operands a binary node saves: (need_a, need_b), or None for neither (one test in the forward)."""
    return (need_a, need_b) if need_a or need_b else None


def _through(g, a, b):
    """A gradient passed on as it is (add's, sub's first operand's): _first_only's backward is then the gradient
    itself."""
    return g


def _pass_on(self, g):
    return g


def _times_other(g, a, b):
    """mul's first-operand gradient; on arrays, _first_only's backward calls the ufunc itself."""
    return g * b


def _first_only(bw, da):
    """The backward of a binary op's node whose operands had one shape and dtype and whose second needs no gradient
    (the usual op of a chain: x + b, x * w): da's gradient alone, the saved operands' arrays read without bw's
    unpacking and checks while nothing changed in place and no create_graph pass runs, else bw. The node is a
    subclass of the op's with its name. With da _through nothing is saved (da reads no operand): g is returned
    without a call of da (fwd+bwd per op, (add, mul, tanh) chains, min of 12 interleaved runs: 16-op 2039 -> 2026 ns,
    256-op 1949 -> 1933); with da _times_other (mul's), np.multiply of g and the saved b (16-op 2017 -> 1994,
    256-op 1906 -> 1884)."""
    if da is _through:
        return _pass_on
    if da is _times_other:
        def times_other(self, g):
            s = self._saved
            if s and self._epoch == BUMPS[0] and not RECORDING[0]:
                return _multiply(g, s[1][0]._data)     # da's ufunc, on the saved b (no call of da, no operator)
            return bw(self, g)
        return times_other

    def backward(self, g):
        s = self._saved
        if not s:       # nothing saved (add, sub); None once freed: bw raises
            return da(g, None, None) if s is not None else bw(self, g)
        if self._epoch == BUMPS[0] and not RECORDING[0]:   # see bw
            a, b = s
            return da(g, a and a[0]._data, b and b[0]._data)
        return bw(self, g)
    return backward


def _one_of(bw, i):
    """The backward of a node with one edge, to operand ``i`` of the binary backward ``bw``: bw's lone gradient
    (operand 0's, when operand 1 has no edge) or its i-th."""
    def backward(self, g):
        out = bw(self, g)
        return out[i] if type(out) is tuple else out
    return backward


_SUB_BOOL = ('Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a '
             'mask, use the `~` or `logical_not()` operator instead.')
_SUB_BOOLS = ('Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or '
              '`logical_xor()` operator instead.')


def _is_bool(x):
    return isinstance(x, (bool, np.bool_)) or isinstance(x, Tensor) and x._data.dtype == np.bool_


def _sub_arrays(x, y, float_out):
    """``binary_arrays`` for subtraction, which PyTorch refuses for bool operands."""
    if (x._data.dtype.kind == 'b' if isinstance(x, Tensor) else x is True or x is False or type(x) is np.bool_) or \
            (y._data.dtype.kind == 'b' if isinstance(y, Tensor) else y is True or y is False or type(y) is np.bool_):
        raise RuntimeError(_SUB_BOOLS if _is_bool(x) and _is_bool(y) else _SUB_BOOL)
    return binary_arrays(x, y, float_out)


def _complex_refusal(name, a, b, e):
    """NumPy's TypeError for a ufunc with no complex loop (a complex number made a real tensor's op complex),
    as PyTorch's kernel refusal; another TypeError passes through."""
    for v in (a, b):
        d = getattr(v, 'dtype', None)
        if d is not None and d.kind == 'c':
            return not_implemented(_KERNELS.get(name, f'{name}_cpu'), d)
    return e


# PyTorch's kernel names, where they are not the op's name with _cpu
_KERNELS = {'floor_divide': 'div_floor_cpu', 'true_divide': 'div_true_cpu'}


def _type_error(e, x, y):
    """NumPy's refusal of bool subtraction, worded as PyTorch's."""
    return RuntimeError(_SUB_BOOLS) if _is_bool(x) and _is_bool(y) else e


def _wrap_ints(a, b):
    """Python ints outside an integer tensor's range wrap around, as in PyTorch (NumPy 2 raises)."""
    dt = a.dtype if isinstance(a, np.ndarray) else b.dtype
    return tuple(np.array(v & 0xFFFFFFFFFFFFFFFF, np.uint64).astype(dt) if isinstance(v, int) else v
                 for v in (a, b))


def _no_bool(np_fn, kernel):
    """``np_fn`` refusing two bool operands like PyTorch's ``kernel`` (NumPy would compute in int8)."""
    def f(a, b):
        r = np_fn(a, b)
        if r.dtype == np.int8 and _is_bool_arr(a) and _is_bool_arr(b):
            raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')
        return r
    f.__name__ = np_fn.__name__
    return f


def _int_nonzero(np_fn):
    """``np_fn`` raising PyTorch's error for an integer division by zero (NumPy gives 0 with a warning);
    the divisor is only scanned when the result is integral."""
    def f(a, b):
        r = np_fn(a, b)
        if r.dtype.kind in 'iub' and r.size and not np.all(b):   # (an empty result divides nothing)
            raise RuntimeError('ZeroDivisionError')
        return r
    f.__name__ = np_fn.__name__
    return f


def _is_bool_arr(v):
    return isinstance(v, bool) or getattr(v, 'dtype', None) == np.bool_


# unary ops whose NumPy function on complex numbers is PyTorch's (the others refuse complex inputs)
_COMPLEX_UNARY = frozenset(('neg', 'exp', 'exp2', 'expm1', 'log', 'log2', 'log10', 'log1p', 'sqrt', 'rsqrt', 'reciprocal',
                            'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'sinh', 'cosh', 'tanh', 'asinh', 'acosh',
                            'atanh', 'sigmoid', 'abs', 'square', 'sgn'))   # NumPy 2's sign(z) is z/|z|, sgn's


def unary(name, np_fn, node_name, backward, int_ok=False, doc='', precise=False, refuse=None, np_backward=None,
          half=False, half_grad=False, exact=None):
    """Make a differentiable unary op; ``backward(g, x, y)`` gets the input x and/or output y
    (``precise``: a float32 input is computed in float64 and rounded once, see _precise; ``precise`` or ``half``:
    a float16 one computed wide and rounded once, see _record_half; ``half_grad``: its gradient too, as PyTorch's
    own backward kernel computes it (tanh_backward; a composite formula rounds each float16 step); ``refuse(dtype)``:
    the exception PyTorch raises for a non-float dtype, or None; ``np_backward(g, y)``: for an op whose
    backward reads only y, the same formula on arrays as ufunc calls, which a plain backward runs instead;
    ``exact(a)``: a float32 ndarray's values as PyTorch's AVX-512 kernel gives them, under the exact kernels)."""
    params = _params(backward)
    needs_x, needs_y = 'x' in params, 'y' in params
    # a precise one-in one-out ufunc: float32 computed in place on a float64 copy (see op)
    f64_in_place = precise and type(np_fn) is np.ufunc and np_fn.nin == 1 and np_fn.nout == 1

    if needs_x and needs_y:
        def bw(self, g):
            x, y = self.saved()
            return backward(g, x, y)
    elif needs_y:
        def bw(self, g):
            s = self._saved
            if s and not RECORDING[0]:
                # a plain backward: the saved output's array when unchanged (else saved() raises), without
                # saved()'s call and list (fwd+bwd per op, min of interleaved runs: 16-op chain 2.47 -> 2.42 us,
                # 256-op chain 2.30 -> 2.28, 4-op chain 2.66 -> 2.62)
                arr, vc, ver, _ = s[0]
                if vc[0] == ver:
                    # np_backward's ufunc calls skip the operators' dispatch (measured on tanh's former formula,
                    # fwd+bwd per op, min of interleaved runs: 16-op chain 2.235 -> 2.199 us, 256-op 2.054 -> 2.026)
                    return backward(g, None, arr) if np_backward is None else np_backward(g, arr)
            y, = self.saved()
            return backward(g, None, y)
    elif needs_x:
        def bw(self, g):
            x, = self.saved()
            return backward(g, x, None)
    else:
        def bw(self, g):
            return backward(g, None, None)

    cls = type(node_name, (Node,), {'__slots__': (), 'backward': bw,
                                    **saved_properties(*('self',) * needs_x, *('result',) * needs_y)})
    half_cls = None if not (precise or half) else cls if not half_grad else \
        type(node_name, (cls,), {'__slots__': (), 'backward': _half_backward(bw, backward, needs_x, needs_y)})

    def op(input):
        try:
            a = input._data
        except (AttributeError, TypeError):
            check_tensor_args(name, 'input')   # (under the name called: torch.arccos, torch.special.expit)
            raise
        dt = a.dtype
        lay = None
        if dt is not _F32 and dt.kind != 'f':
            if refuse is not None:
                e = refuse(dt)
                if e is not None:
                    raise e
            if dt.kind == 'c' and name not in _COMPLEX_UNARY:
                raise _complex.refuse(name, dt)
            if not int_ok and dt.kind != 'c':
                a = cast_array(a, DEFAULT.np)   # (in PyTorch's layout for an expanded input)
                dt = a.dtype
        try:
            if exact is not None and dt is _F32 and type(a) is _NDARRAY and _sleef.emulated():
                r = exact(a)
            elif dt is _F32 and f64_in_place and a.size <= _BLOCK:
                # the ufunc writes over its own float64 copy of a, out given by position: no second float64 array,
                # no keyword to parse (op of (4, 4) float32, min of 25 interleaved runs: tanh 1131 -> 1111 ns,
                # exp 1094 -> 1080, sin 1179 -> 1163); tested first, in one line
                r = a.astype(_F64)
                np_fn(r, r)
                r = r.astype(_F32)
                if r.strides != a.strides:   # a broadcast input: NumPy's astype order is not PyTorch's (_follow_expanded)
                    r = _follow_expanded(r, a)
                try:
                    lay = r if input._lay is a else None    # a's layout is r's (see _layout_pair)
                except AttributeError:
                    pass
            elif precise and dt is _F32:
                r = _special.blocked(np_fn, a) if a.size > _BLOCK else np_fn(a.astype(_F64)).astype(_F32)
                if r.strides != a.strides:
                    r = _follow_expanded(r, a)
            elif precise and dt is _BF16:   # in float64 too, rounded to bf16 (through float32) once
                a64 = (a if type(a) is _meta.MetaArray else np.asarray(a)).astype(_F64)    # (a meta one stays meta)
                r = _bf16.from_f32(np_fn(a64).astype(_F32))
            elif dt is _F16 and half_cls is not None:    # (see _record_half)
                r = np_fn(a.astype(_F64)).astype(_F32).astype(_F16)
                return _record_half(input, r if r.strides == a.strides else _follow_expanded(r, a), half_cls, needs_x,
                                    needs_y)
            else:
                r = np_fn(a)
        except RuntimeWarning:   # NumPy's inf/NaN warning, an error by the user's filter (see _quiet)
            return _quiet.again(op, input)
        if input._requires_grad and (not OFF or GRAD.enabled):   # (see grad_mode.OFF)
            node = _new_node(cls)
            node._seq = next(SEQ)
            fn = input.grad_fn   # edge() inline for an op's result (see binary)
            node.next_functions = ((fn, input._output_nr) if fn is not None and fn.__class__ is not StaleView else edge(input),)
            out = _new_node(Tensor)
            out._data = r if type(r) is _NDARRAY else adopt_output(r, node)
            out._requires_grad = True
            out._grad = None
            out.grad_fn = node
            if needs_x:
                node.save(input)
                if needs_y:
                    node.save_output(out)
            elif needs_y:   # save_output inline for a new output (version 0): tanh of (4, 4) 1.62 -> 1.50 us
                out._vc = vc = [0]
                node._saved = ((out._data, vc, 0, 0),)
            out._lay = lay
            if lay is not None:
                out._shp = input._shp
            return out
        return Tensor._make(r)
    op.__name__ = name
    op.__doc__ = doc or f'Elementwise {name}.'
    op.node = cls
    return op


_F16 = np.dtype(np.float16)


def _follow_expanded(r, a):
    """Unary result ``r`` of array ``a`` laid out as PyTorch's: NumPy's float64 copy of a broadcast (zero-stride)
    input puts the broadcast dim innermost, where TensorIterator keeps C order (sin of an expand(2, 3) of a row
    gave strides (1, 2), PyTorch's are (3, 1))."""
    return _layout.follow(r, (a,)) if isinstance(r, np.ndarray) and r.ndim > 1 and r.shape == a.shape else r


def _record_half(input, r, cls, needs_x, needs_y):
    """A precise unary op's float16 result ``r`` (computed wide, rounded once to float16, as PyTorch's kernels
    compute float16 in float32: sigmoid's NumPy float16 steps each rounded, 162 of 512 values differed) with its
    node ``cls`` (tanh's computes its gradient in float32 too, _half_backward)."""
    if not (input._requires_grad and GRAD.enabled):
        return Tensor._make(r)
    node = cls((input,))
    if needs_x:
        node.save(input)
    out = Tensor._make(r, node)
    if needs_y:
        node.save_output(out)
    return out


def _half_backward(bw, backward, needs_x, needs_y):
    """A unary node's backward for float16: ``backward(g, x, y)`` on the gradient and the saved arrays widened to
    float32, rounded once to float16, as PyTorch's backward kernels (tanh_backward, sigmoid_backward...) compute
    float16 (in float16 steps 1949 of 4000 of tanh's gradients differed); ``bw`` under create_graph."""
    def half_backward(self, g):
        if type(g) is not np.ndarray:       # (under create_graph: ember's ops, a tensor)
            return bw(self, g)
        saved = [a.astype(_F32) for a in self.saved()]
        x = saved[0] if needs_x else None
        y = saved[-1] if needs_y else None
        return np.asarray(backward(g.astype(_F32), x, y)).astype(_F16)
    return half_backward


def _half_opmath(np_fn):
    """``np_fn`` computed in float32 for a float16 array with a Python number, rounded once to float16:
    PyTorch's CPU division kernels take the number unrounded in their float32 opmath type, where NumPy rounds it
    to float16 first (5 // 0.1 of float16 is 49 in PyTorch, 50 that way). mul and true division do this in
    binary's scalar path (_opmath_scalar), off their two-tensor hot path."""
    def f(a, b):
        tb, ta = type(b), type(a)
        if (tb is float or tb is int) and type(a) is np.ndarray and a.dtype == _F16:
            return np.asarray(np_fn(a.astype(np.float32), np.float32(b))).astype(_F16)
        if (ta is float or ta is int) and type(b) is np.ndarray and b.dtype == _F16:
            return np.asarray(np_fn(np.float32(a), b.astype(np.float32))).astype(_F16)
        return np_fn(a, b)
    f.__name__ = getattr(np_fn, '__name__', 'op')
    return f


# -- arithmetic ---------------------------------------------------------------------------------------
# the forwards call the ufuncs, not operator.add etc.: no operator dispatch (16 float32s: 243 -> 225 ns an add)
_add = binary('add', np.add, 'AddBackward0', _through, _through)
_sub = binary('sub', np.subtract, 'SubBackward0', _through, lambda g, a, b: -g, no_bool=True)
rsub_ = binary('rsub', lambda a, b: b - a, 'RsubBackward0', lambda g, a, b: -g, lambda g, a, b: g, no_bool=True,
               scalar_node='RsubBackward1', one_edge=True, swapped=True)
mul = binary('mul', np.multiply, 'MulBackward0', _times_other, lambda g, a, b: g * a, opmath=True)
# C++'s mul.Scalar and add.Scalar, which PyTorch's backward formulas use (``-2 * output``): their nodes are
# MulBackward1 and AddBackward1 with one edge, where Python's ``x * 2`` gives MulBackward0. dual.scale and
# dual.shift call them on tensors (create_graph) so that the recorded graph has PyTorch's names.
_mul_scalar = binary('mul', np.multiply, 'MulBackward0', lambda g, a, b: dual.scale(g, b), lambda g, a, b: None, opmath=True,
                     scalar_node='MulBackward1', one_edge=True)
_add_scalar = binary('add', np.add, 'AddBackward0', _through, lambda g, a, b: None, scalar_node='AddBackward1',
                     one_edge=True)
# C++'s sub.Scalar and div.Scalar (SubBackward1, DivBackward1: one edge), as PyTorch's formulas record ``z - 1``
_sub_scalar = binary('sub', np.subtract, 'SubBackward0', _through, lambda g, a, b: None, no_bool=True,
                     scalar_node='SubBackward1', one_edge=True)
_div_scalar = binary('div', np.true_divide, 'DivBackward0',
                     lambda g, a, b: g / b if dual.is_array(g) else _div_scalar(g, b), lambda g, a, b: None,
                     float_out=True, opmath=True, scalar_node='DivBackward1', one_edge=True)
_div = binary('div', np.true_divide, 'DivBackward0', lambda g, a, b: g / b, lambda g, a, b: -g * dual.r16(dual.r16(a / b) / b),
              float_out=True, opmath=True)
maximum = binary('maximum', xp.maximum, 'MaximumBackward0', lambda g, a, b: _minmax_grads(g, a, b, np.greater)[0],
                 lambda g, a, b: _minmax_grads(g, a, b, np.greater)[1], tensors_only=True, no_complex=True)
minimum = binary('minimum', xp.minimum, 'MinimumBackward0', lambda g, a, b: _minmax_grads(g, a, b, np.less)[0],
                 lambda g, a, b: _minmax_grads(g, a, b, np.less)[1], tensors_only=True, no_complex=True)


def _atan2_recip(a, b):
    """1 / (a^2 + b^2), 0 where both are 0 (PyTorch's atan2 backward: no NaN gradient at the origin)."""
    d = dual.r16(dual.r16(a * a) + dual.r16(b * b))    # (each a bf16 tensor in PyTorch's formula)
    with np.errstate(divide='ignore'):
        return dual.r16(dual.where(dual.data(d) == 0, dual.const(0.0, d), 1 / d))


atan2 = binary('atan2', xp.arctan2, 'Atan2Backward0', lambda g, a, b: dual.r16(g * b) * _atan2_recip(a, b),
               lambda g, a, b: dual.r16(g * -a) * _atan2_recip(a, b), float_out=True, tensors_only=True)
_fmod_fn = _int_nonzero(_no_bool(xp.fmod, 'fmod_cpu'))
_fmod_s = binary('fmod', _fmod_fn, 'FmodBackward0', lambda g, a, b: g, lambda g, a, b: None)
_fmod_t = binary('fmod', _fmod_fn, 'FmodBackward1', lambda g, a, b: g,
                 lambda g, a, b: -g * _quotient('trunc', a, b, g))


def _remainder_signed(a, b):
    """NumPy's remainder, with PyTorch's sign on a zero result: fmod's (the dividend's), where NumPy gives the
    divisor's (``-2. % 2`` is -0. in PyTorch). Other results are the same; the fix-up runs only when a float
    result has a zero."""
    r = xp.remainder(a, b)
    if r.dtype.kind == 'f':
        z = r == 0
        if z.any():   # not copysign(out=r, where=z): a bfloat16 array computes into a new array, whose
            r = np.where(z, np.copysign(r, a), r)   # unselected entries would stay uninitialised
    return r


_remainder_fn = _int_nonzero(_no_bool(_remainder_signed, 'remainder_cpu'))
_remainder_s = binary('remainder', _remainder_fn, 'RemainderBackward0', lambda g, a, b: g, lambda g, a, b: None)
_remainder_t = binary('remainder', _remainder_fn, 'RemainderBackward1', lambda g, a, b: g,
                      lambda g, a, b: -g * _quotient('floor', a, b, g))
_remainder_r = binary('remainder', _remainder_fn, 'NotImplemented', lambda g, a, b: None,
                      lambda g, a, b: _not_implemented('remainder'))
_remainder_r.node.name = lambda self: 'torch::autograd::NotImplemented'
def _reduced_floor_divide(a, b):
    """floor_divide's kernel: two float16/bfloat16 arrays as div(rounding_mode='floor') computes them."""
    r = _reduced_rounded_div(a, b, 'floor')
    return xp.floor_divide(a, b) if r is None else r


_floor_divide_fn = _int_nonzero(_no_bool(_half_opmath(_reduced_floor_divide), 'div_floor_cpu'))
floor_divide = binary('floor_divide', _floor_divide_fn, 'NotImplemented',
                      lambda g, a, b: _not_implemented('floor_divide'), lambda g, a, b: _not_implemented('floor_divide'),
                      doc='Elementwise floor(input / other); PyTorch has no derivative for it (backward raises).')
floor_divide.node.name = _remainder_r.node.name


def _quotient(mode, a, b, g):
    """div(a, b, rounding_mode=mode) as a constant in g's dtype: d fmod(a, b)/db = -trunc(a / b), d remainder/db =
    -floor(a / b), PyTorch's rounded division (-0.3 // inf is -1 and inf // 2 NaN, where floor(a / b) gave -0 and inf)."""
    a, b = dual.data(a), dual.data(b)
    r = _reduced_rounded_div(a, b, mode)
    if r is None:
        with np.errstate(divide='ignore', invalid='ignore'):
            r = (_trunc_divide if mode == 'trunc' else np.floor_divide)(a, b)
    return dual.const(r, g)


def _not_implemented(op):
    raise RuntimeError(f'derivative for aten::{op} is not implemented')


def fmod(input, other, *, out=None):
    """C's fmod: the remainder has the sign of the dividend."""
    if not isinstance(input, Tensor):   # (no number-first overload, unlike remainder)
        names = ['Tensor' if isinstance(v, Tensor) else type_name(v) for v in (input, other)]
        raise TypeError(f'fmod() received an invalid combination of arguments - got ({names[0]}, {names[1]}), but '
                        f'expected one of:\n * (Tensor input, Tensor other, *, Tensor out = '
                        'None)\n * (Tensor input, Number other, *, Tensor out = None)\n')
    return _out((_fmod_t if isinstance(other, Tensor) else _fmod_s)(input, other), out, 'fmod', reads=(input, other))


def remainder(input, other, *, out=None):
    """Python's modulus: the remainder has the sign of the divisor."""
    if not isinstance(input, Tensor):
        return _out(_remainder_r(input, other), out, 'remainder', reads=(input, other))
    return _out((_remainder_t if isinstance(other, Tensor) else _remainder_s)(input, other), out, 'remainder', reads=(input, other))



def _minmax_grads(g, a, b, cmp):
    """Gradient of max/min: to the winner, split in half on ties; a NaN pair sends it to both (PyTorch's
    rule: each operand gets it unless it lost the comparison)."""
    ad, bd = dual.data(a), dual.data(b)
    half = np.where(ad == bd, 0.5, 1.0)
    wa = half * ~cmp(bd, ad)
    wb = half * ~cmp(ad, bd)
    if dual.is_array(g):
        return g * wa.astype(g.dtype), g * wb.astype(g.dtype)
    return g * dual.const(wa, g), g * dual.const(wb, g)


def add(input, other, *old, alpha=1, out=None):
    """input + alpha * other (rounded once, as PyTorch's fused kernel); ``old``: the deprecated
    ``add(alpha, other)`` (ops/_old_overloads.py)."""
    if old:
        return add(input, *_old_overloads.modern('add', (other,) + old, {'alpha': alpha} if alpha != 1 else {})[0],
                   alpha=other, out=out)
    if alpha != 1 or type(alpha) is not int:   # (alpha=1.0 or True: PyTorch checks it against the dtype)
        return _out(_with_alpha('add', input, other, alpha, 1.0, AddBackward0), out, 'add', reads=(input, other))
    return _out(_add(input, other), out, 'add', reads=(input, other))


def sub(input, other, *old, alpha=1, out=None):
    """input - alpha * other (rounded once, as PyTorch's fused kernel); ``old``: the deprecated
    ``sub(alpha, other)`` (ops/_old_overloads.py)."""
    if old:
        return sub(input, *_old_overloads.modern('sub', (other,) + old, {'alpha': alpha} if alpha != 1 else {})[0],
                   alpha=other, out=out)
    if alpha != 1 or type(alpha) is not int:
        return _out(_with_alpha('sub', input, other, alpha, -1.0, SubBackward0), out, 'sub', reads=(input, other))
    return _out(_sub(input, other), out, 'sub', reads=(input, other))


def _add_method(self, other, *old, alpha=1, out=None):
    """``Tensor.add``: add, its argument errors counting from ``other`` (see binary's make)."""
    if old or alpha != 1 or type(alpha) is not int or out is not None:
        return add(self, other, *old, alpha=alpha, out=out)
    return _add.method(self, other)


def _sub_method(self, other, *old, alpha=1, out=None):
    """``Tensor.sub``: sub, its argument errors counting from ``other`` (see binary's make)."""
    if old or alpha != 1 or type(alpha) is not int or out is not None:
        return sub(self, other, *old, alpha=alpha, out=out)
    return _sub.method(self, other)


def _div_method(self, other, *, rounding_mode=None, out=None):
    """``Tensor.div``: div, its argument errors counting from ``other`` (see binary's make)."""
    if rounding_mode is not None or out is not None:
        return div(self, other, rounding_mode=rounding_mode, out=out)
    return _div.method(self, other)


_add_method.__name__, _sub_method.__name__, _div_method.__name__ = 'add', 'sub', 'div'


class _AlphaBackward(Node):
    """Backward of add/sub/rsub with ``alpha``, one node as PyTorch records it: input i's gradient is the
    incoming one times ``_scale[i]`` (1, alpha or -alpha), summed over broadcast dims, in the input's dtype."""
    __slots__ = ('_meta', '_scale', '_alpha')
    _saved_alpha = property(lambda node: node._alpha)    # alpha as given (PyTorch's add(x, y, alpha=2): 2)

    def backward(self, g):
        return tuple(None if m is None else _fit(g if k == 1 else _scaled(g, k), *m)
                     for k, m in zip(self._scale, self._meta))


AddBackward0, SubBackward0, RsubBackward0, RsubBackward1 = (
    type(n, (_AlphaBackward,), {'__slots__': (), '__doc__': f'{n}: add/sub/rsub with alpha.'})
    for n in ('AddBackward0', 'SubBackward0', 'RsubBackward0', 'RsubBackward1'))


def _scaled(g, k):
    """``g * k`` for a number k as PyTorch's mul by a Scalar: the half types multiply in float32 and round once."""
    if dual.is_array(g) and (g.dtype.itemsize == 2 or _bf16.is_bf16(g.dtype)):
        r = g.astype(_F32) * np.float32(k)
        return _bf16.from_f32(r) if _bf16.is_bf16(g.dtype) else r.astype(g.dtype)
    return g * k


def _with_alpha(name, input, other, alpha, sign, node, rsub=False):
    """``input + sign * alpha * other`` (``rsub``: ``other + sign * alpha * input``) computed once: floating results
    rounded once as PyTorch's fused kernels (_alpha_values), with one ``node`` holding alpha; other dtypes as
    the unfused sum (integers are exact)."""
    arrays = binary_arrays if sign > 0 else _sub_arrays
    try:
        x, y, a, b = arrays(input, other, False)
    except NotOperand:
        raise operand_error(name, input, other) from None
    dt = a.dtype if isinstance(a, np.ndarray) else b.dtype if isinstance(b, np.ndarray) else None
    if dt is not None:
        _alpha_check(dt, alpha)
    if dt is not None and dt.kind in 'iub':
        _shape_check(name, x, y, a, b)
        a, b = _wrapped_ints(a, b)
        return Tensor._make(_int_alpha_values(b, a, sign, alpha, dt) if rsub else
                            _int_alpha_values(a, b, sign, alpha, dt))
    if dt is None or dt.kind != 'f':   # (a number times alpha stays a weak number: bool + (1-2j) * 2 is complex64)
        if rsub:
            return rsub_(mul(input, alpha), other)
        scaled = mul(other, alpha) if isinstance(other, Tensor) else _scaled_number(other, alpha, dt)
        return (_add if sign > 0 else _sub)(input, scaled)
    shape = _shape_check(name, x, y, a, b)
    r = _alpha_values(b, a, sign * alpha, dt, shape) if rsub else _alpha_values(a, b, sign * alpha, dt, shape)
    r = _follow_operands(r, b, a) if rsub else _follow_operands(r, a, b)
    ins = (x, y)
    if not (GRAD.enabled and any(isinstance(t, Tensor) and t._requires_grad for t in ins)):
        return Tensor._make(r)
    k = sign * alpha
    if rsub and not isinstance(y, Tensor):      # PyTorch's RsubBackward1: one edge, to input
        n, scale = RsubBackward1((x,)), (k,)
        ins = (x,)
    else:
        n, scale = node(tuple(t if isinstance(t, Tensor) else None for t in ins)), ((k, 1) if rsub else (1, k))
    n._meta = tuple((t._data.shape, t._data.dtype) if isinstance(t, Tensor) and t._requires_grad else None
                    for t in ins)
    n._scale, n._alpha = scale, alpha
    return Tensor._make(r, n)


def _shape_check(name, x, y, a, b):
    """The broadcast shape of arrays ``a`` and ``b``, or PyTorch's error naming tensors ``x`` and ``y``."""
    try:
        return np.broadcast_shapes(np.shape(a), np.shape(b))
    except ValueError:
        raise _broadcast_error(name, x, y) from None


def _int_alpha_values(x, y, sign, alpha, dt):
    """``x + sign * alpha * y`` for operands already in the integer or bool dtype ``dt``, wrapping as PyTorch's
    kernel: ``sign * alpha`` is checked and cast to ``dt`` first (sub negates alpha before the check) and both
    operands stay in ``dt`` (a uint8 0-d ``y`` times alpha must not wrap in uint8)."""
    from ._util import checked_scalar
    if dt.kind == 'b':     # (sub and rsub refuse bools before this: only add's a or (alpha and b) is left)
        return np.asarray(np.logical_or(x, np.logical_and(y, bool(alpha))))
    v = int(sign) * alpha
    v = -v if v == 2 ** 63 else v      # (PyTorch negates an int64 Scalar alpha, and -(-2**63) wraps to itself)
    al = np.array(checked_scalar(v, FROM_NP[dt]), dt)
    with np.errstate(over='ignore'):
        return np.asarray(np.add(np.asarray(x, dt), np.multiply(np.asarray(y, dt), al)), dt)


def _scaled_number(other, alpha, dt):
    """``alpha * other`` for a number ``other``, in the result's kind as PyTorch's kernel has both cast to it:
    a bool result ANDs their truths, an integer one takes True as 1."""
    if dt is not None and dt.kind == 'b':
        return bool(other) and bool(alpha)
    return (int(other) if isinstance(other, bool) else other) * alpha


def _alpha_check(dt, alpha):
    """PyTorch's alpha_check: alpha's kind must suit the result's dtype."""
    if isinstance(alpha, (bool, np.bool_)):
        if dt.kind != 'b':
            raise RuntimeError('Boolean alpha only supported for Boolean results.')
    elif dt.kind in 'biu' and isinstance(alpha, (float, complex, np.floating, np.complexfloating)):
        raise RuntimeError('For integral input tensors, argument alpha must not be a floating point number.')
    elif dt.kind != 'c' and isinstance(alpha, (complex, np.complexfloating)):
        raise RuntimeError('For non-complex input tensors, argument alpha must not be a complex number.')


def _alpha_values(x, y, alpha, dt, shape):
    """``x + alpha * y`` (arrays or numbers of the floating dtype ``dt``) as PyTorch computes it: one fma,
    alpha cast to ``dt`` first, as PyTorch casts it; a new array of ``shape``."""
    al = _as_dtype(alpha, dt)
    r = _fused.fma(al, _operand(y, dt), _operand(x, dt), dt)
    if r.shape != shape:
        r = np.array(np.broadcast_to(r, shape))
    if dt.itemsize == 2 or _bf16.is_bf16(dt):
        # half types: PyTorch's vectorised loop (32 elements a step) fuses, its scalar tail rounds the
        # product first (measured on 1-D tensors of sizes 1..100): the tail keeps the unfused values
        body = r.size // 32 * 32
        if body < r.size:
            al, yy, xx = (np.broadcast_to(_operand(v, dt), shape).reshape(-1)[body:] for v in (al, y, x))
            prod = _fused.fma(al, yy, -0.0, dt).astype(np.float32)   # -0.0: keeps -0 products
            r.reshape(-1)[body:] = _fused.fma(1.0, xx, prod, dt)
    return r


def _as_dtype(v, dt):
    """The number ``v`` rounded to ``dt`` (bfloat16 included), as a float."""
    if _bf16.is_bf16(dt):
        return float(_bf16.round_f32(np.float32(v)))
    return float(dt.type(v))


def _operand(x, dt):
    """A tensor's array or a number, as a float32/float64 array of ``dt``'s values."""
    v = x._data if isinstance(x, Tensor) else np.asarray(x)
    return np.asarray(v, np.float64 if dt == np.float64 else np.float32)


subtract = sub


def rsub(input, other, alpha=1):
    """other - alpha * input (what ``2 - x`` computes)."""
    if alpha != 1:
        return _with_alpha('rsub', input, other, alpha, -1.0, RsubBackward0, rsub=True)
    return rsub_(input, other)


def _trunc_divide(a, b):
    """a / b rounded toward zero; integers exactly (through float64, int64 beyond 2**53 would round)."""
    if np.result_type(a, b).kind in 'iu':
        q = np.floor_divide(a, b)
        return q + ((np.remainder(a, b) != 0) & ((np.asarray(a) < 0) != (np.asarray(b) < 0)))
    return np.trunc(np.true_divide(a, b))


def _reduced_rounded_div(a, b, mode):
    """div(rounding_mode=) of two float16/bfloat16 arrays as PyTorch's kernels: each operation in float32 rounded
    back to the dtype (trunc of the rounded quotient: 17.96 gives 18), but for a single-element divisor (its scalar
    path: float32 throughout, one rounding); None for other operands (bf16 had 0.4% of trunc quotients off by one)."""
    if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)) or a.dtype != b.dtype:
        return None
    bf = _bf16.is_bf16(a.dtype)
    if not bf and a.dtype != _F16:
        return None

    def rnd(v):
        return _bf16.round_f32(v) if bf else v.astype(_F16).astype(np.float32)
    x, y = (_bf16.to_f32(v) if bf else v.astype(np.float32) for v in (a, b))
    with np.errstate(divide='ignore', invalid='ignore'):
        if b.size == 1:   # PyTorch's scalar-divisor path: float32 throughout, one rounding
            r = np.trunc(x / y) if mode == 'trunc' else np.floor_divide(x, y)
        elif mode == 'trunc':
            r = np.trunc(rnd(x / y))
        else:
            # Python's floor division step by step (PyTorch's div_floor_floating_vec)
            basic = rnd(x / y)
            mod = np.fmod(x, y)
            q = rnd(rnd(x - mod) / y)
            q = np.where((mod != 0) & ((y < 0) != (mod < 0)), rnd(q - 1), q)
            r = np.floor(q)
            r = np.where(rnd(q - r) > 0.5, rnd(r + 1), r)
            r = np.where(q == 0, np.copysign(np.float32(0), basic), r)
            r = np.where(y == 0, basic, r)
    return _bf16.from_f32(r) if bf else r.astype(_F16)


def div(input, other, *, rounding_mode=None, out=None):
    """True division (int / int gives the default float dtype); 'trunc' and 'floor' round (zero gradient)."""
    if rounding_mode is None:
        return _out(_div(input, other), out, 'div', reads=(input, other))
    if rounding_mode not in ('trunc', 'floor'):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                           f"'{rounding_mode}'")
    if not (isinstance(input, Tensor) or isinstance(other, Tensor)):
        input = number_as_tensor('div', input, other)
    x, y, a, b = binary_arrays(input, other)
    a, b = _wrapped_ints(a, b)    # (uint8 // -1 divides by 255, as PyTorch casts the number)
    shape = _shape_check('div', x, y, a, b)
    kind = np.result_type(a, b).kind
    if kind in 'bc':
        raise not_implemented(f'div_{rounding_mode}_cpu', np.result_type(a, b))
    if kind in 'iu' and 0 not in shape and not np.all(b):
        raise RuntimeError('ZeroDivisionError')
    r = _reduced_rounded_div(a, b, rounding_mode)
    if r is None:
        # floor: Python's floor division, as PyTorch's: floor(a / b) is 10 for 1 / 0.1 (the rounded quotient), 9 by
        # floor division; inf // 2 is NaN
        r = _half_opmath(_trunc_divide if rounding_mode == 'trunc' else np.floor_divide)(a, b)
    dt = np.result_type(a, b) if not isinstance(a, (int, float)) or not isinstance(b, (int, float)) else None
    r = _follow_operands(np.asarray(r).astype(dt) if dt is not None else np.asarray(r), a, b)
    xs = [t for t in (x, y) if isinstance(t, Tensor)]
    if GRAD.enabled and r.dtype.kind == 'f' and any(t._requires_grad for t in xs):
        node = DivBackward2((x if isinstance(x, Tensor) else None, y if isinstance(y, Tensor) else None))
        node.shapes = tuple(t.shape if isinstance(t, Tensor) and t._requires_grad else None for t in (x, y))
        node.dtypes = tuple(t._data.dtype if isinstance(t, Tensor) else None for t in (x, y))
        return _out(Tensor._make(r, node), out, 'div', reads=(input, other))
    return _out(Tensor._make(r), out, 'div', reads=(input, other))


class DivBackward2(Node):
    """Rounded division is piecewise constant: zero gradients."""
    __slots__ = ('shapes', 'dtypes')

    def backward(self, g):
        return tuple(None if s is None else dual.zeros(tuple(s), dual.cast(g, d) if dual.is_array(g) else g)
                     for s, d in zip(self.shapes, self.dtypes))


divide = true_divide = div
multiply = mul


def _mul_out(input, other, *, out=None):
    """torch.mul / torch.multiply: input * other, written into ``out`` when given (Tensor.mul and ``*``
    skip this wrapper: they take no out=)."""
    return _out(mul(input, other), out, 'mul', reads=(input, other))


_mul_out.__name__ = _mul_out.__qualname__ = 'mul'


def _out(t, out, name='op', same_dtype=None, reads=None):
    """``t``, or ``out`` holding t's values (PyTorch's out=: see inplace.write_out; ``reads``: the operands,
    for the overlap checks)."""
    if out is None:
        return t
    from .inplace import write_out
    return write_out(name, t, out, same_dtype=same_dtype, reads=reads)


def _zero_grad(g, *_):
    """Zeros shaped like ``g``: the gradient of a piecewise-constant op (sign, floor, round, ...), 0 even where
    ``g`` is inf or NaN (PyTorch's zeros_like(grad); ``g * 0`` gave NaN there)."""
    return dual.zeros(g.shape, g)


def _pow_base(g, a, b):
    """d(a**b)/da = b * a**(b-1), zero where b == 0 (grouped as PyTorch's pow_backward groups it)."""
    if isinstance(b, (int, float, complex)):   # complex: a complex op's exponent (see _util._scalar_as)
        if b == 0:
            return _zero_grad(g)
        return g * (dual.r16(b * dual.r16(_power(a, b - 1))) if dual.is_array(a) else dual.scale(pow(a, b - 1), b))
    if _low_pair(a, b):   # PyTorch's grad * (exponent * self.pow(exponent - 1)), each a float16/bf16 tensor
        r16 = dual.r16
        return np.where(b == 0, np.zeros((), g.dtype), r16(g * r16(b * r16(np.power(a, r16(b - 1))))))
    return dual.where(dual.data(b) == 0, dual.const(0.0, g), g * b * a ** (b - 1))


def _low_pair(a, b):
    """True for float16 or bfloat16 arrays of one dtype, whose backward rounds each op of PyTorch's formula."""
    return (dual.is_array(a) and dual.is_array(b) and a.dtype == b.dtype
            and (a.dtype == _F16 or _bf16.is_bf16(a.dtype)))


def _power(a, b):
    """np.power, with a float array raised to a Python number computed as PyTorch's CPU kernel does: 0 and 1
    give ones and a copy, 2, 3 and -2 multiply, 0.5, -0.5 and -1 take sqrt or reciprocal, and any other
    integer exponent multiplies (see _special.int_power), and any other rounds float64's pow once (np.power on
    float32 runs a generic loop 200x slower than x*x*x); bfloat16's 3, -2 and -0.5 as _bf16_power."""
    if type(a) is _bf16.BF16Array and type(b) in (int, float) and b in (3, -2, -0.5):
        return _bf16_power(a, b)
    if type(b) is float and type(a) is np.ndarray and a.dtype.kind == 'f':
        if b == 0.0:
            return np.ones_like(a)
        if b == 1.0:
            return a.copy()
        if a.dtype is _F32 or a.dtype is _F64:
            if b == 2.0:
                return a * a
            if b == 3.0:
                return a * a * a
            if b == -2.0:
                return 1 / (a * a)
            if b == 0.5:   # PyTorch's is its sqrt's (MKL's, where emulated), not IEEE's as -0.5's
                return _sqrt(a)
            if b == -0.5:
                return 1 / np.sqrt(a)
            if b == -1.0:
                return 1 / a
        if b.is_integer() and -1024.0 <= b <= 1024.0:
            return _special.int_power(a, int(b))
        if a.dtype is not _F64:
            if b == 0.5:   # np.power takes sqrt for 0.5 (sqrt(-0) = -0); PyTorch's float16 pow is C's pow (+0)
                return np.power(a.astype(_F64), np.full(a.shape, 0.5)).astype(a.dtype)
            if a.dtype == _F16:   # PyTorch's half kernel takes the exponent as a half (1.3 is 1.2998)
                b = float(np.float16(b))
            return np.power(a.astype(_F64), b).astype(a.dtype)
    if type(a) is _bf16.BF16Array and type(b) is float:   # the exponent as a bfloat16, as PyTorch's kernel
        b = float(_bf16.to_f32(_bf16.from_f32(np.asarray(b, np.float32))))
    return np.power(a, b)


def _bf16_power(a, b):
    """bfloat16 a ** 3, ** -2 and ** -0.5 as PyTorch's CPU kernel: x * x rounded to bfloat16 before the next
    step (x * x * x, 1 / (x * x)), and rsqrt for -0.5 (-inf at -0)."""
    if b == -0.5:
        return 1 / np.sqrt(a)
    sq = _bf16.from_f32(a * a)
    return sq * a if b == 3.0 else 1 / sq


def _pow_exp(g, a, b):
    """d(a**b)/db = a**b * log(a), zero where a == 0 and b >= 0."""
    if isinstance(a, complex):
        return g * (a ** b) * complex(np.log(a)) if a != 0 else g * 0
    if isinstance(a, (int, float)):   # PyTorch: log of a negative base is NaN, 0 ** negative gives -inf
        if a > 0 and _low_pair(b, b):   # PyTorch's grad * (result * log(base)), each a float16/bf16 tensor
            return dual.r16(g * dual.r16(dual.scale(dual.r16(a ** b), math.log(a))))
        if a > 0:
            return g * (a ** b) * math.log(a)
        lg = -math.inf if a == 0 else math.nan
        with np.errstate(invalid='ignore'):
            return dual.where(dual.data(b) >= 0, dual.const(0.0, g), g * (a ** b) * lg) if a == 0 else g * lg
    ad = dual.data(a)
    if ad.dtype.kind == 'c':    # complex: log(a) away from 0; zero where a == 0 and Re(b) >= 0, as PyTorch
        if not dual.is_array(a):
            raise RuntimeError('PowBackward1: ember has no double backward of a complex power yet')
        bd = b if isinstance(b, complex) else dual.data(b)
        with np.errstate(divide='ignore', invalid='ignore'):
            r = g * (a ** b) * np.log(np.where(ad == 0, 1, a))
        return np.where((ad == 0) & (np.real(bd) >= 0), 0, r)
    with np.errstate(divide='ignore', invalid='ignore'):   # PyTorch: NaN for a < 0, -inf for 0 ** (b < 0)
        if _low_pair(a, b):   # PyTorch's grad * (result * self.log()), each a float16/bf16 tensor
            r16 = dual.r16
            r = r16(g * r16(r16(np.power(a, b)) * r16(np.log(a))))
        else:
            r = g * (a ** b) * dual.log(a)
    return dual.where((ad == 0) & (dual.data(b) >= 0), dual.const(0.0, g), r)


def _tensor_power(a, b):
    """np.power for a tensor exponent; a float32 result from float64's pow of the float32 operands, rounded once,
    as PyTorch's powf is correctly rounded where NumPy's float32 power is not (0.1f ** 2 gave 0.00999999977, PyTorch
    0.0100000007: ALiBi's slopes torch.pow(2 ** -0.5, arange(1, 9, 2)) differed)."""
    if np.result_type(a, b) == _F32:    # (NumPy's promotion, power's own: computed once, in float64)
        return np.power(*(np.asarray(x).astype(_F32).astype(_F64) for x in (a, b))).astype(_F32)
    return xp.power(a, b)


def _each_form(op, after):
    """Binary ``op`` and its operator and method forms, each calling ``after(result)`` before returning it."""
    def wrap(f):
        def g(input, other):
            r = f(input, other)
            after(r)
            return r
        g.__name__, g.__doc__, g.node = f.__name__, f.__doc__, f.node
        return g
    new = wrap(op)
    new.operator, new.method = wrap(op.operator), wrap(op.method)
    return new


def _guard_result(r):
    if type(r) is Tensor and r.grad_fn is not None:
        r.grad_fn.guard(outputs=(r,))


def _result_saved(op):
    """Binary ``op`` (and its operator and method forms) whose node also guards its result: PyTorch's node saves the
    result, so changing it in place before backward raises there."""
    return _each_form(op, _guard_result)


_pow0 = binary('pow', _power, 'PowBackward0', lambda g, a, b: _pow_base(g, a, b), lambda g, a, b: None, one_edge=True)
_pow1 = _result_saved(binary('pow', _tensor_power, 'PowBackward1', lambda g, a, b: _pow_base(g, a, b),
                             lambda g, a, b: _pow_exp(g, a, b)))
_pow2 = _result_saved(binary('pow', _tensor_power, 'PowBackward2', lambda g, a, b: None,
                             lambda g, a, b: _pow_exp(g, a, b), one_edge=True, c_order=True))


def pow(input, exponent):
    """input ** exponent, with either operand a Python number."""
    if not isinstance(input, Tensor):
        if isinstance(input, bool) and exponent._data.dtype == np.bool_:
            raise NotImplementedError('"pow" not implemented for \'Bool\'')
        if isinstance(input, int) and exponent._data.dtype.kind in 'iu' and (exponent._data < 0).any():
            return Tensor._make(np.ascontiguousarray(_int_power(*binary_arrays(input, exponent)[2:])))
        return _pow2(input, exponent)
    if not isinstance(exponent, Tensor):
        try:
            exponent = as_operand(exponent)
        except NotOperand:
            raise operand_error('pow', input, exponent) from None
        if isinstance(exponent, int) and input._data.dtype.kind in 'iub':
            if exponent < 0:
                raise RuntimeError('Integers to negative integer powers are not allowed.')
            if input._data.dtype.kind in 'iu':
                from ._util import checked_scalar
                checked_scalar(exponent, input.dtype)   # (PyTorch refuses uint8 ** 300; NumPy would wrap it)
            if isinstance(exponent, bool) and input._data.dtype == np.bool_:
                return Tensor._make(input._data | (not exponent))
        if isinstance(exponent, Tensor):
            return _pow1(input, exponent)
        return _pow0(input, exponent)
    if input._data.dtype.kind in 'iub' and exponent._data.dtype.kind in 'iub':
        if input._data.dtype == np.bool_ and exponent._data.dtype == np.bool_:
            raise NotImplementedError('"pow" not implemented for \'Bool\'')
        base, power = binary_arrays(input, exponent)[2:]
        if (power < 0).any():   # (negative in the result dtype: int16 ** tensor(40000) wraps like PyTorch's)
            return Tensor._make(_int_power(base, power))
    return _pow1(input, exponent)


def _int_power(a, b):
    """Integer a ** b with negative exponents as PyTorch's powi: 1 for base 1, +-1 for base -1, else 0 (a
    Python int base takes the exponent tensor's dtype: 2 ** int8 is int8, wrapping)."""
    a, b = _wrapped_ints(a, b)
    if type(a) is int:
        a = np.asarray(a, np.asarray(b).dtype)
    a, b = np.asarray(a), np.asarray(b)
    neg = b < 0
    r = np.power(a, np.where(neg, 0, b))
    small = np.where(a == 1, 1, np.where(a == -1, np.where(b % 2 == 0, 1, -1), 0))
    return np.where(neg, small, r).astype(r.dtype)


# -- unary math ---------------------------------------------------------------------------------------
_BLOCK = _special._BLOCK   # above this many elements a float32 input goes to float64 a block at a time: whole
                          # float64 temporaries made tanh of 65k-262k values 5x slower (336 -> 92 us, 1561 ->
                          # 299 us, min of interleaved runs), from fresh pages on every call; the size check
                          # costs tanh of a (4, 4) tensor 1.275 -> 1.291 us


def _precise(fn):
    """Evaluate a float32 transcendental in float64 and round once: correctly rounded like PyTorch's
    kernels (NumPy's float32 exp/log can be 1 ulp off, which shows in printed values)."""
    def f(a):
        if a.dtype is _F32:
            if a.size > _BLOCK:
                return _special.blocked(fn, a)
            r = fn(a.astype(_F64)).astype(_F32)
            return r if r.strides == a.strides else _follow_expanded(r, a)   # (astype of a broadcast input)
        return fn(a)
    f.__name__ = fn.__name__
    return f





def _refuse(kernel, kinds='b'):
    """``refuse`` for unary(): PyTorch's kernel ``kernel`` has no loop for these dtype kinds ('b', 'iu')."""
    return lambda dt: not_implemented(kernel, dt) if dt.kind in kinds else None


def _refuse_bool(message):
    """``refuse`` for unary(): a bool input raises RuntimeError(message)."""
    return lambda dt: RuntimeError(message) if dt.kind == 'b' else None


neg = unary('neg', xp.negative, 'NegBackward0', lambda g, x, y: -g, int_ok=True, refuse=_refuse_bool(
    'Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use the `~` '
    'or `logical_not()` operator instead.'))
negative = neg
exp = unary('exp', xp.exp, 'ExpBackward0', lambda g, x, y: g * y, precise=True, np_backward=np.multiply)
exp2 = unary('exp2', xp.exp2, 'Exp2Backward0', lambda g, x, y: g * y * math.log(2.0), precise=True)
expm1 = unary('expm1', xp.expm1, 'Expm1Backward0', lambda g, x, y: g * (y + 1), precise=True,
              exact=_sleef_expm1.expm1f)  # (vml's map: SLEEF's on every value, a partial last vector too)
log = unary('log', xp.log, 'LogBackward0', lambda g, x, y: g / x, precise=True)
log2 = unary('log2', xp.log2, 'Log2Backward0', lambda g, x, y: g / (x * math.log(2.0)), precise=True)
log10 = unary('log10', xp.log10, 'Log10Backward0', lambda g, x, y: g / (x * math.log(10.0)), precise=True)
log1p = unary('log1p', xp.log1p, 'Log1PBackward0', lambda g, x, y: g / (x + 1), precise=True,
              exact=_sleef_log1p.log1pf)  # (vml's map, SLEEF's on every value as expm1's)
def _sqrt(a):
    """sqrt with PyTorch's values: float32/float64 through ops/_vml_sqrt (MKL's estimate kernel, which PyTorch's sqrt
    runs on an AMD Zen 4; IEEE's sqrt elsewhere), in NumPy's layout; other dtypes and arrays by NumPy."""
    if type(a) is not np.ndarray or a.dtype.char not in 'fd' or not _vml_sqrt.emulated():
        return xp.sqrt(a)
    if a.flags.c_contiguous:
        return _vml_sqrt.sqrt(a)
    return _layout.follow(_vml_sqrt.sqrt(a), (a,))   # (empty_like put an expanded input's broadcast dim innermost)


sqrt = unary('sqrt', _sqrt, 'SqrtBackward0', lambda g, x, y: g / dual.scale(y, 2))
rsqrt = unary('rsqrt', lambda a: _rsqrt(a), 'RsqrtBackward0', lambda g, x, y: dual.scale(g, -0.5) * dual.r16(_cube(y)))
reciprocal = unary('reciprocal', lambda a: 1 / a, 'ReciprocalBackward0', lambda g, x, y: -g * dual.r16(y * y))
sin = unary('sin', xp.sin, 'SinBackward0', lambda g, x, y: g * dual.r16(dual.cos(x)), precise=True)
cos = unary('cos', xp.cos, 'CosBackward0', lambda g, x, y: g * -dual.r16(dual.sin(x)), precise=True)
tan = unary('tan', xp.tan, 'TanBackward0', lambda g, x, y: g * (dual.ONE[y.dtype] + y * y) if dual.is_array(y)
            else g * dual.shift(pow(y, 2), 1), precise=True)


def _asin_slope(x):
    """1 / sqrt(1 - x*x), the factor PyTorch's asin and acos backward multiply the gradient by."""
    return dual.ONE[x.dtype] / dual.sqrt(dual.ONE[x.dtype] - x * x)


asin = unary('asin', xp.arcsin, 'AsinBackward0', lambda g, x, y: g * _asin_slope(x), precise=True)
acos = unary('acos', xp.arccos, 'AcosBackward0', lambda g, x, y: g * -_asin_slope(x), precise=True)
atan = unary('atan', xp.arctan, 'AtanBackward0', lambda g, x, y: g / (dual.ONE[x.dtype] + x * x), precise=True)
sinh = unary('sinh', xp.sinh, 'SinhBackward0', lambda g, x, y: g * _cosh(x), precise=True)
cosh = unary('cosh', xp.cosh, 'CoshBackward0', lambda g, x, y: g * _sinh(x), precise=True)


# tanh's float64 derivative factor by output array: {id(y): (weakref to y, y's values then, factor)}. A PINN's
# step differentiates each tanh output 9-11 times (the create_graph grads re-run TanhBackward0 and every
# TanhBackwardBackward0 recomputes tanh_backward on the same saved array). Entries are made by tanh_backward (the
# create_graph path) only, so a first-order backward holds no copies; an entry goes when its array does.
_SLOPES = {}


def _tanh_slope64(y, keep=False):
    """1 - y*y rounded once (_fused.one_minus_square64) for a float64 array ``y``, taken from _SLOPES when ``y`` is
    there with the same values (checked against the copy: 2 passes against one_minus_square64's 21); ``keep``:
    remember it there. PINN step (2-50-50-50-1 tanh MLP, 1000 points, two create_graph grads, Adam), medians of
    12 interleaved, load 11.5: 267 -> 210 ms."""
    key = id(y)
    hit = _SLOPES.get(key)
    if hit is not None and hit[0]() is y and np.array_equal(hit[1], y):
        return hit[2]
    f = _fused.one_minus_square64(y)
    if keep:
        f.flags.writeable = False
        _SLOPES[key] = (weakref.ref(y, lambda _, k=key: _SLOPES.pop(k, None)), y.copy(), f)
    return f


def _tanh_grad(g, x, y):
    """g * (1 - y*y) as PyTorch's tanh_backward kernel computes it: its (1 - y*y) is contracted to one fma, so the
    factor is rounded once (rounding y*y first differs in the last bit for 30-55% of elements; makemore part 4's
    hand-written tanh gradient compares `exact: False` against it). float32: y*y is exact in float64 and
    1 - y*y rounds correctly from float64 to float32 for every float32 y (exact in float64 for |y| >= 2**-3, too
    close to 1 to meet a float32 midpoint below 2**-13, and all 2**-13..2**-3 values were checked against
    round-to-odd); 16-op (add, mul, tanh) chain at (4, 4), chrt, min of 15 interleaved: 2.256 -> 2.528 us/op
    (the fused emulation of _fused.fma: 4.9). float64: _fused.fma."""
    if type(y) is np.ndarray:
        if y.dtype is _F32:
            return _tanh_grad_np(g, y)
        if y.dtype is _F64:
            return g * _tanh_slope64(y)
    if isinstance(y, Tensor) and isinstance(g, Tensor):   # create_graph=True: one node, as PyTorch records it
        return tanh_backward(g, y)
    return g * (dual.ONE[y.dtype] - y * y)


class TanhBackwardBackward0(Node):
    """The node of ``tanh_backward(grad_output, output)``, the gradient a tanh records under create_graph=True
    (PyTorch's derivatives.yaml): grad_output's gradient is tanh_backward again, output's is
    ``grad * (-2 * output * grad_output)``, multiplied in that order."""
    __slots__ = ()

    def backward(self, gg):
        g, y = self.saved()
        need_g, need_y = (e is not _NO_EDGE for e in self.next_functions)
        return (_tanh_grad(gg, None, y) if need_g else None, gg * (dual.scale(y, -2) * g) if need_y else None)


for _name, _prop in saved_properties('grad_output', 'output').items():
    setattr(TanhBackwardBackward0, _name, _prop)


def tanh_backward(grad_output, output):
    """``grad_output * (1 - output**2)`` rounded as PyTorch's tanh_backward kernel (see _tanh_grad), recorded as
    one TanhBackwardBackward0 when either requires grad."""
    g, y = grad_output._data, output._data
    r = g * _tanh_slope64(y, True) if type(y) is np.ndarray and y.dtype is _F64 else _tanh_grad(g, None, y)
    if not (GRAD.enabled and (grad_output._requires_grad or output._requires_grad)):
        return Tensor._make(r)
    node = TanhBackwardBackward0((grad_output, output))
    node.save(grad_output, output)
    return Tensor._make(r, node)


def _tanh_grad_np(g, y):
    """_tanh_grad on arrays (tanh's np_backward), float32 without the check of y's type: each ufunc writes over the
    array it was given, out by position (no keyword to parse, no new array; the 0-d one: NumPy takes the number 1.0
    slower, see dual.ONE); with tanh's forward in place (unary), fwd+bwd per op, (add, mul, tanh) chains at (4, 4),
    min of 12 interleaved runs: 16-op 2196 -> 2119 ns, 256-op 2075 -> 2008. y*y by np.square, the same IEEE product
    as multiply (bit-identical) through a unary loop: 241 -> 212 ns a (4, 4) float64 call; fwd+bwd per op, in-process
    A/B against main, alternating, medians of 41 runs, load ~11: 256-op 2450 -> 2429 ns, 16-op 2657 -> 2638."""
    if y.dtype is not _F32:
        return _tanh_grad(g, None, y)
    f = y.astype(_F64)
    _square(f, f)
    _subtract(_ONE64, f, f)
    f = f.astype(_F32)
    return _multiply(g, f, f) if g.dtype is _F32 else g * f   # a float64 g (a user's seed) keeps its dtype


tanh = unary('tanh', xp.tanh, 'TanhBackward0', _tanh_grad, precise=True, np_backward=_tanh_grad_np,
             half_grad=True)
_tanh_bw = tanh.node.backward


def _tanh_backward(self, g):
    """TanhBackward0's backward: a float32 gradient of an unchanged float32 output computed here, unary's test of the
    saved output and _tanh_grad_np's ufuncs in one frame (no call of np_backward); else unary's backward."""
    s = self._saved
    if s and not RECORDING[0] and g.dtype is _F32:
        y, vc, ver, _ = s[0]
        if vc[0] == ver and y.dtype is _F32:
            f = y.astype(_F64)
            _square(f, f)
            _subtract(_ONE64, f, f)
            f = f.astype(_F32)
            return _multiply(g, f, f)
    return _tanh_bw(self, g)


tanh.node.backward = _tanh_backward
arcsin, arccos, arctan = asin, acos, atan
asinh = unary('asinh', xp.arcsinh, 'AsinhBackward0', lambda g, x, y: g / dual.sqrt(x * x + dual.one(x)),
              precise=True)
acosh = unary('acosh', xp.arccosh, 'AcoshBackward0', lambda g, x, y: g / dual.sqrt(x * x - dual.one(x)),
              precise=True)
atanh = unary('atanh', xp.arctanh, 'AtanhBackward0', lambda g, x, y: g / (dual.one(x) - x * x), precise=True)
arcsinh, arccosh, arctanh = asinh, acosh, atanh
deg2rad = unary('deg2rad', lambda a: _half_opmath(np.multiply)(a, math.pi / 180), 'Deg2RadBackward0',
                lambda g, x, y: g * (math.pi / 180))
rad2deg = unary('rad2deg', lambda a: _half_opmath(np.multiply)(a, 180 / math.pi), 'Rad2DegBackward0',
                lambda g, x, y: g * (180 / math.pi))


def _float_kernel(kernel, np_fn):
    """``np_fn`` refusing integer and bool operands (after promotion) as PyTorch's ``kernel`` does."""
    def f(a, b):
        dt = np.result_type(a, b)
        if dt.kind in 'iub':
            raise not_implemented(kernel, dt)
        return np_fn(a, b)
    f.__name__ = np_fn.__name__
    return f


def _logaddexp_grad(g, a, b):
    """d logaddexp(a, b) / da = 1 / (1 + exp(b - a)), PyTorch's form."""
    return g / (dual.exp(b - a) + dual.one(a))


def _logaddexp2_grad(g, a, b):
    """d logaddexp2(a, b) / da = 1 / (1 + 2 ** (b - a))."""
    return g / (dual.exp((b - a) * math.log(2.0)) + dual.one(a))


def _logaddexp(a, b):
    """NumPy's logaddexp, and for complex numbers PyTorch's: ``hi + log1p(exp(lo - hi))`` with hi the operand of
    the larger real part (infinite real parts of one sign: ``log(exp(a) + exp(b))`` directly)."""
    if np.result_type(a, b).kind != 'c':
        return xp.logaddexp(a, b)
    a, b = np.broadcast_arrays(np.asarray(a), np.asarray(b))
    first = a.real >= b.real
    hi, lo = np.where(first, a, b), np.where(first, b, a)
    with np.errstate(all='ignore'):
        r = hi + np.log1p(np.exp(lo - hi))
        same_inf = np.isinf(hi.real) & (hi.real == lo.real)
        if same_inf.any():
            r = np.where(same_inf, np.log(np.exp(a) + np.exp(b)), r)
    return _complex.adopt(r)   # (a ComplexArray, as complex results are: binary's hot path checks its node then)


logaddexp = binary('logaddexp', _float_kernel('logaddexp_cpu', _logaddexp), 'LogaddexpBackward0',
                   _logaddexp_grad, lambda g, a, b: _logaddexp_grad(g, b, a), tensors_only=True,
                   doc='log(exp(input) + exp(other)), without overflow.')
logaddexp2 = binary('logaddexp2', _float_kernel('logaddexp2_cpu', xp.logaddexp2), 'Logaddexp2Backward0',
                    _logaddexp2_grad, lambda g, a, b: _logaddexp2_grad(g, b, a), tensors_only=True,
                    doc='log2(2 ** input + 2 ** other), without overflow.')
hypot = _result_saved(binary('hypot', _float_kernel('hypot_cpu', xp.hypot), 'HypotBackward0',
                             lambda g, a, b: dual.r16(g * a) / _hypot_values(a, b),
                             lambda g, a, b: dual.r16(g * b) / _hypot_values(a, b),
                             tensors_only=True, doc='sqrt(input ** 2 + other ** 2), elementwise.'))


def _hypot_values(a, b):
    return dual.r16(np.hypot(a, b)) if dual.is_array(a) and dual.is_array(b) else hypot(a, b)


def _cosh(x):
    return np.cosh(x) if dual.is_array(x) else cosh(x)


def _sinh(x):
    return np.sinh(x) if dual.is_array(x) else sinh(x)


# -- ops real programs call (ops2): ldexp, nextafter, gcd, lcm, float_power, frexp, isposinf/isneginf/isreal
def _int_kernel(kernel, np_fn):
    """``np_fn`` refusing float and bool operands (after promotion) as PyTorch's integer-only ``kernel`` does."""
    def f(a, b):
        dt = np.result_type(a, b)
        if dt.kind not in 'iu':
            raise not_implemented(kernel, dt)
        return np_fn(a, b)
    f.__name__ = np_fn.__name__
    return f


def _times_const(g, arr):
    """``g * arr`` for a constant array ``arr`` (a piecewise-constant factor: no gradient flows through it)."""
    if dual.is_array(g):
        return g * arr.astype(g.dtype, copy=False)
    return g * Tensor._make(np.asarray(arr, g._data.dtype))


def _ldexp_other(g, a, b):
    """other's gradient, ``a`` the result (see _ldexp_saves_result)."""
    return g * a * math.log(2.0)


def _no_saved_self(node):
    raise AttributeError(f"'{type(node).__name__}' object has no attribute '_saved_self'")


def _save_result_for_self(r):
    node = r.grad_fn
    if node is not None and node._saved and node._saved[0] is not None:
        r._vc = vc = r._vc or [0]
        node._saved = ((r._data, vc, vc[0], r._output_nr), node._saved[1])
        node._epoch = -1     # (binary's fast path reads saved inputs' tensors; saved() reads this array)


def _ldexp_saves_result(op):
    """ldexp ``op`` whose node keeps the result where binary saved ``input``: PyTorch's LdexpBackward0 saves other
    and the result (other's gradient is grad * result * ln 2), so an in-place change to input after it is no error."""
    return _each_form(op, _save_result_for_self)


def _ldexp_whole(a, b):
    """A float ``a`` times 2 ** ``b`` for an integer ``other`` (``b`` its values in a's dtype), as PyTorch's kernel:
    C's ldexp, rounded once (0.75 * 2 ** 128 is finite; float16/bfloat16 through float32, then rounded)."""
    e = np.clip(_bf16.to_f32(b) if _bf16.is_bf16(b.dtype) else b, -4096, 4096).astype(np.int32)
    if a.dtype in (_F32, _F64):
        return np.ldexp(a, e)
    return cast_array(np.ldexp(_bf16.to_f32(a) if _bf16.is_bf16(a.dtype) else a.astype(_F32), e), a.dtype)


def _ldexp_pow(a, b):
    """a * 2 ** b otherwise: PyTorch's a * pow(2, other), the power exact (np.exp2's float32 2 ** 127 is a step
    high) and rounded to the result's dtype, then multiplied (0 * 2 ** 200 of integers is NaN, as PyTorch's)."""
    if _bf16.is_bf16(b.dtype) or b.dtype == _F16:
        return a * cast_array(np.exp2(_bf16.to_f32(b) if _bf16.is_bf16(b.dtype) else b.astype(_F32)), b.dtype)
    return a * np.exp2(b.astype(_F64)).astype(b.dtype)


def _ldexp_op(fn):
    """A binary op made of _ldexp_whole and _ldexp_pow's forms ``fn``, picked by the operands' dtypes."""
    whole, power = fn
    def ldexp(input, other):
        if isinstance(input, Tensor) and isinstance(other, Tensor) and input.dtype.is_floating_point:
            kind = other._data.dtype.kind
            if kind in 'iu':   # C's int exponent: int64's low 32 bits (2 ** 32 + 3 is 3), as PyTorch's cast
                return whole(input, other if other._data.itemsize < 4 else Tensor._make(other._data.astype(np.int32)))
            if kind == 'b':   # (the integer kernel has no bool loop; an integer input's pow path has)
                raise not_implemented('ldexp_cpu_exp', other._data.dtype)
        return power(input, other)
    return ldexp


_LDEXP = [_ldexp_saves_result(_result_saved(binary('ldexp', f, 'LdexpBackward0', lambda g, a, b: g * dual.exp(b * math.log(2.0)),
                               _ldexp_other, float_out=True, tensors_only=True, doc='input * 2 ** other, elementwise.')))
          for f in (_ldexp_whole, _ldexp_pow)]
ldexp = _ldexp_op(_LDEXP)
ldexp.operator, ldexp.method = (_ldexp_op([getattr(f, k) for f in _LDEXP]) for k in ('operator', 'method'))
for _f in (ldexp, ldexp.operator, ldexp.method):
    _f.__doc__, _f.node = 'input * 2 ** other, elementwise.', _LDEXP[0].node
for _f in _LDEXP:   # PyTorch's LdexpBackward0 has _saved_other and _saved_result, no _saved_self
    _f.node._saved_self = _f.node._raw_saved_self = property(_no_saved_self)
    for _k, _v in saved_properties('result').items():
        setattr(_f.node, _k, _v)


def _nextafter(a, b):
    """np.nextafter, in bfloat16's own steps for bf16 operands (NumPy would step in float32)."""
    if not _bf16.is_bf16(np.asarray(a).dtype):
        return np.nextafter(a, b)
    x, y = (np.array(v, np.float32) for v in np.broadcast_arrays(_bf16.to_f32(a), _bf16.to_f32(b)))
    bits = x.view(np.uint32)
    # a bf16 value is a float32 with 16 zero low bits: one bf16 step is 0x10000 on the magnitude's bits
    r = np.where((y > x) == (x > 0), bits + np.uint32(0x10000), bits - np.uint32(0x10000))
    r = np.where(x == 0, np.where(y < 0, np.uint32(0x80010000), np.uint32(0x10000)), r).view(np.float32)
    r = np.where(x == y, y, r)
    return _bf16.from_f32(np.where(np.isnan(x) | np.isnan(y), np.float32(np.nan), r))


nextafter = binary('nextafter', _float_kernel('nextafter_cpu', _nextafter), 'NextafterBackward0',
                   lambda g, a, b: dual.mask(g, np.asarray(dual.data(a) != dual.data(b))), _zero_grad,
                   tensors_only=True,
                   doc='The next floating-point value after ``input`` towards ``other``, elementwise.')
def _c_gcd(a, b):
    """PyTorch's gcd kernel: Euclid on C's wrapping abs and truncating remainder, so the lowest value of a signed
    dtype stays negative (gcd(127, -128) of int8 is -1, gcd(-128, 0) is -128) where NumPy's gcd differs."""
    x, y = (np.abs(np.asarray(v)) for v in np.broadcast_arrays(a, b))   # (np.abs wraps as C's abs)
    x, y = x.copy(), y.copy()
    with np.errstate(all='ignore'):
        todo = np.nonzero(x.reshape(-1))[0]
        xf, yf = x.reshape(-1), y.reshape(-1)
        while todo.size:
            c = xf[todo]
            xf[todo], yf[todo] = np.fmod(yf[todo], c), c
            todo = todo[xf[todo] != 0]
    return yf.reshape(x.shape)


def _c_lcm(a, b):
    """PyTorch's lcm kernel: abs(a / gcd * b) with C's arithmetic (types below int promoted to int, int32 and int64
    wrapping), 0 where the gcd is 0, then the dtype."""
    g = _c_gcd(a, b)
    dt = g.dtype
    a64, b64, g64 = (np.asarray(v).astype(np.int64) for v in (a, b, g))
    with np.errstate(all='ignore'):
        d = np.where(g64 == 0, 1, g64)
        r = (a64 - np.fmod(a64, d)) // d * b64     # (C's truncating a / g: the difference divides exactly)
        if dt.itemsize == 4:
            r = r.astype(dt)
        return np.where(g64 == 0, 0, np.abs(r)).astype(dt)


gcd = binary('gcd', _int_kernel('gcd_cpu', _c_gcd), 'NotImplemented', lambda g, a, b: None, lambda g, a, b: None,
             tensors_only=True, doc='Greatest common divisor (non-negative) of integer tensors, elementwise.')
lcm = binary('lcm', _int_kernel('lcm_cpu', _c_lcm), 'NotImplemented', lambda g, a, b: None, lambda g, a, b: None,
             tensors_only=True, doc='Least common multiple (non-negative) of integer tensors, elementwise.')
def _to_double(x):
    """A float_power operand in float64: a tensor converted (ToCopyBackward0), a number as a float."""
    if isinstance(x, Tensor):
        if x._data.dtype.kind == 'c':   # complex stays complex, in double precision (complex128)
            return x if x._data.dtype == np.complex128 else x.to(FROM_NP[np.dtype(np.complex128)])
        return x if x._data.dtype == _F64 else x.to(FROM_NP[_F64])
    return x if isinstance(x, complex) else float(x)


def float_power(input, exponent):
    """``input ** exponent`` computed in float64 (PyTorch's composite: both operands cast to double)."""
    try:
        if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
            raise operand_error('float_power', input, exponent, tensors_only=True)
        return pow(_to_double(input), _to_double(exponent))
    except Exception:
        check_tensor_args('float_power', 'input#', 'exponent#')
        raise


def _float_power_(self, exponent):
    """In-place float_power: self must already have the result's dtype, complex128 when either side is complex,
    else float64 (PyTorch's check)."""
    try:
        cx = self._data.dtype.kind == 'c' or isinstance(exponent, complex) or \
            isinstance(exponent, Tensor) and exponent._data.dtype.kind == 'c'
        want = np.dtype(np.complex128) if cx else _F64
        if self._data.dtype != want:
            raise RuntimeError(f"the base given to float_power_ has dtype {scalar_name(self._data.dtype)} but the "
                               f"operation's result requires dtype {scalar_name(want)}")
        return _FLOAT_POWER_(self, exponent)
    except Exception:
        check_tensor_args('float_power_', 'self:input', 'exponent#')
        raise


_FLOAT_POWER_ = make_inplace(float_power, 'float_power_')


class FrexpBackward0(Node):
    """d mantissa / d input = 2 ** -exponent."""
    __slots__ = ('exponent',)

    def backward(self, g):
        return _times_const(g, np.ldexp(np.ones((), np.float64), -self.exponent.astype(np.int64)))


def frexp(input):
    """(mantissa, exponent): input = mantissa * 2 ** exponent, 0.5 <= |mantissa| < 1 (exponent int32)."""
    from .reduction import return_types
    a = input._data
    if a.dtype.kind != 'f':
        raise RuntimeError('torch.frexp() only supports floating-point dtypes')
    m, e = np.frexp(a)
    e = e.astype(np.int32)
    if GRAD.enabled and input._requires_grad:
        node = FrexpBackward0((input,))
        node.exponent = e
        et = Tensor._make(e)
        node.guard(outputs=(et,))   # (PyTorch's node saves the exponent)
        return return_types.frexp((Tensor._make(m, node), et))
    return return_types.frexp((Tensor._make(m), Tensor._make(e)))


def isposinf(input):
    """True where input is +inf."""
    a = input._data
    return Tensor._make(np.isposinf(a) if a.dtype.kind == 'f' else np.zeros(a.shape, np.bool_))


def isneginf(input):
    """True where input is -inf."""
    a = input._data
    return Tensor._make(np.isneginf(a) if a.dtype.kind == 'f' else np.zeros(a.shape, np.bool_))


def isreal(input):
    """True where the imaginary part is zero (everywhere for a real tensor)."""
    try:
        a = input._data
        if a.dtype.kind == 'c':
            return Tensor._make(a.view(np.ndarray).imag == 0)
        from .. import _dtype
        from .creation import ones_like
        return ones_like(input, dtype=_dtype.bool_)   # (PyTorch's ones_like: in the input's layout)
    except (AttributeError, TypeError):
        check_tensor_args('isreal', 'input')
        raise


def _sigmoid_into(out, a):
    """out = 1 / (1 + exp(-a)): exp in float64 on one temporary (out itself for float64); for a float32 out, exp
    rounded to float32 and the add and the division in float32, PyTorch's roundings (see _sigmoid)."""
    t = out if out.dtype == _F64 else np.empty(a.shape, _F64)
    np.negative(a, out=t)
    np.exp(t, out=t)
    if t is not out:
        np.copyto(out, t, casting='same_kind')
        t = out
    t += 1
    np.divide(1, t, out=out)


def _sigmoid(a):
    """1 / (1 + exp(-a)) with PyTorch's float32 roundings: its kernel rounds exp(-a), the sum and the quotient to
    float32 each (its scalar tail, which is all of a tensor of up to 32 values, with a correctly rounded expf:
    this gives its values bit for bit; its AVX512 body's SLEEF expf is not always correctly rounded, so there
    4% of 400k random values differ by an ulp, where rounding once differed in 36%). pyro's SigmoidTransform and
    Bernoulli(logits) read it. On cache blocks (_parallel.blockwise) with one temporary. With the exact kernels,
    PyTorch's SLEEF expf (_vec_exp)."""
    if _vec_exp.applies(a):
        return _vec_exp.sigmoid(a)
    with np.errstate(over='ignore'):
        r = _parallel.blockwise(_sigmoid_into, a) if type(a) is np.ndarray and a.dtype in _F32_F64 else None
        if r is not None:
            return r
        if getattr(a, 'dtype', None) == _F32:   # 0-d, or strided (an expanded one laid out as PyTorch's)
            return _follow_expanded(_sigmoid_plain(a), a)
        return _precise(_sigmoid_plain)(a)


def _sigmoid_plain(a):
    """1 / (1 + exp(-a)) as one expression: 0-d arrays, and bfloat16 and meta arrays (not plain ndarrays); a
    float32 one with _sigmoid_into's roundings."""
    with np.errstate(over='ignore'):
        if a.dtype == _F32 and type(a) is np.ndarray:
            return (np.float32(1) / (np.float32(1) + np.exp(-a.astype(_F64)).astype(_F32))).astype(_F32)
        return 1 / (1 + np.exp(-a))


def _sigmoid_grad_into(out, g, y):
    """out = g * (1 - y) * y, PyTorch's order, each step in place on out."""
    np.subtract(1, y, out=out)
    np.multiply(g, out, out=out)
    out *= y


def _sigmoid_grad(g, y):
    """sigmoid's gradient from its output on arrays: in cache blocks on one temporary where the formula allocated
    three (the same values)."""
    r = _parallel.blockwise(_sigmoid_grad_into, g, y) if type(g) is np.ndarray and g.dtype == y.dtype else None
    return _multiply(_multiply(g, _subtract(_ONE[y.dtype], y)), y) if r is None else r


def _relu(a):
    """max(a, 0) keeping -0. and NaN as PyTorch's relu does (x < 0 ? 0 : x). NumPy's maximum returns its
    second operand on a tie, so 0 goes first; with a scalar first it is about 40% slower on large arrays than
    maximum(a, 0) (measured: 1M float32, 1.0 ms against 0.7), so a large input is maximised against zeros (0.33
    ms), a small one against the scalar (0.6 us either way at 64 elements). A contiguous float32/64 input takes a
    row of _ZERO_ROW zeros broadcast over its rows (_relu_flat, as relu_), into an uninitialized result, where
    zeros_like wrote the whole result once more before the maximum: ResNet-18's 17 relus a step, min of
    20-30 interleaved steps at real-time priority on the loaded machine, 2 threads 1.57 -> 1.48 ms, 1 thread
    1.005 -> 0.952 ms."""
    if a.size < 4096:
        return np.maximum(0, a, dtype=a.dtype)
    if a.dtype.type in (np.float32, np.float64) and a.flags.c_contiguous:
        out = np.empty(a.shape, a.dtype)
        _relu_flat(a.reshape(-1), out.reshape(-1))
        return out
    z = np.zeros_like(a)
    return np.maximum(z, a, out=z)


def _sigmoid_formula(g, x, y):
    """g * (1 - y) * y; on real tensors (create_graph) PyTorch's one SigmoidBackwardBackward0 node (complex ones
    keep the composition, which ember's complex autograd differentiates)."""
    if isinstance(y, Tensor) and isinstance(g, Tensor) and y._data.dtype.kind != 'c':
        return _sigmoid_backward(g, y)
    return g * (dual.ONE[y.dtype] - y) * y


class SigmoidBackwardBackward0(Node):
    """The node of ``sigmoid_backward(grad_output, output)``, the gradient a sigmoid records under create_graph
    (PyTorch's derivatives.yaml): grad_output's gradient is sigmoid_backward again, output's
    ``grad * grad_output * (-2 * output + 1)``."""
    __slots__ = ()

    def backward(self, gg):
        g, y = self.saved()
        need_g, need_y = (e is not _NO_EDGE for e in self.next_functions)
        return (_sigmoid_formula(gg, None, y) if need_g else None,
                gg * g * dual.shift(dual.scale(y, -2), 1) if need_y else None)


for _name, _prop in saved_properties('grad_output', 'output').items():
    setattr(SigmoidBackwardBackward0, _name, _prop)


def _sigmoid_backward(grad_output, output):
    """``grad_output * (1 - output) * output``, recorded as one SigmoidBackwardBackward0 when either requires
    grad."""
    r = _sigmoid_formula(grad_output._data, None, output._data)
    if not (GRAD.enabled and (grad_output._requires_grad or output._requires_grad)):
        return Tensor._make(r)
    node = SigmoidBackwardBackward0((grad_output, output))
    node.save(grad_output, output)
    return Tensor._make(r, node)


sigmoid = unary('sigmoid', _sigmoid, 'SigmoidBackward0', _sigmoid_formula, np_backward=_sigmoid_grad, half=True)
def _refuse_relu(dt):
    """relu's refusals: bool, and complex (PyTorch's relu is a clamp_min, whose message it gives)."""
    if dt.kind == 'c':
        return NotImplementedError(_CLAMP_COMPLEX)
    return RuntimeError('Boolean inputs not supported for relu') if dt.kind == 'b' else None


_CLAMP_COMPLEX = 'clamp is not supported for complex types'
# Bytes of a relu's tensor from which its forward and backward passes go in blocks on ember._parallel's threads (one
# per thread; each element's value as whole). Memory-bound passes gain from a second thread only past L2 (2 MiB
# here): 2 threads, min of 60 (us), forward / backward, whole -> blocks: MNIST's (64, 32, 26, 26) (5.3 MiB)
# 280 / 414 -> 242 / 312, (64, 64, 24, 24) 589 / 1071 -> 466 / 648; ResNet-18's (8, 64, 32, 32) (2 MiB) 103 / 144
# -> 122 / 142, DCGAN's (32, 32, 16, 16) 54 / 70 -> 89 / 121. Remeasured 7 December (host check 1.9-2.2, load 7-10 at
# nice 19), x * 1 then relu, forward and backward, min of 200 interleaved (us), 4 MiB -> 1 MiB: (8, 64, 32, 32) 470 ->
# 595, (8, 128, 16, 16) 268 -> 347, (32, 32, 16, 16) 228 -> 334: kept.
_SPLIT_RELU_BYTES = 4 << 20


def _relu_flat(flat, out):
    """max(0, flat) into out (1-D, of one size; may be flat itself): whole rows of _ZERO_ROW by _relu_rows, the tail
    against the zero row's start."""
    n = flat.size - flat.size % _ZERO_ROW
    if n:
        _relu_rows(flat[:n].reshape(-1, _ZERO_ROW), out[:n].reshape(-1, _ZERO_ROW))
    if n < flat.size:
        np.maximum(_zero_row(flat.dtype)[:flat.size - n], flat[n:], out=out[n:])


def _relu_rows(rows, out):
    """max(0, rows) into out (both (R, _ZERO_ROW)), zeros first (see _relu); by row blocks on the threads from
    _SPLIT_RELU_BYTES."""
    if out.nbytes >= _SPLIT_RELU_BYTES:
        _parallel.ufunc(np.maximum, _zero_row(rows.dtype), rows, out=out)
    else:
        np.maximum(_zero_row(rows.dtype), rows, out=out)


def _relu_grad(g, y):
    """relu's gradient from its output y (>= 0, -0. or NaN) on arrays: g where y != 0, else +0 (backend.keep); a
    float32/64 pair of one shape from _SPLIT_RELU_BYTES at more than one thread in flat blocks on the threads, each
    block's mask and bits made as keep makes them (the same values)."""
    if type(g) is np.ndarray and type(y) is np.ndarray and g.nbytes >= _SPLIT_RELU_BYTES and g.dtype == y.dtype \
            and g.dtype.type in (np.float32, np.float64) and g.shape == y.shape and g.flags.c_contiguous \
            and y.flags.c_contiguous and _parallel.threads() > 1:
        out = np.empty(g.shape, g.dtype)
        _parallel.flat(_keep_block, y, g, out, min_bytes=0)
        return out
    return dual.mask(g, y != 0)


def _keep_block(y, g, out):
    """out = g where y != 0, else +0, by masking g's bits (as backend.keep) on flat blocks of one dtype."""
    it = np.int32 if g.dtype.itemsize == 4 else np.int64
    m = np.negative(np.not_equal(y, 0).view(np.int8)).astype(it)
    np.bitwise_and(g.view(it), m, out=out.view(it))


def _relu_mask(g, y):
    """g where the result y is not 0 (y is >= 0, -0. or NaN: PyTorch's threshold_backward(g, y, 0))."""
    return dual.mask(g, y != 0)


ThresholdBackwardBackward0 = _linear_twice.node_class('ThresholdBackwardBackward0')
_linear_twice.expose(ThresholdBackwardBackward0, 'self', threshold=lambda node: 0)   # (relu's: its result as self)


def _relu_backward(g, x, y):
    """_relu_mask; on tensors (create_graph) PyTorch's one ThresholdBackwardBackward0 node."""
    if dual.is_array(g):
        return _relu_mask(g, dual.data(y))
    return _linear_twice.record(ThresholdBackwardBackward0, _relu_mask, g, y)


relu = unary('relu', _relu, 'ReluBackward0', _relu_backward, int_ok=True,
             refuse=_refuse_relu, np_backward=_relu_grad)

# zeros a row of that many elements; relu and relu_ maximise rows of the tensor against it (and its tail against the
# row's start). NumPy's maximum pays a setup per row: MNIST CNN's relus in its training step, 1 thread, min/median of
# 60 interleaved (load ~10, ms): (64, 32, 26, 26) 0.58/0.82 -> 0.46/0.64, (64, 64, 24, 24) 1.09/1.27 -> 0.87/1.03
# with rows of 8192 (32 KiB of float32, L1's size) against 1024; 2048 and 4096 gained nothing
_ZERO_ROW = 8192
_ZEROS = {}


def _zero_row(dtype):
    """The read-only row of _ZERO_ROW zeros of ``dtype`` that relu and relu_ broadcast over a tensor's rows."""
    z = _ZEROS.get(dtype)
    if z is None:
        z = _ZEROS[dtype] = np.zeros(_ZERO_ROW, dtype)
        z.flags.writeable = False
    return z


def _fast_relu_(generic):
    """Tensor.relu_ from the generic in-place op ``generic``: a float32/64 tensor that owns its contiguous array
    takes max(0, x) written over itself in one pass, its ReluBackward0 saving the result as PyTorch's does; anything
    else goes to ``generic`` (which copied the input for the node, computed the result aside and copied it back).
    Zeros go first (NumPy's maximum returns its second operand on a tie, and -0. stays) as a row of zeros broadcast
    over the rows (_relu_flat): a zero scalar first ran NumPy's slow loop. DCGAN's shapes, graph recorded, min of 300
    interleaved: (32, 32, 16, 16) 77 -> 31 us, (32, 64, 8, 8) 35 -> 15, (32, 128, 4, 4) 18 -> 9."""
    from .inplace import adopt, check_inplace

    def relu_(self):
        a = self._data
        if type(a) is not np.ndarray or a.dtype.type not in (np.float32, np.float64) or self._base is not None \
                or not a.flags.writeable or not a.flags.c_contiguous:
            return generic(self)
        tracked = check_inplace(self)
        flat = a.reshape(-1)
        _relu_flat(flat, flat)
        if tracked:
            node = relu.node((self,))
            adopt(self, Tensor._make(a, node))
        self._bump()
        if tracked:
            node.save_output(self)
        return self
    relu_.__name__, relu_.__doc__ = 'relu_', generic.__doc__
    return relu_
abs = unary('abs', xp.abs, 'AbsBackward0', lambda g, x, y: g * dual.sgn(x), int_ok=True, refuse=_refuse('abs_cpu'))
absolute = abs


def _sign(a):
    """np.sign, with 0 for NaN as PyTorch gives (and a copy for bool, which NumPy refuses)."""
    if a.dtype.kind == 'b':
        return _layout.like_copy(a)   # (in the input's layout, as PyTorch's kernel writes it)
    if a.dtype.kind == 'c':     # sgn: z / |z|, 0 at 0 (sign itself refuses complex before it gets here)
        z = a.view(np.ndarray)
        return _complex.wrap(np.where(z == 0, 0, z / np.where(z == 0, 1, np.abs(z))).astype(z.dtype))
    r = xp.sign(a)
    if a.dtype.kind == 'f':
        nan = np.isnan(r)
        if nan.any():
            r = np.where(nan, r.dtype.type(0), r)
    return r


sign = unary('sign', _sign, 'SignBackward0', _zero_grad, int_ok=True)
def _sgn_grad(g, x, y):
    """PyTorch's sgn_backward: zeros for a real input; for a complex one (g - sgn^2 conj(g)) / (2|x|), 0 at
    x = 0 (sgn = x/|x| varies along the circle)."""
    if dual.data(x).dtype.kind != 'c':
        return _zero_grad(g)
    a = dual.abs(x)
    zero = np.asarray(dual.data(a) == 0)
    gc = np.conjugate(g) if dual.is_array(g) else g.conj()
    with np.errstate(divide='ignore', invalid='ignore'):   # masked below, as PyTorch's masked_fill_ (its
        r = (g - y * y * gc) / (a * 2)                          # second derivative is NaN at 0, as there)
    return dual.where(zero, dual.zeros(r.shape, r), r)


sgn = unary('sgn', _sign, 'SgnBackward0', _sgn_grad, int_ok=True)
_complex.GRAD_OK.add('SgnBackward0')
floor = unary('floor', xp.floor, 'FloorBackward0', _zero_grad, int_ok=True, refuse=_refuse('floor_vml_cpu'))
ceil = unary('ceil', xp.ceil, 'CeilBackward0', _zero_grad, int_ok=True, refuse=_refuse('ceil_vml_cpu'))
trunc = unary('trunc', xp.trunc, 'TruncBackward0', _zero_grad, int_ok=True, refuse=_refuse('trunc_vml_cpu'))
frac = unary('frac', lambda a: a - np.trunc(a), 'FracBackward0', lambda g, x, y: g, refuse=_refuse('frac_cpu', 'biu'))
square = unary('square', lambda a: xp.square(cast_array(a, np.dtype(np.int64)) if a.dtype == np.bool_ else a), 'PowBackward0',
               lambda g, x, y: g * 2 * x if dual.is_array(g) else _pow_base(g, x, 2), int_ok=True)


def _in_float64(fn):
    """Run a float64 kernel of ``_special`` on any float dtype and round once to the input's dtype."""
    def f(a):
        return _special.blocked(fn, a)
    f.__name__ = fn.__name__
    return f


_erf = _in_float64(_special.erf)
_2_SQRTPI = 2.0 / math.sqrt(math.pi)
_SQRTPI_2 = math.sqrt(math.pi) / 2.0
# derivatives.yaml's formulas in their order (``2. / sqrt(M_PI) * exp(-(self.pow(2))) * grad``: the constant times the
# exponential first, MulBackward1, then the gradient; float32 rounds as PyTorch's that way)
erf = unary('erf', _erf, 'ErfBackward0', lambda g, x, y: dual.r16(dual.scale(dual.r16(dual.exp(-dual.r16(_squared(x)))), _2_SQRTPI)) * g)
erfc = unary('erfc', _in_float64(_special.erfc), 'ErfcBackward0',
             lambda g, x, y: dual.scale(dual.exp(-_squared(x)), -_2_SQRTPI) * g)
_erfinv = _in_float64(_special.erfinv)


def _erfinv_grad(g, x, y):
    """PyTorch's formula: its node saves the input and recomputes erfinv (the result may change in place)."""
    r = _erfinv(x) if dual.is_array(x) else erfinv(x)     # (not named y: _params would save the result)
    return dual.scale(dual.exp(_squared(r)), _SQRTPI_2) * g


erfinv = unary('erfinv', _erfinv, 'ErfinvBackward0', _erfinv_grad)


def _squared(x):
    """``x.pow(2)`` (PowBackward0 for a tensor), the product x * x."""
    return x * x if dual.is_array(x) else x.pow(2)


def _rsqrt(a):
    """1 / sqrt(a); bfloat16 as PyTorch's CPU kernel: its vectorised loop (blocks of 32 elements in memory order)
    takes float32's 1 / sqrt, its scalar tail 1 / the bf16-rounded sqrt (4 of 48 values a bf16 step apart)."""
    r = 1 / np.sqrt(a)
    if type(a) is not _bf16.BF16Array or a.size % 32 == 0 or not (a.flags.c_contiguous or a.flags.f_contiguous):
        return r
    flat = r.ravel(order='K')    # a view: r has a's dense layout
    k = a.size - a.size % 32
    flat[k:] = 1 / _bf16.from_f32(np.sqrt(a.ravel(order='K')[k:]))
    return r


def _cube(x):
    """``x.pow(3)`` (PowBackward0 for a tensor), which PyTorch's kernel computes as x * x * x."""
    if type(x) is _bf16.BF16Array:   # bfloat16's kernel rounds each product
        return _bf16_power(x, 3)
    return x * x * x if dual.is_array(x) else x.pow(3)


class _Unset(int):
    """An int default that tells a given ``decimals=0`` from none: PyTorch's round.decimals overload (RoundBackward1,
    no integer kernel) runs whenever decimals is passed."""
    __slots__ = ()

    def __repr__(self):
        return int.__repr__(self)


_NO_DECIMALS = _Unset(0)


def round(input, *, decimals=_NO_DECIMALS):
    """Round half to even (like PyTorch); zero gradient."""
    return _round(input) if decimals is _NO_DECIMALS else _round_dec(input, decimals)


_round = unary('round', xp.round, 'RoundBackward0', _zero_grad, int_ok=True,
               refuse=_refuse('round_vml_cpu'))


class RoundBackward1(Node):
    """Rounding to ``decimals`` is piecewise constant: zero gradient."""
    __slots__ = ()

    def backward(self, g):
        return _zero_grad(g)


def _round_dec(input, decimals):
    if input._data.dtype.kind != 'f':
        raise not_implemented('round_vml_cpu' if decimals == 0 else 'round_cpu', input._data.dtype)
    a = input._data
    if decimals and a.dtype == _F16:   # PyTorch's kernel scales in float32 (60000 * 100 overflowed float16: inf)
        r = np.round(a.astype(_F32), decimals).astype(_F16)
    else:
        r = np.round(a, decimals) if decimals else xp.round(a)
    if GRAD.enabled and input._requires_grad:
        return Tensor._make(r, RoundBackward1((input,)))
    return Tensor._make(r)


# -- clamp, where, lerp ------------------------------------------------------------------------------
class ClampBackward1(Node):
    """Gradient passes where the input was inside [min, max]."""
    __slots__ = ('_lo', '_hi', '_given')
    _saved_self = saved_properties('self')['_saved_self']
    _raw_saved_self = saved_properties('self')['_raw_saved_self']
    _saved_min = property(lambda node: node._given[0])   # the bounds as given (PyTorch's clamp(x, -1, 1.5): -1, 1.5)
    _saved_max = property(lambda node: node._given[1])

    def backward(self, g):
        (x,) = self.saved()
        xd = dual.data(x)
        keep = np.ones(xd.shape, bool)
        if self._lo is not None:
            keep &= xd >= self._lo
        if self._hi is not None:
            keep &= xd <= self._hi
        return dual.mask(g, keep)


def clamp(input, min=None, max=None):
    """Clamp into [min, max] (either bound may be None); min > max gives max, as in PyTorch."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    min, max = _clamp_overload('clamp', min, max)
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return _clamp_tensors(ClampBackward0, input, min, max)
    return _clamp_numbers(ClampBackward1, input, min, max)


def _clamp_overload(name, min, max):
    """The bounds as PyTorch's argument parser passes them: tensors (or None) pick the Tensor overload; a
    number with a 0-d tensor that needs no grad picks the Number overload, the tensor read as its number
    (so it promotes as a Python scalar: clamp(int16, 0, float16 0-d) is float32); a number with any other
    tensor matches neither."""
    lo_t, hi_t = isinstance(min, Tensor), isinstance(max, Tensor)
    if lo_t == hi_t or (min is None or max is None):
        return min, max
    t = min if lo_t else max
    if t.ndim or t.requires_grad:
        kinds = ', '.join(['Tensor'] + ['Tensor' if isinstance(v, Tensor) else type(v).__name__ for v in (min, max)])
        raise TypeError(f'{name}() received an invalid combination of arguments - got ({kinds}), but '
                        'expected one of:\n * (Tensor input, Tensor min = None, Tensor max = None, *, Tensor out = '
                        'None)\n * (Tensor input, Number min = None, Number max = None, *, Tensor out = None)\n')
    return (min.item() if lo_t else min), (max.item() if hi_t else max)


_CLIP_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _clamp_numbers(cls, input, min, max):
    """clamp with number bounds, recorded as ``cls`` (ClampBackward1, ClampMinBackward0, ClampMaxBackward0):
    the result dtype promotes the input with the bounds as Python scalars, and each bound is converted to it
    with PyTorch's checked conversion (uint8 takes -3 as 253; 300 for int8 raises)."""
    from .._dtype import result_type
    from ._util import checked_scalar
    bounds = [b for b in (min, max) if b is not None]
    if input._data.dtype.kind == 'c' or [b for b in bounds if isinstance(b, complex)]:
        raise NotImplementedError(_CLAMP_COMPLEX)
    rt = result_type(input, *bounds)
    if rt.np.kind == 'b':
        kernel = 'clamp' if len(bounds) == 2 else 'clamp_min' if min is not None else 'clamp_max'
        raise not_implemented(kernel + '_scalar_cpu', rt.np)
    lo = None if min is None else checked_scalar(min, rt)
    hi = None if max is None else checked_scalar(max, rt)
    a = input._data
    r = a if a.dtype == rt.np else a.astype(rt.np)
    if lo is not None and hi is not None and r.dtype in _CLIP_FLOATS:
        # np.clip is one pass with NaN and min > max as PyTorch's: (64, 256) 11.5 -> 3.2 us
        r = np.clip(r, lo, hi)
    else:
        if lo is not None:
            r = np.maximum(r, rt.np.type(lo))
        if hi is not None:
            r = np.minimum(r, rt.np.type(hi))
    if r.dtype != rt.np:
        r = r.astype(rt.np)
    if r is a:
        r = a.copy()
    if r.dtype.kind == 'f' and 0 in (lo, hi):
        _keep_zeros(r, a)
    if GRAD.enabled and input._requires_grad:
        node = cls((input,))
        node._lo, node._hi, node._given = lo, hi, (min, max)
        node.save(input)
        return Tensor._make(r, node)
    return Tensor._make(r)


def _keep_zeros(r, a):
    """A zero input equal to a zero bound kept, sign and all, as PyTorch's clamp keeps x where x == bound
    (np.maximum(-0.0, 0.0) and a one-sided np.clip give the bound's +0.0)."""
    zero = a == 0
    if np.ndim(zero) and zero.any():
        np.copyto(r, a, where=zero, casting='unsafe')


def _no_saved(name):
    """A property PyTorch's node lacks (``dir`` leaves it out: graph.Node.__dir__)."""
    def get(node):
        raise AttributeError(f"'{type(node).__name__}' object has no attribute '{name}'")
    return property(get)


class ClampMinBackward0(ClampBackward1):
    __slots__ = ()
    _saved_max = _no_saved('_saved_max')


class ClampMaxBackward0(ClampBackward1):
    __slots__ = ()
    _saved_min = _no_saved('_saved_min')


clip = clamp


class _Pointwise(Node):
    """A pointwise op of several inputs (tensors or numbers, kept in ``_args``): ``formulas[i](g, *args)``
    is input i's gradient, summed here over broadcast dims and cast to its dtype; the numbers have no edge
    (PyTorch's Scalar arguments), a missing optional tensor (None) a None edge."""
    __slots__ = ('_meta', '_args')
    formulas = ()

    def backward(self, g):
        args = [a if v is None else v for a, v in zip(self._args, self.saved())]
        return tuple(None if m is None else _fit(f(g, *args), *m)
                     for f, m, a in zip(self.formulas, self._meta, self._args) if a is None)


def _pointwise_node(name, *formulas):
    return type(name, (_Pointwise,), {'__slots__': (), 'formulas': formulas,
                                      '__doc__': f'Backward of the pointwise op PyTorch records as {name}.'})


def _record_pointwise(cls, args, r):
    """``r`` as a tensor, the output of a ``cls`` node over ``args`` (tensors or numbers) when one needs grad."""
    ts = [a if isinstance(a, Tensor) else None for a in args]
    r = _follow_operands(r, *(t._data for t in ts if t is not None))
    if not (GRAD.enabled and any(t is not None and t._requires_grad for t in ts)):
        return Tensor._make(r)
    node = cls([t for t, a in zip(ts, args) if t is not None or a is None])
    node._meta = tuple((t._data.shape, t._data.dtype) if t is not None and t._requires_grad else None for t in ts)
    node._args = tuple(None if t is not None else a for t, a in zip(ts, args))
    node.save(*ts)
    return Tensor._make(r, node)


def _promoted(*args):
    """The arrays of tensor ``args`` cast to their PyTorch result dtype (numbers pass through)."""
    from .._dtype import result_type
    dt = result_type(*[a for a in args if isinstance(a, Tensor)]).np
    return [a if not isinstance(a, Tensor) else a._data if a._data.dtype == dt else cast_array(a._data, dt)
            for a in args], dt


def _in(x, lo, hi):
    """Where the clamp of x passed x through."""
    x = dual.data(x)
    keep = np.ones(x.shape, bool) if lo is None else x >= dual.data(lo)
    return keep if hi is None else keep & (x <= dual.data(hi))


def _below(x, lo, hi):
    """Where the lower bound won."""
    w = dual.data(x) < dual.data(lo)
    return w if hi is None else w & (dual.data(lo) < dual.data(hi))


def _above(x, lo, hi):
    """Where the upper bound won (also everywhere min > max)."""
    w = dual.data(x) > dual.data(hi)
    return w if lo is None else w | (dual.data(hi) < dual.data(lo))


def _masked(g, m):
    """g where m (broadcast to g's shape) holds, else 0."""
    return dual.mask(g, np.broadcast_to(m, g.shape)) if m.shape != g.shape else dual.mask(g, m)


ClampBackward0 = _pointwise_node('ClampBackward0', lambda g, x, lo, hi: _masked(g, _in(x, lo, hi)),
                                 lambda g, x, lo, hi: _masked(g, _below(x, lo, hi)),
                                 lambda g, x, lo, hi: _masked(g, _above(x, lo, hi)))
ClampMinBackward1 = _pointwise_node('ClampMinBackward1', lambda g, x, lo, hi: _masked(g, _in(x, lo, None)),
                                    lambda g, x, lo, hi: _masked(g, _below(x, lo, None)), None)
ClampMaxBackward1 = _pointwise_node('ClampMaxBackward1', lambda g, x, lo, hi: _masked(g, _in(x, None, hi)), None,
                                    lambda g, x, lo, hi: _masked(g, _above(x, None, hi)))


def _clamp_tensors(cls, input, min, max):
    """clamp with a tensor bound: the result dtype promotes all three; each bound gets the gradient where it won."""
    if input._data.dtype.kind == 'c':
        raise NotImplementedError(_CLAMP_COMPLEX)
    (a, lo, hi), dt = _promoted(input, min, max)
    if lo is not None and hi is not None and a.dtype == np.bool_:   # (clamp_min and clamp_max take bools)
        raise not_implemented('clamp_cpu', a.dtype)
    r = a
    if lo is not None:
        r = np.maximum(r, lo)
    if hi is not None:
        r = np.minimum(r, hi)
    if r is a:
        r = a.copy()
    return _record_pointwise(cls, (input, min, max), np.asarray(r, dt))


def clamp_min(input, min):
    """max(input, min) elementwise."""
    try:
        if isinstance(min, Tensor):
            return _clamp_tensors(ClampMinBackward1, input, min, None)
        return _clamp_numbers(ClampMinBackward0, input, min, None)
    except Exception:
        check_tensor_args('clamp_min', 'input', 'min#')
        raise


def clamp_max(input, max):
    """min(input, max) elementwise."""
    try:
        if isinstance(max, Tensor):
            return _clamp_tensors(ClampMaxBackward1, input, None, max)
        return _clamp_numbers(ClampMaxBackward0, input, None, max)
    except Exception:
        check_tensor_args('clamp_max', 'input', 'max#')
        raise


class WhereBackward0(Node):
    """Gradient to ``input`` where the condition held, to ``other`` elsewhere."""
    __slots__ = ('_cond', '_meta')

    def backward(self, g):
        c = self._cond
        xs, xd, ys, yd = self._meta
        zero = dual.const(0.0, g)
        ga = _fit(dual.where(c, g, zero), xs, xd) if xd is not None else None
        gb = _fit(dual.where(c, zero, g), ys, yd) if yd is not None else None
        return ga, gb


def _where_method(self, condition, other):
    """``Tensor.where``: ``where(condition, self, other)``, its argument errors listing the method's arguments."""
    if not isinstance(condition, Tensor) or not isinstance(other, (Tensor, numbers.Number)):
        check_tensor_args('where', 'condition', 'other', overloads=True)
    return where(condition, self, other)


def where(condition, input=None, other=None):
    """Elementwise ``input if condition else other``; with one argument, ``nonzero(as_tuple=True)``."""
    if input is None and other is None:
        from .indexing import nonzero
        return nonzero(condition, as_tuple=True)
    if not isinstance(condition, Tensor):
        check_tensor_args('where', 'condition', overloads=True)
    c = condition._data
    if c.dtype == np.uint8:   # PyTorch takes a byte condition still, deprecated
        from .._warn import warn_user
        warn_user('where received a uint8 condition tensor. This behavior is deprecated and will be removed in a '
                  'future version of PyTorch. Use a boolean condition instead.', once=True,
                  internally='aten/src/ATen/native/TensorCompare.cpp:621')
        c = c != 0
    elif c.dtype != np.bool_:
        raise RuntimeError(f'where expected condition to be a boolean tensor, but got a tensor with dtype '
                           f'{scalar_name(condition.dtype)}')
    try:
        x, y, a, b = binary_arrays(input, other)
    except NotOperand:
        check_tensor_args('where', 'condition', 'input', 'other', overloads=True)
        raise
    a, b = _where_scalar(a, b), _where_scalar(b, a)
    try:
        r = _apply_operands(np.where, c, a, b)    # the condition first, as PyTorch's iterator takes it
    except ValueError:
        raise _broadcast_error('where', condition, _broadcast_arg(x, y)) from None
    if not isinstance(a, np.ndarray) and not isinstance(b, np.ndarray):
        r = _where_numbers(c, a, b, r)
    xt, yt = isinstance(x, Tensor), isinstance(y, Tensor)
    if GRAD.enabled and ((xt and x._requires_grad) or (yt and y._requires_grad)):
        node = WhereBackward0((x if xt else None, y if yt else None))
        node._cond = c
        node.guard(condition)   # (PyTorch's node saves the condition)
        node._meta = (x._data.shape if xt else None, x._data.dtype if xt and x._requires_grad else None,
                      y._data.shape if yt else None, y._data.dtype if yt and y._requires_grad else None)
        return Tensor._make(r, node)
    return Tensor._make(r)


def _where_numbers(c, a, b, r):
    """where(cond, number, number): the default complex or floating dtype for a complex or float number (each
    number checked as PyTorch converts it: 1e40 overflows float32), else NumPy's int64/bool."""
    from .._dtype import default_complex
    kinds = {type(a), type(b)}
    if complex in kinds or float in kinds:
        from ._util import checked_scalar
        dt = default_complex() if complex in kinds else DEFAULT.dtype
        a, b = checked_scalar(a, dt), checked_scalar(b, dt)
        return np.where(c, a, b).astype(dt.np)
    return r


def _where_scalar(s, arr):
    """A Python number beside an integer or float32/64 array in ``where``, converted to its dtype as PyTorch checks it
    (uint8 takes -1 as 255, 2**31 raises); float16/bfloat16 take it unchecked (1e6 is inf), as PyTorch's."""
    if type(s) in (int, float, bool) and isinstance(arr, np.ndarray) and (arr.dtype.kind in 'iu' or arr.dtype in
                                                                        (_F32, _F64)):
        from ._util import checked_scalar
        return checked_scalar(s, FROM_NP[arr.dtype])
    if type(s) is float and isinstance(arr, np.ndarray) and arr.dtype == _F16:
        return np.float16(np.float32(s))   # PyTorch's double -> float -> half (ops/_util.via_float)
    return s


def _broadcast_arg(x, y):
    """The shape (as a tensor) that the condition of ``where`` failed to broadcast with."""
    xs = x._data.shape if isinstance(x, Tensor) else ()
    ys = y._data.shape if isinstance(y, Tensor) else ()
    try:
        return Tensor._make(np.empty(np.broadcast_shapes(xs, ys)))
    except ValueError:
        return y


LerpBackward0 = _pointwise_node('LerpBackward0', lambda g, x, e, w: g * (1 - w), lambda g, x, e, w: g * w, None)
LerpBackward0._unchecked = (0, 1)   # a number weight: the formulas read neither end (PyTorch's node saves neither)
LerpBackward1 = _pointwise_node('LerpBackward1', lambda g, x, e, w: g * (1 - w), lambda g, x, e, w: g * w,
                                lambda g, x, e, w: g * (e - x))


@_quiet.quietly
def lerp(input, end, weight):
    """input + weight * (end - input), computed as PyTorch's kernel does (from the nearer end); a 0-d weight
    of any dtype is taken as PyTorch takes it, as a number."""
    if not isinstance(end, Tensor) or not isinstance(weight, (Tensor, numbers.Number)):
        check_tensor_args('lerp', 'input', 'end', 'weight', overloads=True)
    wt = isinstance(weight, Tensor)
    if wt and not weight.dim() and weight.is_complex() and not input.is_complex() and end.dtype == input.dtype:
        cdt = input.dtype.to_complex()   # a complex 0-d weight promotes, as a complex number would
        return lerp(input.to(cdt), end.to(cdt), weight.to(cdt))
    for what, t in (('end', end), ('weight', weight if wt and weight.dim() else None)):
        if t is not None and t._data.dtype != input._data.dtype:
            raise RuntimeError(f'expected dtype {_c_name(input)} for `{what}` but got dtype {_c_name(t)}')
    a, e = input._data, end._data
    if a.dtype.kind not in 'fc':
        raise not_implemented('lerp_kernel_tensor' if wt else 'lerp_kernel_scalar', a.dtype)
    if isinstance(weight, complex) and a.dtype.kind != 'c':   # PyTorch's checked conversion: an imaginary part
        from ._util import checked_scalar                       # does not fit a real dtype
        weight = checked_scalar(weight, input.dtype)
    w = weight._data if wt else weight
    try:
        r = _lerp_values(a, e, w) if a.dtype.kind == 'f' else _lerp_complex(a, e, w)
    except ValueError:
        from ._util import broadcast_mismatch
        raise broadcast_mismatch([a.shape, e.shape, np.shape(w)]) from None
    return _record_pointwise(LerpBackward1 if wt else LerpBackward0, (input, end, weight), r)


def _lerp_values(a, e, w):
    """PyTorch's lerp from the nearer end, each side one fma: ``fma(w, e - a, a)`` where |w| < 0.5, else
    ``fma(-(e - a), 1 - w, e)`` (half types computed in float32 and rounded, as PyTorch does)."""
    dt = a.dtype
    a, e = _operand(a, dt), _operand(e, dt)
    w = _operand(w, dt)
    diff = e - a
    near = np.abs(w) < 0.5
    if near.ndim == 0:
        return _fused.fma(w, diff, a, dt) if near else _fused.fma(-diff, 1 - w, e, dt)
    return np.where(near, _fused.fma(w, diff, a, dt), _fused.fma(-diff, 1 - w, e, dt))


def _lerp_complex(a, e, w):
    """Complex lerp from the nearer end, as PyTorch's kernel: ``a + w * (e - a)`` where |w| < 0.5, else
    ``e - (e - a) * (1 - w)`` (no fma for complex)."""
    w = np.asarray(w, a.dtype)
    diff = e - a
    return np.asarray(np.where(np.abs(w) < 0.5, a + w * diff, e - diff * (1 - w)), a.dtype)


def _c_name(t):
    """The C type name PyTorch's dtype checks print ('float', 'double', 'long int')."""
    return cpp_name(t.dtype)


AddcmulBackward0 = _pointwise_node('AddcmulBackward0', lambda g, x, t1, t2, v: g,
                                   lambda g, x, t1, t2, v: g * dual.r16(t2 * v),
                                   lambda g, x, t1, t2, v: g * dual.r16(t1 * v), None)
AddcdivBackward0 = _pointwise_node('AddcdivBackward0', lambda g, x, t1, t2, v: g, lambda g, x, t1, t2, v: g * (v / t2),
                                   lambda g, x, t1, t2, v: -g * v * t1 / (t2 * t2), None)
AddcmulBackward0._unchecked = AddcdivBackward0._unchecked = (0,)   # the formulas read not input (PyTorch saves it not)


@_quiet.quietly
def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 * tensor2 (one node, PyTorch's order of operations)."""
    if not isinstance(tensor1, Tensor) or not isinstance(tensor2, Tensor):
        check_tensor_args('addcmul', 'tensor1', 'tensor2')
    (a, t1, t2), dt = _promoted(input, tensor1, tensor2)
    if dt.kind == 'b':
        raise not_implemented('addcmul_cpu_out', dt)
    v = _value(value, dt)
    if dt.kind == 'f':    # PyTorch: fma(value * tensor1 (rounded), tensor2, input)
        r = _fused.fma(_operand(v, dt) * _operand(t1, dt), _operand(t2, dt), _operand(a, dt), dt)
    else:
        r = np.asarray(a + v * t1 * t2, dt)
    return _record_pointwise(AddcmulBackward0, (input, tensor1, tensor2, v), r)


@_quiet.quietly
def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 / tensor2 (floating tensors only, as in PyTorch)."""
    if not isinstance(tensor1, Tensor) or not isinstance(tensor2, Tensor):
        check_tensor_args('addcdiv', 'tensor1', 'tensor2')
    if tensor1._data.dtype.kind in 'biu' and tensor2._data.dtype.kind in 'biu':
        raise RuntimeError(_ADDCDIV_INT)
    (a, t1, t2), dt = _promoted(input, tensor1, tensor2)
    v = _value(value, dt)
    if dt == _F16:   # PyTorch computes float16 in float32 and rounds once (v * t1 alone may pass 65504)
        a, t1, t2 = (np.asarray(x, np.float32) for x in (a, t1, t2))
    return _record_pointwise(AddcdivBackward0, (input, tensor1, tensor2, v), np.asarray(a + v * t1 / t2, dt))


def _value(value, dt):
    """addcmul/addcdiv's ``value`` in the result's dtype (truncated for integer results, as PyTorch casts it;
    complex for complex results, where int() would drop a fractional value)."""
    if dt.kind == 'c':
        return complex(value)
    return float(value) if dt.kind == 'f' else int(value)


_ADDCDIV_INT = ('Integer division with addcdiv is no longer supported, and in a future  release addcdiv will perform a '
                'true division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as (input + '
                'value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as (input + value * '
                'tensor1 / tensor2) for float inputs. The future addcdiv behavior is just the latter implementation: '
                '(input + value * tensor1 / tensor2), for all dtypes.')


# -- comparisons and logic (not differentiable) --------------------------------------------------------
def _wrapped_ints(a, b):
    """A Python int operand of an integer tensor's op converted to that dtype as PyTorch's kernels cast it, two's
    complement wrapping (uint8 < -3 compares with 253; int32 < 2**31 with -2**31; NumPy compares the true value)."""
    if type(b) is int and type(a) is np.ndarray and a.dtype.kind in 'iu':
        info = np.iinfo(a.dtype)
        if not info.min <= b <= info.max and -2 ** 63 <= b < 2 ** 63:
            b = int(np.array(b, np.int64).astype(a.dtype))
    elif type(a) is int and type(b) is np.ndarray and b.dtype.kind in 'iu':
        b, a = _wrapped_ints(b, a)
    return a, b


def _complex_half_operands(name, input, other, logical):
    """A float16 tensor compared with a complex operand: PyTorch compares in complex32, the complex side
    rounded to half precision; complex64 holds those values exactly, so ember compares them there. The
    logical ops have no complex32 kernel."""
    if logical or name not in ('eq', 'ne'):
        raise NotImplementedError(f'"{name}_cpu" not implemented for \'ComplexHalf\'')
    out = []
    for v in (input, other):
        v = np.asarray(v._data if isinstance(v, Tensor) else v)
        if v.dtype.kind == 'c':
            v = v.real.astype(np.float16) + 1j * v.imag.astype(np.float16).astype(np.float32)
        out.append(v.astype(np.complex64))
    return input, other, out[0], out[1]


_ORDERED = {'lt', 'le', 'gt', 'ge'}   # complex numbers have no order: PyTorch's kernels refuse them


def _compare(np_fn, name, tensors_only=False):
    """A comparison op; its ``operator`` attribute, Tensor's ``<``..., is NotImplemented for an ndarray (see
    ops._numpy_operand) with no call more than the op."""
    ordered = name in _ORDERED

    def make(operator, method=False):   # (method: see binary's make)
        def op(input, other):
            if operator and isinstance(other, _NDARRAY):
                return NotImplemented
            if tensors_only and not (isinstance(input, Tensor) and isinstance(other, Tensor)):
                raise operand_error(name, input, other, method, tensors_only=True)
            if not (isinstance(input, Tensor) or isinstance(other, Tensor)):
                number_as_tensor(name, input, other)   # (raises: no number-number form)
            try:
                x, y, a, b = binary_arrays(input, other)
            except NotOperand:
                if operator:
                    return NotImplemented
                raise operand_error(name, input, other, method) from None
            except NoComplexHalf:
                x, y, a, b = _complex_half_operands(name, input, other, tensors_only)
            if ordered and (type(input) is complex or type(other) is complex):
                raise not_implemented(f'{name}_cpu', np.asarray(a).dtype)
            a, b = _wrapped_ints(a, b)
            try:
                return Tensor._make(np.asarray(_apply_operands(np_fn, a, b)))
            except ValueError:
                raise _broadcast_error(name, x, y) from None
            except NotImplementedError:   # a complex tensor's array refused the ufunc: PyTorch's kernel error
                if not ordered:
                    raise
                raise not_implemented(f'{name}_cpu', np.asarray(a).dtype) from None
        op.__name__ = name
        op.__doc__ = f'Elementwise {name}; a bool tensor, not differentiable.'
        return op
    op = make(False)
    op.operator, op.method = make(True), make(False, True)
    op.method.__name__, op.method.__doc__ = name, op.__doc__
    return op


eq = _compare(np.equal, 'eq')
ne = _compare(np.not_equal, 'ne')
lt = _compare(np.less, 'lt')
le = _compare(np.less_equal, 'le')
gt = _compare(np.greater, 'gt')
ge = _compare(np.greater_equal, 'ge')
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
logical_and = _compare(np.logical_and, 'logical_and', True)
logical_or = _compare(np.logical_or, 'logical_or', True)
logical_xor = _compare(np.logical_xor, 'logical_xor', True)


def _need_integral(kernel, a, b):
    """PyTorch's refusal of a bitwise kernel for floating or complex operands, naming their dtype."""
    for v in (a, b):
        d = np.asarray(v).dtype
        if d.kind in 'fc':
            raise not_implemented(f'{kernel}_cpu', d)


def _bitwise(np_fn, name):
    def op(input, other):
        if not (isinstance(input, Tensor) or isinstance(other, Tensor)):
            number_as_tensor(name, input, other)   # (raises: no number-number form)
        try:
            x, y, a, b = binary_arrays(input, other)
        except NotOperand:
            raise operand_error(name, input, other) from None
        _need_integral(name, a, b)
        a, b = _wrapped_ints(a, b)
        try:
            return Tensor._make(np.asarray(np_fn(a, b)))
        except ValueError:
            raise _broadcast_error(name, x, y) from None
    op.__name__ = name
    op.__doc__ = f'Elementwise {name} of integer or bool tensors.'
    return op


bitwise_and = _bitwise(np.bitwise_and, 'bitwise_and')
bitwise_or = _bitwise(np.bitwise_or, 'bitwise_or')
bitwise_xor = _bitwise(np.bitwise_xor, 'bitwise_xor')


def _shift(name, left):
    """``<<`` / ``>>`` of integer tensors as PyTorch's CPU kernel: a count outside [0, bits) gives 0 for a left
    shift and the sign fill for a right shift (NumPy's result there is undefined)."""
    kernel = 'lshift' if left else 'rshift'

    def op(input, other):
        if not (isinstance(input, Tensor) or isinstance(other, Tensor)):
            number_as_tensor(name, input, other)   # (raises: no number-number form)
        try:
            x, y, a, b = binary_arrays(input, other)
        except NotOperand:
            raise operand_error(name, input, other) from None
        a, b = _wrapped_ints(a, b)
        if not isinstance(x, Tensor) and isinstance(y, Tensor):
            b = np.asarray(b)
            a = np.asarray(a, b.dtype)
        elif not isinstance(y, Tensor) and isinstance(x, Tensor):
            a = np.asarray(a)
            b = np.asarray(b, a.dtype)
        a, b = np.asarray(a), np.asarray(b)
        _need_integral(kernel, a, b)   # (a number takes the tensor's dtype: 4 << int16 is int16)
        if a.dtype.kind == 'b':        # (PyTorch's shift kernels have no Bool loop)
            raise not_implemented(f'{kernel}_cpu', a.dtype)
        operands = a, b
        try:
            a, b = np.broadcast_arrays(a, b)
        except ValueError:
            raise _broadcast_error(name, x, y) from None
        bits = a.dtype.itemsize * 8
        count = b.astype(np.int64)
        inside = (count >= 0) & (count < bits)
        safe = np.where(inside, count, 0).astype(a.dtype)
        if left:
            r = np.where(inside, np.left_shift(a, safe), 0)
        else:
            fill = np.right_shift(a, bits - 1) if a.dtype.kind == 'i' else 0
            r = np.where(inside, np.right_shift(a, safe), fill)
        return Tensor._make(_follow_operands(np.asarray(r, a.dtype), *operands))   # (np.where's result is C order)
    op.__name__ = name
    op.__doc__ = f'Elementwise {"left" if left else "right"} shift of integer tensors.'
    return op


bitwise_left_shift = _shift('bitwise_left_shift', True)
bitwise_right_shift = _shift('bitwise_right_shift', False)


def _fminmax_grads(g, a, b, cmp):
    """Gradient of fmax/fmin: all to ``a`` where it wins or ties or ``b`` is NaN, else all to ``b``."""
    ad, bd = dual.data(a), dual.data(b)
    to_a = cmp(ad, bd) | np.isnan(bd)
    if dual.is_array(g):
        return g * to_a.astype(g.dtype), g * (~to_a).astype(g.dtype)
    return g * dual.const(to_a, g), g * dual.const(~to_a, g)


fmax = binary('fmax', np.fmax, 'FmaxBackward0', lambda g, a, b: _fminmax_grads(g, a, b, np.greater_equal)[0],
              lambda g, a, b: _fminmax_grads(g, a, b, np.greater_equal)[1], tensors_only=True, no_complex=True,
              doc='Elementwise maximum that ignores NaN (NaN only where both are NaN).')
fmin = binary('fmin', np.fmin, 'FminBackward0', lambda g, a, b: _fminmax_grads(g, a, b, np.less_equal)[0],
              lambda g, a, b: _fminmax_grads(g, a, b, np.less_equal)[1], tensors_only=True, no_complex=True,
              doc='Elementwise minimum that ignores NaN (NaN only where both are NaN).')


def logical_not(input):
    return Tensor._make(np.logical_not(input._data))


def bitwise_not(input):
    if input._data.dtype.kind == 'f':
        raise NotImplementedError('"bitwise_not_cpu" not implemented for \'Float\'')
    return Tensor._make(np.invert(input._data))


def isnan(input):
    try:
        return Tensor._make(np.isnan(input._data))
    except (AttributeError, TypeError):
        check_tensor_args('isnan', 'input')
        raise


def isinf(input):
    try:
        return Tensor._make(np.isinf(input._data))
    except (AttributeError, TypeError):
        check_tensor_args('isinf', 'input')
        raise


def isfinite(input):
    try:
        return Tensor._make(np.isfinite(input._data))
    except (AttributeError, TypeError):
        check_tensor_args('isfinite', 'input')
        raise


@_quiet.quietly
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise |input - other| <= atol + rtol |other|; two tensors must share a dtype (PyTorch's error)."""
    try:
        if not isinstance(other, Tensor):
            check_tensor_args('isclose', 'other')
        if isinstance(other, Tensor) and other.dtype != input.dtype:
            raise RuntimeError(f'{scalar_name(input.dtype)} did not match {scalar_name(other.dtype)}')
        b = as_operand(other)._data if isinstance(other, Tensor) else other
        try:
            a = input._data
            r = np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
            if 0 in a.strides or 0 in getattr(b, 'strides', ()):   # (NumPy put a broadcast dim innermost)
                r = _layout.follow(r, (a, b))
            return Tensor._make(r)
        except ValueError:
            from ._util import broadcast_mismatch
            raise broadcast_mismatch([input._data.shape, np.shape(b)]) from None
    except (AttributeError, TypeError):
        check_tensor_args('isclose', 'input', 'other')
        raise


@_quiet.quietly
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """isclose(...).all() as a bool, with isclose's dtype and broadcasting errors (on meta tensors, item()'s)."""
    try:
        if not isinstance(other, Tensor):   # (isclose's error would name isclose)
            check_tensor_args('allclose', 'input', 'other')
        close = isclose(input, other, rtol, atol, equal_nan)
        return bool(close.all().item() if close.is_meta else close._data.all())
    except (AttributeError, TypeError):
        check_tensor_args('allclose', 'input', 'other')
        raise


def equal(input, other):
    """True when both tensors have the same shape and values; only tensors are taken, as in PyTorch."""
    if not (isinstance(input, Tensor) and isinstance(other, Tensor)):
        raise operand_error('equal', input, other, tensors_only=True)
    if input.is_meta or other.is_meta:
        raise _meta.refuse()
    return input._data.shape == other._data.shape and bool((input._data == other._data).all())


class NanToNumBackward0(Node):
    """The gradient passes where the input was finite, zero where it was replaced."""
    __slots__ = ()

    def backward(self, g):
        (x,) = self.saved()
        return dual.mask(g, np.isfinite(dual.data(x)))


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    """NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (default: the dtype's extremes)."""
    try:
        a = input._data
        if _bf16.is_bf16(a.dtype):   # bfloat16's own extremes (float32's round to inf in bfloat16)
            big = 3.3895313892515355e38
            posinf = big if posinf is None else posinf
            neginf = -big if neginf is None else neginf
        r = np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)
        if r.strides != a.strides:   # NumPy's copy of an expanded input put its broadcast dim innermost
            r = _layout.follow(r, (a,))
        if GRAD.enabled and input._requires_grad:
            node = NanToNumBackward0((input,))
            node.save(input)
            return _out(Tensor._make(r, node), out, 'nan_to_num', _NTN_DTYPE, reads=(input,))
        return _out(Tensor._make(r), out, 'nan_to_num', _NTN_DTYPE, reads=(input,))
    except (AttributeError, TypeError):
        check_tensor_args('nan_to_num', 'input')
        raise


_NTN_DTYPE = 'nan_to_num: dtype of out: {out} should be same as input: {res}'


__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith('_') and callable(_v) and not isinstance(_v, type)
           and getattr(_v, '__module__', None) == __name__ and _n not in ('binary', 'unary', 'tanh_backward')]
