"""``torch._C``: the names of PyTorch's C extension that Python programs reach for directly. torchdiffeq's
implicit Runge-Kutta solvers catch ``torch._C._LinAlgError`` (the class ``torch.linalg.LinAlgError`` is)."""

from ._torch_function import (DisableTorchFunction, DisableTorchFunctionSubclass,  # noqa: F401 (torch._C's)
                              _disabled_torch_function_impl, _is_torch_function_enabled,
                              _is_torch_function_all_disabled)


from ._file_reader import PyTorchFileReader  # noqa: F401,E402 (torch._C's)
from ._torch_names import TensorMeta as _TensorMeta  # noqa: F401,E402 (torch._C's: type(torch.Tensor))


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
        from .aliasing import unsupported
        raise NotImplementedError(unsupported('torch._C.Graph', 'ember has no TorchScript graphs'))


def _log_api_usage_once(event):
    """Record one use of an API for PyTorch's usage logging, off unless a logger is set: ember has none, and
    PyTorch returns None (Lightning logs its Trainer and LightningModule through it)."""
    if not isinstance(event, str):
        raise TypeError('bad argument type for built-in operation')


def _has_torch_function(args):
    from .overrides import has_torch_function
    return has_torch_function(args)


def _has_torch_function_unary(arg):
    return _has_torch_function((arg,))


def _has_torch_function_variadic(*args):
    return _has_torch_function(args)


def _get_tracing_state():
    """The active ``torch.jit.trace`` state, None outside one: ember never traces (torchvision's ``_is_tracing``
    and DETR's ``nested_tensor_from_tensor_list`` ask)."""
    return None


def _are_functorch_transforms_active():
    """Whether a ``torch.func`` transform (grad, vmap, ...) is running the user's function (kornia asks before
    its data-dependent early exits)."""
    from .autograd import _TRANSFORMS
    return _TRANSFORMS[0] > 0


def __getattr__(name):
    """``_LinAlgError`` from ember's linear algebra and ``_nn`` (its ``_parse_to``: ``Module.to``'s argument parser),
    loaded on first use; any other name is one ember lacks."""
    if name == '_LinAlgError':
        from ._linalg import LinAlgError
        return LinAlgError
    if name == '_nn':
        import types
        from .nn.modules.module import _parse_to
        return types.SimpleNamespace(_parse_to=_parse_to)
    from .aliasing import missing_attribute
    missing_attribute(__name__, name)
