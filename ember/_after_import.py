"""Run a function on a third-party module once it is imported, without importing it (einops, opt_einsum, and
pyplot under ``ember run``).

``when_imported(name, fn)`` calls ``fn(module)`` at once when ``name`` is loaded, else right after its first
import: a ``sys.meta_path`` finder lets the module load as usual, then calls ``fn``; it answers no other import (one
string comparison each) and leaves ``sys.meta_path`` after its one use."""
import importlib.util
import sys


def when_imported(name, fn):
    """``fn(sys.modules[name])`` now, or once ``name`` is first imported (once per name and function)."""
    if name in sys.modules:
        fn(sys.modules[name])
    elif not any(getattr(f, "_ember_after", None) == (name, fn) for f in sys.meta_path):
        sys.meta_path.insert(0, _Hook(name, fn))


class _Hook:
    """``sys.meta_path`` finder for one module name: its own spec, with a loader that then calls ``fn``."""

    def __init__(self, name, fn):
        self._ember_after = (name, fn)

    def find_spec(self, fullname, path=None, target=None):
        name, fn = self._ember_after
        if fullname != name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _ThenCall(spec.loader, fn)
        return spec


class _ThenCall:
    """Runs the module's own loader, puts it back on the module, then calls ``fn(module)``."""

    def __init__(self, loader, fn):
        self.loader, self.fn = loader, fn

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        self.fn(module)
