"""einops on ember tensors without the torch alias.

einops picks a backend for a tensor among the subclasses of ``einops._backends.AbstractBackend`` whose
framework module is imported; its torch backend checks ``isinstance(x, torch.Tensor)`` with the real torch, so
``einops.rearrange(ember_tensor, ...)`` raised 'Tensor type unknown to einops' unless torch was aliased to ember
(and even then when an earlier call had loaded the backend with the real torch). ``install()`` (run by ``import
ember``) adds an 'ember' backend, einops' torch backend bound to ember, as soon as ``einops._backends`` is loaded:
at once when it already is, else right after its first import. einops stays optional: nothing here imports it.
"""
import sys

from . import _after_import

_MODULE = "einops._backends"


def install():
    """Give einops an ember backend now, or once ``einops._backends`` is first imported."""
    _after_import.when_imported(_MODULE, add_backend)


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
