"""Setting backend flags (module attributes) for the duration of a ``with`` block, and freezing them outside
such blocks (``torch.backends.disable_global_flags``, as PyTorch's test suite and MONAI's ``set_determinism`` use)."""
import contextlib
import sys
import types

_STATE = {'frozen': False}


def set_flags(module, **values):
    """Set the flags of backend ``module`` that are not None; returns their previous values."""
    module = sys.modules[module] if isinstance(module, str) else module
    previous = {name: getattr(module, name) for name in values}
    with allow_nonbracketed_mutation():
        for name, value in values.items():
            if value is not None:
                setattr(module, name, value)
    return previous


@contextlib.contextmanager
def flags_context(module, **values):
    """Set some flags of a backend module for the duration of a ``with`` block."""
    previous = set_flags(module, **values)
    try:
        yield
    finally:
        set_flags(module, **previous)


@contextlib.contextmanager
def allow_nonbracketed_mutation():
    """Let plain assignments set the flags inside the block even after ``disable_global_flags``."""
    old = _STATE['frozen']
    _STATE['frozen'] = False
    try:
        yield
    finally:
        _STATE['frozen'] = old


class FlagModule(types.ModuleType):
    """A backend module whose ``_FLAGS`` refuse plain assignment while the flags are frozen (PyTorch's error)."""

    def __setattr__(self, name, value):
        if _STATE['frozen'] and name in self.__dict__.get('_FLAGS', ()):
            raise RuntimeError(f'not allowed to set {self.__name__.replace("ember.", "torch.", 1)} flags after '
                               'disable_global_flags; please use flags() context manager instead')
        super().__setattr__(name, value)
