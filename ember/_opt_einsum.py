"""opt_einsum's backend for ember tensors (tensorly-torch and neuraloperator's factorized weights contract with it).

opt_einsum names a tensor's backend by its class's top module, 'ember' here ('torch' for PyTorch's, which it maps
to its own torch backend), then calls ``ember.tensordot(x, y, axes=...)`` and ``ember.transpose(a, axes)`` with
NumPy's signatures, which ember's torch signatures refuse or read otherwise. ``install()`` (run by ``import ember``)
maps 'ember' to this module, opt_einsum's torch backend's functions on ember, once
``opt_einsum.backends.dispatch`` is loaded. opt_einsum stays optional: nothing here imports it."""
import sys

from . import _after_import

_MODULE = "opt_einsum.backends.dispatch"


def install():
    """Map opt_einsum's 'ember' backend to this module, now or once opt_einsum's dispatch is first imported."""
    _after_import.when_imported(_MODULE, _add_backend)


def _add_backend(dispatch):
    aliases = getattr(dispatch, "_aliases", None)
    if isinstance(aliases, dict):
        aliases.setdefault("ember", __name__)


def transpose(a, axes):
    """NumPy's transpose: the dims in the order ``axes``."""
    return a.permute(*axes)


def einsum(equation, *operands, **kwargs):
    """NumPy's variadic einsum; opt_einsum's labels past a-zA-Z made valid first, as for PyTorch."""
    from opt_einsum.parser import convert_to_valid_einsum_chars
    return sys.modules["ember"].einsum(convert_to_valid_einsum_chars(equation), operands)


def tensordot(x, y, axes=2):
    """NumPy's tensordot spelling of ``torch.tensordot(x, y, dims=axes)``."""
    return sys.modules["ember"].tensordot(x, y, dims=axes)
