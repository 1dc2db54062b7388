"""``torch.return_types`` as a module, for ``from torch.return_types import max`` (tensordict's reductions): the
named tuples reductions return, those of ``ember.ops.return_types``."""
from .ops import return_types as _types


def __getattr__(name):
    try:
        return getattr(_types, name)
    except AttributeError:
        from .aliasing import missing_attribute
        missing_attribute(__name__, name)


def __dir__():
    return sorted(n for n in vars(_types) if not n.startswith('_'))
