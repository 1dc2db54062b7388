"""Whole-object checkpoints (``torch.save(model)``) and ``torch.serialization.safe_globals``.

``save`` of something that is not plain data (a Module, an Optimizer, a user class) pickles the object
itself into ``archive/data.pkl``, its tensors as raw storages, as ``torch.save`` does (``serialization``'s
``_WholePickler``). Loading such a file imports and runs code
named in it, so ``load`` does it only with ``weights_only=False`` (as PyTorch documents: only for files
from a trusted source), or for globals the user allowed with ``add_safe_globals``/``safe_globals``."""
import contextlib
import importlib
import io
import pickle
import re

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


class _FullUnpickling:
    """Unpickles data.pkl importing what it names, torch names as ember's; with ``restricted``, only
    the globals registered with ``add_safe_globals``. ``storages`` (a PyTorch file's) rebuild its tensors.
    Mixed into an Unpickler class: CPython's, or a ``pickle_module``'s (dill's)."""

    def __init__(self, fh, restricted, storages=None, **kwargs):
        super().__init__(fh, **kwargs)
        self._restricted, self._storages = restricted, storages

    def find_class(self, module, name):
        allowed = allowed_global(module, name)
        if allowed is not None:
            return allowed
        rebuild = _torch_rebuilds().get((module, name)) if self._storages is not None else None
        if rebuild is not None:
            return rebuild
        if self._restricted and (module, name) not in _DATA_GLOBALS and not _torch_value(module, name):
            raise pickle.UnpicklingError(_unsupported(_torch_global(f'{module}.{name}')))
        if module in ('torch._utils', 'torch._tensor') or (module == 'torch' and name.endswith('Storage')):
            raise pickle.UnpicklingError(
                f'ember cannot rebuild {module}.{name} inside a whole pickled object (a tensor PyTorch pickles '
                'so: quantized, sparse, nested, a tensor subclass of its own or one on another device); save the '
                'state_dict instead')
        target = aliasing.ember_name(module)
        if target is not None and aliasing.torch_name(target) == module:
            return getattr(importlib.import_module(target), name)
        return super().find_class(module, name)

    def persistent_load(self, pid):
        if self._storages is None:
            raise pickle.UnpicklingError('refused data.pkl: a storage reference in a file without storages')
        from .serialization import storage_reference
        return storage_reference(pid, self._storages)


def _torch_value(module, name):
    """Whether ``module.name`` is a torch dtype, Size or device (data a restricted load admits)."""
    from . import _dtype
    return module == 'torch' and (name in ('Size', 'device') or name in {d.name for d in _dtype.ALL})


_REBUILDS = {}   # filled on first use: serialization imports this module


def _torch_rebuilds():
    """The tensor globals of a PyTorch file's data.pkl, as functions that return ember tensors and Parameters:
    storages come checked from ``serialization``'s reader, and are shared as PyTorch shares them."""
    if not _REBUILDS:
        from . import serialization as s
        _REBUILDS.update({('torch._utils', '_rebuild_tensor_v2'): lambda *a: _finished(s._rebuild_tensor_v2(*a)),
                          ('torch._utils', '_rebuild_tensor'): lambda *a: _finished(s._rebuild_tensor(*a)),
                          ('torch._utils', '_rebuild_parameter'): _rebuild_parameter,
                          ('torch._utils', '_rebuild_parameter_with_state'): _rebuild_parameter,
                          ('torch._tensor', '_rebuild_from_type_v2'): _rebuild_from_type_v2})
        _REBUILDS.update({k: v for k, v in s._TORCH_GLOBALS.items() if isinstance(v, s._StorageType)})
    return _REBUILDS


def _finished(rec):
    """The ember tensor of a rebuilt tensor record."""
    from .serialization import _tensor_from
    return _tensor_from(rec.arr, rec.requires_grad, rec.parameter, 'data.pkl tensor')


def _rebuild_parameter(data, requires_grad, backward_hooks, state=None):
    """``torch._utils._rebuild_parameter(_with_state)``: ``nn.Parameter`` of the rebuilt tensor ``data``, with
    the Python attributes PyTorch saved on it."""
    from .serialization import _as_parameter
    from .tensor import Tensor
    if not isinstance(data, Tensor) or type(requires_grad) is not bool or backward_hooks:
        raise pickle.UnpicklingError('refused data.pkl: a Parameter rebuilt from a non-tensor, or with hooks')
    return _set_state(_as_parameter(data, requires_grad), state)


def _rebuild_from_type_v2(func, new_type, args, state):
    """``torch._tensor._rebuild_from_type_v2``: ``func(*args)`` made a ``new_type`` (a Tensor subclass), with
    the Python attributes in ``state``."""
    from .tensor import Tensor
    if not (isinstance(new_type, type) and issubclass(new_type, Tensor)) or type(args) is not tuple:
        raise pickle.UnpicklingError(f'refused data.pkl: _rebuild_from_type_v2 of {new_type!r}')
    out = func(*args)
    if type(out) is not new_type:
        out = out.as_subclass(new_type)
    return _set_state(out, state)


def _set_state(obj, state):
    """Set the attributes PyTorch pickles beside a tensor: a dict, or (dict, slots)."""
    for part in (state if isinstance(state, tuple) else (state,)):
        for key, value in (part or {}).items():
            setattr(obj, key, value)
    return obj


_UNPICKLERS = {}


def load(data, restricted, storages, base, **pickle_load_args):
    """The object pickled in ``data`` (the bytes of data.pkl) by an Unpickler of class ``base`` (pickle's or a
    ``pickle_module``'s); ``storages``: the tensors' of a PyTorch file."""
    cls = _UNPICKLERS.get(base)
    if cls is None:
        cls = _UNPICKLERS[base] = type(f'_Full{base.__name__}', (_FullUnpickling, base), {})
    return cls(io.BytesIO(data), restricted, storages, **pickle_load_args).load()
