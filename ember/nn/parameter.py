"""``Parameter``: a tensor that a Module registers as one of its learnable parameters, and ``Buffer``,
a tensor a Module registers as state (both share the array of the tensor they are made from)."""
import numpy as np

from .. import _dtype as _dtypes
from .._dtype import DEFAULT, FROM_NP, to_np
from ..tensor import Tensor, _init, user_state, INFERENCE_CELL
from .._torch_function import _disabled_torch_function_impl

__all__ = ['Parameter', 'Buffer', 'UninitializedParameter', 'UninitializedBuffer', 'is_lazy']


class Parameter(Tensor):
    """A leaf tensor that ``Module.__setattr__`` registers as a parameter; requires grad by default."""
    __torch_function__ = _disabled_torch_function_impl   # ops on it give plain tensors, as in PyTorch

    def __new__(cls, data=None, requires_grad=True):
        arr = np.empty(0, DEFAULT.np) if data is None else data._data
        if requires_grad and arr.dtype.kind not in 'fc':
            raise RuntimeError('Only Tensors of floating point and complex dtype can require gradients')
        self = object.__new__(cls)
        _init(self, arr, None)
        if data is not None and data.is_inference():   # an alias of an inference tensor is one (PyTorch's)
            self._vc = INFERENCE_CELL
        if requires_grad:
            self.requires_grad_()
        return self

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(Tensor._make(self._data.copy()), self._requires_grad)
        memo[id(self)] = result
        return result

    def __repr__(self):
        return 'Parameter containing:\n' + Tensor.__repr__(self)

    def __reduce_ex__(self, protocol):
        state = user_state(self)
        if not state:
            return (_rebuild_parameter, (self._data, self._requires_grad))
        return (_rebuild_parameter_with_state, (self._data, self._requires_grad, state))


def _rebuild_parameter(arr, requires_grad):
    return Parameter(Tensor._make(arr), requires_grad)


def _rebuild_parameter_with_state(arr, requires_grad, state):
    p = Parameter(Tensor._make(arr), requires_grad)
    p.__dict__.update(state)
    return p


class _BufferMeta(type):
    """``isinstance(t, Buffer)`` holds for tensors made by ``Buffer(...)`` (they are plain Tensors)."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.__dict__.get('_is_buffer', False)


class Buffer(metaclass=_BufferMeta):
    """Marks a tensor as a module buffer when assigned as an attribute (``persistent`` as register_buffer)."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = Tensor._make(np.empty(0, DEFAULT.np))
        t = data.detach().requires_grad_(data.requires_grad)
        t.persistent = persistent
        t._is_buffer = True
        return t


_UNINIT_SHAPE = ("Can't access the shape of an uninitialized parameter or buffer. This error usually happens in "
                 '`load_state_dict` when trying to load an uninitialized parameter into an initialized one. Call '
                 '`forward` to initialize the parameters before accessing their attributes.')
_UNINIT_USE = ('Attempted to use an uninitialized parameter in {what}. This error happens when you are using a '
               '`LazyModule` or explicitly manipulating `torch.nn.parameter.UninitializedParameter` objects. When '
               'using LazyModules Call `forward` with a dummy batch to initialize the parameters before calling torch '
               'functions')
_DATA_SLOT = Tensor._data   # the slot behind Tensor._data, which the uninitialized classes hide


class UninitializedTensorMixin:
    """A parameter or buffer whose shape is not known yet (a lazy module's, until its first forward): it has
    a dtype but no values; any op on it raises, and ``materialize(shape)`` turns it into ``cls_to_become``."""
    __torch_function__ = _disabled_torch_function_impl

    @property
    def _data(self):
        raise ValueError(_UNINIT_USE.format(what='an ember op'))

    @_data.setter
    def _data(self, arr):
        """Module._apply's ``param._data = converted._data``: only the dtype of an uninitialized one changes."""
        _DATA_SLOT.__set__(self, np.empty(0, arr.dtype))

    @property
    def data(self):
        """An empty tensor of this dtype, as PyTorch's ``.data`` of an uninitialized tensor: d2l's
        ``net.weight.data.normal_(0, 0.01)`` on a LazyLinear changes nothing, and the layer initializes itself at
        its first forward."""
        return _empty_of(self)

    @data.setter
    def data(self, value):
        Tensor.data.fset(self, value)

    def is_floating_point(self):
        return self.dtype.is_floating_point

    def is_complex(self):
        return False

    def _converted(self, dtype):
        """PyTorch's casts of an uninitialized tensor: a buffer stays an uninitialized buffer of the new dtype, a
        parameter gives an empty tensor of it (Module._apply then gives the parameter that dtype)."""
        if dtype is None:
            return self
        if not isinstance(self, Parameter):
            new = _uninit(type(self), self._requires_grad, dtype)
            new.__dict__.update(self.__dict__)
            return new
        return Tensor._make(np.empty(0, to_np(dtype)))

    def half(self):
        return self._converted(_dtypes.float16)

    def float(self):
        return self._converted(_dtypes.float32)

    def double(self):
        return self._converted(_dtypes.float64)

    def bfloat16(self):
        return self._converted(_dtypes.bfloat16)

    def to(self, *args, **kwargs):
        """A cast (dtype=, a dtype or a tensor among the arguments); devices other than the CPU are refused."""
        from ..tensor import _check_device
        dtype = kwargs.get('dtype')
        for a in list(args) + [kwargs.get('device')]:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, _dtypes.dtype):
                dtype = a
            elif a is not None and not isinstance(a, bool):
                _check_device(a)
        return self._converted(dtype)

    def cpu(self):
        return self

    @property
    def shape(self):
        raise RuntimeError(_UNINIT_SHAPE)

    @property
    def dtype(self):
        return FROM_NP[_DATA_SLOT.__get__(self).dtype]

    @property
    def device(self):
        """Its device, known before its shape (``next(lazy_model.parameters()).device`` works in PyTorch)."""
        return Tensor.device.fget(_empty_of(self))

    @property
    def is_meta(self):
        return Tensor.is_meta.fget(_empty_of(self))

    def size(self, dim=None):
        """The empty placeholder's size (``torch.Size([0])``): PyTorch lets ``size`` through, though not ``shape``."""
        return _empty_of(self).size() if dim is None else _empty_of(self).size(dim)

    @property
    def T(self):
        """PyTorch lets the tensor properties through to the empty 1-D placeholder: ``.T`` of it (with the
        deprecation warning for a non-2-D tensor) and ``.mT``/``.H``/``.mH``'s 1-D errors. A buffer's result is
        again an uninitialized buffer, as PyTorch's Tensor.__torch_function__ casts it back to the subclass."""
        out = _placeholder(self).T
        return out if isinstance(self, Parameter) else _uninit(type(self), False, self.dtype)

    @property
    def mT(self):
        return _placeholder(self).mT

    @property
    def H(self):
        return _placeholder(self).H

    @property
    def mH(self):
        return _placeholder(self).mH

    @property
    def ndim(self):
        """1, as PyTorch's (its placeholder storage is an empty 1-D tensor)."""
        return 1

    @property
    def nbytes(self):
        return 0

    def element_size(self):
        raise ValueError(_UNINIT_USE.format(what='Tensor.element_size'))

    def type(self, dtype=None, non_blocking=False, **kwargs):
        raise ValueError(_UNINIT_USE.format(what='Tensor.type'))

    def requires_grad_(self, requires_grad=True):
        raise ValueError(_UNINIT_USE.format(what='Tensor.requires_grad_'))

    def is_inference(self):
        raise ValueError(_UNINIT_USE.format(what='Tensor.is_inference'))

    def is_pinned(self, device=None):
        raise ValueError(_UNINIT_USE.format(what='Tensor.is_pinned'))

    def materialize(self, shape, device=None, dtype=None):
        """Give it ``shape`` (uninitialized values, in its dtype unless ``dtype``) and its final class."""
        nd = _DATA_SLOT.__get__(self).dtype if dtype is None else to_np(dtype)
        _DATA_SLOT.__set__(self, np.empty(tuple(shape), nd))
        self.__class__ = self.cls_to_become

    def share_memory_(self):
        raise RuntimeError("Can't share memory on an uninitialized parameter or buffer. Call `forward` to "
                           'initialize the parameters before calling `module.share_memory()`.')

    def detach(self):
        return self

    def __repr__(self):
        return f'<{type(self).__name__}>'

    def __deepcopy__(self, memo):
        return memo.setdefault(id(self), type(self)(self._requires_grad, dtype=self.dtype))

    def __reduce_ex__(self, protocol):
        return (type(self), (self._requires_grad,))


def _empty_of(self):
    """The empty tensor behind an uninitialized one (its dtype and device, no values)."""
    return Tensor._make(_DATA_SLOT.__get__(self))


def _placeholder(self):
    """The empty placeholder requiring grad as this one does (the input PyTorch's properties see)."""
    return _empty_of(self).requires_grad_(self._requires_grad)


def _uninit(cls, requires_grad, dtype):
    self = object.__new__(cls)
    _DATA_SLOT.__set__(self, np.empty(0, DEFAULT.np if dtype is None else to_np(dtype)))
    self._requires_grad, self._grad, self.grad_fn = bool(requires_grad), None, None
    return self


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A parameter of a lazy module before its first forward (materialized into a ``Parameter``)."""
    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        return _uninit(cls, requires_grad, dtype)

    def __init__(self, requires_grad=True, device=None, dtype=None):
        """All the work is done in ``__new__``."""


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer of a lazy module before its first forward (materialized into a plain tensor)."""
    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None, persistent=True):
        self = _uninit(cls, requires_grad, dtype)
        self.persistent = persistent
        return self

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        """All the work is done in ``__new__``."""


def is_lazy(param):
    """Whether ``param`` is an uninitialized (lazy) parameter or buffer."""
    return isinstance(param, UninitializedTensorMixin)
