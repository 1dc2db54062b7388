"""Utilities (``torch.utils``): data loading in ``ember.utils.data``, DLPack exchange in ``ember.utils.dlpack``,
``swap_tensors``, the inert ``backcompat`` switches."""
from . import backcompat, data, dlpack

__all__ = ['backcompat', 'data', 'dlpack', 'swap_tensors']


_POISONED = ('Trying to execute AccumulateGrad node that was poisoned by swap_tensors this can happen when you try to '
             'run backward on a tensor that was swapped. For a module m with '
             '`torch.__future__.set_swap_module_params_on_conversion(True)` you should not change the device or dtype '
             'of the module (e.g. `m.cpu()` or `m.half()`) between running forward and backward. To resolve this, '
             'please only change the device/dtype before running forward (or after both forward and backward).')


def _poisoned(grad_outputs):
    raise RuntimeError(_POISONED)


def swap_tensors(t1, t2):
    """Swap the contents of two tensors (class, attributes, data, gradient, graph) while each keeps its identity,
    as PyTorch's: refused when either has a weak reference or their classes have different slots. A leaf's
    gradient-accumulation node made before the swap is poisoned (a backward through it raises), as PyTorch's."""
    import copyreg
    import weakref
    from ..tensor import own_dict, set_own_dict
    if weakref.getweakrefs(t1):
        raise RuntimeError('Cannot swap t1 because it has weakref associated with it')
    if weakref.getweakrefs(t2):
        raise RuntimeError('Cannot swap t2 because it has weakref associated with it')
    slots = set(copyreg._slotnames(t1.__class__))
    if slots != set(copyreg._slotnames(t2.__class__)):
        raise RuntimeError('Cannot swap t1 and t2 if they have different slots')
    d1, d2 = own_dict(t1), own_dict(t2)
    for d in (d1, d2):
        acc = d.pop('_accum', None)
        d.pop('_accum_edge', None)
        if acc is not None:
            acc.register_prehook(_poisoned)
    t1.__class__, t2.__class__ = t2.__class__, t1.__class__
    set_own_dict(t1, d2)
    set_own_dict(t2, d1)
    for name in slots:
        a, b = _slot(t1, name), _slot(t2, name)
        _set_slot(t1, name, b)
        _set_slot(t2, name, a)


_MISSING = object()


def _slot(t, name):
    return getattr(t, name, _MISSING)


def _set_slot(t, name, value):
    if value is _MISSING:
        if hasattr(t, name):
            delattr(t, name)
    else:
        object.__setattr__(t, name, value)


def __getattr__(name):
    """``torch.utils.checkpoint`` and the other submodules on first access, as ``import torch`` makes them
    reachable."""
    from .. import aliasing
    return aliasing.module_getattr(__name__, name)
