"""``Tensor``: an n-dimensional array (NumPy, reached through ``xp``) that can record the ops applied to
it so that ``backward()`` computes gradients. Op methods are attached from ``ember.ops``."""
import builtins
import collections.abc
import copyreg
import operator
import warnings

import numpy as np

from . import _bf16, _complex, _dtype, _layout, _meta, _shell
from ._torch_names import TensorMeta as _TensorMeta, TorchNamedType as _TorchNamedType
from ._dtype import FROM_NP, DEFAULT
from ._warn import warn_user
from .autograd import graph as _graph, engine as _engine
from .autograd import _TRANSFORMS, backward as _backward
from .autograd.graph import BUMPS as _BUMPS, _version_cell
from .autograd import grad_mode as _grad_mode
from .autograd.grad_mode import GRAD as _GRAD


class Size(tuple, metaclass=_TorchNamedType):
    """A tensor's shape: a tuple of ints that prints as ``torch.Size([2, 3])``. Elements are converted with
    ``__index__`` (NumPy ints, 0-d integer tensors); ember's own shapes skip the check (``tuple.__new__``)."""
    __slots__ = ()

    def __new__(cls, sizes=()):
        t = tuple(sizes)
        if not all(type(n) is int for n in t):
            t = tuple(_size_item(n, i) for i, n in enumerate(t))
        return tuple.__new__(cls, t)

    def __repr__(self):
        return 'torch.Size([' + ', '.join(map(str, self)) + '])'

    __str__ = __repr__

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, i):
        r = tuple.__getitem__(self, i)
        return Size(r) if isinstance(i, slice) else r

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def __mul__(self, n):
        return Size(tuple.__mul__(self, n))

    __rmul__ = __mul__

    def __reduce__(self):
        return (Size, (tuple(self),))


def _size_item(n, i):
    try:
        return operator.index(n)
    except TypeError:
        raise TypeError(f"torch.Size() takes an iterable of 'int' (item {i} is '{type(n).__name__}')") from None


# the device types PyTorch names (c10's DeviceType strings); ember computes on 'cpu' and shapes on 'meta'
DEVICE_TYPES = ('cpu', 'cuda', 'ipu', 'xpu', 'mkldnn', 'opengl', 'opencl', 'ideep', 'hip', 've', 'fpga', 'maia', 'xla',
                'lazy', 'vulkan', 'mps', 'meta', 'hpu', 'mtia', 'privateuseone')
# what a CPU-only PyTorch says when a tensor is asked for on one of these (others: 'not linked with support')
_NOT_COMPILED = {'cuda': 'Torch not compiled with CUDA enabled', 'xpu': 'Torch not compiled with XPU enabled'}


class device(metaclass=_TorchNamedType):
    """A device; ember computes on the CPU (``device('cpu')``)."""
    __slots__ = ('type', 'index')

    def __init__(self, type='cpu', index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        if isinstance(type, int) and not isinstance(type, bool):   # an accelerator's index: ember has none
            raise RuntimeError('Cannot access accelerator device when none is available.')
        if not isinstance(type, str):
            raise TypeError(f'device() takes a device string, a device or an int, not {builtins.type(type).__name__}')
        if ':' in type:
            type, idx = type.split(':', 1)
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}:{idx}'")
            index = int(idx)
        if index is not None and (not isinstance(index, int) or isinstance(index, bool)):
            raise TypeError(f"device(): argument 'index' (position 2) must be int, not {builtins.type(index).__name__}")
        if index is not None and index < 0:
            raise RuntimeError('Device index must not be negative')
        if type not in DEVICE_TYPES:
            raise RuntimeError(f'Expected one of {", ".join(DEVICE_TYPES)} device type at start of device string: '
                               f'{type}')
        self.type, self.index = type, index

    def __repr__(self):
        return f"device(type='{self.type}')" if self.index is None else \
            f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f'{self.type}:{self.index}'

    def __eq__(self, other):
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __enter__(self):
        """``with torch.device('meta'):`` factories given no device make tensors on this one (see _meta)."""
        _check_device(self)
        _meta.DEFAULT.stack += (self,)
        _meta.DEFAULTS_USED[0] = True
        return self

    def __exit__(self, *exc):
        _meta.DEFAULT.stack = _meta.DEFAULT.stack[:-1]
        return False


CPU = device('cpu')
META = device('meta')


def _check_device(d):
    """Refuse a device ember does not have; True for the meta device (``d`` None: the default device's)."""
    if d is None:
        return _meta.DEFAULTS_USED[0] and _meta.is_meta_device(None)
    dev = d if isinstance(d, device) else device(d) if isinstance(d, (str, int)) else None
    if dev is not None and dev.type == 'meta':
        return True
    if dev is not None and dev.type != 'cpu':
        raise DeviceUnavailableError(_NOT_COMPILED.get(dev.type,
                                                       f'PyTorch is not linked with support for {dev.type} devices'))
    return False


def _check_cuda_target(d):
    """Refuse ``.cuda(d)`` as a CPU-only PyTorch does: a non-CUDA device is invalid, an index finds no
    accelerator, CUDA itself is not compiled in."""
    if d is None:
        _check_device('cuda')
    if isinstance(d, int) and not isinstance(d, bool):
        raise RuntimeError('Cannot access accelerator device when none is available.')
    if not isinstance(d, (str, device)):
        raise TypeError(f"cuda(): argument 'device' (position 1) must be torch.device, not {type(d).__name__}")
    d = device(d)
    if d.type != 'cuda':
        raise RuntimeError('Invalid device, must be cuda device')
    _check_device(d)


_BF16_NP = _bf16.NP
# the NumPy dtypes a tensor's array keeps as a plain ndarray (not bf16's, not complex: see _bf16.adopt)
# (nor the shell dtypes': their first array goes through adopt_output, which arms ember._shell's refusals)
_PLAIN_DTYPES = frozenset(d.np for d in _dtype.ALL if d.np.isnative and not d.is_complex and d not in _dtype.SHELL)


_MetaArray = _meta.MetaArray
_META_NUMPY = ("can't convert meta device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory "
               'first.')
_META_ITEM = 'Tensor.item() cannot be called on meta tensors'


class DeviceUnavailableError(AssertionError, RuntimeError):
    """A device other than the CPU was asked for: an AssertionError as in a CPU-only PyTorch build, and a
    RuntimeError for code that catches those."""


class _InstanceDict:
    """Gives tensors their instance dict, which holds a program's attributes and ember's rarely set autograd state;
    Tensor's ``__dict__`` property shows the former only (see ``_AttributeView``)."""
    __slots__ = ('__dict__',)


own_dict = _InstanceDict.__dict__['__dict__'].__get__     # a tensor's whole instance dict, autograd state included
set_own_dict = _InstanceDict.__dict__['__dict__'].__set__


class Tensor(_InstanceDict, metaclass=_TensorMeta):
    """A multi-dimensional array with autograd. Create one with ``ember.tensor(data)``."""
    # _lay: _data itself while it is known C-contiguous, else None; _shp: its shape then (ops.pointwise._layout_pair)
    __slots__ = ('_data', '_requires_grad', '_grad', 'grad_fn', '_lay', '_shp', '__weakref__')
    # Rarely set state lives in the instance dict, defaulting to these (keeps tensor creation cheap).
    _output_nr = 0          # which output of grad_fn this tensor is
    _base = None            # the tensor whose memory (and version counter) this view shares
    _vc = None              # version counter cell [n], created when first needed
    _accum = None           # AccumulateGrad node of a leaf that requires grad
    _accum_edge = None      # (its AccumulateGrad, 0): the edge that ops record to this leaf
    _retains_grad = False
    _backward_hooks = None
    _views = None           # weak references to this base's views (ops._views)
    _vkind = None           # why this view refuses in-place changes (ops._views)

    @property
    def __dict__(self):
        """The attributes a program set, as PyTorch's ``Tensor.__dict__``: MONAI's MetaTensor copies one tensor's
        ``__dict__`` into another's, which must not carry ember's autograd state (a view's base, a leaf's
        AccumulateGrad) along."""
        d = own_dict(self)
        if d and not _AUTOGRAD_STATE.isdisjoint(d):
            return _AttributeView(d)
        return d

    @__dict__.setter
    def __dict__(self, value):
        d = own_dict(self)
        kept = {k: d[k] for k in _AUTOGRAD_STATE.intersection(d)}
        d.clear()
        d.update(value)
        d.update(kept)

    def __new__(cls, *args, device=None):
        """Legacy constructor: ``Tensor([1, 2])`` copies data as float32, ``Tensor(2, 3)`` is uninitialised (zeros),
        ``Tensor(t)`` shares ``t``'s data whatever its dtype. Done here (Tensor has object's ``__init__``, as in
        PyTorch), so that a subclass's ``super().__new__(cls, data)`` makes its data whatever its ``__init__`` takes."""
        if device is not None and _check_device(device):
            raise RuntimeError('legacy constructor expects device type: cpu but device type: meta was passed')
        if len(args) == 1 and isinstance(args[0], Tensor):
            arr = args[0]._data
        else:
            arr = _legacy_array(args, DEFAULT.np)
        self = object.__new__(cls)
        _init(self, arr, None)
        if cls is not Tensor:
            from ._torch_function import instance_made
            instance_made(cls)
        return self

    def __init_subclass__(cls, **kwargs):
        """A subclass that dispatches (its ``__torch_function__`` is not the disabled one) gets the dispatching
        stand-ins of the Tensor methods it inherits (see ``ember._torch_function``)."""
        super().__init_subclass__(**kwargs)
        from ._torch_function import subclass_defined
        subclass_defined(cls)

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        """PyTorch's default: run ``func`` with subclass dispatch off and return its tensors as ``cls``."""
        from ._torch_function import default_torch_function
        return default_torch_function(cls, func, types, args, kwargs)

    def as_subclass(self, cls):
        """This tensor as an instance of ``cls`` (a Tensor subclass): same memory, and in the autograd graph
        through an AliasBackward0 node when it requires grad."""
        if not (isinstance(cls, type) and issubclass(cls, Tensor)):
            raise TypeError('Creating a Tensor subclass from a class that does not inherit from Tensor is not '
                            'possible. Make sure your class inherits from Tensor.')
        from .ops.shape import alias
        return retype(alias(self), cls)

    @staticmethod
    def _make_subclass(cls, data, require_grad=False, dispatch_sizes_strides_policy=None, dispatch_device=False,
                       dispatch_layout=False, _extra_dispatch_keys=None, storage_size=None):
        """A ``cls`` leaf sharing ``data``'s memory and version counter (``data.detach()``), requiring grad as
        asked (``nn.Parameter``'s constructor in PyTorch)."""
        if not (isinstance(cls, type) and issubclass(cls, Tensor)):
            raise TypeError(f"cls must be a type (got {type(cls).__name__})")
        t = retype(data.detach(), cls)
        t.requires_grad_(require_grad)
        return t

    @staticmethod
    def _make_wrapper_subclass(cls, *args, **kwargs):
        """PyTorch's constructor of wrapper subclasses, whose ops reach ``__torch_dispatch__`` as aten overloads
        (PyG's EdgeIndex/Index/HashTensor, torchao's quantized tensors): ember dispatches at the torch level
        only (``__torch_function__``), so it refuses by name rather than build a tensor its ops would misread."""
        name = getattr(cls, '__qualname__', cls)
        raise NotImplementedError(f'torch.Tensor._make_wrapper_subclass (a wrapper tensor subclass dispatched by '
                                  f'__torch_dispatch__, here {name}) is not supported by ember yet; use plain '
                                  f'tensors (PyG: a plain edge_index tensor in place of EdgeIndex/Index)')

    @staticmethod
    def _make(arr, grad_fn=None):
        """Wrap an ndarray (no copy); with a ``grad_fn`` the result is a non-leaf that requires grad. (While a
        thread is in inference mode, ``_make_marking`` stands here: see _inference_creation.)"""
        t = object.__new__(Tensor)
        # a bf16 array made by astype is not yet a rounded BF16Array, a complex one not yet a ComplexArray: one
        # set lookup of the dtype (~4 ns over the identity test it replaced) finds both
        t._data = arr if type(arr) is np.ndarray and arr.dtype in _PLAIN_DTYPES else adopt_output(arr, grad_fn)
        t._requires_grad = grad_fn is not None
        t._grad = None
        t.grad_fn = grad_fn
        t._lay = None
        return t

    def is_inference(self):
        """Whether this tensor was made in inference mode (a view: whether its base was)."""
        b = self._base if self._base is not None else self
        return type(b._vc) is _InferenceCell

    # -- metadata -------------------------------------------------------------------------------------
    @property
    def shape(self):
        return tuple.__new__(Size, self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return tuple.__new__(Size, self._data.shape)
        if type(dim) is not int and (type(dim) is bool or not isinstance(dim, (int, np.integer))):
            from .ops._util import short_type_name
            raise TypeError(f"size(): argument 'dim' (position 1) must be int, not {short_type_name(dim)}")
        return self._data.shape[_wrap_dim(dim, self._data.ndim, 'size', scalar=False)]

    @property
    def dtype(self):
        return FROM_NP[self._data.dtype]

    @property
    def device(self):
        return META if type(self._data) is _MetaArray else CPU

    @property
    def is_cuda(self):
        return False

    @property
    def is_meta(self):
        return type(self._data) is _MetaArray

    @property
    def is_cpu(self):
        return type(self._data) is not _MetaArray

    is_sparse = False
    is_quantized = False
    # other devices and layouts PyTorch can ask about: never true of an ember tensor
    is_xpu = is_mps = is_ipu = is_maia = is_mtia = is_xla = is_vulkan = is_mkldnn = False
    is_nested = is_sparse_csr = False
    layout = _layout.strided

    def dim(self):
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self):
        return self._data.ndim

    def numel(self):
        return self._data.size

    nelement = numel

    def element_size(self):
        return self.dtype.itemsize

    @property
    def itemsize(self):
        return self.dtype.itemsize

    @property
    def nbytes(self):
        return self._data.size * self.dtype.itemsize

    def stride(self, dim=None):
        st = tuple(s // self._data.itemsize for s in self._data.strides)   # in elements, whatever the storage
        if (not self._data.size or type(self._data) is _MetaArray) and st and not any(st):
            # a NumPy op's empty result: no strides; a meta tensor: those of a contiguous one
            st = _contiguous_strides(self._data.shape)
        elif 0 in st:
            st = _unsqueezed_strides(self._data.shape, st)
        return st if dim is None else st[_wrap_dim(dim, self._data.ndim, 'stride', scalar=False)]

    def is_contiguous(self, memory_format=None):
        if type(self._data) is _MetaArray:
            return memory_format in (None, _layout.contiguous_format)
        if memory_format is None:
            return self._data.flags.c_contiguous
        return _layout.is_contiguous(self._data, memory_format)

    def is_floating_point(self):
        return self._data.dtype.kind == 'f'

    def is_complex(self):
        return self._data.dtype.kind == 'c'

    def is_conj(self):
        return False

    def is_neg(self):
        return False

    def is_same_size(self, other):
        try:
            return self._data.shape == other._data.shape
        except (AttributeError, TypeError):
            from .ops._util import check_tensor_args
            check_tensor_args('is_same_size', 'self:input', 'other')
            raise

    def bfloat16(self, memory_format=None):
        return self.to(_dtype.bfloat16, memory_format=memory_format)

    def is_signed(self):
        return self.dtype.is_signed

    def data_ptr(self):
        """The address of the first element: for bfloat16, into a copy of its memory as PyTorch's 2-byte
        patterns (``_bf16.shadow_ptr``), as ember keeps bfloat16 widened."""
        if type(self._data) is _MetaArray:
            return 0
        if type(self._data) is _bf16.BF16Array:
            ptr = _bf16.shadow_ptr(self._data)
            if ptr is not None:
                return ptr
        return self._data.__array_interface__['data'][0]

    def untyped_storage(self):
        """The memory this tensor shares with its base, as bytes (see ember.storage)."""
        from .storage import untyped_storage
        return untyped_storage(self)

    def storage(self):
        """The memory this tensor shares with its base, as elements (PyTorch's deprecated TypedStorage)."""
        from .storage import storage
        return storage(self)

    def storage_type(self):
        """The legacy storage class of this tensor's dtype (``torch.FloatStorage`` for float32)."""
        from .storage import storage_type
        return storage_type(self)

    def to_sparse_coo(self):
        """``to_sparse()``: this tensor in the sparse COO layout."""
        return self.to_sparse()

    def _need_coo(self, name):
        """PyTorch's refusal of a sparse COO accessor on a strided tensor (SparseTensor overrides each)."""
        raise RuntimeError(f'{name} expected sparse coordinate tensor layout but got Strided')

    def indices(self):
        self._need_coo('indices')

    def coalesce(self):
        self._need_coo('coalesce')

    def is_coalesced(self):
        self._need_coo('is_coalesced')

    def values(self):
        raise RuntimeError('values expected sparse tensor layout but got Strided')

    def _need_compressed(self, name, wants):
        """PyTorch's refusal of a compressed-layout accessor on a strided or sparse COO tensor (the CSR/CSC
        tensors override each)."""
        raise RuntimeError(f'{name} expected sparse {wants} compressed tensor layout but got '
                           f'{"Sparse" if self.is_sparse else "Strided"}')

    def crow_indices(self):
        self._need_compressed('crow_indices', 'row')

    def col_indices(self):
        self._need_compressed('col_indices', 'row')

    def ccol_indices(self):
        self._need_compressed('ccol_indices', 'column')

    def row_indices(self):
        self._need_compressed('row_indices', 'column')

    def get_device(self):
        return -1

    @property
    def _version(self):
        b = self._base if self._base is not None else self
        if type(b._vc) is _InferenceCell:
            raise RuntimeError('Inference tensors do not track version counter.')
        return 0 if b._vc is None else b._vc[0]

    @property
    def _cdata(self):
        """PyTorch's address of the tensor's C++ object, an int naming the tensor: each ember tensor is its own
        object, so its id (pyro.module compares a param's ``_cdata`` with the stored one's)."""
        return id(self)

    def _is_view(self):
        """Whether this tensor is a view of another (``_base``), as PyTorch's ``Tensor._is_view``."""
        return self._base is not None

    def _bump(self):
        """Record an in-place change (views share the counter with their base)."""
        cell = _version_cell(self)
        cell[0] += 1
        _BUMPS[0] += 1
        base = self if self._base is None else self._base
        views = base._views
        if views is not None:
            if views.multi:
                _stale_multi(base)
            if not _GRAD.enabled and base._requires_grad:   # (an untracked change: PyTorch's views regenerate
                _regenerate(base)                            # their grad_fn on reading it, AsStridedBackward0)
        if _bf16.LINKED:    # a dtype view across bfloat16 is a copy kept in step with its source (_bf16.link)
            _bf16.sync(cell, self._data)

    # -- autograd attributes ----------------------------------------------------------------------------
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad=True):
        """Set whether autograd records ops on this leaf (in place; returns self)."""
        if self.grad_fn is not None:
            if requires_grad:
                return self
            raise RuntimeError('you can only change requires_grad flags of leaf variables. If you want to use '
                               'a computed variable in a subgraph that doesn\'t require differentiation use '
                               'var_no_grad = var.detach().')
        if requires_grad and not _GRAD.inference and self.is_inference():
            raise RuntimeError('Setting requires_grad=True on inference tensor outside InferenceMode is not allowed.')
        if requires_grad and self._data.dtype.kind != 'f':
            if self._data.dtype.kind == 'c':
                _complex.check_leaf_grad()
            else:
                raise RuntimeError('only Tensors of floating point dtype can require gradients')
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self):
        fn = self.grad_fn
        if fn.__class__ is _graph.StaleView:   # (PyTorch reads grad_fn: a stale view's refusal)
            raise RuntimeError(fn.message)
        return fn is None

    @property
    def grad(self):
        if self.grad_fn is not None and not self._retains_grad and self._grad is None:
            warnings.warn(
                'The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad '
                'attribute won\'t be populated during autograd.backward(). If you indeed want the .grad field '
                'to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you access '
                'the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. See '
                'github.com/pytorch/pytorch/pull/30531 for more information. (Triggered internally at '
                '/__w/pytorch/pytorch/build/aten/src/ATen/core/TensorBody.h:493.)', UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, g):
        if g is not None:
            if not isinstance(g, Tensor):
                raise TypeError(f'assigned grad expected to be a Tensor or None but got grad of type '
                                f'{type(g).__name__}')
            if g.shape != self._data.shape:    # g.shape, g.dtype: no dense array made of a sparse g
                raise RuntimeError(f"attempting to assign a gradient of size '{list(g.shape)}' to a tensor of "
                                   f"size '{list(self._data.shape)}'. Please ensure that the gradient and the "
                                   'tensor are the same size')
            if g.dtype != self.dtype:
                raise RuntimeError(f"attempting to assign a gradient with dtype '{_dtype.cpp_name(g.dtype)}' to a "
                                   f"tensor with grad_dtype '{_dtype.scalar_name(self.dtype)}'. The gradient must "
                                   "match the tensor's grad_dtype (defaults to the tensor's dtype). You can set the "
                                   "tensor's grad_dtype attribute with a specific dtype, or None to allow any dtype. "
                                   'Set grad_dtype with caution. Diverging the dtypes of a tensor and its gradient '
                                   'may break downstream systems that assume they match.')
        self._grad = g

    @grad.deleter
    def grad(self):
        """``del t.grad`` sets it to None, as in PyTorch (pytorch_optimizer's StochasticAccumulator)."""
        self._grad = None

    @property
    def retains_grad(self):
        return self._retains_grad

    @property
    def output_nr(self):
        return self._output_nr

    @property
    def data(self):
        """This tensor's values as a new leaf that shares memory, unseen by autograd (own version counter)."""
        return Tensor._make(self._data)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f'Variable data has to be a tensor, but got {type(value).__name__}')
        self._data = value._data
        self._lay = None    # the array it named is no longer held (see ops.pointwise._layout_pair)

    @data.deleter
    def data(self):
        raise RuntimeError('Deleting tensor data is not allowed. Delete tensor instead!')

    def detach(self):
        """A new leaf without grad sharing memory and version counter with this one (not a view for autograd:
        in-place changes to it do not rewrite this tensor's history)."""
        t = Tensor._make(self._data)
        t._vc = _version_cell(self)
        return t

    def detach_(self):
        if self._base is not None and self.grad_fn is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn = None
        self._requires_grad = False
        return self

    def retain_grad(self):
        """Keep this non-leaf's gradient in ``.grad`` after backward."""
        if self.grad_fn.__class__ is _graph.StaleView:   # (PyTorch reads grad_fn: a stale view's refusal)
            raise RuntimeError(self.grad_fn.message)
        if self.grad_fn is None:
            if not self._requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if self._retains_grad:
            return
        self._retains_grad = True

        import weakref
        ref = weakref.ref(self)

        def hook(g):
            t = ref()
            if t is not None:
                from .autograd.graph import MODE
                if t._grad is None:
                    t._grad = g if MODE.graph else g.detach().clone()
                else:
                    t._grad = t._grad + g
        hook._retains_grad = True   # run after the tensor's other hooks (engine._hook_stage)
        self._retain = (hook, self.grad_fn._tensor_prehook(self._output_nr, hook))

    def _move_retain(self, old):
        """retain_grad's hook follows this tensor's history when an in-place change replaced it (``old``
        was its grad_fn), as in PyTorch: ``.grad`` is the gradient of the new values."""
        hook, handle = self._retain
        handle.remove()
        hook._retains_grad = True   # run after the tensor's other hooks (engine._hook_stage)
        self._retain = (hook, self.grad_fn._tensor_prehook(self._output_nr, hook))

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces it."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn._tensor_prehook(self._output_nr, hook)
        from .autograd.graph import _edge, _Handle
        acc = _edge(self)[0]
        if acc is None:   # a view made under no_grad: no gradient ever reaches it, nor its hooks
            return _Handle([hook], hook)
        return acc._tensor_prehook(0, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` on this leaf each time backward has accumulated into its ``.grad`` (for
        example to step an optimizer per parameter during backward)."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError('post accumulate grad hooks cannot be registered on non-leaf tensors')
        from .autograd.graph import _edge, _Handle
        acc = _edge(self)[0]
        return _Handle([hook], hook) if acc is None else acc.register_post_hook(hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Compute the gradient of this tensor w.r.t. graph leaves, accumulating into their ``.grad``."""
        if gradient is None and inputs is None and not create_graph and not _TRANSFORMS[0]:   # (inside a torch.func
            _engine.backward_scalar(self, retain_graph)                                        # transform: it refuses)
        else:
            _backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    # -- conversions ------------------------------------------------------------------------------------
    def numpy(self, *, force=False):
        """The NumPy array behind this tensor (shared memory)."""
        if self._requires_grad and not force and _GRAD.enabled:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                               "instead.")
        if type(self._data) is _bf16.BF16Array:
            raise TypeError('Got unsupported ScalarType BFloat16')
        if type(self._data) is _MetaArray:
            raise TypeError(_META_NUMPY)
        if type(self._data) is _complex.ComplexArray:   # the user's array is a plain one (same memory)
            return self._data.view(np.ndarray)
        return self._data

    def __dlpack__(self, *, stream=-1, max_version=None, dl_device=None, copy=None):
        """Export as DLPack (``np.from_dlpack(t)``, ``torch.from_dlpack(t)``), sharing memory."""
        if self.requires_grad:
            raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
        return self._data.__dlpack__(max_version=max_version, dl_device=dl_device, copy=copy)

    def __dlpack_device__(self):
        from .utils.dlpack import DLDeviceType
        return DLDeviceType.kDLCPU, 0

    # as PyTorch's: NumPy scalars and arrays defer to the tensor's reflected operators (np.float32(2) * t is a
    # tensor, as PyTorch gives, not an ndarray)
    __array_priority__ = 1000

    def __array__(self, dtype=None, copy=None):
        if self._requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        if type(self._data) is _MetaArray:
            raise TypeError(_META_NUMPY)
        if dtype is not None:
            return self._data.astype(dtype, copy=False)
        return self._data

    def __array_wrap__(self, arr):
        """A NumPy ufunc's result on tensors as a tensor, by PyTorch's one-argument signature (so NumPy 2 warns
        about it as it does for PyTorch, and a 0-d result stays a tensor); a bool result is uint8 there."""
        if arr.dtype == bool:
            arr = arr.astype(np.uint8)
        return Tensor._make(np.asarray(arr))

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f'a Tensor with {self._data.size} elements cannot be converted to Scalar')
        if type(self._data) is _MetaArray:
            raise RuntimeError(_META_ITEM)
        return self._data.reshape(()).item()

    def tolist(self):
        if type(self._data) is _MetaArray:
            raise _meta.no_data()
        return self._data.tolist()

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError('len() of a 0-d tensor')
        return self._data.shape[0]

    def __contains__(self, element):
        """``element in t``: any entry equals it (a number, or a tensor compared elementwise)."""
        if not isinstance(element, (Tensor, int, float, complex)):
            raise RuntimeError(f'Tensor.__contains__ only supports Tensor or scalar, but you passed in a '
                               f'{type(element)}.')
        return bool((self == element).any())

    def __reversed__(self):
        """``reversed(t)``: ``t`` flipped along its first dim (a 0-d tensor as is)."""
        return self if self._data.ndim == 0 else self.flip(0)

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError('iteration over a 0-d tensor')
        return (self[i] for i in range(self._data.shape[0]))

    def __bool__(self):
        if self._data.size != 1:
            n = 'no values' if self._data.size == 0 else 'more than one value'
            raise RuntimeError(f'Boolean value of Tensor with {n} is ambiguous')
        if type(self._data) is _MetaArray:
            raise RuntimeError(_META_ITEM)
        return bool(self._data.reshape(()))

    def __int__(self):
        return int(self._real_scalar('int64_t'))

    def _warn_scalar(self):
        """PyTorch's once-a-process warning for float() or complex() of a tensor requiring grad, in grad mode
        only (LBFGS's float(loss) inside its no-grad step does not warn)."""
        if self._requires_grad and _GRAD.enabled:
            warn_user('Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n'
                      'Consider using tensor.detach() first.', once=True,
                      internally='torch/csrc/autograd/generated/python_variable_methods.cpp:822')

    def __float__(self):
        self._warn_scalar()
        return float(self._real_scalar('double'))

    def _real_scalar(self, ctype):
        """The element as a real Python number for int()/float(): of a complex tensor its real part, refused
        (PyTorch's checked conversion) when the imaginary part is not 0."""
        v = self._scalar()
        if isinstance(v, complex):
            if v.imag != 0:
                raise RuntimeError(f'value cannot be converted to type {ctype} without overflow')
            return v.real
        return v

    def _scalar(self):
        if self._data.size != 1:
            raise ValueError('only one element tensors can be converted to Python scalars')
        return self.item()

    def __complex__(self):
        self._warn_scalar()
        if self._data.size != 1:
            raise ValueError('only one element tensors can be converted to Python scalars')
        return complex(self.item())

    def __index__(self):
        if self._data.dtype.kind not in 'iub' or self._data.size != 1:
            raise TypeError('only integer tensors of a single element can be converted to an index')
        return int(self.item())

    def __hash__(self):
        return id(self)

    def __format__(self, spec):
        if self._data.ndim == 0:
            return format(self.item(), spec)
        return object.__format__(self, spec)

    def __repr__(self, *, tensor_contents=None):
        from ._tensor_str import tensor_repr
        return tensor_repr(self)

    def __reduce_ex__(self, protocol):
        if type(self) is not Tensor:
            return (_rebuild_subclass, (type(self), self._data, self._requires_grad, user_state(self)))
        return (_rebuild_tensor, (self._data, self._requires_grad))

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError('Only Tensors created explicitly by the user (graph leaves) support the '
                               'deepcopy protocol at the moment.  If you were attempting to deepcopy a '
                               'module, this may be because of a torch.nn.utils.weight_norm usage, see '
                               'https://github.com/pytorch/pytorch/pull/103001')
        if id(self) in memo:
            return memo[id(self)]
        if type(self) is not Tensor:
            _check_subclass_copy(self)
        new = object.__new__(type(self))
        _init(new, self._data.copy(), None)
        new._requires_grad = self._requires_grad
        if self._grad is not None:
            new._grad = self._grad.__deepcopy__(memo)
        import copy
        if type(self) is not Tensor:
            for name in _subclass_slots(type(self)):
                if hasattr(self, name):
                    setattr(new, name, copy.deepcopy(getattr(self, name), memo))
        new.__dict__.update(copy.deepcopy(user_state(self), memo))
        memo[id(self)] = new
        return new

    def type(self, dtype=None, non_blocking=False):
        """With no argument the type name (``'torch.FloatTensor'``); otherwise a cast (see ``to``)."""
        if dtype is None:
            return _dtype.tensor_type_name(self.dtype)
        if isinstance(dtype, _CudaLegacyMeta) or isinstance(dtype, str) and dtype.startswith('torch.cuda.'):
            _check_device('cuda')
        if dtype is Tensor or dtype == 'torch.Tensor':   # the default tensor type (FloatTensor unless changed)
            dtype = _dtype.get_default_dtype()
        elif isinstance(dtype, str):
            dtype = _legacy_by_string(dtype)
        elif isinstance(dtype, type) and issubclass(dtype, _LegacyTensorType):
            dtype = dtype.dtype
        elif not isinstance(dtype, _dtype.dtype):
            raise ValueError(f"invalid type: '{getattr(dtype, '__name__', dtype)}'")
        return self.to(dtype)

    def cpu(self, memory_format=None):
        if type(self._data) is _MetaArray:
            raise _meta.no_data()
        return self

    def cuda(self, device=None, non_blocking=False):
        _check_cuda_target(device)

    def pin_memory(self, device=None):
        """Page-locked memory serves copies to an accelerator; PyTorch's CPU build has none and raises."""
        raise RuntimeError('Cannot access accelerator device when none is available.')

    def share_memory_(self):
        """Move the values into shared memory (an anonymous memory file): processes forked afterwards
        (Hogwild training under 'fork') update the same values, and multiprocessing sends a shared tensor
        to a 'spawn' child or through a Queue by handle, so the child's updates reach the sender.
        Views taken before keep the old memory."""
        if self._base is not None:
            raise RuntimeError('share_memory_: ember moves whole tensors only; call it on the tensor this view '
                               'was taken from')
        from .multiprocessing import _shared
        _shared.register_reducers()
        if not self.is_shared():
            self._data = _shared.shared_copy(self._data)
        return self

    def is_pinned(self):
        return False

    def is_shared(self):
        """True after share_memory_ (the values live in a shared mapping)."""
        from .multiprocessing._shared import shared_map_of
        return shared_map_of(self._data) is not None


_AUTOGRAD_STATE = frozenset(('_accum', '_accum_edge', '_vc', '_base', '_output_nr', '_views', '_vkind', '_retain',
                             '_retains_grad', '_backward_hooks'))


class _AttributeView(collections.abc.MutableMapping):
    """A live view of a tensor's instance dict without ember's autograd state (what ``Tensor.__dict__`` gives
    while some of that state is set): reads, writes and deletions go to the instance dict."""
    __slots__ = ('_d',)

    def __init__(self, d):
        self._d = d

    def __getitem__(self, key):
        if key in _AUTOGRAD_STATE:
            raise KeyError(key)
        return self._d[key]

    def __setitem__(self, key, value):
        self._d[key] = value

    def __delitem__(self, key):
        if key in _AUTOGRAD_STATE:
            raise KeyError(key)
        del self._d[key]

    def __iter__(self):
        return (k for k in list(self._d) if k not in _AUTOGRAD_STATE)

    def __len__(self):
        return sum(1 for k in self._d if k not in _AUTOGRAD_STATE)

    def __repr__(self):
        return repr(dict(self))

    def copy(self):
        return dict(self)

    def __copy__(self):
        return dict(self)

    def __deepcopy__(self, memo):
        import copy
        return copy.deepcopy(dict(self), memo)


def user_state(t):
    """The attributes a copy or a pickle of ``t`` carries: all but its place in autograd's graph (a copy
    gets its own AccumulateGrad and version counter)."""
    return {k: v for k, v in t.__dict__.items() if k not in _AUTOGRAD_STATE}


def adopt_output(arr, grad_fn):
    """The array of an op's result that is not a plain real ndarray (bf16 rounded, complex as a ComplexArray);
    a complex result recorded by a node whose backward is not written for complex numbers is refused here, at
    forward time, rather than given a wrong gradient later (``_complex.check_grad``)."""
    if type(arr) is _MetaArray:   # an op's result on meta tensors: a placeholder again, no memory kept
        _meta.STATE.site = None
        return _meta.placeholder(arr.shape, arr.dtype)
    arr = _bf16.adopt(arr)
    if arr.dtype in _dtype.SHELL_NP:
        _shell.arm()
    if grad_fn is not None and arr.dtype.kind == 'c':
        _complex.check_grad(grad_fn)
    return arr


class _InferenceCell(list):
    """The version counter of inference tensors (one, shared: they keep no version). Its bump is an in-place
    change, refused outside inference mode after the write, as PyTorch refuses it (the values are changed)."""
    __slots__ = ()

    def __setitem__(self, i, v):
        if not _GRAD.inference:
            raise RuntimeError('Inplace update to inference tensor outside InferenceMode is not allowed.You can make '
                               'a clone to get a normal tensor before doing inplace update.See '
                               'https://github.com/pytorch/rfcs/pull/17 for more details.')
        list.__setitem__(self, i, v)


INFERENCE_CELL = _InferenceCell([0])
_make_plain = Tensor.__dict__['_make']


@staticmethod
def _make_marking(arr, grad_fn=None):
    """Tensor._make while some thread is in inference mode: this thread's new tensors are inference tensors."""
    t = _make_plain.__func__(arr, grad_fn)
    if _GRAD.inference:
        t._vc = INFERENCE_CELL
    return t


@staticmethod
def _make_meta(arr, grad_fn=None):
    """Tensor._make once a meta tensor exists: _make_marking's tensor, made meta when the op that made it computed
    on a meta tensor's array but handed back a plain one (see _meta.claim)."""
    return _meta.claim(_make_marking.__func__(arr, grad_fn))


def _inference_creation(on):
    """Make tensors through _make_marking while any thread is in inference mode (nothing to test otherwise), and
    through _make_meta once a meta tensor exists (it marks inference tensors too)."""
    Tensor._make = _make_meta if _META_ON else _make_marking if on else _make_plain


def _meta_creation():
    global _META_ON
    _META_ON = True
    _inference_creation(bool(_grad_mode.INFERENCE))


_META_ON = False
_grad_mode.ON_INFERENCE.append(_inference_creation)
_meta._ACTIVE.append(_meta_creation)


def _init(t, arr, grad_fn):
    t._data = arr if type(arr) is np.ndarray and arr.dtype in _PLAIN_DTYPES else adopt_output(arr, None)
    t._requires_grad = grad_fn is not None
    t._grad = None
    t.grad_fn = grad_fn
    t._lay = None


def _rebuild_tensor(arr, requires_grad):
    t = Tensor._make(_dtype.canonical(arr))
    t._requires_grad = requires_grad
    return t


def _subclass_slots(cls):
    """The ``__slots__`` a Tensor subclass adds (PyTorch's deepcopy copies them; Tensor's own are its data)."""
    return [n for n in copyreg._slotnames(cls) if n not in Tensor.__slots__]


def _check_subclass_copy(t):
    """PyTorch deep-copies an instance of a (dispatching) subclass only if its ``new_empty`` keeps the class."""
    from ._torch_function import dispatches
    if dispatches(type(t)) and type(t.new_empty(())) is not type(t):
        raise RuntimeError('The default implementation of __deepcopy__() for non-wrapper subclasses only works for '
                           'subclass types that implement new_empty() and for which that function returns another '
                           'instance of the same subclass. You should either properly implement new_empty() for '
                           'your subclass or override __deepcopy__() if it is intended behavior for new_empty() to '
                           'return an instance of a different type.')


def _rebuild_subclass(cls, arr, requires_grad, state):
    """A pickled Tensor subclass instance: its class, values, requires_grad and Python attributes."""
    t = retype(_rebuild_tensor(arr, requires_grad), cls)
    t.__dict__.update(state)
    return t


def retype(t, cls):
    """``t`` (a fresh tensor no one else holds) made an instance of ``cls``: its class swapped when the layouts
    agree, else its state moved into a new ``cls`` object (a subclass with ``__slots__`` of its own)."""
    if type(t) is cls:
        return t
    from ._torch_function import instance_made
    instance_made(cls)
    try:
        t.__class__ = cls
        return t
    except TypeError:
        out = object.__new__(cls)
        out._data, out._requires_grad, out._grad, out.grad_fn = t._data, t._requires_grad, t._grad, t.grad_fn
        own_dict(out).update(own_dict(t))
        return out


def _to_nested(x):
    if isinstance(x, Tensor):
        return x._data
    if isinstance(x, (list, tuple)):
        return [_to_nested(v) for v in x]
    return x


def _unsqueezed_strides(shape, st):
    """PyTorch's stride of a size-1 dim that NumPy inserted with stride 0 (``x[None]``, ``unsqueeze``): the next
    dim's extent (size times stride), 1 for the last dim, as PyTorch's unsqueeze gives."""
    st = list(st)
    for d in range(len(st) - 1, -1, -1):
        if shape[d] == 1 and not st[d]:
            st[d] = shape[d + 1] * st[d + 1] if d + 1 < len(st) else 1
    return tuple(st)


def _contiguous_strides(shape):
    """PyTorch's contiguous strides of ``shape`` (a size-0 dim counts as 1, so they are never all zero)."""
    st, acc = [], 1
    for n in reversed(shape):
        st.append(acc)
        acc *= max(n, 1)
    return tuple(reversed(st))


def _wrap_dim(dim, ndim, op='dim', scalar=True):
    if not ndim and not scalar:
        raise IndexError(f'Dimension specified as {dim} but tensor has no dimensions')
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f'Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})')
    return dim + n if dim < 0 else dim


def _legacy_array(args, np_dtype):
    """The array a legacy constructor (``torch.Tensor``, ``torch.FloatTensor``...) makes from its arguments: data
    (a sequence or array) copied, or sizes (ints or one ``Size``/tuple) zero-filled; PyTorch's errors otherwise."""
    if not args:
        return np.zeros(0, dtype=np_dtype)
    if len(args) == 1 and not isinstance(args[0], (int, np.integer, Size)):
        data = _legacy_sequence(args[0])
        from .ops.creation import _warn_not_writable, refuse_negative_strides, warn_list_of_arrays
        if isinstance(data, np.ndarray):
            refuse_negative_strides(data)
            _warn_not_writable(data)
        else:
            warn_list_of_arrays(data)
        return np.array(_to_nested(data), dtype=np_dtype)
    shape = tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
    for i, n in enumerate(shape):
        if not isinstance(n, (int, np.integer)):
            raise TypeError(f"new(): argument 'size' must be a tuple of ints, but found element of type "
                            f"{type(n).__name__} at pos {i}")
        if n < 0:
            raise RuntimeError(f'Trying to create tensor with negative dimension {n}: {list(shape)}')
    return np.zeros(tuple(int(n) for n in shape), dtype=np_dtype)


def _legacy_sequence(data):
    """``data`` for a legacy constructor as a list or tuple (an ndarray as it is): any Python sequence is taken,
    as PyTorch's PySequence_Check takes it (``range``, ``deque``, ``array.array``, a class with ``__getitem__``);
    str and bytes, and what is no sequence, raise PyTorch's TypeErrors."""
    if isinstance(data, (list, tuple, np.ndarray)):
        return data
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    if not hasattr(type(data), '__getitem__') or isinstance(data, (dict, np.generic)):
        kind = type(data)
        name = kind.__name__ if kind.__module__ == 'builtins' else f'{kind.__module__}.{kind.__name__}'
        raise TypeError(f'new(): data must be a sequence (got {name})')
    return list(data)


def _options(dt):
    """PyTorch's printed TensorOptions of a plain CPU tensor of ember dtype ``dt`` (for its constructor errors)."""
    return (f'TensorOptions(dtype={_dtype.cpp_name(dt)}, device=cpu, layout=Strided, requires_grad=false (default), '
            'pinned_memory=false (default), memory_format=(nullopt))')


class _LegacyMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj._data.dtype == cls.dtype.np

    def __repr__(cls):
        return f"<class 'torch.{cls.__name__}'>"


class _LegacyTensorType(metaclass=_LegacyMeta):
    """Legacy typed constructors (``torch.FloatTensor([1, 2])``) usable with ``tensor.type(...)``."""
    dtype = None

    def __new__(cls, *args, device=None):
        _check_device(device)
        if len(args) == 1 and isinstance(args[0], Tensor):
            if args[0].dtype is not cls.dtype:
                raise TypeError(f'expected {_options(cls.dtype)} (got {_options(args[0].dtype)})')
            return args[0].detach()
        if len(args) == 1 and not isinstance(args[0], (int, np.integer, Size, np.ndarray)):
            from .ops.creation import tensor as _tensor
            return _tensor(_to_nested(_legacy_sequence(args[0])), dtype=cls.dtype)
        return Tensor._make(_legacy_array(args, cls.dtype.np))


def _legacy(name, dt):
    return _LegacyMeta(name, (_LegacyTensorType,), {'dtype': dt})


_graph.Tensor = _engine.Tensor = Tensor
FloatTensor = _legacy('FloatTensor', _dtype.float32)
DoubleTensor = _legacy('DoubleTensor', _dtype.float64)
HalfTensor = _legacy('HalfTensor', _dtype.float16)
LongTensor = _legacy('LongTensor', _dtype.int64)
IntTensor = _legacy('IntTensor', _dtype.int32)
ShortTensor = _legacy('ShortTensor', _dtype.int16)
CharTensor = _legacy('CharTensor', _dtype.int8)
ByteTensor = _legacy('ByteTensor', _dtype.uint8)
BoolTensor = _legacy('BoolTensor', _dtype.bool_)
_LEGACY_BY_NAME = {c.__name__: c for c in (FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor,
                                           ShortTensor, CharTensor, ByteTensor, BoolTensor)}


def _legacy_by_string(name):
    """The dtype a legacy type string names ('torch.FloatTensor', 'torch.ComplexFloatTensor', ...), as
    Tensor.type takes it; PyTorch refuses any other string (a bare 'FloatTensor' too) with ValueError."""
    base = name[len('torch.cuda.'):] if name.startswith('torch.cuda.') else name[len('torch.'):]
    if not name.startswith('torch.') or base not in _DTYPE_BY_TYPE_NAME:
        raise ValueError(f"invalid type: '{name}'")
    return _DTYPE_BY_TYPE_NAME[base]


def _regenerate(base):
    """ops._views.regenerate (imported here on first need: ops import this module)."""
    from .ops._views import regenerate
    regenerate(base)


def _stale_multi(base):
    """ops._views.stale_multi (imported here on first need: ops import this module)."""
    from .ops._views import stale_multi
    stale_multi(base)


_DTYPE_BY_TYPE_NAME = {_dtype.tensor_type_name(d)[len('torch.'):]: d for d in _dtype.ALL}


class _CudaLegacyMeta(type):
    """``torch.cuda.FloatTensor`` and kin in a CPU-only build: the classes exist (``Tensor =
    torch.cuda.FloatTensor if cuda else torch.FloatTensor`` runs), no tensor is one, and making one fails."""
    def __instancecheck__(cls, obj):
        return False

    def __repr__(cls):
        return f"<class 'torch.cuda.{cls.__name__}'>"

    def __call__(cls, *args, **kwargs):
        raise TypeError(f'type torch.cuda.{cls.__name__} not available. Torch not compiled with CUDA enabled.')


CUDA_LEGACY = {c.__name__: _CudaLegacyMeta(c.__name__, (), {'dtype': c.dtype, '__module__': 'torch.cuda'})
               for c in _LEGACY_BY_NAME.values()}
