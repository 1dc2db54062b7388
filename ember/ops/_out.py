"""PyTorch's ``out=`` for the torch and linalg namespaces, through one wrapper: the op computes its result
as usual and ``inplace.write_out`` writes it into ``out`` (resize, casts, autograd refusal). The Tensor
methods keep the unwrapped op (PyTorch's methods take no out=), so methods and operators pay nothing."""
import inspect
import types

import numpy as np

from .inplace import write_out
from ._util import check_call, arg_error

_EXPECTED = 'Expected out tensor to have dtype {res_c}, but got {out_c} instead'
_FOUND = 'Found dtype {out} but expected {res}'
_SAME_TYPE = '{name}(): self and result must have the same scalar type'
_MEDIAN = ("Expected tensor for 'values' to have the same type as tensor for argument #2 'self'; but type {out_t} "
           'does not equal {res_t} (while checking arguments for median)')
_CAT = "torch.cat(): input types can't be cast to the desired output type {out}"


def _same(a, b):
    return a == b


def _castable(a, b):
    from .._dtype import FROM_NP, can_cast
    return can_cast(FROM_NP[a], FROM_NP[b])


def _floating(a, b):
    return b.kind == 'f'


def _float_from_float(a, b):
    return b.kind == 'f' or a.kind != 'f'


def _not_bool(a, b):
    return b.kind != 'b'


# PyTorch's checks of out's dtype, by op, beyond TensorIterator's cast rule (checked after these): a list of
# (test on the result's and out's NumPy dtypes, exception, message format; fields as in inplace.write_out)
RULES = {
    **dict.fromkeys('matmul linalg.matmul mm bmm addmm addmv baddbmm gather tril triu argmax argmin take_along_dim max.values min.values '
                    'index_copy scatter_reduce isin '
                    'aminmax.values sort.values topk.values index_add scatter scatter_add linalg.det linalg.inv linalg.solve linalg.cholesky linalg.cross cross '
                    'linalg.vector_norm linalg.svdvals linalg.slogdet.values linalg.eigvalsh '
                    'triangular_solve.values'.split(),
                    [(_same, RuntimeError, _EXPECTED)]),
    **dict.fromkeys('abs absolute neg negative floor ceil trunc frac round bitwise_not clamp clip clamp_min clamp_max '
                    'sign sgn'.split(), [(_same, RuntimeError, _FOUND)]),
    **dict.fromkeys('amax amin'.split(), [(_same, RuntimeError, "Expected the dtype for input and out to match, but "
                                                                "got {res} for input's dtype and {out} for out's dtype.")]),
    **dict.fromkeys('index_select masked_select'.split(), [(_same, RuntimeError, _SAME_TYPE)]),
    **dict.fromkeys('all any'.split(), [(lambda a, b: b.kind == 'b' or b == np.uint8, RuntimeError,
                                         '{name} only supports bool tensor for result, got: {out}')]),
    **dict.fromkeys('median.values nanmedian.values'.split(), [(_same, RuntimeError, _MEDIAN)]),
    **dict.fromkeys('median.indices nanmedian.indices'.split(), [(_same, RuntimeError, "Expected tensor for argument #1 "
                                                                  "'indices' to have scalar type Long; but got {out_t} "
                                                                  "instead (while checking arguments for median)")]),
    'kthvalue.values': [(_same, RuntimeError, 'output values must be of same type as input')],
    **dict.fromkeys(('quantile', 'nanquantile'), [(_same, RuntimeError, 'quantile() out tensor must be same dtype as '
                                                                        'the input tensor')]),
    'signbit': [(lambda a, b: b.kind == 'b', RuntimeError, 'signbit does not support non-boolean outputs.')],
    'ldexp': [(_castable, RuntimeError, "ldexp can't be cast to the desired output type {out}")],
    **dict.fromkeys('isposinf isneginf'.split(), [(_same, RuntimeError, '{name} does not support non-boolean outputs.')]),
    **dict.fromkeys('index_reduce renorm slice_scatter softmax log_softmax'.split(), [(_same, RuntimeError, _EXPECTED)]),
    'addbmm': [(_same, RuntimeError, 'self and mat2 must have the same dtype, but got {out} and {res}')],
    'float_power': [(_same, RuntimeError, "the output given to float_power has dtype {out} but the operation's "
                                          'result requires dtype {res}')],
    'frexp.values': [(_same, RuntimeError, 'torch.frexp() expects mantissa to have dtype {res_c} but got {out_c}')],
    'frexp.indices': [(_same, RuntimeError, 'torch.frexp() expects exponent to have int dtype but got {out_c}')],
    'heaviside': [(_same, RuntimeError, 'heaviside is not yet implemented for tensors with different dtypes.')],
    **dict.fromkeys(('cummax.values', 'cummin.values', 'cummax.indices', 'cummin.indices', 'logcumsumexp'),
                    [(_same, RuntimeError, 'expected scalar_type {res} but found {out}')]),
    'kthvalue.indices': [(_same, RuntimeError, 'output indices must be of scalar type Long')],
    'mode.values': [(_same, RuntimeError, "expected scalar type '{res}' but got '{out}' for values output")],
    'mode.indices': [(_same, RuntimeError, "expected scalar type '{res}' but got '{out}' for indices output")],
    **dict.fromkeys('cat stack hstack vstack dstack column_stack row_stack'.split(), [(_castable, TypeError, _CAT)]),
    **dict.fromkeys('msort expand_copy permute_copy t_copy transpose_copy view_copy select_copy slice_copy squeeze_copy '
                    'unsqueeze_copy diagonal_copy alias_copy unfold_copy as_strided_copy'.split(),
                    [(_same, RuntimeError, _EXPECTED)]),
    'narrow_copy': [(_same, RuntimeError, 'Expected self.dtype() == output.dtype() to be true, but got false.  (Could '
                                          'this error message be improved?  If so, please report an enhancement request '
                                          'to PyTorch.)')],
    **dict.fromkeys('inner tensordot'.split(), [(_same, RuntimeError, 'tensordot: Expected the output tensor to have '
                                                                      'dtype {res}, but got an output tensor with dtype {out}')]),
    **dict.fromkeys('linalg.norm linalg.matrix_norm'.split(), [(_same, RuntimeError,
                                                               '{name} expected out tensor dtype {res} but got: {out}')]),
    **{n: [(_float_from_float, NotImplementedError, '"nansum_cpu" not implemented for \'{out}\'')] for n in ('nansum', 'nanmean')},
    **{n: [(_not_bool, NotImplementedError, f'"{n}_out_cpu" not implemented for \'{{out}}\'')]
       for n in ('cumsum', 'cumprod')},
    'randperm': [(_not_bool, NotImplementedError, '"randperm" not implemented for \'{out}\'')],
    'randint': [(_not_bool, RuntimeError, 'to - 1 is out of bounds for bool')],
    'multinomial': [(_same, RuntimeError, 'multinomial expects Long tensor out, got: {out}')],
    'normal': [(_floating, NotImplementedError, '"normal_kernel_cpu" not implemented for \'{out}\'')],
    **{n: [(_castable, RuntimeError, f'{n}: Expected result to be safely castable from {{res}} dtype, but got result '
                                     'with dtype {out}')] for n in ('cholesky', 'cholesky_inverse', 'cholesky_solve')},
    **dict.fromkeys(('dot', 'vdot'), [(_same, RuntimeError, 'result dtype {out} does not match input dtype {res}')]),
    'mv': [(_same, RuntimeError, 'addmv input tensors must have the same dtype, but got {out}, {res}, and {res}')],
    'take': [(_same, RuntimeError, 'take(): self and out expected to have the same dtype, but got self.dtype = {res} '
                                   'and out.dtype = {out}')],
    'nonzero': [(_same, RuntimeError, 'nonzero: Expected out tensor to have scalar type Long but got scalar type{out}')],
    'nonzero_static': [(_same, RuntimeError,
                        'nonzero_static: Expected out tensor to have scalar type Long but got scalar type{out}')],
    'where': [(_same, RuntimeError, 'Expected out type to be {res} but got {out}')],
    'searchsorted': [(_same, RuntimeError, "torch.searchsorted(): output tensor's dtype is wrong, it can only be "
                                           "Int(int32) or Long(int64) depending on whether out_int32 flag is True, but "
                                           "we got output tensor's dtype {out} and out_int32 flag is False")],
    'bucketize': [(_same, RuntimeError, "torch.searchsorted(): output tensor's dtype is wrong, it can only be "
                                        "Int(int32) or Long(int64) depending on whether out_int32 flag is True, but "
                                        "we got output tensor's dtype {out} and out_int32 flag is False")],
    **dict.fromkeys(('histc', 'histogram.values'), [(_same, RuntimeError, 'torch.histogram: input tensor and hist tensor '
                                                    'should have the same dtype, but got input {res_c} and hist {out_c}')]),
    'logsumexp': [(_floating, RuntimeError, 'logsumexp(): Expected floating point type for result tensor, but got: '
                                            '{out}')],
    'diag': [(_castable, RuntimeError, "diag: result type {res} can't be cast to the desired out= type {out}"),
             (_same, RuntimeError, _EXPECTED)],
    'mvlgamma': [(_castable, RuntimeError, "mvlgamma: result type {res} can't be cast to the desired output type "
                                           '{res}')],
    'linalg.pinv': [(_castable, RuntimeError, 'linalg.pinv: Expected result to be safely castable from {res} dtype, '
                                              'but got result with dtype {out}')],
    'linalg.matrix_rank': [(_castable, RuntimeError, 'torch.linalg.matrix_rank: Expected result to be safely '
                                                     'castable from {res} dtype, but got result with dtype {out}')],
    'linalg.solve_triangular': [(_same, RuntimeError, 'expected scalar type {res} but found {out}')],
    **dict.fromkeys(('linalg.householder_product', 'orgqr'), [(_castable, RuntimeError, 'torch.linalg.householder_product: '
                                                             'Expected result to be safely castable from {res} dtype, '
                                                             'but got result with dtype {out}')]),
    **{f'geqrf.{k}': [(_castable, RuntimeError, f'torch.geqrf: Expected {n} to be safely castable from {{res}} dtype, '
                                                f'but got {n} with dtype {{out}}')]
       for k, n in (('values', 'a'), ('indices', 'tau'))},
    **dict.fromkeys(('linalg.lu.values', 'linalg.lu_solve'), [(_same, RuntimeError, _EXPECTED)]),
    'linalg.matrix_power': [(_castable, RuntimeError, 'matrix_power: Expected result to be safely castable from {res} '
                                                      'dtype, but got result with dtype {out}'),
                            (_same, RuntimeError, _EXPECTED)],
    **{f'linalg.{op}': [(_castable, RuntimeError, f'{name}: Expected result to be safely castable from {{res}} dtype, but '
                                                  'got result with dtype {out}')]
       for op, name in (('cond', 'linalg.cond'), ('tensorinv', 'tensorinv'), ('tensorsolve', 'tensorsolve'))},
    'linalg.multi_dot': [(_same, RuntimeError, 'multi_dot(): expected out tensor to have dtype {res_c} but got {out_c}')],
    'linalg.vecdot': [(_same, RuntimeError, 'linalg.vecdot: Expected out of dtype{res} but found {out}')],
    **{f'linalg.{op}.{k}': [(_castable, RuntimeError, f'torch.linalg.{op}: Expected {n} to be safely castable from '
                                                      f'{{res}} dtype, but got {n} with dtype {{out}}')]
       for op in ('eig', 'eigvals') for k, n in (('values', 'eigenvalues'), ('indices', 'eigenvectors'))},
    'linalg.eigvals': [(_castable, RuntimeError, 'torch.linalg.eigvals: Expected eigenvalues to be safely castable from '
                                                 '{res} dtype, but got eigenvalues with dtype {out}')],
    **{f'linalg.{op}.{k}': [(_same, RuntimeError, _EXPECTED)] for op in ('ldl_factor', 'ldl_factor_ex', 'cholesky_ex',
                                                                         'inv_ex', 'solve_ex', 'lu_factor', 'lu_factor_ex')
       for k in ('values', 'indices')},
}
# ops that PyTorch resizes without its warning
QUIET = {'logspace', 'rand', 'randn', 'randint', 'randperm', 'bernoulli', 'multinomial', 'addbmm', 'narrow_copy'}
# ops whose values go into an out of any dtype (bernoulli's 0s and 1s)
ANY_DTYPE = {'bernoulli', 'all', 'any'}   # (all/any: bool or uint8, as RULES checks)
# ops that compute in out's dtype when no dtype= is given (as if called with dtype=out.dtype)
DTYPE_FROM_OUT = {'sum', 'prod', 'cumsum', 'cumprod', 'logspace', 'range'}
# composite ops of PyTorch's: with inputs that require grad they write out= through copy_ (out gets a grad_fn)
COPIES = {'inner', 'tensordot', 'diag', 'floor_divide', 'special.ndtr', 'linalg.norm', 'linalg.matrix_norm', 'quantile', 'nanquantile',
          'linalg.cond', 'linalg.tensorinv', 'linalg.tensorsolve',
          *('expand_copy permute_copy t_copy transpose_copy view_copy select_copy slice_copy squeeze_copy unsqueeze_copy '
            'diagonal_copy alias_copy unfold_copy as_strided_copy').split()}
# ops PyTorch records without a derivative (NotImplemented): their out= form accepts inputs that require grad
# (linalg.eigvals: only its out= overload, a kernel of its own; the functional one differentiates through eig)
UNDIFFERENTIABLE = {'histogram', 'heaviside', 'slice_scatter', 'linalg.ldl_factor', 'linalg.ldl_factor_ex',
                    'linalg.eigvals'}
# ops autograd does not record (no derivative formula at all): their out may require grad
UNRECORDED = frozenset(('eq ne lt le gt ge greater greater_equal less less_equal not_equal logical_and logical_or '
                        'logical_xor logical_not isin signbit isposinf isneginf').split())
# the op named in PyTorch's "out=... don't support automatic differentiation" error, where it is another
AD_NAME = {'softmax': 'aten::softmax', 'log_softmax': 'aten::log_softmax', 'orgqr': 'linalg_householder_product', 'square': 'pow', 'msort': 'sort', 'arctan2': 'atan2', 'float_power': 'pow', 'nanmean': 'nansum', 'diff': 'sub', 'kron': 'mul', 'take_along_dim': 'gather', 'outer': 'mul', 'ger': 'mul',
           'linalg.det': '_det', 'linalg.inv': 'inv_ex', 'linalg.solve': '_solve_ex', 'linalg.cholesky': 'cholesky_ex',
           'linalg.slogdet': '_slogdet', 'linalg.svdvals': '_svd', 'linalg.matrix_power': 'matmul', 'linalg.multi_dot': 'mm',
           'linalg.vecdot': 'sum', 'linalg.solve_ex': '_linalg_solve_ex', 'linalg.lu_factor': 'linalg_lu_factor_ex',
           'fft_irfft': '_fft_c2r', 'fft_hfft': '_fft_c2r', 'fft_irfft2': '_fft_c2r', 'fft_irfftn': '_fft_c2r',
           'fft_hfft2': '_fft_c2r', 'fft_hfftn': '_fft_c2r'}
# torch.special's functions: the op PyTorch's error names (the alias's target, or special_<name>)
AD_NAME.update({f'special.{n}': t for n, t in (
    ('digamma', 'digamma'), ('psi', 'digamma'), ('erf', 'erf'), ('erfc', 'erfc'), ('erfinv', 'erfinv'),
    ('exp2', 'exp2'), ('expit', 'sigmoid'), ('expm1', 'expm1'), ('gammaln', 'lgamma'), ('i0', 'i0'),
    ('log1p', 'log1p'), ('logit', 'logit'), ('sinc', 'sinc'), ('round', 'round'), ('xlogy', 'xlogy'),
    ('gammainc', 'igamma'), ('gammaincc', 'igammac'), ('polygamma', 'polygamma'), ('multigammaln', 'mvlgamma'),
    ('logsumexp', 'logsumexp'))})
RULES.update({'special.logsumexp': RULES['logsumexp'], 'special.multigammaln': RULES['mvlgamma'],
              'special.round': [(_same, RuntimeError, _FOUND)]})   # (round.decimals: no cast)
AD_NAME.update({f'special.{n}': f'special_{n}' for n in ('erfcx', 'i0e', 'i1', 'i1e', 'log_ndtr', 'ndtri', 'entr',
                                                         'xlog1py', 'zeta')})


def check_out_dtype(key, r, out):
    """Raise PyTorch's error when ``out``'s dtype breaks op ``key``'s rule for the result ``r``."""
    from ..tensor import Tensor
    if isinstance(r, tuple):   # (values, indices): the rules of key.values, and of key.indices where it has its own
        for i, (a, o) in enumerate(zip(r, out if isinstance(out, (tuple, list)) else ())):
            check_out_dtype(key + ('.indices' if i and key + '.indices' in RULES else '.values'), a, o)
        return
    if not isinstance(r, Tensor) or not isinstance(out, Tensor):
        return
    a, b = r._data.dtype, out._data.dtype
    for test, exc, msg in RULES.get(key, ()):
        if not test(a, b):
            raise exc(msg.format(**dtype_fields(key, r, out)))


def dtype_fields(name, r, out):
    """The names of r's and out's dtypes in PyTorch's spellings, for error messages."""
    from .._dtype import scalar_name, cpp_name, type_string
    res, o = scalar_name(r.dtype), scalar_name(out.dtype)
    return dict(name=name, res=res, out=o, res_l=res.lower(), out_l=o.lower(), res_c=cpp_name(r.dtype),
                out_c=cpp_name(out.dtype), res_t=type_string(r.dtype), out_t=type_string(out.dtype))


# the ops that take out= in PyTorch and in ember only through this wrapper, by namespace
TORCH = ('abs absolute neg negative exp exp2 expm1 log log2 log10 log1p sqrt rsqrt reciprocal sin cos tan asin acos '
         'atan arcsin arccos arctan sinh cosh tanh sigmoid sign sgn floor ceil trunc frac round square erf erfc '
         'erfinv lgamma digamma polygamma mvlgamma xlogy atan2 pow floor_divide maximum minimum eq ne lt le gt ge '
         'greater greater_equal less less_equal not_equal logical_and logical_or logical_xor logical_not '
         'bitwise_and bitwise_or bitwise_xor bitwise_not clamp clip clamp_min clamp_max lerp addcmul addcdiv where '
         'sum mean prod std var amax amin argmax argmin all any logsumexp nansum nanmean cumsum cumprod aminmax '
         'median nanmedian hstack vstack tril triu diag gather scatter scatter_add index_add index_select masked_select take '
         'take_along_dim nonzero sort topk searchsorted mm bmm mv dot inner outer ger addmm addmv baddbmm '
         'tensordot logspace range histc histogram bucketize svd bitwise_left_shift bitwise_right_shift fmax fmin kthvalue '
         'logit sinc i0 igamma igammac asinh acosh atanh arcsinh arccosh arctanh deg2rad rad2deg logaddexp logaddexp2 hypot diff cummax '
         'cummin dstack column_stack logcumsumexp kron index_copy isin scatter_reduce copysign signbit '
         'heaviside quantile nanquantile ldexp nextafter gcd lcm float_power frexp isposinf isneginf index_reduce '
         'slice_scatter renorm addr addbmm mode row_stack arctan2 msort expand_copy permute_copy t_copy transpose_copy '
         'view_copy select_copy slice_copy squeeze_copy unsqueeze_copy diagonal_copy alias_copy unfold_copy '
         'as_strided_copy narrow_copy triangular_solve softmax log_softmax cross nonzero_static vdot cholesky '
         'cholesky_inverse cholesky_solve').split()
LINALG = ('det inv solve norm vector_norm matrix_norm cholesky slogdet pinv cross matrix_rank svdvals eigvalsh '
          'eigh qr svd').split()


def _with_dim(args, kwargs):
    return len(args) > 1 or 'dim' in kwargs or 'axis' in kwargs


def _all_tensors(args, kwargs):
    from ..tensor import Tensor
    vals = list(args[1:]) + [kwargs[k] for k in ('input', 'other') if k in kwargs]
    return len(vals) == 2 and all(isinstance(v, Tensor) for v in vals)


def _tensor_input(args, kwargs):
    from ..tensor import Tensor
    return isinstance(args[0] if args else kwargs.get('input'), Tensor)


# ops whose out= exists only in some of PyTorch's overloads: {name: (test on the call, what it needs)}
OVERLOADS = {'bucketize': (_tensor_input, 'a tensor input (not a Python number)'),
             **dict.fromkeys(('sum', 'prod', 'median', 'nanmedian'), (_with_dim, 'a dim')),
             'where': (_all_tensors, 'tensor operands (not Python numbers)')}


# two-operand ops whose out= PyTorch writes without its elementwise overlap checks (BLAS products)
_UNCHECKED_OVERLAP = frozenset(('dot', 'inner'))
# elementwise ops of other signatures, beyond inplace._POINTWISE: their out= takes the overlap checks
_ELEMENTWISE = frozenset(('outer', 'ger', 'where', 'logit', 'polygamma', 'mvlgamma', 'float_power', 'igamma', 'igammac'))


def with_out(fn, key):
    """``fn`` taking PyTorch's keyword ``out=``: its result written into ``out`` and ``out`` returned
    (``key``: the op's name, 'linalg.' prefixed in that namespace, for the tables above)."""
    allowed, needs = OVERLOADS.get(key, (None, None))
    from_out = key in DTYPE_FROM_OUT
    name = key.replace('.', '_')   # PyTorch's name in its argument errors (linalg_det)
    params = _param_names(fn)
    if params == ['input'] and not from_out and allowed is None:
        # the elementwise ops: a fixed signature costs 30 ns a call where *args/**kwargs cost 150 ns (measured)
        def op(input, *, out=None):
            try:
                r = fn(input)
            except Exception:   # (free until raised: the argument check only on the error path)
                check_call(name, fn, (input,), {})
                raise
            return r if out is None else write(key, r, out, reads=(input,))
    elif params == ['input', 'other'] and not from_out and allowed is None:
        def op(input, other, *, out=None):
            try:
                r = fn(input, other)
            except (NotImplementedError, TypeError, ValueError) as e:
                check_call(name, fn, (input, other), {})
                first = None if out is None else _operands_refused(key, out, input, other)
                if first is None:
                    raise
                raise first from e
            except Exception:
                check_call(name, fn, (input, other), {})
                raise
            if out is None:
                return r
            return write(key, r, out, reads=None if key in _UNCHECKED_OVERLAP else (input, other))
    else:
        op = _generic(fn, key, allowed, needs, from_out)
    op.__name__, op.__qualname__, op.__doc__, op.__module__ = fn.__name__, fn.__qualname__, fn.__doc__, fn.__module__
    if params is not None and params not in (['input'], ['input', 'other']):   # (None: fn has no signature)
        _add_out_to_signature(op, fn)
    return op


def _operands_refused(key, out, *operands):
    """PyTorch's cast check of a pointwise op's out=, made before its kernel looks at the dtypes: the error
    when the operands' promoted dtype cannot be cast to ``out``'s (None otherwise, or for other ops)."""
    from .._dtype import NoComplexHalf, can_cast, result_type, scalar_name
    from ..tensor import Tensor
    from .inplace import _POINTWISE, _cast_error
    if key not in _POINTWISE or not isinstance(out, Tensor):
        return None
    try:
        r = result_type(*operands)
    except NoComplexHalf:   # PyTorch's complex32, castable to no real dtype
        return RuntimeError(f"result type ComplexHalf can't be cast to the desired output type "
                            f'{scalar_name(out.dtype)}')
    except TypeError:
        return None
    return None if can_cast(r, out.dtype) else _cast_error(r, out.dtype)


def _param_names(fn):
    """fn's parameter names (None when it has no signature). A plain function's come from its code object in
    0.3 us where ``inspect.signature`` took 6: ``import ember`` makes 152 out= forms. A ``functools.wraps``
    chain is followed first, as inspect does (36 of them)."""
    inner = inspect.unwrap(fn, stop=lambda f: hasattr(f, '__signature__')) if type(fn) is types.FunctionType else fn
    if type(inner) is types.FunctionType and not hasattr(inner, '__signature__'):
        code = inner.__code__
        if not code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS):
            return list(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount])
    try:
        return list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return None


def _nonzero_refusal(args, kwargs, out):
    from ..tensor import Tensor
    if not isinstance(out, Tensor):
        return arg_error('nonzero', 'out', None, out)
    if kwargs.get('as_tuple'):
        return RuntimeError('nonzero does not support the out kwarg when as_tuple is True')
    return None


# calls whose out= PyTorch refuses with an error of its own: {name: f(args, kwargs, out) -> the exception or None}
REFUSED = {'nonzero': _nonzero_refusal}


def _generic(fn, key, allowed, needs, from_out):
    """The out= form of an op with any signature."""
    refusal = REFUSED.get(key)

    def op(*args, out=None, **kwargs):
        if out is None:
            try:
                return fn(*args, **kwargs)
            except Exception:
                check_call(key.replace('.', '_'), fn, args, kwargs)
                raise
        error = refusal and refusal(args, kwargs, out)
        if error:
            raise error
        if allowed is not None and not allowed(args, kwargs):
            raise TypeError(f'{key}(): out= is accepted only with {needs} (as in PyTorch, whose other {key} '
                            'overloads take no out=)')
        if key in ('logspace', 'range'):
            from .creation import out_dtype_check
            out_dtype_check(kwargs.get('dtype'), out)
        _dtype_against_out(key, kwargs.get('dtype'), out)
        args = _in_out_dtype(key, args, kwargs, out)
        if from_out and kwargs.get('dtype') is None and hasattr(out, 'dtype'):
            kwargs['dtype'] = out.dtype
        try:
            r = fn(*args, **kwargs)
        except (NotImplementedError, TypeError, ValueError) as e:
            first = _operands_refused(key, out, *args[:2])
            if first is None:
                raise
            raise first from e
        return write(key, r, out, _rule_key(key, args, kwargs), reads=_reads(key, args, kwargs))
    return op


# reductions PyTorch computes in out's floating dtype, the input cast to it first (mean(float64, out=float32) sums
# float32s); sum and prod get there through dtype= (DTYPE_FROM_OUT)
IN_OUT_DTYPE = frozenset(('mean', 'nanmean', 'nansum', 'std', 'var'))


def _in_out_dtype(key, args, kwargs, out):
    """``args`` with a float32/float64 input cast to a float32/float64 ``out``'s dtype, for IN_OUT_DTYPE's ops
    (std and var over all elements into a wider out compute in the input's dtype, as PyTorch's)."""
    from ..tensor import Tensor
    if key not in IN_OUT_DTYPE or not args or not isinstance(args[0], Tensor) or not hasattr(out, 'dtype'):
        return args
    x = args[0]
    wide = ('float32', 'float64') + (('float16', 'bfloat16') if key in ('std', 'var') else ())   # (as measured)
    if x.dtype == out.dtype or str(x.dtype)[6:] not in wide or str(out.dtype)[6:] not in wide:
        return args
    if key in ('std', 'var') and len(args) < 2 and kwargs.get('dim') is None and out.dtype.itemsize > x.dtype.itemsize:
        return args
    return (x.to(out.dtype),) + tuple(args[1:])


def _dtype_against_out(key, dtype, out):
    """PyTorch's refusal of a reduction's dtype= other than out='s (ember computed in dtype and cast)."""
    if dtype is None or not hasattr(out, 'dtype') or dtype == out.dtype:
        return
    from .._dtype import cpp_name, scalar_name
    if key in ('sum', 'prod', 'cumsum', 'cumprod', 'mean'):
        raise RuntimeError(_EXPECTED.format(res_c=cpp_name(dtype), out_c=cpp_name(out.dtype)))
    if key in ('nansum', 'nanmean'):
        raise RuntimeError(f'nansum: provided dtype must match dtype of result. Got {scalar_name(out.dtype)} and '
                           f'{scalar_name(dtype)}.')


def _reads(key, args, kwargs):
    """The operands an elementwise op (PyTorch's TensorIterator ops, outer through mul) reads, for the overlap
    checks of its out=; None for other ops, whose out= PyTorch writes unchecked."""
    from ..tensor import Tensor
    from .inplace import _POINTWISE
    if key not in _POINTWISE and key not in _ELEMENTWISE:
        return None
    return tuple(a for a in (*args, *kwargs.values()) if isinstance(a, Tensor))


def _rule_key(key, args, kwargs):
    """The RULES entry for this call: clamp with a Tensor bound is PyTorch's binary clamp.Tensor overload,
    whose out= casts as add's does, not the Number overload that demands out's dtype."""
    if key in _CLAMPS:
        from ..tensor import Tensor
        if any(isinstance(a, Tensor) for a in (*args[1:], *kwargs.values())):
            return key + '.Tensor'
    return key


_CLAMPS = {'clamp', 'clip', 'clamp_min', 'clamp_max'}


_OUT_PARAMETER = inspect.Parameter('out', inspect.Parameter.KEYWORD_ONLY, default=None)


class _OutSignature(inspect.Signature):
    """``fn``'s signature plus the keyword ``out``, made at its first read: ``import ember`` makes 102 such out=
    forms, and building their signatures there took 3-4 ms of its CPU time (measured cold, in the import) for what
    only inspect, help() and the signature tests read. Signature's two slots stay unset until then, so that its
    own methods reach ``__getattr__`` for them."""
    __slots__ = ('_fn',)

    def __init__(self, fn):   # (not Signature's: the parameters come later)
        self._fn = fn

    def __getattr__(self, name):
        if name not in ('_parameters', '_return_annotation'):
            raise AttributeError(name)
        sig = inspect.signature(self._fn)
        params = list(sig.parameters.values())
        at = len(params) - (bool(params) and params[-1].kind == inspect.Parameter.VAR_KEYWORD)
        params.insert(at, _OUT_PARAMETER)   # (fn's are valid and out joins its keyword-only ones: unvalidated)
        self._parameters = inspect.Signature(params, __validate_parameters__=False).parameters
        self._return_annotation = sig.return_annotation
        return getattr(self, name)

    def _plain(self):
        return inspect.Signature(list(self.parameters.values()), return_annotation=self.return_annotation,
                                 __validate_parameters__=False)

    def replace(self, **changes):
        return self._plain().replace(**changes)

    def __reduce__(self):
        return self._plain().__reduce__()


_OutSignature.__name__ = _OutSignature.__qualname__ = 'Signature'   # (its repr: "<Signature (...)>")


def _add_out_to_signature(op, fn):
    """``op`` shows fn's signature plus the keyword ``out`` (inspect, help() and the signature tests read it)."""
    op.__signature__ = _OutSignature(fn)


def write(key, r, out, rule=None, reads=None):
    """Op ``key``'s result ``r`` written into ``out`` with PyTorch's checks (see inplace.write_out), those of
    RULES[rule] where the overload called has its own; ``reads``: an elementwise op's operands (overlap checks)."""
    from ..tensor import Tensor
    check_out_dtype(rule or key, r, out)
    if key in UNDIFFERENTIABLE:
        r = r.detach() if isinstance(r, Tensor) else type(r)(*(x.detach() for x in r))
    name = AD_NAME.get(key, key.replace('linalg.', 'linalg_'))
    if key in COPIES and getattr(r, 'requires_grad', False):
        from ..autograd.grad_mode import no_grad
        with no_grad():
            write_out(name, r, out)
        return out.copy_(r)
    if key in ANY_DTYPE and isinstance(out, Tensor) and r._data.dtype != out._data.dtype:
        r = Tensor._make(r._data.astype(out._data.dtype))
    return write_out(name, r, out, warn=key not in QUIET, reads=reads, recorded=key not in UNRECORDED)


def install(namespace, names, prefix=''):
    """Replace each of ``names`` in ``namespace`` (a module's globals) by its out= form."""
    for n in names:
        namespace[n] = with_out(namespace[n], prefix + n)
