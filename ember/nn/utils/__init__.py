"""``ember.nn.utils``: gradient clipping, parameter/vector conversion, the RNN packing helpers, weight and spectral
norm, parametrizations, BatchNorm fusion and conv weight layouts."""
from . import rnn, parametrize, parametrizations, prune, stateless, fusion, memory_format
from .fusion import fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval, fuse_linear_bn_weights
from .memory_format import convert_conv2d_weight_memory_format, convert_conv3d_weight_memory_format
from .clip_grad import clip_grad_norm_, clip_grad_norm, clip_grad_value_, get_total_norm, clip_grads_with_norm_
from .convert_parameters import parameters_to_vector, vector_to_parameters
from .weight_norm import weight_norm, remove_weight_norm
from .spectral_norm import spectral_norm, remove_spectral_norm

__all__ = ['clip_grad_norm_', 'clip_grad_norm', 'clip_grad_value_', 'get_total_norm', 'clip_grads_with_norm_',
           'parameters_to_vector', 'vector_to_parameters', 'rnn', 'skip_init', 'weight_norm',
           'remove_weight_norm', 'spectral_norm', 'remove_spectral_norm', 'parametrize', 'parametrizations', 'prune',
           'stateless', 'fuse_conv_bn_eval', 'fuse_conv_bn_weights', 'fuse_linear_bn_eval', 'fuse_linear_bn_weights',
           'convert_conv2d_weight_memory_format', 'convert_conv3d_weight_memory_format']


def skip_init(module_cls, *args, **kwargs):
    """Construct ``module_cls(*args, **kwargs)`` without drawing from the random stream: PyTorch builds it on the
    meta device, where initialisers draw nothing, so the next random draw is the same in both (the values left
    in the parameters are the default initialisation's, where PyTorch's are uninitialised memory)."""
    import inspect
    from ..modules.module import Module
    from ...random import fork_rng
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f'Expected a Module; got {module_cls}')
    if 'device' not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    with fork_rng():
        return module_cls(*args, **kwargs)
