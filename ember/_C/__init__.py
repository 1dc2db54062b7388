"""``torch._C``: the names of PyTorch's C extension that Python programs reach for directly. torchdiffeq's
implicit Runge-Kutta solvers catch ``torch._C._LinAlgError`` (the class ``torch.linalg.LinAlgError`` is)."""

from .._torch_function import (DisableTorchFunction, DisableTorchFunctionSubclass,  # noqa: F401 (torch._C's)
                              _disabled_torch_function_impl, _is_torch_function_enabled,
                              _is_torch_function_all_disabled, modes_on as _is_torch_function_mode_enabled)


from .._file_reader import PyTorchFileReader  # noqa: F401,E402 (torch._C's)
from .._torch_names import TensorMeta as _TensorMeta  # noqa: F401,E402 (torch._C's: type(torch.Tensor))


class ScriptModule:
    """``torch.ScriptModule`` (``torch._C.ScriptModule``): the C++ module a TorchScript compilation makes, which
    ember never makes (``torch.jit.script`` runs eagerly), so nothing is one; Lightning tests isinstance on it."""

    def __init__(self, *args, **kwargs):
        raise TypeError('__init__(): incompatible constructor arguments. The following argument types are '
                        'supported:\n    1. torch._C.ScriptModule(arg0: str, arg1: torch::jit::CompilationUnit, '
                        'arg2: bool)\n\nInvoked with: ' + ', '.join([repr(a) for a in args] +
                                                                 [f'{k}={v!r}' for k, v in kwargs.items()]))


class Graph:
    """``torch._C.Graph``: a TorchScript graph, which ember never records (it has no tracer); the class is there for
    annotations (fvcore's ``-> torch._C.Graph`` at import), making one refuses."""

    def __init__(self, *args, **kwargs):
        from ..aliasing import unsupported
        raise NotImplementedError(unsupported('torch._C.Graph', 'ember has no TorchScript graphs'))


class Value:
    """``torch.Value`` (``torch._C.Value``): a value in a TorchScript graph, which ember never records; the class is
    there for imports (snntorch's functional/loss.py imports it), and making one refuses as PyTorch's does."""

    def __init__(self, *args):
        raise TypeError('torch._C.Value: No constructor defined!')


class Type:
    """``torch.Type`` (``torch._C.Type``): the base of TorchScript's type objects, made only by their ``get()``s."""
    __hash__ = None   # PyTorch's are unhashable

    def __init__(self, *args):
        raise TypeError(f'torch._C.{type(self).__name__}: No constructor defined!')

    def kind(self):
        return type(self).__name__

    def __eq__(self, other):
        return type(other) is type(self) and other._fields == self._fields

    def __repr__(self):
        return self.str()

    __str__ = __repr__


class TensorType(Type):
    """``torch.TensorType``: TorchScript's type of a tensor; open_clip's hf_model.py annotates ``forward``'s
    ``attention_mask`` with it. ``get()`` is the unrefined type; ``create_from_tensor`` records a tensor's dtype,
    sizes, strides, device and requires_grad, as PyTorch's does (both print as ``Tensor``)."""

    @classmethod
    def _make(cls, fields):
        t = object.__new__(cls)
        t._fields = fields
        return t

    @classmethod
    def get(cls):
        return cls._make({'requires_grad': True})

    @classmethod
    def getInferred(cls):
        return cls.get()

    @classmethod
    def create_from_tensor(cls, t):
        return cls._make({'dtype': t.dtype, 'dim': t.dim(), 'sizes': list(t.shape), 'strides': list(t.stride()),
                          'device': t.device, 'requires_grad': t.requires_grad})

    def str(self):
        return 'Tensor'

    @property
    def annotation_str(self):
        return 'Tensor'

    def dtype(self):
        return self._fields.get('dtype')

    def dim(self):
        return self._fields.get('dim')

    def sizes(self):
        return self._fields.get('sizes')

    def strides(self):
        return self._fields.get('strides')

    def device(self):
        return self._fields.get('device')

    def requires_grad(self):
        return self._fields['requires_grad']


class _SingletonType(Type):
    """A TorchScript type with no fields, made by ``get()`` and printed by its ``_NAME``."""
    _NAME = ''

    @classmethod
    def get(cls):
        t = object.__new__(cls)
        t._fields = {}
        return t

    def str(self):
        return self._NAME

    @property
    def annotation_str(self):
        return self._NAME


class DeviceObjType(_SingletonType):
    """``torch.DeviceObjType``: TorchScript's type of a device; pytorch-forecasting's utils/_utils.py annotates
    ``move_to_device(x, device: str | torch.DeviceObjType)`` at import."""
    _NAME = 'Device'


class StreamObjType(_SingletonType):
    """``torch.StreamObjType``: TorchScript's type of a stream, DeviceObjType's sibling."""
    _NAME = 'Stream'


def _log_api_usage_once(event):
    """Record one use of an API for PyTorch's usage logging, off unless a logger is set: ember has none, and
    PyTorch returns None (Lightning logs its Trainer and LightningModule through it)."""
    if not isinstance(event, str):
        raise TypeError('bad argument type for built-in operation')


def _has_torch_function(args):
    from ..overrides import has_torch_function
    return has_torch_function(args)


def _has_torch_function_unary(arg):
    return _has_torch_function((arg,))


def _has_torch_function_variadic(*args):
    return _has_torch_function(args)


def _get_tracing_state():
    """The active ``torch.jit.trace`` state, None outside one: ember never traces (torchvision's ``_is_tracing``
    and DETR's ``nested_tensor_from_tensor_list`` ask)."""
    return None


def _is_tracing():
    """Whether ``torch.jit.trace`` is recording: never in ember (asteroid-filterbanks asks before each filterbank's
    shape checks)."""
    return False


def _are_functorch_transforms_active():
    """Whether a ``torch.func`` transform (grad, vmap, ...) is running the user's function (kornia asks before
    its data-dependent early exits)."""
    from ..autograd import _TRANSFORMS
    return _TRANSFORMS[0] > 0


def _is_alias_of(tensor, other):
    """Whether two tensors share one storage (views of one base, overlapping or not); tensordict asks before it
    swaps a module's parameters."""
    from ..tensor import Tensor
    if not (isinstance(tensor, Tensor) and isinstance(other, Tensor)):
        return False   # PyTorch's answer for anything else
    return tensor.untyped_storage().data_ptr() == other.untyped_storage().data_ptr()


_JIT_PROFILING = {'_jit_set_profiling_executor': True, '_jit_set_profiling_mode': True}


def _jit_profiling_flag(name, flag):
    """Set TorchScript's profiling flag ``name`` and return its previous value: ember compiles nothing, so the flag
    only reads back (SpeechBrain's quirks turn both off at import)."""
    if not (flag is None or isinstance(flag, (bool, int, float))):
        raise TypeError(f'{name}(): incompatible function arguments. The following argument types are supported:\n'
                        f'    1. (arg0: bool) -> bool\n\nInvoked with: {flag!r}')
    old, _JIT_PROFILING[name] = _JIT_PROFILING[name], bool(flag)
    return old


def _jit_set_profiling_executor(flag):
    return _jit_profiling_flag('_jit_set_profiling_executor', flag)


def _jit_set_profiling_mode(flag):
    return _jit_profiling_flag('_jit_set_profiling_mode', flag)


def __getattr__(name):
    """``_LinAlgError`` from ember's linear algebra and ``_nn`` (its ``_parse_to``: ``Module.to``'s argument parser),
    loaded on first use; any other name is one ember lacks."""
    if name == '_LinAlgError':
        from .._linalg import LinAlgError
        return LinAlgError
    if name == '_nn':
        import types
        from ..nn.modules.module import _parse_to
        return types.SimpleNamespace(_parse_to=_parse_to)
    from ..aliasing import missing_attribute
    missing_attribute(__name__, name)
