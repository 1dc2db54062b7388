"""Shared plumbing for ops: operand promotion, node classes made from backward formulas, dims."""
import ast
import dis
import functools
import inspect
import linecache
import numbers
import operator
import sys
from types import MethodType, ModuleType

import numpy as np

from .._dtype import FROM_NP, DEFAULT, result_type_key, _scalar_dtype, scalar_name
from .._dtype import dtype as _dtype_cls
from ..autograd import forward_refusal
from ..autograd.graph import Node
from ..tensor import Tensor


def as_operand(x):
    """A Tensor, or a Python scalar (NumPy scalars become Python scalars: they are weak in PyTorch). An ndarray
    is refused as a sequence is (NotOperand): PyTorch's functions and methods take no ndarray operand
    (``t.add(a)``, ``torch.add(t, a)``), only its operators hand one to NumPy (see ops._numpy_operand)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (bool, int, float, complex)):
        return x
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, numbers.Complex) and not isinstance(x, numbers.Real):
        return complex(x)
    if isinstance(x, numbers.Number):
        return float(x) if not isinstance(x, numbers.Integral) else int(x)
    if isinstance(x, (list, tuple, np.ndarray)):
        raise NotOperand(f'expected a Tensor or a number as operand, got {type_name(x)} (PyTorch does not '
                         f'convert sequences or arrays in arithmetic: wrap it with torch.tensor(...))')
    if hasattr(type(x), '__torch_function__'):   # a Tensor-like: its own __torch_function__ may take the op
        raise TypeError(f'expected a Tensor or a number as operand, got {type(x).__name__}')
    raise NotOperand(f'expected a Tensor or a number as operand, got {type_name(x)}')


class NotOperand(TypeError):
    """A list, tuple, string, None... given where an op takes a Tensor or a number (PyTorch refuses it too)."""


def torch_function_operand(name, x, y):
    """When an operand is a Tensor-like that is not a Tensor (a ``torch.fx`` Proxy: ``tensor + proxy`` while
    tracing): what its ``__torch_function__`` makes of ``Tensor.<name>(x, y)``, else None. Only reached on the
    error path, so plain ops pay nothing for it."""
    from .._torch_function import overloaded_args, handle
    over = overloaded_args((x, y))
    if not over:
        return None
    return handle(getattr(Tensor, name), over, (x, y), None, f'torch.Tensor.{name}')


def operand_error(name, x, y, method=False, tensors_only=False):
    """PyTorch's TypeError for an operand of the binary op ``name`` that is neither a Tensor nor a number (neither
    a Tensor: ``tensors_only``); ``x`` and ``y`` as the user gave them, ``method``: called as ``x.name(y)``, whose
    positions do not count x (both read from the user's call when at hand). The ops whose PyTorch signatures take
    a Number too (OVERLOADED) report the invalid combination instead."""
    site = call_site(_op_frame())
    if site is not None:
        method, name = site[0], site[3]
    if name in OVERLOADED:
        return combination_error(name, (y,) if method else (x, y))
    if not isinstance(x, Tensor if tensors_only else (Tensor, numbers.Number)):
        return arg_error(name, 'input', 1, x)
    return arg_error(name, 'other', 2 - method, y)


# the ops whose Tensor arguments PyTorch's parser also takes as numbers (its should_allow_numbers_as_tensors)
NUMBERS_AS_TENSORS = frozenset('add sub subtract mul multiply div divide true_divide floor_divide'.split())


def number_as_tensor(name, x, y):
    """``x`` of ``name(x, y)`` called with two numbers, as the 0-d tensor PyTorch wraps it in (a float in the default
    dtype: torch.add(2.5, 1) is float32, a bool a bool tensor, refused by sub); the ops that take no number there
    raise PyTorch's TypeError."""
    if name not in NUMBERS_AS_TENSORS:
        raise operand_error(name, x, y)
    x = as_operand(x)
    return Tensor._make(cast_array(np.asarray(x), _scalar_dtype(x).np))


# the ops with several signatures in PyTorch's argument parser (its error lists them: "invalid combination")
OVERLOADED = set("""all any atleast_1d atleast_2d atleast_3d bernoulli bitwise_and bitwise_left_shift bitwise_or
    bitwise_right_shift bitwise_xor bucketize clamp clamp_max clamp_min clip conv1d copysign ctc_loss
    cumulative_trapezoid divide eq fill float_power floor_divide fmod gaussian_nll_loss ge greater greater_equal gt
    histogram histogramdd index_fill isin le lerp less less_equal linspace logspace lt masked_fill max min moveaxis
    movedim multiply nanquantile narrow ne normal not_equal pow quantile randint_like remainder repeat_interleave
    result_type rsub scatter searchsorted set std std_mean subtract trapezoid trapz true_divide var var_mean view_copy
    where xlogy linalg_matrix_rank linalg_pinv special_chebyshev_polynomial_t special_chebyshev_polynomial_u
    special_chebyshev_polynomial_v special_chebyshev_polynomial_w special_hermite_polynomial_h
    special_hermite_polynomial_he special_laguerre_polynomial_l special_legendre_polynomial_p
    special_shifted_chebyshev_polynomial_t special_shifted_chebyshev_polynomial_u
    special_shifted_chebyshev_polynomial_v special_shifted_chebyshev_polynomial_w special_xlog1py special_xlogy
    special_zeta""".split())
OVERLOADED |= {n + '_' for n in OVERLOADED}


def arg_error(name, arg, pos, value, expected='Tensor'):
    """PyTorch's argument-parser TypeError for ``value`` given as argument ``arg`` of ``name`` where it takes an
    ``expected``: "dot(): argument 'tensor' (position 1) must be Tensor, not int" (``pos`` as the caller counts
    it, a method's not counting self; None for an argument given by keyword, which PyTorch names without one)."""
    at = f' (position {pos})' if pos else ''
    return TypeError(f"{name}(): argument '{arg}'{at} must be {expected}, not {type_name(value)}")


def combination_error(name, args, kwargs=None):
    """PyTorch's TypeError for arguments matching none of an op's overloads, its first line: "where() received an
    invalid combination of arguments - got (int, int), but expected one of:" (``args``: as the caller passed
    them, without a method's self)."""
    got = [_parser_type(v) for v in args] + [f'{k}={_parser_type(v)}' for k, v in (kwargs or {}).items()]
    return TypeError(f'{name}() received an invalid combination of arguments - got ({", ".join(got)}), but expected '
                     f'one of:\n (the signatures of torch.{name} in its documentation)')


def _parser_type(v):
    """A value's type as PyTorch's argument errors list it (ember's own types under PyTorch's names)."""
    name = type_name(v)
    if name.startswith('ember.'):
        if isinstance(v, _dtype_cls):    # (the unheld dtypes are subclasses)
            return 'torch.dtype'
        return 'Tensor' if isinstance(v, Tensor) else 'torch.' + type(v).__name__
    return name


def type_name(x):
    """The name PyTorch's argument errors give x's type: qualified by its module unless a builtin
    ('list', 'numpy.ndarray'); a bound method of an ember object (``x.size`` passed for ``x.size()``) is
    PyTorch's C method, a 'builtin_function_or_method'."""
    cls = type(x)
    if cls is MethodType and type(x.__self__).__module__.startswith('ember'):
        return 'builtin_function_or_method'
    return cls.__name__ if cls.__module__ == 'builtins' else f'{cls.__module__}.{cls.__qualname__}'


def short_type_name(x):
    """type_name without its module: the bare name PyTorch's unpacking and inference errors print."""
    return type_name(x).rpartition('.')[2]


def check_tensor_args(name, *params, overloads=False, reword=False):
    """On an op's error path (within its ``except``): raise PyTorch's TypeError when one of the op's parameters
    ``params`` (``'local'`` or ``'local:shown'``, shown as PyTorch names it; a ``?`` after it: None passes, a ``#``:
    a number passes, where an overload takes one) holds no Tensor, else return so that the op re-raises its own error. The values are read from the calling op's frame;
    whether it was called as a Tensor method (positions not counting self), under which name, and which arguments
    came by keyword, from the user's call (see call_site). ``overloads``: PyTorch's op has several signatures, so
    its error is combination_error's. ``reword``: an error an inner op of the same name worded, without the user's
    call at hand (its positions), is worded again."""
    frame = _op_frame()
    if not reword and _worded(name, frame) is True:
        return
    values, code = frame.f_locals, frame.f_code
    order = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
    for p in params:
        local, _, shown = p.rstrip('?#').partition(':')
        v = values.get(local)
        if not (isinstance(v, Tensor) or v is None and '?' in p or '#' in p and isinstance(v, numbers.Number)):
            given = {n: values[n] for n in order if n in values}
            _refuse(name, frame, order, code.co_argcount, given, local, shown or local, overloads)


def check_inner_args(name, *args):
    """check_tensor_args for an nn.functional op PyTorch writes in Python, which passes its tensors on positionally
    to the aten op ``name`` (F.fold's col2im), so that op's error is PyTorch's: raise it for the first of ``args``
    ((parameter name, value), in that op's order) holding no Tensor, else return."""
    for pos, (arg, v) in enumerate(args, 1):
        if not isinstance(v, Tensor):
            raise arg_error(name, arg, pos, v) from None


def check_call(name, fn, args, kwargs, overloads=False, reword=False):
    """check_tensor_args for a generic wrapper's call ``fn(*args, **kwargs)``, fn's Tensor parameters told by their
    names (TENSOR_PARAMS); a number, which many of PyTorch's overloads take there, only when fn failed reading it as
    a tensor (the AttributeError on that very object) or refused an argument's type itself. ``reword``: an argument
    error of fn's own is worded again for this call (an in-place method's name and positions)."""
    exc = sys.exc_info()[1]
    worded = _worded(None, None) is True
    site = call_site(_op_frame()) if worded and reword else None
    if worded and _worded(name, _op_frame()) is True and site is None:
        return   # (fn's wording stands unless told better)
    if site is not None and 'invalid combination of arguments' in str(exc):   # (as the user called it)
        raise combination_error(site[3], args[site[0]:], kwargs) from None
    try:
        from .._builtin import function
        sig = inspect.signature(function(fn))   # (a builtin where PyTorch's is: its function's signature)
        given = sig.bind(*args, **kwargs).arguments
    except (TypeError, ValueError):
        return
    params = sig.parameters
    order = [n for n, p in params.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    npos = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params.values())
    for n, v in given.items():
        if isinstance(v, Tensor) or n not in TENSOR_PARAMS or v is None and params[n].default is None:
            continue
        if n == 'indices' and isinstance(v, (list, tuple)) and all(isinstance(i, Tensor) or i is None for i in v):
            continue   # (index_put's indices: a sequence of tensors)
        if isinstance(v, numbers.Number) and not (worded or n == 'input' and name not in OVERLOADED
                                                  or isinstance(exc, AttributeError) and exc.obj is v):
            continue
        _refuse(name, _op_frame(), order, npos, given, n, n, overloads)


def _worded(name, frame):
    """True when the error being handled is already an argument error, worded for the op ``name`` running in
    ``frame`` (an error an inner op worded for itself, ``reshape()`` within ``take_along_dim``, is not, nor an
    out-of-place op's within its in-place form, ``rrelu()`` within ``rrelu_``; None: any op's); else the error."""
    exc = sys.exc_info()[1]
    msg = str(exc) if isinstance(exc, TypeError) else ''
    if "(): argument '" not in msg and 'invalid combination of arguments' not in msg:
        return exc
    said = msg.split('(', 1)[0]
    if name is None or said in (name, name + '_'):
        return True
    site = call_site(frame)
    return True if site is not None and said in (site[3], site[3] + '_') else exc


# the parameter names that are PyTorch's for Tensor arguments
TENSOR_PARAMS = {'input', 'tensor', 'tensor1', 'tensor2', 'mat', 'mat1', 'mat2', 'vec', 'vec1', 'vec2', 'batch1',
                 'batch2', 'index', 'mask', 'src', 'source', 'A', 'B', 'LU', 'LU_data', 'LU_pivots', 'pivots', 'target',
                 'targets', 'input1', 'input2', 'x1', 'x2', 'anchor', 'positive', 'negative', 'log_probs', 'boundaries',
                 'sorted_sequence', 'condition', 'grid', 'theta', 'query', 'key', 'tau', 'indices', 'other', 'weight',
                 'exponent', 'end', 'elements', 'test_elements', 'x', 'y', 'value'}


def _refuse(name, frame, order, npos, given, local, shown, overloads):
    """Raise the TypeError for parameter ``local`` of the op running in ``frame`` (parameters ``order``, the first
    ``npos`` positional; ``given``: their values)."""
    method, nargs, keywords, name = call_site(frame) or (False, npos, (), name)
    if overloads or name in OVERLOADED:
        raise combination_error(name, [given[n] for n in order[method:nargs] if n in given],
                                {k: given[k] for k in keywords if k in given}) from None
    pos = None if local in keywords or local not in order[:npos] else order.index(local) + 1 - method
    raise arg_error(name, _PARSER_NAMES.get(name, {}).get(shown, shown), pos, given.get(local)) from None


# the arguments PyTorch's parser names otherwise than the documented names ember's parameters have (its schema's
# ``self`` is ``input``): {op: {ember's name: PyTorch's}}
_PARSER_NAMES = {f'linalg_{op}': {'A': 'input'} for op in (
    'cholesky', 'cholesky_ex', 'cond', 'eigh', 'eigvalsh', 'householder_product', 'ldl_factor', 'ldl_factor_ex',
    'matrix_exp', 'norm', 'tensorinv')}
_PARSER_NAMES.update(linalg_lstsq={'A': 'input', 'B': 'b'}, linalg_tensorsolve={'A': 'input', 'B': 'other'},
                     linalg_vector_norm={'x': 'input'})


def _op_frame():
    """The frame of the op that called the helper calling this (past a dispatching wrapper of ember._torch_function,
    should one wrap the helper)."""
    frame = sys._getframe(2)
    while frame.f_globals.get('__name__') == 'ember._torch_function':
        frame = frame.f_back
    return frame


# the names of ember's generic wrappers (autocast's, the in-place forms'...), which call_site looks through; div
# and _mul_out pass their operands on unchanged (torch.divide, torch.multiply: their aliases' names)
_WRAPPERS = {'op', 'form', 'wrapper', 'inner', 'method', 'inplace', 'call', '<lambda>', '_div_method', 'div',
             '_mul_out'}


def _in_ember(frame):
    return frame.f_globals.get('__name__', '').split('.', 1)[0] == 'ember'


def call_site(frame):
    """How the user called the op running in ``frame``, read from the user's call expression (its source, or where
    that is not at hand, its bytecode: the REPL's, ``exec``'s) on the error path only, generic wrappers between
    looked through: (as a Tensor method, the positional arguments it got counting self, the names given by keyword,
    the name called). None when called from inside ember, or through a plain name or ``*args``."""
    caller = frame.f_back
    while caller is not None and _in_ember(caller):
        if not (caller.f_code.co_flags & inspect.CO_VARARGS or caller.f_code.co_name in _WRAPPERS):
            return None
        caller = caller.f_back
    call = None if caller is None else _source_call(caller) or _bytecode_call(caller)
    if call is None:
        return None
    owner, name, nargs, keywords = call
    method = not isinstance(owner, ModuleType)
    if not method and owner.__name__.rsplit('.', 1)[-1] in ('linalg', 'special', 'fft'):
        name = owner.__name__.rsplit('.', 1)[-1] + '_' + name   # PyTorch's names for them: linalg_det
    return method, nargs + (method and not isinstance(owner, type)), keywords, name


def _source_call(caller):
    """(the object before the called attribute, the attribute, positional count, keywords) of ``owner.name(...)``
    on ``caller``'s current line, from its source; None if not such a call or no source."""
    try:
        line, end, col, end_col = list(caller.f_code.co_positions())[caller.f_lasti // 2]
        lines = linecache.getlines(caller.f_code.co_filename)[line - 1:end]
        lines[-1] = lines[-1][:end_col]
        lines[0] = lines[0][col:]
        call = ast.parse(''.join(lines).strip(), mode='eval').body
    except (TypeError, IndexError, SyntaxError, ValueError, AttributeError):   # (no co_positions before 3.11)
        return None
    if (not isinstance(call, ast.Call) or not isinstance(call.func, ast.Attribute)
            or any(isinstance(a, ast.Starred) for a in call.args)):
        return None
    return (_resolve(call.func.value, caller), call.func.attr, len(call.args),
            tuple(k.arg for k in call.keywords if k.arg))


_LOADS = {'LOAD_NAME', 'LOAD_GLOBAL', 'LOAD_FAST', 'LOAD_DEREF'}
_CALLS = {'CALL', 'CALL_METHOD', 'CALL_FUNCTION', 'CALL_FUNCTION_KW'}


def _bytecode_call(caller):
    """_source_call's answer read from ``caller``'s bytecode: back from its CALL past the arguments' stack effect
    to the load of the called attribute, and the loads of the object before it (a dotted name, else an expression:
    a tensor). The call as 3.11 compiles it (PRECALL, KW_NAMES, CALL), 3.12 (no PRECALL) and 3.10 (CALL_METHOD,
    CALL_FUNCTION, CALL_FUNCTION_KW after a LOAD_CONST of the keywords' names)."""
    ins = [i for i in dis.get_instructions(caller.f_code) if i.opname != 'CACHE']
    at = max((k for k, i in enumerate(ins) if i.offset <= caller.f_lasti), default=None)   # (f_lasti: in its caches)
    if at is None or at < 2 or ins[at].opname not in _CALLS:
        return None
    argc, k = ins[at].arg, at - 1 - (ins[at - 1].opname == 'PRECALL')
    keywords = ()
    if ins[k].opname == 'KW_NAMES' or ins[at].opname == 'CALL_FUNCTION_KW':
        keywords = caller.f_code.co_consts[ins[k].arg]
        k -= 1
    depth = 0
    while k >= 0 and depth != argc:
        depth += dis.stack_effect(ins[k].opcode, ins[k].arg, jump=False)
        k -= 1
    if k < 1 or ins[k].opname not in ('LOAD_METHOD', 'LOAD_ATTR'):   # (a call with keywords loads an attribute)
        return None
    chain, j = [], k - 1
    while j >= 0 and ins[j].opname == 'LOAD_ATTR':
        chain.append(ins[j].argval)
        j -= 1
    owner = None
    if j >= 0 and ins[j].opname in _LOADS:
        scopes = (caller.f_locals, caller.f_globals, caller.f_builtins)
        owner = next((s[ins[j].argval] for s in scopes if ins[j].argval in s), None)
        for attr in reversed(chain):
            owner = getattr(owner, attr, None)
    return owner, ins[k].argval, argc - len(keywords), tuple(keywords)


def _resolve(node, frame):
    """The object a dotted name in ``frame``'s code stands for (None for any other expression: a tensor made by
    it, as in ``(a + b).dot(c)``)."""
    if isinstance(node, ast.Name):
        for scope in (frame.f_locals, frame.f_globals, frame.f_builtins):
            if node.id in scope:
                return scope[node.id]
        return None
    if isinstance(node, ast.Attribute):
        return getattr(_resolve(node.value, frame), node.attr, None)
    return None


def binary_arrays(x, y, float_out=False):
    """Arrays (or scalars) of a binary op's operands, cast to PyTorch's result dtype."""
    if type(x) is not Tensor and not isinstance(x, Tensor):
        x = as_operand(x)
    if type(y) is not Tensor and not isinstance(y, Tensor):
        y = as_operand(y)
    xt, yt = isinstance(x, Tensor), isinstance(y, Tensor)
    a = x._data if xt else x
    b = y._data if yt else y
    if xt and yt and a.dtype is b.dtype:
        if float_out and a.dtype.kind not in 'fc':
            return x, y, cast_array(a, DEFAULT.np), cast_array(b, DEFAULT.np)   # (an expanded one in .to()'s layout)
        return x, y, a, b
    rt = result_type_key(FROM_NP[a.dtype] if xt else _scalar_dtype(a), (1 if a.ndim == 0 else 0) if xt else 2,
                         FROM_NP[b.dtype] if yt else _scalar_dtype(b), (1 if b.ndim == 0 else 0) if yt else 2)
    if float_out and not (rt.is_floating_point or rt.is_complex):
        rt = DEFAULT.dtype
    rn = rt.np
    if xt:
        if a.dtype != rn:
            a = cast_array(a, rn)
    else:
        a = _scalar_as(a, rt)
    if yt:
        if b.dtype != rn:
            b = cast_array(b, rn)
    else:
        b = _scalar_as(b, rt)
    return x, y, a, b


def cast_array(a, nd):
    """``a.astype(nd)``, except that into bfloat16 the values are rounded (astype to its dtype keeps float32
    values: an int32 1877378812 multiplied a bfloat16 unrounded, where PyTorch's operand is 1879048192), and
    float64 into float16 goes through float32 (see via_float)."""
    if type(a) is np.ndarray and 0 in a.strides and not a.flags.c_contiguous:
        return _cast_broadcast(a, nd)
    if nd.kind == 'f' and nd.itemsize == 4 and not nd.isnative:
        from .. import _bf16
        return _bf16.from_f32(a)
    return via_float(a, nd).astype(nd)


def _cast_broadcast(a, nd):
    """A broadcast (expanded) array cast to ``nd`` in the layout of PyTorch's ``.to()`` of it (preserve_format:
    _layout.like_order, a zero stride ambiguous), which TensorIterator then orders the result by (NumPy's astype
    put the broadcast dim innermost: an expanded float32 row times a float64 matrix had strides (1, 2))."""
    from .. import _layout
    return cast_array(_layout.copy_in_order(a, _layout.like_order(a)), nd)


_F16, _F64 = np.dtype(np.float16), np.dtype(np.float64)


def via_float(a, nd):
    """``a`` ready for a cast to ``nd``: float64 bound for float16 first rounded to float32, as PyTorch's Half is
    made from a float (its double -> half rounds twice: 1.19677734 gives 1.1973, NumPy's direct cast 1.1963)."""
    if nd == _F16 and getattr(a, 'dtype', None) == _F64:
        return a.astype(np.float32)
    return a


def _scalar_as(s, rt):
    if rt._cat == 3:
        return complex(s)
    if isinstance(s, complex):
        raise RuntimeError(f'result type {scalar_name(rt.np)} can\'t be cast to the desired output type of a complex '
                           'number')
    if rt._cat == 2:
        return float(s)
    if rt._cat == 1:
        return int(s)
    return bool(s)


_C_TYPES = {'float16': 'c10::Half', 'bfloat16': 'c10::BFloat16', 'float32': 'float', 'float64': 'double',
            'int32': 'int'}
_F_MAX = {'float16': 65504.0, 'bfloat16': 3.3895313892515355e38, 'float32': 3.4028234663852886e38}


def checked_scalar(value, dt):
    """Python number ``value`` converted to ember dtype ``dt`` as PyTorch's checked Scalar conversion does
    (fill values, clamp bounds): an integer type truncates and takes values in its range (unsigned ones also
    integers down to -max, wrapping as two's complement); NaN/inf, a finite float beyond a float type's range, or a
    complex with an imaginary part for a real type raise 'value cannot be converted to type ... without
    overflow'. bool takes any value's truth."""
    name = str(dt).split('.')[-1]
    if name == 'bool':
        return bool(value)
    if dt.is_complex:
        return complex(value)
    ctype = _C_TYPES.get(name, name + '_t')
    if isinstance(value, complex):
        if value.imag != 0:
            raise RuntimeError(f'value cannot be converted to type {ctype} without overflow')
        value = value.real
    if dt.is_floating_point:
        v = float(value)
        if np.isfinite(v) and abs(v) > _F_MAX.get(name, np.inf):
            raise RuntimeError(f'value cannot be converted to type {ctype} without overflow')
        return v
    info = np.iinfo(dt.np)
    if isinstance(value, float):
        if not info.min <= value <= info.max:   # also NaN
            raise RuntimeError(f'value cannot be converted to type {ctype} without overflow')
    v = int(value)
    if info.min == 0 and v < -2 ** 63:   # an unsigned type reads an integer through int64
        raise OverflowError("can't convert negative int to unsigned")
    if info.bits == 64 and info.min == 0:
        if v >= 1 << 64:
            raise OverflowError('int too big to convert')
        return v & ((1 << 64) - 1)
    low = -int(info.max) if info.min == 0 and not isinstance(value, float) else int(info.min)
    if v < low or v > int(info.max):
        raise RuntimeError(f'value cannot be converted to type {ctype} without overflow')
    return int(np.array(v, np.int64).astype(dt.np))


def not_implemented(kernel, np_dtype):
    """PyTorch's refusal of a dtype its kernel has no loop for: '"abs_cpu" not implemented for 'Bool''."""
    return NotImplementedError(f'"{kernel}" not implemented for \'{scalar_name(np_dtype)}\'')


def need_float(t, kernel):
    """Raise PyTorch's NotImplementedError for a kernel that has only floating loops (integer or bool input)."""
    if t._data.dtype.kind != 'f':
        raise not_implemented(kernel, t._data.dtype)


def undifferentiable(node_name, message, display=None):
    """A node class for an op PyTorch records but has no derivative for: its backward raises ``message``
    (``display``: the name PyTorch's ``grad_fn.name()`` gives, when not the class name)."""
    error = NotImplementedError if message.startswith('the derivative for') else RuntimeError   # (PyTorch's
    # not_implemented() formula raises NotImplementedError, a NotImplemented node RuntimeError)

    def backward(self, *grads):
        raise error(message)
    attrs = {'__slots__': (), 'backward': backward, '__doc__': f'Recorded but not differentiable: {message}'}
    if display:
        attrs['name'] = lambda self: display
    cls = type(node_name, (Node,), attrs)
    plain = forward_refusal.PLAIN.fullmatch(message)
    if plain:   # nor a forward-mode formula: PyTorch refuses a tangent reaching the op
        forward_refusal.refusing(cls, plain[1], 'plain')
    return cls


def broadcast_mismatch(shapes):
    """PyTorch's error for ``shapes`` that do not broadcast: the first pair of sizes that differ."""
    n = max(len(s) for s in shapes)
    for i in range(1, n + 1):
        sizes = [s[-i] if i <= len(s) else 1 for s in shapes]
        big = [v for v in sizes if v != 1]
        if big and any(v != big[0] for v in big):
            a, b = big[0], next(v for v in big if v != big[0])
            return RuntimeError(f'The size of tensor a ({a}) must match the size of tensor b ({b}) at non-singleton '
                                f'dimension {n - i}')
    return RuntimeError(f'shapes {", ".join(fmt_shape(s) for s in shapes)} do not broadcast')


def node_class(name, backward, saves=(), slots=(), doc=None):
    """A Node subclass named like PyTorch's grad_fn (``name``) whose backward is ``backward(self, *g)``."""
    cls = type(name, (Node,), {'__slots__': tuple(slots), 'backward': backward,
                               '__doc__': doc or f'Backward of the op that PyTorch records as {name}.'})
    return cls


def wrap_dims(dim, ndim):
    """Normalise an int/sequence of dims to a tuple of non-negative ints (None: all dims)."""
    if dim is None:
        return tuple(range(ndim))
    if type(dim) is int:
        dim = (dim,)
    elif not isinstance(dim, (tuple, list, range)):
        if isinstance(dim, (float, np.floating)) or not hasattr(dim, '__index__'):
            raise TypeError(f"argument 'dim' must be tuple of ints, not {type_name(dim)}")
        dim = (dim,)   # an int, NumPy integer or 0-d integer tensor
    n = max(ndim, 1)
    out = []
    for d in dim:
        if type(d) is not int:
            d = _int_dim(d)
        if not -n <= d < n:
            raise IndexError(f'Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})')
        out.append(d % n if ndim else 0)
    if len(set(out)) != len(out):
        dup = next(d for i, d in enumerate(out) if d in out[:i])
        raise RuntimeError(f'dim {dup} appears multiple times in the list of dims')
    return tuple(out) if ndim else ()


def reduce_dims(dim, ndim):
    """wrap_dims for a reduction that reads an empty dim list as every dim, as PyTorch's sum, mean, var, std,
    amax, norm, logsumexp and count_nonzero do (x.sum(()) is the full sum; any/all keep their input instead)."""
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        dim = None
    return wrap_dims(dim, ndim)


def _int_dim(dim):
    """A dim as an int; PyTorch's argument parser refuses a float (1.5 or 1.0) or another non-integer."""
    if isinstance(dim, (float, np.floating)) or not hasattr(dim, '__index__'):
        raise TypeError(f"argument 'dim' must be int, not {type_name(dim)}")
    return int(dim)


def wrap_dim(dim, ndim):
    n = max(ndim, 1)
    if type(dim) is not int:   # the check only off the common path: wrap_dim(-1, 2) 344 -> 271 ns (was int(dim))
        dim = _int_dim(dim)
    if not -n <= dim < n:
        raise IndexError(f'Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})')
    return dim % n


def _is_index(s):
    try:
        operator.index(s)
        return True
    except TypeError:
        return False


def shape_arg(args, name=None, arg='size', position=1):
    """Sizes given as varargs or as one sequence (``zeros(2, 3)`` or ``zeros((2, 3))``): ints, or what stands for
    one (a NumPy integer, an integer 0-d tensor); anything else is refused with the message PyTorch's argument
    parser gives (``Conv2d(3, c / 4, 1)`` in pytorch-cifar's ShuffleNet), for ``name``'s argument ``arg``."""
    seq = len(args) == 1 and isinstance(args[0], (tuple, list))
    if seq:
        args = args[0]
    try:
        return tuple(map(operator.index, args))
    except TypeError:
        raise _shape_error(args, seq, name, arg, position) from None


def _shape_error(args, seq, name, arg, position):
    """PyTorch's TypeError for a size list with a non-integer: its parser matches the signature on the first
    element and unpacks the rest, so a bad first element and a later one get different messages."""
    pos, bad = next((i, s) for i, s in enumerate(args) if not _is_index(s))
    what = 'numpy.' + type(bad).__name__ if isinstance(bad, np.generic) else short_type_name(bad)
    head = f"{name}(): " if name else ''
    if pos:
        return TypeError(f"{head}argument '{arg}' failed to unpack the object at pos {pos + 1} with error "
                         f'"type must be tuple of ints,but got {what}"')
    if seq:
        return TypeError(f"{head}argument '{arg}' (position {position}) must be tuple of ints, but found element "
                         f'of type {what} at pos 0')
    if len(args) > 1:
        return TypeError(f'{name or "function"}() takes {position} positional argument'
                         f'{"s" if position > 1 else ""} but {len(args) + position - 1} were given')
    return TypeError(f"{head}argument '{arg}' (position {position}) must be tuple of ints, not {what}")


def all_below(idx, n):
    """Whether every value of the integer array ``idx`` is in [0, n): for int64 one unsigned max (a negative value
    wraps above n), 1.1 us against 5.9 for min and max of (32, 16)."""
    if idx.dtype == np.int64:
        return bool(np.maximum.reduce(idx.view(np.uint64), axis=None) < n) if idx.size else True
    return not idx.size or bool(idx.min() >= 0 and idx.max() < n)


def fmt_shape(shape):
    return '[' + ', '.join(map(str, shape)) + ']'


def dim_aliases(fn):
    """``fn`` also accepting NumPy's ``axis``/``keepdims`` for ``dim``/``keepdim``, as PyTorch's argument
    parser does for every op with a ``dim`` (``x.max(axis=1)``); an unknown keyword still reaches ``fn``."""
    sig = inspect.signature(fn)
    dim = sig.parameters.get('dim')
    at = list(sig.parameters).index('dim') if dim and dim.kind is dim.POSITIONAL_OR_KEYWORD else None   # dim's place

    @functools.wraps(fn)
    def f(*args, axis=None, keepdims=None, **kw):
        if axis is not None:
            if 'dim' in kw or at is not None and len(args) > at:
                raise TypeError(f"{fn.__name__}() got both 'dim' and its alias 'axis'; pass one of them")
            kw['dim'] = axis
        if keepdims is not None:
            kw['keepdim'] = keepdims
        try:
            return fn(*args, **kw)
        except Exception:
            check_call(fn.__name__, fn, args, kw)
            raise
    f.__signature__ = sig.replace(parameters=list(sig.parameters.values()) + [
        inspect.Parameter('axis', inspect.Parameter.KEYWORD_ONLY, default=None),
        inspect.Parameter('keepdims', inspect.Parameter.KEYWORD_ONLY, default=None)])
    return f
