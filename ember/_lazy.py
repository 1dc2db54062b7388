"""The names of the ember package that ``import ember`` leaves for later: the module holding one is imported at
the first access of any of its names (through the package's ``__getattr__``, as PyTorch loads some of its own
submodules), and the name is then bound in the package as the import would have bound it. ``dir(ember)`` lists
them, ``from ember import *`` takes them (``__all__``), and ``resolve_all`` binds them all before code that walks
the package's or Tensor's namespace (``_torch_function``'s installs) runs; Tensor methods among them are
descriptors until then. What a module here costs ``import ember`` otherwise: 0.1 to 0.6 ms each (CPU, -X
importtime medians)."""
import importlib

# module (under ember) -> the names of the package it provides: a name is that module's attribute, '' the module
# itself under its own name. Only modules whose names no import-time pass rewraps (_out's out= forms, complex
# guards, _shell's gates) and that set nothing up at import that other code relies on.
_MODULES = {
    '__config__': ('',), '__future__': ('',), 'futures': ('', 'Future'),
    'ops.distance': ('cdist',),
    'ops.windows': ('hann_window', 'hamming_window', 'blackman_window', 'bartlett_window', 'kaiser_window'),
    '_sparse_csr': ('', 'sparse_csr_tensor', 'sparse_csc_tensor'),
    '_stream': ('', 'Stream', 'Event'), '_device_module': ('', 'get_device_module'),
    '_lowrank': ('', 'svd_lowrank', 'pca_lowrank'), '_control_flow': ('', 'cond', 'while_loop'), '_higher_order_ops': ('',),
    '_sym': ('', 'SymInt', 'SymFloat', 'SymBool', 'sym_not', 'sym_float', 'sym_int', 'sym_max', 'sym_min',
             'sym_sum', 'sym_sqrt', 'sym_ite', 'sym_constrain_range', 'sym_constrain_range_for_size', 'sym_fresh_size'),
    '_legacy_norms': ('', 'norm_except_dim', 'frobenius_norm', 'nuclear_norm'),
    '_segment': ('', 'segment_reduce', '_convert_indices_from_coo_to_csr', '_convert_indices_from_csr_to_coo'),
    '_tensor_str': ('', 'set_printoptions'), 'fft._stft': ('stft', 'istft'), 'cuda': ('',),
    # torch._C, and its names PyTorch has at the top too (Lightning, open_clip, pytorch-forecasting, snntorch use them)
    '_C': ('', 'PyTorchFileReader', 'ScriptModule', 'TensorType', 'Type', 'DeviceObjType', 'StreamObjType', 'Value'),
    '_quantized': ('quantize_per_tensor', 'quantize_per_channel', 'quantize_per_tensor_dynamic', 'qscheme',
                   'per_tensor_affine', 'per_channel_affine', 'per_tensor_symmetric', 'per_channel_symmetric',
                   'per_channel_affine_float_qparams'),
    '_qmethods': ('int_repr', 'q_scale', 'q_zero_point', 'q_per_channel_scales', 'q_per_channel_zero_points',
                  'q_per_channel_axis', 'dequantize'),
    'ao.quantization._fake_quantize': ('fake_quantize_per_tensor_affine', 'fake_quantize_per_channel_affine'),
    '_foreach': ('',),   # and its _foreach_* names (PREFIXED)
    '_functorch': ('',),
    '_build_info': ('has_mkl', 'has_lapack', 'has_openmp', 'has_spectral', 'is_vulkan_available',
                    'compiled_with_cxx11_abi', 'init_num_threads', 'get_file_path', 'is_distributed', 'fork', 'wait',
                    'to_dlpack', 'cudnn_is_acceptable'),
    'export': ('',),
    '_native_ops': ('convolution', 'native_layer_norm', 'native_batch_norm', 'max_pool1d_with_indices',
                    'conj_physical_', 'as_strided_', 'resize_as_', 'native_group_norm', 'native_dropout',
                    'native_norm', 'batch_norm_stats', 'batch_norm_elemt', 'batch_norm_gather_stats',
                    'batch_norm_gather_stats_with_counts', 'batch_norm_backward_reduce', 'batch_norm_backward_elemt',
                    'batch_norm_update_stats', 'embedding_bag', 'ctc_loss', 'grid_sampler', 'grid_sampler_2d',
                    'grid_sampler_3d', 'affine_grid_generator', 'slice_inverse', 'embedding_renorm_'),
    '_errors': ('OutOfMemoryError', 'AcceleratorError'), '_tags': ('Tag',),
    '_sparse_mm': ('sspaddmm', 'saddmm', 'smm', 'hspmm'),
    '_householder': ('ormqr',), '_hash': ('hash_tensor',), '_lobpcg': ('lobpcg',),
    '_rnn_ops': ('lstm', 'gru', 'rnn_tanh', 'rnn_relu', 'lstm_cell', 'gru_cell', 'rnn_tanh_cell', 'rnn_relu_cell'),
    '_asserts': ('_check', '_check_with', '_check_index', '_check_value', '_check_type', '_check_not_implemented',
                 '_check_is_size', '_check_tensor_all', '_check_tensor_all_with'),
}
# modules holding every package name that starts with a prefix (the names their NAMES lists): prefix -> module
PREFIXED = {'_foreach_': '_foreach'}
# Tensor methods left for later, the same way (a descriptor on Tensor that replaces itself): name -> module, or
# module:attribute where the method is not the module's function of its name
METHODS = {'stft': 'fft._stft', 'istft': 'fft._stft', 'slice_inverse': '_native_ops:slice_inverse_method',
           'ormqr': '_householder:ormqr_method', 'hash_tensor': '_hash', 'smm': '_sparse_mm:smm_method',
           'sspaddmm': '_sparse_mm:sspaddmm_method'}
METHODS.update((n, '_qmethods') for n in ('int_repr', 'q_scale', 'q_zero_point', 'q_per_channel_scales',
                                           'q_per_channel_zero_points', 'q_per_channel_axis', 'qscheme', 'dequantize'))
# public name -> (module, attribute or None for the module)
NAMES = {(attr or module): (module, attr or None) for module, attrs in _MODULES.items() for attr in attrs}
NAMES['_segment_reduce'] = ('_segment', 'segment_reduce')   # (PyTorch Geometric's name for it)


def resolve(namespace, name):
    """Import lazy ``name``'s module, bind the name in ``namespace`` (the package's globals) as PyTorch's kind of
    object (a builtin where PyTorch's function is one, see ``_builtin.seal``) and return it."""
    from . import _builtin
    module, attr = NAMES[name]
    value = importlib.import_module(f'ember.{module}')
    if attr is not None:
        value = getattr(value, attr)
    bound = {name: value}
    _builtin.seal(bound, 'ember')
    namespace.setdefault(name, bound[name])   # (a program may have set it meanwhile: kept)
    return namespace[name]


def resolve_all(namespace):
    """Bind every lazy name not bound yet in ``namespace``, and every lazy Tensor method."""
    for name in NAMES:
        if name not in namespace:
            resolve(namespace, name)
    for name in _prefixed_names():
        namespace.setdefault(name, _prefixed(name))
    from .tensor import Tensor
    for name in METHODS:
        if isinstance(vars(Tensor).get(name), _Method):
            getattr(Tensor, name)


class _Method:
    """A Tensor method whose module loads at its first access, when it puts the function in its own place."""
    __slots__ = ('name',)

    def __init__(self, name):
        self.name = name

    def __get__(self, obj, cls=None):
        from .tensor import Tensor
        module, _, attr = METHODS[self.name].partition(':')
        fn = getattr(importlib.import_module(f'ember.{module}'), attr or self.name)
        if vars(Tensor).get(self.name) is self:
            setattr(Tensor, self.name, fn)
        return fn if obj is None else fn.__get__(obj, cls)


def install_methods(tensor_cls):
    """Put the lazy methods on Tensor."""
    for name in METHODS:
        setattr(tensor_cls, name, _Method(name))


def _prefixed(name):
    """Lazy name ``name`` of a PREFIXED module, or None when that module has no such name."""
    for prefix, module in PREFIXED.items():
        if name.startswith(prefix):
            mod = importlib.import_module(f'ember.{module}')
            return getattr(mod, name) if name in mod.NAMES else None
    return None


def _prefixed_names():
    """The names of the PREFIXED modules (importing them: only ``dir`` and ``resolve_all`` ask)."""
    return [n for module in PREFIXED.values() for n in importlib.import_module(f'ember.{module}').NAMES]


def module_getattr(namespace, fallback):
    """The package's ``__getattr__``: a lazy name resolves, ``__all__`` lists the public names (those bound and
    the lazy ones, as a star import took them before these were lazy); anything else goes to ``fallback``."""
    def getattr_(name):
        if name in NAMES:
            return resolve(namespace, name)
        value = _prefixed(name) if name.startswith(tuple(PREFIXED)) else None
        if value is not None:
            return namespace.setdefault(name, value)
        if name == '__all__':
            return sorted({n for n in namespace if not n.startswith('_')} | {n for n in NAMES if not n.startswith('_')})
        return fallback(name)
    return getattr_


def names():
    """Every name left for later (the PREFIXED ones listed by importing their modules)."""
    return set(NAMES) | set(_prefixed_names())


def module_dir(fallback):
    """The package's ``__dir__``: ``fallback``'s names and the lazy ones."""
    def dir_():
        return sorted(set(fallback()) | names())
    return dir_
