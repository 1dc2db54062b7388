"""Whole-object checkpoints (``torch.save(model)``) and ``torch.serialization.safe_globals``.

``save`` of something that is not plain data (a Module, an Optimizer, a user class) pickles the object
itself into ``archive/data.pkl``, as ``torch.save`` does. Loading such a file imports and runs code
named in it, so ``load`` does it only with ``weights_only=False`` (as PyTorch documents: only for files
from a trusted source), or for globals the user allowed with ``add_safe_globals``/``safe_globals``."""
import contextlib
import importlib
import io
import pickle
import re
import zipfile

from . import aliasing

_SAFE = []  # the globals add_safe_globals allowed: objects, or (object, "module.name") pairs


def add_safe_globals(safe_globals):
    """Allow these globals (classes, functions, or ``(obj, "module.name")``) in ``weights_only`` loads."""
    _SAFE.extend(safe_globals)


def get_safe_globals():
    return list(_SAFE)


def clear_safe_globals():
    _SAFE.clear()


@contextlib.contextmanager
def safe_globals(safe_globals):
    """``add_safe_globals`` for the duration of a ``with`` block."""
    before = list(_SAFE)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _SAFE[:] = before


def allowed_global(module, name):
    """The object registered for ``module.name`` with ``add_safe_globals``, or None."""
    full = f'{module}.{name}'
    for entry in _SAFE:
        obj, spelled = entry if isinstance(entry, tuple) else (entry, None)
        if spelled == full or (spelled is None and full in _names(obj)):
            return obj
    return None


def _names(obj):
    """``obj``'s ``module.qualname``, and for an ember class the torch name a PyTorch file records it by
    (pytorch/examples' super_resolve allowlists torch.nn.modules.activation.ReLU, under ember ember's class)."""
    module, qual = getattr(obj, '__module__', '') or '', getattr(obj, '__qualname__', '')
    return {f'{module}.{qual}', f'{aliasing.torch_name(module) or module}.{qual}'}


def dumps(obj, pickle_protocol=2):
    """The pickle of ``obj`` (raises what pickling raises for an object that cannot be pickled)."""
    return pickle.dumps(obj, protocol=pickle_protocol)


def write(data, fh):
    """Write the pickle ``data`` in torch.save's zip layout to the binary file ``fh``."""
    with zipfile.ZipFile(fh, 'w', zipfile.ZIP_STORED) as zf:
        zf.writestr('archive/data.pkl', data)
        zf.writestr('archive/byteorder', 'little')
        zf.writestr('archive/version', '3\n')


def may_load(error, weights_only):
    """Whether a file the safe loader refused for a global should be loaded by ``load``."""
    return 'refused to load the global' in str(error) and (weights_only is False or bool(_SAFE))


# Data-only globals a restricted (weights_only) load admits besides the registered ones: containers,
# NumPy arrays and ember's own tensor, Parameter, dtype, Size and device rebuilds.
_DATA_GLOBALS = {('builtins', 'set'), ('builtins', 'frozenset'), ('builtins', 'slice'), ('builtins', 'complex'),
                 ('__builtin__', 'set'), ('__builtin__', 'frozenset'), ('__builtin__', 'slice'),
                 ('__builtin__', 'complex'), ('collections', 'OrderedDict'), ('_codecs', 'encode'),
                 ('numpy', 'dtype'), ('numpy', 'ndarray'), ('numpy._core.multiarray', '_reconstruct'),
                 ('numpy.core.multiarray', '_reconstruct'), ('ember.tensor', '_rebuild_tensor'),
                 ('ember.tensor', 'Size'), ('ember.tensor', 'device'), ('ember._dtype', '_by_name'),
                 ('ember.nn.parameter', '_rebuild_parameter'), ('ember.nn.parameter', '_rebuild_parameter_with_state')}


def explain_refusal(error, weights_only):
    """On a global refused by a ``weights_only`` load, PyTorch's message: how whole pickled objects load, the
    global named as PyTorch names it (``torch.nn.modules.linear.Linear``, not ember's module)."""
    found = re.search(r"refused to load the global '([^']+)'", str(error))
    if found and weights_only is not False:
        error.args = (_unsupported(_torch_global(found[1])),) + error.args[1:]


def _torch_global(full):
    """``module.name`` with an ember module given its torch name, as the class is named in PyTorch."""
    module, _, name = full.rpartition('.')
    return f'{aliasing.torch_name(module) or module}.{name}'


def _unsupported(full):
    from .serialization import unsupported_global
    return unsupported_global(full)


class _FullUnpickler(pickle.Unpickler):
    """Unpickles data.pkl importing what it names, torch names as ember's; with ``restricted``, only
    the globals registered with ``add_safe_globals``."""

    def __init__(self, fh, restricted, **kwargs):
        super().__init__(fh, **kwargs)
        self._restricted = restricted

    def find_class(self, module, name):
        allowed = allowed_global(module, name)
        if allowed is not None:
            return allowed
        if self._restricted and (module, name) not in _DATA_GLOBALS:
            raise pickle.UnpicklingError(_unsupported(_torch_global(f'{module}.{name}')))
        if module in ('torch._utils', 'torch._tensor') or (module == 'torch' and name.endswith('Storage')):
            raise pickle.UnpicklingError(
                'ember cannot load PyTorch tensor storages inside a whole pickled object yet (a torch.save(model) '
                'file made by PyTorch); save and load the state_dict instead')
        target = aliasing.ember_name(module)
        if target is not None and aliasing.torch_name(target) == module:
            return getattr(importlib.import_module(target), name)
        return super().find_class(module, name)

    def persistent_load(self, pid):
        raise pickle.UnpicklingError('ember cannot load PyTorch tensor storages inside a whole pickled object '
                                     'yet; save and load the state_dict instead')


def load(data, restricted, **pickle_load_args):
    """The object pickled in ``data`` (the bytes of data.pkl)."""
    return _FullUnpickler(io.BytesIO(data), restricted, **pickle_load_args).load()
