"""einops on ember tensors without the torch alias.

einops picks a backend for a tensor among the subclasses of ``einops._backends.AbstractBackend`` whose
framework module is imported; its torch backend checks ``isinstance(x, torch.Tensor)`` with the real torch, so
``einops.rearrange(ember_tensor, ...)`` raised 'Tensor type unknown to einops' unless torch was aliased to ember
(and even then when an earlier call had loaded the backend with the real torch). ``install()`` (run by ``import
ember``) adds an 'ember' backend, einops' torch backend bound to ember, as soon as ``einops._backends`` is loaded:
at once when it already is, else right after its first import. einops stays optional: nothing here imports it.
"""
import importlib.util
import sys

_MODULE = "einops._backends"


def install():
    """Give einops an ember backend now, or once ``einops._backends`` is first imported."""
    if _MODULE in sys.modules:
        add_backend(sys.modules[_MODULE])
    elif not any(getattr(f, "_ember_einops", False) for f in sys.meta_path):
        sys.meta_path.insert(0, _BackendsHook())


def add_backend(backends):
    """Define the 'ember' subclass of einops' TorchBackend in module ``backends`` (einops finds backends as
    subclasses; defining the class registers it), once."""
    torch_backend = getattr(backends, "TorchBackend", None)
    if torch_backend is None or getattr(backends, "_ember_backend", None) is not None:
        return

    class EmberBackend(torch_backend):
        """einops' torch backend on ember's functions (it calls only ``self.torch`` and Tensor methods)."""
        framework_name = "ember"

        def __init__(self):
            self.torch = sys.modules["ember"]   # no TorchBackend.__init__: it imports torch and torch._dynamo

    backends._ember_backend = EmberBackend


class _BackendsHook:
    """``sys.meta_path`` finder that lets ``einops._backends`` load as usual, then adds the ember backend; it
    answers no other import (one string comparison each) and leaves ``sys.meta_path`` after its one use."""
    _ember_einops = True

    def find_spec(self, fullname, path=None, target=None):
        if fullname != _MODULE:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _ThenAddBackend(spec.loader)
        return spec


class _ThenAddBackend:
    """Runs einops' own loader, puts it back on the module, then adds the ember backend."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        add_backend(module)
