"""PyTorch's builtin functions: most of torch.* (and all of torch.linalg, torch.special, torch.fft, a few of
torch.nn.functional) are C builtins there, which do not bind as methods, so ``class Net(nn.Module): act =
torch.tanh`` then ``self.act(x)`` calls tanh(x). ember's are Python functions, which bind (tanh(self, x)).

Each such public name holds a real builtin (a ``builtin_function_or_method``) over ember's function: a
PyCFunction whose C function is CPython's own ``PyObject_Vectorcall`` with the function as its ``self``, made
once at import through ctypes. A call is handed straight on, no tuple or dict built. Measured in-process on
Python 3.11 (alternating, median of 41 runs of 100k calls, ns a call incl. the loop): plain function 129,
this builtin 158, functools.partial 168 (its repr cannot say its name), staticmethod object 274 (its tp_call
builds a tuple and dict), a class with __call__ 570. Where ctypes cannot do it, the functions stay Python.

That ``self`` is what PyTorch's repr and ``__qualname__`` show: where PyTorch binds a builtin to its class
``_VariableFunctionsClass`` ("<built-in method tanh of type object at ...>") it is a ``functools.partial`` over the
function whose class is named 'type'; where PyTorch binds it to a C module (torch._C._nn: "<built-in function
gelu>") it is a module whose class calls the function. What differs from PyTorch's: ``__self__`` is that object
(PyTorch's: None, or the module torch._C._nn itself). Pickled, one is rebuilt by its public name."""
import copyreg
import functools
import importlib
import types

# torch's public functions that are Python functions in PyTorch 2.13 (they bind); the rest are builtins. ember's
# own public functions (no such torch name) are listed too: they are Python functions.
TORCH_PYTHON = frozenset((
    'are_deterministic_algorithms_enabled', 'atleast_1d', 'atleast_2d', 'atleast_3d', 'block_diag',
    'broadcast_shapes', 'broadcast_tensors', 'cartesian_prod', 'cdist', 'chain_matmul', 'classproperty', 'compile',
    'compiled_with_cxx11_abi', 'cond', 'eig', 'einsum', 'from_dlpack', 'get_default_device',
    'get_deterministic_debug_mode', 'get_device_module', 'get_file_path', 'get_float32_matmul_precision',
    'get_rng_state', 'initial_seed', 'is_deterministic_algorithms_warn_only_enabled', 'is_storage', 'is_tensor',
    'is_warn_always_enabled', 'load', 'lobpcg', 'lstsq', 'lu', 'manual_seed', 'matrix_rank', 'meshgrid', 'norm',
    'pca_lowrank', 'prepare_multiprocessing_environment', 'save', 'seed', 'set_default_device',
    'set_default_dtype', 'set_default_tensor_type', 'set_deterministic_debug_mode', 'set_float32_matmul_precision',
    'set_printoptions', 'set_rng_state', 'set_warn_always', 'solve', 'split', 'stft', 'svd_lowrank', 'sym_float',
    'sym_fresh_size', 'sym_int', 'sym_ite', 'sym_max', 'sym_min', 'sym_not', 'sym_sqrt', 'sym_sum', 'symeig',
    'tensordot', 'thread_safe_generator', 'typename', 'unique', 'unique_consecutive', 'unravel_index',
    'use_deterministic_algorithms', 'vmap', 'while_loop',
    'load_ipython_extension', 'unload_ipython_extension'))
# torch.nn.functional names that are builtins in PyTorch (the others are Python functions): the module its
# generated code names them by (torch._C._nn ones as torch.nn.<name> in its dispatch errors)
F_BUILTINS = {
    'torch': ('adaptive_avg_pool1d', 'avg_pool1d', 'bilinear', 'celu_', 'channel_shuffle', 'conv1d', 'conv2d',
              'conv3d', 'conv_tbc', 'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d',
              'cosine_similarity', 'hardshrink', 'native_channel_shuffle', 'pairwise_distance', 'pdist',
              'pixel_shuffle', 'pixel_unshuffle', 'prelu', 'relu_', 'rrelu_', 'selu_', 'threshold_'),
    'torch.nn.functional': ('avg_pool2d', 'avg_pool3d', 'elu_', 'gelu', 'hardtanh_', 'leaky_relu_', 'linear',
                            'logsigmoid', 'one_hot', 'scaled_dot_product_attention', 'softplus',
                            'softshrink'),
}
_F_BUILTIN = frozenset(F_BUILTINS['torch'] + F_BUILTINS['torch.nn.functional'] + (
    'has_torch_function', 'has_torch_function_unary', 'has_torch_function_variadic'))
# torch.* builtins that PyTorch binds to the module torch._C (the others are static methods of its class
# _VariableFunctionsClass, and print "of type object")
TORCH_C = frozenset(('to_dlpack',
    'autocast_decrement_nesting', 'autocast_increment_nesting', 'clear_autocast_cache', 'get_autocast_cpu_dtype',
    'get_autocast_dtype', 'get_autocast_gpu_dtype', 'get_autocast_ipu_dtype', 'get_autocast_xla_dtype',
    'get_default_dtype', 'get_num_interop_threads', 'get_num_threads', 'is_anomaly_check_nan_enabled',
    'is_anomaly_enabled', 'is_autocast_cache_enabled', 'is_autocast_cpu_enabled', 'is_autocast_enabled',
    'is_autocast_ipu_enabled', 'is_autocast_xla_enabled', 'is_grad_enabled', 'is_inference_mode_enabled',
    'set_anomaly_enabled', 'set_autocast_cache_enabled', 'set_autocast_cpu_dtype', 'set_autocast_cpu_enabled',
    'set_autocast_dtype', 'set_autocast_enabled', 'set_autocast_gpu_dtype', 'set_autocast_ipu_dtype',
    'set_autocast_ipu_enabled', 'set_autocast_xla_dtype', 'set_autocast_xla_enabled', 'set_flush_denormal',
    'set_num_interop_threads', 'set_num_threads'))
# torch's pybind11 builtins (torch.jit's fork and wait, init_num_threads...): bound to a pybind11 function record
TORCH_PYBIND = frozenset(('fork', 'import_ir_module', 'import_ir_module_from_buffer', 'init_num_threads',
                          'merge_type_from_type_comment', 'parse_ir', 'parse_schema', 'parse_type_comment',
                          'unify_type_list', 'wait'))
# ember namespace -> the C module PyTorch binds its builtins there to (the 'torch' ones of F_BUILTINS excepted)
C_MODULES = {'ember.nn.functional': 'ember._C._nn', 'ember.linalg': 'ember._C._linalg',
             'ember.special': 'ember._C._special', 'ember.fft': 'ember._C._fft'}
# public names whose builtin PyTorch names otherwise (torch.nn.functional.logsigmoid.__name__ is 'log_sigmoid')
RENAMED = {('ember.nn.functional', 'logsigmoid'): 'log_sigmoid', ('ember', 'to_dlpack'): '_to_dlpack',
           **{('ember.nn.functional', n): '_' + n for n in ('has_torch_function', 'has_torch_function_unary',
                                                           'has_torch_function_variadic')}}
# ember namespace -> the prefix of its builtins' names in PyTorch (torch.linalg.inv.__name__ is 'linalg_inv')
PREFIXES = {'ember': '', 'ember.nn.functional': '', 'ember.linalg': 'linalg_', 'ember.special': 'special_',
            'ember.fft': 'fft_'}


def is_builtin(module_name, name):
    """Whether PyTorch's function ``name`` of ember namespace ``module_name`` is a builtin."""
    if module_name == 'ember':
        return name not in TORCH_PYTHON
    if module_name == 'ember.nn.functional':
        return name in _F_BUILTIN
    return module_name in PREFIXES


def owner(module_name, name):
    """The C module PyTorch binds builtin ``module_name.name`` to (its repr then says "built-in function"), or
    None where it binds it to the class _VariableFunctionsClass ("built-in method ... of type object")."""
    if module_name == 'ember':
        return 'ember._C' if name in TORCH_C else _PYBIND if name in TORCH_PYBIND else None
    if module_name == 'ember.nn.functional' and name in F_BUILTINS['torch']:
        return None
    return C_MODULES[module_name]


class _VariableFunctions(functools.partial):
    """The ``self`` of a builtin PyTorch binds to its class: calls the function, and makes the repr say "of type
    object" and ``__qualname__`` '_VariableFunctionsClass.<name>' as PyTorch's."""
    __slots__ = ()


_VariableFunctions.__name__, _VariableFunctions.__qualname__ = 'type', '_VariableFunctionsClass'


class _Pybind(functools.partial):
    """The ``self`` of a pybind11 builtin: its type's name makes the repr and ``__qualname__`` PyTorch's."""
    __slots__ = ()


_PYBIND = 'pybind11_detail_function_record_v1_system_libstdcpp_gxx_abi_1xxx_use_cxx11_abi_1'
_Pybind.__name__, _Pybind.__qualname__ = 'pybind11_builtins.' + _PYBIND, _PYBIND


def _vectorcalled(cls):
    """Let calls to ``cls``'s instances take its base's vectorcall (no argument tuple): Python 3.11 does not pass
    that flag on to a subclass made in Python (3.12 does). Measured (median of 21 runs of 100k calls): a builtin
    over a partial 89 ns a call with the flag, about 140 without."""
    import ctypes
    have_vectorcall = 1 << 11                             # Py_TPFLAGS_HAVE_VECTORCALL
    flags = ctypes.c_ulong.from_address(id(cls) + 21 * ctypes.sizeof(ctypes.c_void_p))   # PyTypeObject.tp_flags
    if flags.value == cls.__flags__ and cls.__base__.__flags__ & have_vectorcall:         # (checked, not assumed)
        flags.value |= have_vectorcall


def _module_self(fn, c_module):
    """The ``self`` of a builtin PyTorch binds to a C module: a module (repr "<built-in function name>") whose
    class calls ``fn``."""
    cls = type('module', (types.ModuleType,), {'__call__': staticmethod(fn), '__slots__': ()})
    return cls(c_module)


def _maker():
    """The function making a builtin over a callable (None where ctypes or the C API is missing)."""
    try:
        import ctypes
        vectorcall = ctypes.cast(ctypes.pythonapi.PyObject_Vectorcall, ctypes.c_void_p).value
        new = ctypes.pythonapi.PyCFunction_NewEx
        _vectorcalled(_VariableFunctions)
        _vectorcalled(_Pybind)
    except (ImportError, AttributeError):
        return None

    class MethodDef(ctypes.Structure):     # CPython's PyMethodDef
        _fields_ = [('ml_name', ctypes.c_char_p), ('ml_meth', ctypes.c_void_p), ('ml_flags', ctypes.c_int),
                    ('ml_doc', ctypes.c_char_p)]
    new.restype, new.argtypes = ctypes.py_object, [ctypes.c_void_p, ctypes.py_object, ctypes.py_object]
    fastcall_keywords = 0x80 | 0x02      # METH_FASTCALL | METH_KEYWORDS: PyObject_Vectorcall's own signature

    def make(fn, name, module_name, c_module):
        doc = fn.__doc__
        method = MethodDef(name.encode(), vectorcall, fastcall_keywords, doc.encode() if doc else None)
        _DEFS.append(method)             # (the builtin points at it: kept for the process's life)
        if c_module is None or c_module is _PYBIND:
            self = (_VariableFunctions if c_module is None else _Pybind)(fn)
        else:
            self = _module_self(fn, c_module)
        return new(ctypes.addressof(method), self, module_name)
    return make


_DEFS = []
_MAKE = _maker()
_MADE = {}     # (function, builtin name) -> the builtin made over it
_SEEN = {}     # function -> the first builtin made over it
_PUBLIC = {}   # id(builtin) -> (ember namespace, public name, function), to pickle it by (keyed by id: CPython
#                compares builtins by their self and C function; these live as long as the process)


def builtin(fn, module_name, name):
    """The builtin over function ``fn`` for public ``module_name.name``: one a name, so that aliases sharing a
    function (torch.mul, torch.multiply) stay two objects as in PyTorch; ``fn`` where none can be made."""
    if _MAKE is None or type(fn) is not types.FunctionType:
        return fn
    full = PREFIXES[module_name] + RENAMED.get((module_name, name), name)
    made = _MADE.get((fn, full))
    if made is None:
        made = _MADE[fn, full] = _MAKE(fn, full, module_name, owner(module_name, name))
        _SEEN.setdefault(fn, made)
        _PUBLIC[id(made)] = (module_name, name, fn)
    return made


def public(fn, module_name, name):
    """What public ``module_name.name`` holds for function ``fn``: its builtin where PyTorch's is one."""
    return builtin(fn, module_name, name) if is_builtin(module_name, name) else fn


def function(obj):
    """The Python function behind one of these builtins; anything else as it is."""
    where = _PUBLIC.get(id(obj)) if type(obj) is types.BuiltinFunctionType else None
    return obj if where is None else where[2]


def seen(fn):
    """What a program sees for namespace function ``fn`` (a __torch_function__ wrapper or gate that a public name
    holds): the builtin over it where there is one. (Not for Tensor methods: Tensor.clone is torch.clone's
    function, but a method is handed to __torch_function__ as itself.)"""
    return _SEEN.get(fn, fn)


def seal(namespace, module_name):
    """Put the builtins in module ``module_name``'s namespace dict, at the end of its import."""
    for name, value in list(namespace.items()):
        if type(value) is types.FunctionType and not name.startswith('_') and \
                value.__module__.startswith('ember') and is_builtin(module_name, name):
            namespace[name] = builtin(value, module_name, name)


def share(namespace):
    """Make nn.functional's names that PyTorch's F shares with torch (F.conv2d is torch.conv2d) hold ember's
    torch.<name>: at F's import, and again where something replaces torch.<name> (__torch_function__'s wrappers,
    the shell dtypes' gates)."""
    import ember
    for name in F_BUILTINS['torch']:
        if name in namespace and name in vars(ember):
            namespace[name] = vars(ember)[name]


def _load(module_name, name):
    """Unpickle one of these builtins: the public object by that name now."""
    return getattr(importlib.import_module(module_name), name)


def _reduce(obj):
    """Pickle one of these builtins by its public name (CPython's own reduction names the function it wraps);
    other builtins as CPython does."""
    where = _PUBLIC.get(id(obj))
    return obj.__reduce__() if where is None else (_load, where[:2])


copyreg.pickle(types.BuiltinFunctionType, _reduce)
