"""``torch.*`` forms PyTorch also exposes for Tensor methods and ``nn.functional`` ops (``torch.sigmoid_(x)``,
``torch.dropout(x, p, train)``, ``torch.layer_norm``, ``torch.kl_div(..., reduction=1)``...), with the aten
signatures they have at that level (positional flags, integer reductions), and the runtime settings scripts call
at start-up (``torch.set_num_interop_threads``, ``torch.set_default_tensor_type``, ``torch.typename``...)."""
import warnings

from . import _dtype
from ._builtin import F_BUILTINS
from .ops.nn_forms import _own
from .tensor import Tensor

# torch.<name>_(input, ...) == input.<name>_(...)
_INPLACE = ('abs_ acos_ acosh_ arccos_ arccosh_ arcsin_ arcsinh_ arctan_ arctanh_ asin_ asinh_ atan_ atanh_ ceil_ '
            'clamp_ clamp_max_ clamp_min_ clip_ cos_ cosh_ deg2rad_ erf_ erfc_ exp2_ exp_ expm1_ fix_ floor_ frac_ '
            'log10_ log1p_ log2_ log_ logit_ nan_to_num_ neg_ negative_ rad2deg_ reciprocal_ round_ rsqrt_ sigmoid_ '
            'sin_ sinc_ sinh_ sqrt_ square_ tan_ tanh_ trunc_ xlogy_ detach_ addmv_ gcd_ lcm_ ldexp_ index_put_ i0_').split()
_REDUCTIONS = {0: 'none', 1: 'mean', 2: 'sum'}
# the aten losses below default to reduction 0 (no reduction) when called as torch.<loss>(...): what PyTorch 2.13's
# argument parser does with their schema default, checked against it (explicit 1 is the mean)


def _method_form(name):
    def form(input, *args, **kwargs):
        try:
            method = getattr(input, name)
        except AttributeError:
            from .ops._util import arg_error
            raise arg_error(name, 'input', 1, input) from None
        return method(*args, **kwargs)
    form.__name__ = form.__qualname__ = name
    form.__doc__ = f'``torch.{name}(input, ...)``: ``input.{name}(...)``.'
    return form


def _F():
    from .nn import functional
    return functional


def _reduction(value):
    """aten's integer reduction (0 none, 1 mean, 2 sum) as nn.functional's name."""
    if isinstance(value, str):
        return value
    if value not in _REDUCTIONS:
        raise RuntimeError(f'{value} is not a valid value for reduction')
    return _REDUCTIONS[value]


def fix(input, *, out=None):
    """Round towards zero (``torch.trunc``)."""
    import ember
    try:
        return ember.trunc(input, out=out)
    except (AttributeError, TypeError):
        from .ops._util import check_tensor_args
        check_tensor_args('fix', 'input')
        raise


def detach(input):
    try:
        return input.detach()
    except (AttributeError, TypeError):
        from .ops._util import check_tensor_args
        check_tensor_args('detach', 'input')
        raise


def positive(input):
    """``input`` itself (refused for bool tensors, as in PyTorch)."""
    try:
        if input.dtype == _dtype.bool_:
            raise RuntimeError('The `+` operator, on a bool tensor is not supported.')
        return input
    except (AttributeError, TypeError):
        from .ops._util import check_tensor_args
        check_tensor_args('positive', 'input')
        raise


def fill(input, value):
    """A new tensor of input's shape and dtype filled with ``value``, recorded as PyTorch records it: FillBackward0
    (a zero gradient for input) for a number, FillBackward1 (also the summed gradient for value) for a 0-d tensor."""
    try:
        from .autograd.grad_mode import GRAD
        from .ops.creation import full_like
        if isinstance(value, Tensor):
            if value.dim() != 0:
                raise RuntimeError(f'fill only supports 0-dimension value tensor but got tensor with {value.dim()} '
                                   f'dimensions.')
            out = full_like(input, value.item())
            inputs, cls = (input, value), _fill_node('FillBackward1')
        else:
            out = full_like(input, value)
            inputs, cls = (input,), _fill_node('FillBackward0')
        if GRAD.enabled and any(t.requires_grad for t in inputs):
            node = cls(inputs)
            node.value_dtype = value._data.dtype if isinstance(value, Tensor) else None
            return Tensor._make(out._data, node)
        return out
    except Exception:
        from .ops._util import check_tensor_args
        check_tensor_args('fill', 'input', 'value#')
        raise


def _fill_backward(self, g):
    """A zero gradient for input; for a tensor value, the gradient's sum (in value's dtype)."""
    import numpy as np
    zeros = g.new_zeros(g.shape) if isinstance(g, Tensor) else np.zeros_like(g)
    if self.value_dtype is None:
        return zeros
    total = g.sum().to(_dtype.FROM_NP[self.value_dtype]) if isinstance(g, Tensor) else \
        np.asarray(g.sum(), self.value_dtype)
    return zeros, total


_FILL_NODES = {}


def _fill_node(name):
    if name not in _FILL_NODES:
        from .autograd.graph import Node
        _FILL_NODES[name] = type(name, (Node,), {'backward': _fill_backward, '__doc__': 'torch.fill\'s graph node.'})
    return _FILL_NODES[name]


# -- nn.functional ops at aten's signatures ------------------------------------------------------------------------

def dropout(input, p, train):
    return _F().dropout(input, p, train)


def dropout_(input, p, train):
    return _F().dropout(input, p, train, inplace=True)


def alpha_dropout(input, p, train):
    try:
        return _F().alpha_dropout(input, p, train)
    except (AttributeError, TypeError):
        from .ops._util import check_tensor_args
        check_tensor_args('alpha_dropout', 'input')
        raise


def alpha_dropout_(input, p, train):
    try:
        return _F().alpha_dropout(input, p, train, inplace=True)
    except (AttributeError, TypeError):
        from .ops._util import check_tensor_args
        check_tensor_args('alpha_dropout_', 'input')
        raise


def feature_alpha_dropout(input, p, train):
    try:
        return _F().feature_alpha_dropout(input, p, train)
    except (AttributeError, TypeError):
        from .ops._util import check_tensor_args
        check_tensor_args('feature_alpha_dropout', 'input')
        raise


def feature_alpha_dropout_(input, p, train):
    try:
        return _F().feature_alpha_dropout(input, p, train, inplace=True)
    except (AttributeError, TypeError):
        from .ops._util import check_tensor_args
        check_tensor_args('feature_alpha_dropout_', 'input')
        raise


def feature_dropout(input, p, train):
    """Dropout of whole channels (dims after the first two broadcast), as aten's feature_dropout."""
    from .nn.functional._dropout import _feature_dropout
    return _feature_dropout(input, p, train, False, True)


def feature_dropout_(input, p, train):
    from .nn.functional._dropout import _feature_dropout
    return _feature_dropout(input, p, train, True, True)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05, cudnn_enable=True):
    try:
        return _F().layer_norm(input, normalized_shape, weight, bias, eps)
    except (AttributeError, TypeError):
        from .ops._util import check_tensor_args
        check_tensor_args('layer_norm', 'input', 'weight?', 'bias?')
        raise


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05, cudnn_enabled=True):
    try:
        return _F().group_norm(input, num_groups, weight, bias, eps)
    except (AttributeError, TypeError):
        from .ops._util import check_tensor_args
        check_tensor_args('group_norm', 'input', 'weight?', 'bias?')
        raise


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled):
    try:
        return _F().batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)
    except (AttributeError, TypeError):
        from .ops._util import check_tensor_args
        check_tensor_args('batch_norm', 'input', 'weight?', 'bias?', 'running_mean?', 'running_var?')
        raise


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn_enabled):
    try:
        return _F().instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)
    except (AttributeError, TypeError):
        from .ops._util import check_tensor_args
        check_tensor_args('instance_norm', 'input', 'weight?', 'bias?', 'running_mean?', 'running_var?')
        raise


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """aten's embedding: weight first, padding_idx -1 for none."""
    return _F().embedding(indices, weight, None if padding_idx == -1 else padding_idx,
                          scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return _F().max_pool1d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return _F().max_pool2d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def max_pool3d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return _F().max_pool3d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def avg_pool1d(input, kernel_size, stride=(), padding=0, ceil_mode=False, count_include_pad=True):
    return _own('avg_pool1d')(input, kernel_size, stride or None, padding, ceil_mode, count_include_pad)


def adaptive_avg_pool1d(input, output_size):
    return _own('adaptive_avg_pool1d')(input, output_size)


def adaptive_max_pool1d(input, output_size):
    """(values, indices), as aten returns them."""
    return _F().adaptive_max_pool1d(input, output_size, return_indices=True)


def selu_(input):
    try:
        return _F().selu(input, inplace=True)
    except (AttributeError, TypeError):
        from .ops._util import check_tensor_args
        check_tensor_args('selu_', 'input')
        raise


def celu_(input, alpha=1.0):
    return _F().celu(input, alpha, inplace=True)


def threshold_(input, threshold, value):
    return _F().threshold(input, threshold, value, inplace=True)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    try:
        if generator is not None:
            raise NotImplementedError('torch.rrelu(generator=...) is not supported by ember yet: seed the global '
                                      'generator with torch.manual_seed')
        return _F().rrelu(input, lower, upper, training)
    except (AttributeError, TypeError):
        from .ops._util import check_tensor_args
        check_tensor_args('rrelu', 'input')
        raise


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    try:
        if generator is not None:
            raise NotImplementedError('torch.rrelu_(generator=...) is not supported by ember yet: seed the global '
                                      'generator with torch.manual_seed')
        return _F().rrelu(input, lower, upper, training, inplace=True)
    except (AttributeError, TypeError):
        from .ops._util import check_tensor_args
        check_tensor_args('rrelu_', 'input')
        raise


def kl_div(input, target, reduction=0, *, log_target=False):
    """aten's kl_div: reduction 1 is the plain mean, without nn.functional's 'batchmean' warning."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return _F().kl_div(input, target, reduction=_reduction(reduction), log_target=log_target)
    except (AttributeError, TypeError):
        from .ops._util import check_tensor_args
        check_tensor_args('kl_div', 'input', 'target')
        raise


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0):
    try:
        return _F().margin_ranking_loss(input1, input2, target, margin=margin, reduction=_reduction(reduction))
    except (AttributeError, TypeError):
        from .ops._util import check_tensor_args
        check_tensor_args('margin_ranking_loss', 'input1', 'input2', 'target')
        raise


def hinge_embedding_loss(input, target, margin=1.0, reduction=0):
    return _F().hinge_embedding_loss(input, target, margin=margin, reduction=_reduction(reduction))


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0):
    try:
        return _F().cosine_embedding_loss(input1, input2, target, margin=margin, reduction=_reduction(reduction))
    except (AttributeError, TypeError):
        from .ops._util import check_tensor_args
        check_tensor_args('cosine_embedding_loss', 'input1', 'input2', 'target')
        raise


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-06, swap=False, reduction=0):
    return _F().triplet_margin_loss(anchor, positive, negative, margin=margin, p=p, eps=eps, swap=swap,
                                    reduction=_reduction(reduction))


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    return _F().poisson_nll_loss(input, target, log_input=log_input, full=full, eps=eps,
                                 reduction=_reduction(reduction))


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=0):
    try:
        return _F().binary_cross_entropy_with_logits(input, target, weight, reduction=_reduction(reduction),
                                                     pos_weight=pos_weight)
    except (AttributeError, TypeError):
        from .ops._util import check_tensor_args
        check_tensor_args('binary_cross_entropy_with_logits', 'input', 'target', 'weight?', 'pos_weight?')
        raise


def constant_pad_nd(input, pad, value=0):
    try:
        return _F().pad(input, pad, 'constant', value)
    except (AttributeError, TypeError):
        from .ops._util import check_tensor_args
        check_tensor_args('constant_pad_nd', 'input')
        raise


def _functional_alias(name):
    def form(*args, **kwargs):
        fn = _own(name) if name in F_BUILTINS['torch'] else getattr(_F(), name)
        try:
            return fn(*args, **kwargs)
        except Exception:
            from .ops._util import check_call
            check_call(name, fn, args, kwargs)
            raise
    form.__name__ = form.__qualname__ = name
    form.__doc__ = f'``torch.{name}``: ``nn.functional.{name}``.'
    return form


# the same callables as nn.functional's (PyTorch's F calls them)
_FUNCTIONAL = ('pixel_shuffle pixel_unshuffle channel_shuffle native_channel_shuffle cosine_similarity '
               'pairwise_distance selu celu threshold hardshrink rms_norm conv_tbc').split()


# -- runtime settings --------------------------------------------------------------------------------------------

_INTEROP = {'threads': None, 'set': False}


def get_num_interop_threads():
    """The inter-op thread count (ember runs ops one after another; the setting is kept and reported)."""
    import os
    n = _INTEROP['threads']
    return n if n is not None else (os.cpu_count() or 1)


def set_num_interop_threads(n):
    """Set the inter-op thread count once, before it is read, as PyTorch allows."""
    import builtins
    if not isinstance(n, builtins.int) or isinstance(n, builtins.bool):
        raise RuntimeError(f'set_num_interop_threads expects an int, but got {type(n).__name__}')
    if n <= 0:
        raise RuntimeError('set_num_interop_threads expects a positive integer')
    if _INTEROP['set']:
        raise RuntimeError('Error: cannot set number of interop threads after parallel work has started or '
                           'set_num_interop_threads called')
    _INTEROP['threads'], _INTEROP['set'] = n, True


def set_flush_denormal(mode):
    """Whether denormal floats can be flushed to zero: ember's NumPy kernels cannot, so this returns False and
    changes nothing (PyTorch's answer on a CPU without the support)."""
    return False


_WARNED = {'default_tensor_type': False}


def set_default_tensor_type(t):
    """Deprecated: the default float dtype from a tensor type (``torch.DoubleTensor`` or its name)."""
    if not _WARNED['default_tensor_type']:      # PyTorch's TORCH_WARN_ONCE
        _WARNED['default_tensor_type'] = True
        warnings.warn('torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use '
                      'torch.set_default_dtype() and torch.set_default_device() as alternatives.', UserWarning,
                      stacklevel=2)
    import ember
    if isinstance(t, str):
        name = t
        t = getattr(ember, t.rsplit('.', 1)[-1], None) if t.startswith('torch.') and t.count('.') == 1 else None
        if t is None:
            raise TypeError(f'invalid type: \'{name}\'' if not name.startswith('torch.cuda.') else
                            f'type {name} not available. Torch not compiled with CUDA enabled.')
    dtype = getattr(t, 'dtype', None)
    if not isinstance(dtype, _dtype.dtype) or not dtype.is_floating_point:
        raise TypeError(f'only floating-point types are supported as the default type')
    _dtype.set_default_dtype(dtype)


def typename(obj):
    """'torch.FloatTensor' for a float32 tensor (its legacy type name), else PyTorch's qualified name: a class's or
    function's own (``torch.nn.parameter.Parameter``), else its type's; ember's modules read as torch's."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, '__module__', '') or ''
    if hasattr(obj, '__qualname__'):
        qualname = obj.__qualname__
    elif hasattr(obj, '__name__'):
        qualname = obj.__name__
    else:
        module, qualname = type(obj).__module__ or '', type(obj).__qualname__
    if module in ('', 'builtins'):
        return qualname
    return f'{module.replace("ember.", "torch.", 1) if module.startswith("ember.") else module}.{qualname}'


def get_device(input):
    """-1: ember's tensors live on the CPU."""
    return -1


_WARN_ALWAYS = [False]


def set_warn_always(b):
    """PyTorch's switch that makes its warn-once warnings repeat. ember has no warn-once warnings (its warnings
    are Python's, shown as Python's filters say); the flag is kept and reported."""
    _WARN_ALWAYS[0] = bool(b)


def is_warn_always_enabled():
    return _WARN_ALWAYS[0]


def install(namespace):
    """Add these forms to the ``ember`` namespace (and Tensor's fix/fix_/arc*_ aliases)."""
    Tensor.fix, Tensor.fix_ = Tensor.trunc, Tensor.trunc_
    Tensor.hardshrink = lambda self, lambd=0.5: _F().hardshrink(self, lambd)
    Tensor.arccos_, Tensor.arcsin_, Tensor.arctan_ = Tensor.acos_, Tensor.asin_, Tensor.atan_
    for name in _INPLACE:
        namespace[name] = _method_form(name)
    for name in _FUNCTIONAL:
        namespace[name] = _functional_alias(name)
    for name in ('fix', 'detach', 'positive', 'fill', 'dropout', 'dropout_', 'alpha_dropout', 'alpha_dropout_',
                 'feature_alpha_dropout', 'feature_alpha_dropout_', 'feature_dropout', 'feature_dropout_',
                 'layer_norm', 'group_norm', 'batch_norm', 'instance_norm', 'embedding', 'max_pool1d', 'max_pool2d',
                 'max_pool3d', 'avg_pool1d', 'adaptive_avg_pool1d', 'adaptive_max_pool1d', 'selu_', 'celu_',
                 'threshold_', 'rrelu', 'rrelu_', 'kl_div', 'margin_ranking_loss', 'hinge_embedding_loss',
                 'cosine_embedding_loss', 'triplet_margin_loss', 'poisson_nll_loss',
                 'binary_cross_entropy_with_logits', 'constant_pad_nd', 'get_num_interop_threads',
                 'set_num_interop_threads', 'set_flush_denormal', 'set_default_tensor_type', 'typename',
                 'get_device', 'set_warn_always', 'is_warn_always_enabled'):
        namespace[name] = globals()[name]
