"""``nn.utils.parametrizations``: weight normalisation as a parametrization (the modern form of
``nn.utils.weight_norm``), whose originals are ``parametrizations.<name>.original0`` (g) and ``original1`` (v)."""
from ..modules.module import Module
from . import parametrize
from .weight_norm import _weight_norm, norm_except_dim

__all__ = ['weight_norm']


class _WeightNorm(Module):
    """w = g v / ||v|| from (g, v); its right inverse splits a weight into its norm and itself."""

    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module, name='weight', dim=0):
    """Weight-normalise ``module.<name>``; a state dict of the deprecated hook form (``<name>_g``, ``<name>_v``)
    still loads, its keys renamed."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def _weight_norm_compat_hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                 error_msgs):
        g_key, v_key = f'{prefix}{name}_g', f'{prefix}{name}_v'
        if g_key in state_dict and v_key in state_dict:
            original0, original1 = state_dict.pop(g_key), state_dict.pop(v_key)
            state_dict[f'{prefix}parametrizations.{name}.original0'] = original0
            state_dict[f'{prefix}parametrizations.{name}.original1'] = original1

    module._register_load_state_dict_pre_hook(_weight_norm_compat_hook)
    return module
