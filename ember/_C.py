"""``torch._C``: the names of PyTorch's C extension that Python programs reach for directly. torchdiffeq's
implicit Runge-Kutta solvers catch ``torch._C._LinAlgError`` (the class ``torch.linalg.LinAlgError`` is)."""

from ._torch_function import (DisableTorchFunction, DisableTorchFunctionSubclass,  # noqa: F401 (torch._C's)
                              _disabled_torch_function_impl, _is_torch_function_enabled,
                              _is_torch_function_all_disabled)


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


def __getattr__(name):
    """``_LinAlgError`` from ember's linear algebra (loaded on first use); any other name is one ember lacks."""
    if name == '_LinAlgError':
        from ._linalg import LinAlgError
        return LinAlgError
    from .aliasing import missing_attribute
    missing_attribute(__name__, name)
