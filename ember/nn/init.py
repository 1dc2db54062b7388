"""Parameter initialisation (``torch.nn.init``): each function fills a tensor in place, without recording
autograd history, from ember's random generator, and returns it."""
import math
import warnings

import numpy as np

from .. import _linalg, ops as _ops
from ..ops import random as _random

__all__ = ['calculate_gain', 'uniform_', 'normal_', 'trunc_normal_', 'constant_', 'ones_', 'zeros_', 'eye_',
           'dirac_', 'xavier_uniform_', 'xavier_normal_', 'kaiming_uniform_', 'kaiming_normal_', 'orthogonal_',
           'sparse_', 'uniform', 'normal', 'constant', 'eye', 'dirac', 'xavier_uniform', 'xavier_normal',
           'kaiming_uniform', 'kaiming_normal', 'orthogonal', 'sparse']

_LINEAR_FNS = ('linear', 'conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d')


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (e.g. sqrt(2) for relu, 5/3 for tanh)."""
    if nonlinearity in _LINEAR_FNS or nonlinearity == 'sigmoid':
        return 1
    if nonlinearity == 'tanh':
        return 5.0 / 3
    if nonlinearity == 'relu':
        return math.sqrt(2.0)
    if nonlinearity == 'leaky_relu':
        if param is None:
            slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            slope = param
        else:
            raise ValueError(f'negative_slope {param} not a valid number')
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == 'selu':
        return 3.0 / 4
    raise ValueError(f'Unsupported nonlinearity {nonlinearity}')


def _fill(tensor, arr):
    """Write ``arr`` into the tensor's array (no autograd record) and bump its version."""
    data = tensor._data
    np.copyto(data, np.asarray(arr).reshape(data.shape), casting='unsafe')
    tensor._bump()
    return tensor


def _no_grad(fn, tensor, *args, generator=None):
    """Run an in-place sampler on ``tensor`` without recording autograd history."""
    from ..autograd.grad_mode import no_grad
    with no_grad():
        return fn(tensor, *args, generator=generator)


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with U(a, b) (``tensor.uniform_``: PyTorch's stream)."""
    return _no_grad(_random.uniform_, tensor, a, b, generator=generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with N(mean, std^2) (``tensor.normal_``: PyTorch's stream)."""
    return _no_grad(_random.normal_, tensor, mean, std, generator=generator)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """N(mean, std^2) truncated to [a, b], drawn as PyTorch 2.13 draws it: redrawn normals while the
    interval holds more than 30% of the mass, else uniform proposals accepted against the density."""
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn('mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of '
                      'values may be incorrect.', stacklevel=2)

    def norm_cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0
    from ..autograd.grad_mode import no_grad
    with no_grad():
        if norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std) > 0.3:
            _trunc_by_redraw(tensor, mean, std, a, b, generator)
        else:
            _trunc_by_rejection(tensor, mean, std, a, b, generator)
    return tensor


def _trunc_by_redraw(tensor, mean, std, a, b, generator):
    """Normals; those outside [a, b] (bounds in the tensor's dtype) replaced by fresh draws until none is."""
    lo, hi = tensor.new_tensor(a).item(), tensor.new_tensor(b).item()
    result = tensor.normal_(mean, std, generator=generator)
    while True:
        mask = (result < lo) | (result > hi)
        if not mask.any():
            break
        result = _ops.where(mask, _ops.empty_like(result).normal_(mean, std, generator=generator), result)
    if result is not tensor:
        tensor.copy_(result)


def _log_density(x, mean, std, log_peak):
    return x.sub_(mean).div_(std).pow_(2).mul_(-0.5).sub_(log_peak)


def _trunc_by_rejection(tensor, mean, std, a, b, generator):
    """Uniform proposals on [a, b], each accepted when log(u) <= its log density relative to the peak."""
    log_peak = -0.5 * ((max(a, min(mean, b)) - mean) / std) ** 2
    candidates, accept = _ops.empty_like(tensor), _ops.empty_like(tensor)
    tensor.uniform_(a, b, generator=generator)
    candidates.copy_(tensor)
    _log_density(candidates, mean, std, log_peak)
    pending = accept.uniform_(generator=generator).log_().gt(candidates)
    result = tensor
    while pending.any():
        candidates.uniform_(a, b, generator=generator)
        result = _ops.where(pending, candidates, result)
        _log_density(candidates, mean, std, log_peak)
        pending = _ops.where(pending, accept.uniform_(generator=generator).log_().gt(candidates), pending)
    if result is not tensor:
        tensor.copy_(result)


def constant_(tensor, val):
    """Fill with ``val``."""
    tensor._data[...] = val
    tensor._bump()
    return tensor


def ones_(tensor):
    return constant_(tensor, 1.0)


def zeros_(tensor):
    return constant_(tensor, 0.0)


def eye_(tensor):
    """Fill a 2-D tensor with the identity matrix."""
    if tensor.dim() != 2:
        raise ValueError('Only tensors with 2 dimensions are supported')
    return _fill(tensor, np.eye(*tensor._data.shape))


def dirac_(tensor, groups=1):
    """Fill a 3/4/5-D (conv weight) tensor with the Dirac delta: convolution then preserves the input."""
    d = tensor.dim()
    if d not in (3, 4, 5):
        raise ValueError('Only tensors with 3, 4, or 5 dimensions are supported')
    sizes = tensor._data.shape
    if sizes[0] % groups != 0:
        raise ValueError('dim 0 must be divisible by groups')
    out_per = sizes[0] // groups
    n = min(out_per, sizes[1])
    arr = np.zeros(sizes)
    centre = tuple(s // 2 for s in sizes[2:])
    for g in range(groups):
        for i in range(n):
            arr[(g * out_per + i, i) + centre] = 1
    return _fill(tensor, arr)


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight: input/output features times the receptive field size."""
    if tensor.dim() < 2:
        raise ValueError('Fan in and fan out can not be computed for tensor with fewer than 2 dimensions')
    shape = tensor._data.shape
    receptive = 1
    for s in shape[2:]:
        receptive *= s
    return shape[1] * receptive, shape[0] * receptive


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    valid = ['fan_in', 'fan_out']
    if mode not in valid:
        raise ValueError(f'Mode {mode} not supported, please use one of {valid}')
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == 'fan_in' else fan_out


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)) (Glorot)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def _zero_element(tensor):
    if 0 in tensor._data.shape:
        warnings.warn('Initializing zero-element tensors is a no-op', stacklevel=3)
        return True
    return False


def kaiming_uniform_(tensor, a=0, mode='fan_in', nonlinearity='leaky_relu', generator=None):
    """U(-bound, bound) with bound = gain * sqrt(3 / fan) (He)."""
    if _zero_element(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode='fan_in', nonlinearity='leaky_relu', generator=None):
    """N(0, std^2) with std = gain / sqrt(fan) (He)."""
    if _zero_element(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan), generator)


def orthogonal_(tensor, gain=1, generator=None):
    """A (semi-)orthogonal matrix from the QR decomposition of a Gaussian matrix, times ``gain``."""
    if tensor.dim() < 2:
        raise ValueError('Only tensors with 2 or more dimensions are supported')
    if tensor.numel() == 0:
        return tensor
    rows = tensor._data.shape[0]
    cols = tensor.numel() // rows
    flat = _random.normal_(tensor.new_empty((rows, cols)), 0, 1, generator=generator)
    if rows < cols:
        flat = flat.t()
    q, r = (t._data for t in _linalg.qr(flat.detach()))   # refuses float16/bfloat16 as PyTorch's geqrf does
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    _fill(tensor, q)
    tensor._data *= tensor._data.dtype.type(gain)
    return tensor


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """A 2-D matrix with a fraction ``sparsity`` of each column zeroed, the rest N(0, std^2)."""
    if tensor.dim() != 2:
        raise ValueError('Only tensors with 2 dimensions are supported')
    rows, cols = tensor._data.shape
    nz = int(math.ceil(sparsity * rows))
    normal_(tensor, 0, std, generator=generator)
    for c in range(cols):   # PyTorch draws the zeros' rows from the default generator even given ``generator``
        zero = _random.randperm(rows)._data[:nz]
        tensor._data[zero, c] = 0
    tensor._bump()
    return tensor


def _deprecated(new):
    def old(*args, **kwargs):
        warnings.warn(f'`nn.init.{new.__name__[:-1]}` is now deprecated in favor of `nn.init.{new.__name__}`.',
                      FutureWarning, stacklevel=2)
        return new(*args, **kwargs)
    old.__name__ = new.__name__[:-1]
    old.__doc__ = f'Deprecated alias of ``{new.__name__}``.'
    return old


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)
