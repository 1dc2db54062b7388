"""ember: PyTorch's API on NumPy, with reverse-mode autograd. ``import ember as torch``."""

import functools as _functools
import math as _math

from . import aliasing as _aliasing
from .torch_version import __version__

from ._dtype import (dtype, float16, bfloat16, float32, float64, half, float, double, int8, int16, int32, int64, short,
                     int, long, uint8, bool_ as bool, get_default_dtype, set_default_dtype, promote_types,
                     result_type, can_cast, complex64, complex128, cfloat, cdouble, float8_e4m3fn, float8_e5m2,
                     float8_e4m3fnuz, float8_e5m2fnuz, float8_e8m0fnu, complex32, chalf, qint8, quint8, qint32,
                     quint4x2, quint2x4)
from ._dtype import SUB_BYTE as _SUB_BYTE
globals().update(_SUB_BYTE)   # torch.uint1...uint7, int1...int7, bits8 and kin, float4_e2m1fn_x2
from ._typeinfo import finfo, iinfo
from .tensor import (Tensor, Size, device, FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor,
                     ShortTensor, CharTensor, ByteTensor, BoolTensor)
from .autograd.grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled,
                                 is_inference_mode_enabled)
from .ops import *  # noqa: F401,F403
from .ops import return_types, diagonal, diag
from .ops.pointwise import _mul_out as mul, _mul_out as multiply
from .ops.pointwise import (exp, exp2, expm1, log, log2, log10, log1p, sqrt, rsqrt, reciprocal, sin, cos, tan, asin,
                            acos, atan, arcsin, arccos, arctan, sinh, cosh, tanh, sigmoid, relu, sign, sgn, floor,
                            ceil, trunc, frac, square, erf, erfc, erfinv, atan2, fmod, lerp, addcmul, addcdiv, isnan, isinf,
                            isfinite, isclose, allclose, equal, nan_to_num, logical_and, logical_or, logical_xor,
                            clip, clamp_min, clamp_max, subtract, divide, true_divide, negative,
                            absolute, greater, greater_equal, less, less_equal, not_equal)
from .ops.reduction import (nansum, nanmean, count_nonzero, aminmax, var_mean, std_mean, dist, median, nanmedian,
                            cummax, cummin, logcumsumexp)
from .ops.shape import (swapaxes, swapdims, moveaxis, concat, concatenate, hstack, vstack, tensor_split,
                        broadcast_to, broadcast_tensors, broadcast_shapes, fliplr, flipud, atleast_1d, atleast_2d,
                        atleast_3d, tile, meshgrid, diff, dstack, column_stack, unsafe_split, unsafe_chunk,
                        unsafe_split_with_sizes, as_strided)
from .ops.indexing import (masked_select, take, take_along_dim, unique, bincount, searchsorted, bucketize, argwhere)
from .ops.shape import vsplit, hsplit, dsplit, adjoint
from .ops.indexing import diagflat, index_reduce, put, select_scatter, slice_scatter, diagonal_scatter
from .ops.reduction import renorm
from .ops.blas import addr, addbmm
from .ops.histogram import histc, histogram, histogramdd
from .ops.blas import ger, inner, tensordot, baddbmm, addmv, bilinear
from .ops.creation import asarray, logspace, scalar_tensor, range_ as range
from .ops.random import (seed, initial_seed, get_rng_state, set_rng_state, rand_like, randn_like, randint_like,
                         normal, bernoulli, multinomial, poisson, binomial, default_generator, _standard_gamma,
                         _standard_gamma_grad, _sample_dirichlet, _dirichlet_grad)
from .random import thread_safe_generator
from . import autograd   # (torch.cuda loads on first access, torch._C and its names too: see _lazy)
from ._sparse import dsmm, sparse_coo_tensor, spmm


def svd(input, some=True, compute_uv=True):
    """U, S, V with input = U diag(S) V^T (``torch.svd``; see ``ember._linalg._torch_svd``). ``ember.linalg`` is
    imported on the first call, not by ``import ember`` (its import took ~2 ms)."""
    from ._linalg import _torch_svd
    return _torch_svd(input, some, compute_uv)


Tensor.svd, Tensor.histc, Tensor.histogram = svd, histc, histogram
from ._torch_linalg import (inverse, det, logdet, slogdet, pinverse, matrix_power, matrix_exp, cholesky,
                            cholesky_solve, cholesky_inverse, qr, cross, chain_matmul)
from .ops.blas import vdot
from . import _complex as _complex_arrays
# written for real numbers: refused on complex tensors, with the op's name
_complex_arrays.refuse_in(globals(), '', ('logdet', 'slogdet'))
# their forward is right for complex matrices (conjugate transposes), their backward the real case's
_complex_arrays.refuse_in(globals(), '', ('pinverse', 'cholesky', 'cholesky_solve', 'cholesky_inverse'), grad_only=True)
Tensor.svd = svd
for _f in (inverse, det, logdet, slogdet, pinverse, matrix_power, matrix_exp, cholesky, cholesky_solve,
           cholesky_inverse, qr, cross, vdot):
    setattr(Tensor, _f.__name__, _f)
del _f
from . import _torch_forms
_torch_forms.install(globals())
from .autograd.anomaly_mode import is_anomaly_enabled, is_anomaly_check_nan_enabled, set_anomaly_enabled
from .amp import autocast, GradScaler
from .amp.autocast_mode import (is_autocast_enabled, get_autocast_dtype, set_autocast_enabled, set_autocast_dtype,
                                 is_autocast_cache_enabled, set_autocast_cache_enabled, clear_autocast_cache,
                                 autocast_increment_nesting, autocast_decrement_nesting)

from ._layout import (layout, strided, sparse_coo, sparse_csr, sparse_csc, sparse_bsr, sparse_bsc, _mkldnn, jagged,
                      memory_format, contiguous_format, preserve_format, channels_last, channels_last_3d,
                      legacy_contiguous_format)
inf, nan, pi, e = _math.inf, _math.nan, _math.pi, _math.e
newaxis = None


def _deprecated_autocast(old, new):
    import warnings
    warnings.warn(f'torch.{old} is deprecated. Please use torch.{new} instead.', DeprecationWarning, stacklevel=3)


def is_autocast_cpu_enabled():
    _deprecated_autocast('is_autocast_cpu_enabled()', "is_autocast_enabled('cpu')")
    return is_autocast_enabled('cpu')


def get_autocast_cpu_dtype():
    _deprecated_autocast('get_autocast_cpu_dtype()', "get_autocast_dtype('cpu')")
    return get_autocast_dtype('cpu')


def set_autocast_cpu_enabled(enabled):
    _deprecated_autocast('set_autocast_cpu_enabled(enabled)', "set_autocast_enabled('cpu', enabled)")
    set_autocast_enabled('cpu', enabled)


def set_autocast_cpu_dtype(dtype):
    _deprecated_autocast('set_autocast_cpu_dtype(dtype)', "set_autocast_dtype('cpu', dtype)")
    set_autocast_dtype('cpu', dtype)


def _device_autocast_forms(prefix, device):
    """torch.is/set_autocast_<prefix>_enabled and get/set_autocast_<prefix>_dtype: PyTorch's deprecated spellings
    of the device-type forms for ``device`` (gpu: cuda, ipu, xla)."""
    def is_enabled():
        _deprecated_autocast(f'is_autocast_{prefix}_enabled()', f"is_autocast_enabled('{device}')")
        return is_autocast_enabled(device)

    def set_enabled(enabled):   # (set first: an argument of the wrong type raises before the warning, as PyTorch's)
        set_autocast_enabled(device, enabled)
        _deprecated_autocast(f'set_autocast_{prefix}_enabled(enabled)', f"set_autocast_enabled('{device}', enabled)")

    def get_dtype():
        _deprecated_autocast(f'get_autocast_{prefix}_dtype()', f"get_autocast_dtype('{device}')")
        return get_autocast_dtype(device)

    def set_dtype(dtype):
        set_autocast_dtype(device, dtype)
        _deprecated_autocast(f'set_autocast_{prefix}_dtype(dtype)', f"set_autocast_dtype('{device}', dtype)")
    forms = {f'is_autocast_{prefix}_enabled': is_enabled, f'set_autocast_{prefix}_enabled': set_enabled,
             f'get_autocast_{prefix}_dtype': get_dtype, f'set_autocast_{prefix}_dtype': set_dtype}
    if prefix == 'gpu':   # (PyTorch has no is/set_autocast_gpu_enabled: is_autocast_enabled() is CUDA's)
        forms = {k: v for k, v in forms.items() if 'dtype' in k}
    for name, fn in forms.items():
        fn.__name__ = fn.__qualname__ = name
    return forms


globals().update({k: v for p, d in (('gpu', 'cuda'), ('ipu', 'ipu'), ('xla', 'xla'))
                  for k, v in _device_autocast_forms(p, d).items()})


def is_tensor(obj):
    return isinstance(obj, Tensor)


from .ops.complex import (complex, polar, view_as_real, view_as_complex, real, imag, conj, conj_physical,
                          resolve_conj, resolve_neg, angle, is_complex)
from .ops import complex as _complex_ops
_complex_ops.bind()


def is_conj(input):
    try:
        return input.is_conj()
    except (AttributeError, TypeError):
        from .ops._util import check_tensor_args
        check_tensor_args('is_conj', 'input')
        raise


def is_neg(input):
    try:
        return input.is_neg()
    except (AttributeError, TypeError):
        from .ops._util import check_tensor_args
        check_tensor_args('is_neg', 'input')
        raise


def is_signed(input):
    try:
        return input.is_signed()
    except (AttributeError, TypeError):
        from .ops._util import check_tensor_args
        check_tensor_args('is_signed', 'input')
        raise


def is_same_size(input, other):
    try:
        return input.is_same_size(other)
    except (AttributeError, TypeError):
        from .ops._util import check_tensor_args
        check_tensor_args('is_same_size', 'input', 'other')
        raise


def is_storage(obj):
    """True for a tensor's storage (``t.storage()``, ``t.untyped_storage()``)."""
    from .storage import TypedStorage, UntypedStorage
    return isinstance(obj, (TypedStorage, UntypedStorage))


def is_floating_point(input):
    try:
        return input.is_floating_point()
    except (AttributeError, TypeError):
        from .ops._util import check_tensor_args
        check_tensor_args('is_floating_point', 'input')
        raise


def is_nonzero(input):
    """True when the one-element tensor is not zero (``bool`` here is ember's dtype, so call __bool__)."""
    try:
        return input.__bool__()
    except (AttributeError, TypeError):
        from .ops._util import check_tensor_args
        check_tensor_args('is_nonzero', 'input')
        raise


def _assert(condition, message):
    """``torch._assert``: an ``assert`` that fx can trace (torchvision's models check shapes with it); a
    Tensor-like condition (an fx Proxy: e3nn's Extract builds graphs by hand) is asked first, as PyTorch's."""
    if type(condition) is not Tensor:
        from . import _torch_function
        over = _torch_function.overloaded_args((condition,))
        if over:
            return _torch_function.handle(_assert, over, (condition, message), None)
    assert condition, message


def _assert_async(input, assert_msg=None):
    """A CPU tensor's ``torch._assert_async``: RuntimeError unless its one value is nonzero (kornia checks
    arguments with it)."""
    if not is_nonzero(input):
        raise RuntimeError(assert_msg or 'Expected Tensor with single nonzero value, but got zero')


def numel(input):
    try:
        return input.numel()
    except (AttributeError, TypeError):
        from .ops._util import check_tensor_args
        check_tensor_args('numel', 'input')
        raise


def set_default_device(device):
    """The device of tensors made with no ``device``: the CPU (None, 'cpu') or the meta device; ember has no
    other, and refuses it with a clear error."""
    from .tensor import _check_device, device as _device
    from . import _meta
    meta = device is not None and _check_device(device)
    _meta.SET_DEFAULT[0] = _device('meta') if meta else None
    _meta.DEFAULTS_USED[0] = True


def vmap(func, in_dims=0, out_dims=0, randomness='error', *, chunk_size=None):
    """``torch.vmap`` is ``torch.func.vmap`` (see ``ember.func``, imported on the first call)."""
    from .func import vmap as _vmap
    return _vmap(func, in_dims, out_dims, randomness, chunk_size=chunk_size)


def get_default_device():
    from .tensor import CPU
    from . import _meta
    return _meta.default_device() or CPU


def compile(model=None, *, fullgraph=False, dynamic=None, backend=None, mode=None, options=None, name=None,
            disable=False, recompile_limit=None, isolate_recompiles=False, shapes_spec=None):
    """No compiler in ember: functions run as written and a module comes back wrapped as PyTorch wraps it (see
    ``ember._dynamo.eval_frame``), after refusing the options PyTorch refuses."""
    from ._dynamo.eval_frame import compile_
    from .aliasing import imported
    imported()
    return compile_(model, backend, mode, options, disable)


_MATMUL_PRECISION = ['highest']


def set_float32_matmul_precision(precision):
    """Accepted and remembered ('highest', 'high' or 'medium'); ember's float32 matmuls are always full precision."""
    if precision not in ('highest', 'high', 'medium'):
        import warnings
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
                      'setFloat32MatmulPrecision call has no effect.', UserWarning, stacklevel=2)
        return
    _MATMUL_PRECISION[0] = precision


def get_float32_matmul_precision():
    return _MATMUL_PRECISION[0]


_DETERMINISTIC = {'mode': False, 'warn_only': False}


def use_deterministic_algorithms(mode, *, warn_only=False):
    """ember is always deterministic on the CPU: this records the setting, which the two queries below report."""
    import builtins     # bool is ember's dtype in this module
    for name, v in (('mode', mode), ('warn_only', warn_only)):
        if not isinstance(v, builtins.bool):
            raise TypeError(f"use_deterministic_algorithms(): argument '{name}' must be bool, not {type(v).__name__}")
    _DETERMINISTIC.update(mode=mode, warn_only=warn_only)


def are_deterministic_algorithms_enabled():
    """Whether ``use_deterministic_algorithms(True)`` is in force."""
    return _DETERMINISTIC['mode']


def is_deterministic_algorithms_warn_only_enabled():
    """Whether ``use_deterministic_algorithms(..., warn_only=True)`` is in force."""
    return _DETERMINISTIC['warn_only']


_DEBUG_MODES = ('default', 'warn', 'error')


def set_deterministic_debug_mode(debug_mode):
    """``use_deterministic_algorithms`` by level: 0/'default' off, 1/'warn' warn only, 2/'error' on."""
    import builtins     # int and bool are ember's dtypes in this module
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError('invalid value of debug_mode, expected one of `default`, `warn`, `error`, but got '
                               f'{debug_mode}')
        debug_mode = _DEBUG_MODES.index(debug_mode)
    elif not isinstance(debug_mode, builtins.int):
        raise TypeError(f'debug_mode must be str or int, but got {type(debug_mode)}')
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f'invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}')
    use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode():
    """The level ``set_deterministic_debug_mode`` takes: 0 off, 1 warn only, 2 on (transformers reads it)."""
    if not _DETERMINISTIC['mode']:
        return 0
    return 1 if _DETERMINISTIC['warn_only'] else 2


def set_num_threads(n):
    """The threads ember's large matrix products use (small products always use one); the user's own
    NumPy keeps OpenBLAS's count."""
    from .backend import set_blas_threads
    import builtins     # int and bool are ember's dtypes in this module
    if not isinstance(n, builtins.int) or isinstance(n, builtins.bool):
        raise RuntimeError(f'set_num_threads expects an int, but got {type(n).__name__}')
    if n <= 0:
        raise RuntimeError('set_num_threads expects a positive integer')
    set_blas_threads(n)


def get_num_threads():
    """The threads ember's large matrix products use."""
    from .backend import blas_threads
    return blas_threads()


def from_dlpack(ext_tensor):
    """A tensor sharing memory with a DLPack-capable object or capsule (see ``ember.utils.dlpack``)."""
    from .utils.dlpack import from_dlpack as _from_dlpack
    return _from_dlpack(ext_tensor)


def load_ipython_extension(ipython):
    """``%load_ext ember``: ``import torch`` gives ember for the rest of the IPython session."""
    from ._jupyter import load_ipython_extension as _load
    _load(ipython)


def unload_ipython_extension(ipython):
    """``%unload_ext ember``: undo ``%load_ext ember``."""
    from ._jupyter import unload_ipython_extension as _unload
    _unload(ipython)


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    """(P, L, U) from ``linalg.lu_factor``'s packed result (see ``ember._lu``; loaded on first use)."""
    try:
        from ._lu import lu_unpack as _lu_unpack
        return _lu_unpack(LU_data, LU_pivots, unpack_data, unpack_pivots, out=out)
    except (AttributeError, TypeError):
        from .ops._util import check_tensor_args
        check_tensor_args('lu_unpack', 'LU_data', 'LU_pivots')
        raise


def lu(*args, **kwargs):
    """The deprecated ``torch.lu`` (see ``ember._lu.torch_lu``)."""
    from ._lu import torch_lu
    return torch_lu(*args, **kwargs)


def lu_solve(b, LU_data, LU_pivots, *, out=None):
    """The deprecated ``torch.lu_solve(b, LU, pivots)`` (see ``ember._lu.torch_lu_solve``)."""
    try:
        from ._lu import torch_lu_solve
        return torch_lu_solve(b, LU_data, LU_pivots, out=out)
    except (AttributeError, TypeError):
        from .ops._util import check_tensor_args
        check_tensor_args('lu_solve', 'b:input', 'LU_data', 'LU_pivots')
        raise


def geqrf(input, *, out=None):
    """LAPACK's packed QR (a, tau) (see ``ember._householder``)."""
    try:
        from ._householder import geqrf as _geqrf
        return _geqrf(input, out=out)
    except (AttributeError, TypeError):
        from .ops._util import check_tensor_args
        check_tensor_args('geqrf', 'input')
        raise


def orgqr(input, tau, *, out=None):
    """``linalg.householder_product`` under its LAPACK name."""
    try:
        from ._householder import orgqr as _orgqr
        return _orgqr(input, tau, out=out)
    except (AttributeError, TypeError):
        from .ops._util import check_tensor_args
        check_tensor_args('orgqr', 'input', 'tau:input2')
        raise


from ._removed import eig, lstsq, matrix_rank, solve, symeig  # noqa: E402 (old scripts' names)
from .storage import TypedStorage, UntypedStorage, legacy_classes as _legacy_storages  # noqa: E402
globals().update(_legacy_storages())   # FloatStorage, LongStorage...: the legacy typed storages
Storage = FloatStorage  # noqa: F821 (PyTorch's alias, set at import: its default dtype's legacy class)


def is_inference(input):
    """Whether ``input`` was made under ``inference_mode`` (``Tensor.is_inference``)."""
    if not isinstance(input, Tensor):
        from .ops._util import arg_error
        raise arg_error('is_inference', 'input', 1, input)
    return input.is_inference()


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False):
    """The deprecated ``torch.triangular_solve`` (see ``ember._linalg_legacy``; loaded on first use)."""
    from ._linalg_legacy import triangular_solve as _triangular_solve
    return _triangular_solve(b, A, upper, transpose, unitriangular)


Tensor.symeig = lambda self, eigenvectors=False: symeig(self, eigenvectors)
Tensor.eig = lambda self, eigenvectors=False: eig(self, eigenvectors)
Tensor.lstsq = lambda self, A: lstsq(self, A)
Tensor.solve = lambda self, A: solve(self, A)
Tensor.triangular_solve = lambda self, A, upper=True, transpose=False, unitriangular=False: triangular_solve(
    self, A, upper, transpose, unitriangular)
Tensor.geqrf = lambda self: geqrf(self)
Tensor.orgqr = lambda self, input2: orgqr(self, input2)
Tensor.lu = lambda self, pivot=True, get_infos=False: lu(self, pivot=pivot, get_infos=get_infos)
Tensor.lu_solve = lambda self, LU_data, LU_pivots: lu_solve(self, LU_data, LU_pivots)


def save(obj, f, *args, **kwargs):
    """Save tensors, state dicts and containers to a file (see ``ember.serialization``)."""
    from .serialization import save as _save
    return _save(obj, f, *args, **kwargs)


def load(f, *args, **kwargs):
    """Load what ``save`` wrote (never executes code from the file)."""
    from .serialization import load as _load
    return _load(f, *args, **kwargs)


from .ops import _out as _out_forms
_out_forms.install(globals(), _out_forms.TORCH)   # torch.exp(x, out=y) and the like (Tensor methods take no out=)

# Lazy submodules (``ember.nn``...), and a clear error for parts of torch ember lacks; a partial, so that
# a traceback shows no frame of this file.
_complex_ops.guard_real_only(globals())

__getattr__ = _functools.partial(_aliasing.module_getattr, __name__)
__dir__ = _functools.partial(_aliasing.module_dir, __name__)
torch = _aliasing.sys.modules[__name__]   # torch.torch is torch (kornia annotates with torch.torch.Tensor)

from . import _einops, _opt_einsum
_einops.install()   # einops.rearrange & co. on ember tensors (a backend added once einops is imported)
_opt_einsum.install()   # opt_einsum.contract on ember tensors (its 'ember' backend, once opt_einsum is imported)
from . import _shell as _shell_module  # noqa: E402
__getattr__ = _shell_module.module_getattr(__getattr__)   # torch.uint16/32/64: their first use arms _shell's gates

from . import _builtin  # noqa: E402
_builtin.seal(globals(), __name__)   # PyTorch's builtins do not bind as methods: nor do ember's (see _builtin)

# torch.cdist, torch.Future, torch.__config__, torch.hann_window...: their modules load on first access (see _lazy)
from . import _lazy  # noqa: E402
_lazy.install_methods(Tensor)   # Tensor.stft, Tensor.istft
__getattr__ = _lazy.module_getattr(globals(), __getattr__)
__dir__ = _lazy.module_dir(__dir__)
from . import _tensor_names  # noqa: E402
_tensor_names.install(Tensor)   # Tensor.resize, volatile, map2_, xpu...: as PyTorch's CPU build answers
from . import _torch_function as _torch_function_module  # noqa: E402
_torch_function_module.watch_classes()   # a Tensor-like class statement switches __torch_function__ dispatch on
