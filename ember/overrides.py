"""``torch.overrides``: helpers for ``__torch_function__`` (has_torch_function, handle_torch_function, the lists
of overridable and ignored functions...). The protocol itself, and why plain tensors pay nothing for it, is in
``ember._torch_function``; importing this module switches the torch namespaces' dispatch on (a program that asks
about overrides means to use them)."""
import contextlib
import functools
import inspect
import types
import warnings

from . import _builtin
from . import _torch_function as _tf
from ._torch_function import _disabled_torch_function_impl  # noqa: F401 (torch.overrides has it too)
from .tensor import Tensor

__all__ = ['TorchFunctionMode', 'BaseTorchFunctionMode', 'get_ignored_functions', 'get_overridable_functions',
           'get_testing_overrides', 'handle_torch_function',
           'has_torch_function', 'resolve_name', 'is_tensor_like', 'is_tensor_method_or_property',
           'wrap_torch_function', 'enable_reentrant_dispatch']

_tf.install()


def has_torch_function(relevant_args):
    """Whether an element of ``relevant_args`` has an enabled ``__torch_function__`` (exact Tensors and
    Parameters do not)."""
    return bool(_tf.overloaded_args(tuple(relevant_args)))


def has_torch_function_unary(arg):
    return has_torch_function((arg,))


def has_torch_function_variadic(*args):
    return has_torch_function(args)


def handle_torch_function(public_api, relevant_args, *args, **kwargs):
    """Call the ``__torch_function__`` of the Tensor-likes in ``relevant_args`` (PyTorch's order) with
    ``public_api`` and the call's arguments, until one handles it; a TypeError if none does."""
    overloaded = _tf.overloaded_args(tuple(relevant_args))
    return _tf.handle(public_api, overloaded, args, kwargs)


def wrap_torch_function(dispatcher):
    """Decorator: make a function dispatch to the Tensor-likes that ``dispatcher(*args, **kwargs)`` returns."""
    def inner(func):
        @functools.wraps(func)
        def wrapped(*args, **kwargs):
            relevant = dispatcher(*args, **kwargs)
            if has_torch_function(relevant):
                return handle_torch_function(wrapped, relevant, *args, **kwargs)
            return func(*args, **kwargs)
        return wrapped
    return inner


def is_tensor_like(inp):
    """True for a Tensor, and for any object whose type has ``__torch_function__`` (a Tensor subclass or a
    Tensor-like class; the class Tensor itself too)."""
    return type(inp) is Tensor or hasattr(inp, '__torch_function__')


def _tensor_methods():
    """Tensor's dispatched methods, and the ``__get__`` of its dispatched properties."""
    out = {}
    for name, value in vars(Tensor).items():
        if _tf.is_dispatched_name(name):
            if isinstance(value, types.FunctionType):
                out[value] = f'torch.Tensor.{name}'
            elif isinstance(value, property) and value.fget is not None:
                out[value.__get__] = f'torch.Tensor.{name}.__get__'
    return out


def is_tensor_method_or_property(func):
    """Whether ``func`` (as handed to ``__torch_function__``) is a Tensor method or a property's ``__get__``."""
    return func in _tensor_methods() or getattr(func, '__name__', None) == '__get__'


def _namespace_functions():
    """{namespace: [its dispatching functions]}, and {function: torch name}."""
    import importlib
    table, names = {}, {}
    for module_name, torch_name, _ in _tf.NAMESPACES:
        module = importlib.import_module(module_name)
        funcs = [v for v in vars(module).values() if _tf.torch_path(v) is not None]
        table[module] = funcs
        names.update((f, _tf.torch_path(f)) for f in funcs)
    return table, names


def get_overridable_functions():
    """{namespace (a module, or the Tensor class): [functions a ``__torch_function__`` can override]}."""
    table, _ = _namespace_functions()
    table[Tensor] = list(_tensor_methods())
    return table


def resolve_name(f):
    """The name of a function handed to ``__torch_function__`` ('torch.add', 'torch.Tensor.add'), or None."""
    path = _tf.torch_path(f)
    if path is not None:
        return path
    return _tensor_methods().get(f)


def get_ignored_functions():
    """The public functions of the torch namespaces that are not dispatched (they take no tensors), and the
    Tensor methods PyTorch leaves out (construction, ``__torch_function__`` itself...)."""
    import importlib
    ignored = set()
    for module_name, _, _ in _tf.NAMESPACES:
        for name, value in vars(importlib.import_module(module_name)).items():
            if isinstance(_builtin.function(value), types.FunctionType) and not name.startswith('_') and \
                    _tf.torch_path(value) is None:
                ignored.add(value)
    for name, value in vars(Tensor).items():
        if callable(value) and not _tf.is_dispatched_name(name) and not name.startswith('_'):
            ignored.add(value)
    ignored.update(getattr(Tensor, n) for n in ('__torch_function__', 'as_subclass', '_make_subclass', '__new__',
                                                '__init_subclass__', '__iter__', '__hash__'))
    return ignored


def _dummy(func):
    """A stand-in with ``func``'s signature that returns -1 (get_testing_overrides' entries)."""
    def override(*args, **kwargs):
        return -1
    try:
        override.__signature__ = inspect.signature(_builtin.function(func))
    except (TypeError, ValueError):
        pass
    override.__name__ = getattr(func, '__name__', 'override')
    return override


def get_testing_overrides():
    """{overridable function: a dummy with its signature that returns -1}, to test a Tensor-like's coverage."""
    return {f: _dummy(f) for funcs in get_overridable_functions().values() for f in funcs}


@contextlib.contextmanager
def enable_reentrant_dispatch():
    """Accepted for PyTorch's ``__torch_dispatch__`` code; ember has no dispatcher below ``__torch_function__``."""
    yield


class TorchFunctionMode:
    """A context manager that sees every ``__torch_function__``-overridable call made inside it (torch.*,
    torch.nn.functional, Tensor methods and properties, factories too) as ``__torch_function__(func, types, args,
    kwargs)``; its own calls go to the next mode out (see ember._torch_function)."""

    def __init__(self):
        pass

    def __torch_function__(self, func, types, args=(), kwargs=None):
        raise NotImplementedError

    def __enter__(self):
        _tf.push_mode(self)
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        _tf.pop_mode()

    @classmethod
    def push(cls, *args, **kwargs):
        warnings.warn('`Mode.push()` is no longer necessary and can be replaced with just `with Mode()`',
                      stacklevel=2)
        return cls(*args, **kwargs)


class BaseTorchFunctionMode(TorchFunctionMode):
    """A mode that runs each call unchanged (a base for modes that override only some)."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        return func(*args, **(kwargs or {}))


def _get_current_function_mode():
    """The innermost TorchFunctionMode of this thread, or None."""
    return _tf.STATE.modes[-1] if _tf.STATE.modes else None


def _get_current_function_mode_stack():
    return list(_tf.STATE.modes)
