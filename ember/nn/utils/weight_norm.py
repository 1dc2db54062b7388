"""``weight_norm`` / ``remove_weight_norm``: the deprecated hook form of weight normalisation, w = g v / ||v||
(``weight_g``/``weight_v`` parameters, the weight recomputed by a forward pre-hook before every call)."""
import warnings

from ...ops import _composite
from ...ops.reduction import vector_norm
from ..parameter import Parameter, UninitializedParameter

__all__ = ['weight_norm', 'remove_weight_norm', 'WeightNorm']

WeightNormInterfaceBackward0 = _composite.node_class('WeightNormInterfaceBackward0')


def norm_except_dim(v, pow=2, dim=0):
    """The ``pow``-norm of ``v`` over every dimension but ``dim``, kept as size-1 dimensions (``dim=-1``: the
    norm of the whole tensor, 0-d), as ``torch.norm_except_dim``."""
    if dim == -1:
        return vector_norm(v, pow)
    if not -v.dim() <= dim < v.dim():
        raise IndexError(f'Dimension out of range (expected to be in range of [{-v.dim()}, {v.dim() - 1}], '
                         f'but got {dim})')
    dim %= v.dim()
    if v.dim() == 1:   # each element's own norm (an empty dim list would reduce every dim, as in PyTorch's norm)
        return vector_norm(v.unsqueeze(-1), pow, -1)
    return vector_norm(v, pow, tuple(d for d in range(v.dim()) if d != dim), keepdim=True)


def _compose(v, g, dim):
    return v * (g / norm_except_dim(v, 2, dim))


def _weight_norm(v, g, dim=0):
    """v * (g / ||v||) as ``torch._weight_norm``: one WeightNormInterfaceBackward0 node where PyTorch fuses it
    (``dim`` 0 or the last, not half precision), else the composition's own nodes."""
    from ... import float16, bfloat16
    if (dim == 0 or dim == v.dim() - 1) and v.dtype not in (float16, bfloat16) and g.dtype not in (float16, bfloat16):
        return _composite.composite(WeightNormInterfaceBackward0, _compose, (v, g), dim=dim)
    return _compose(v, g, dim)


class WeightNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_g`` and ``<name>_v``."""

    def __init__(self, name, dim):
        self.name, self.dim = name, -1 if dim is None else dim

    def compute_weight(self, module):
        return _weight_norm(getattr(module, self.name + '_v'), getattr(module, self.name + '_g'), self.dim)

    @staticmethod
    def apply(module, name, dim):
        """Reparametrise ``module.<name>``; the FutureWarning names its caller (``weight_norm``'s line, as
        PyTorch's ``@deprecated`` does), so the default filter shows it once per process."""
        warnings.warn('`torch.nn.utils.weight_norm` is deprecated in favor of '
                      '`torch.nn.utils.parametrizations.weight_norm`.', FutureWarning, stacklevel=2)
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f'Cannot register two weight_norm hooks on the same parameter {name}')
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        if isinstance(weight, UninitializedParameter):
            raise ValueError("The module passed to `WeightNorm` can't have uninitialized parameters. Make sure to "
                             'run the dummy forward before applying weight normalization')
        g = norm_except_dim(weight, 2, fn.dim)
        del module._parameters[name]
        module.register_parameter(name + '_g', Parameter(g.detach()))
        module.register_parameter(name + '_v', Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module):
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + '_g']
        del module._parameters[self.name + '_v']
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name='weight', dim=0):
    """Replace ``module.<name>`` by ``<name>_g`` (magnitude) and ``<name>_v`` (direction); deprecated in PyTorch
    for ``nn.utils.parametrizations.weight_norm`` (FutureWarning)."""
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name='weight'):
    """Undo ``weight_norm``: ``module.<name>`` is a plain Parameter again, holding the current weight."""
    _remove_hook(module, WeightNorm, name, 'weight_norm')
    return module


def _remove_hook(module, cls, name, what):
    """Take off ``module``'s forward pre-hook of type ``cls`` for parameter ``name``, undoing its reparametrisation
    (``hook.remove``); PyTorch's ValueError when there is none. Shared by weight_norm and spectral_norm."""
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, cls) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return
    raise ValueError(f"{what} of '{name}' not found in {module}")
