"""Setting backend flags (module attributes) for the duration of a ``with`` block."""
import contextlib
import sys


def set_flags(module, **values):
    """Set the flags of backend ``module`` that are not None; returns their previous values."""
    module = sys.modules[module] if isinstance(module, str) else module
    previous = {name: getattr(module, name) for name in values}
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
