"""Dropout: elementwise and channel-wise masks scaled by 1/(1-p), recorded as one multiply node."""
import math
import warnings

import numpy as np

from ... import _bf16, _quiet
from ..._dtype import scalar_name
from ...autograd.dual import const, is_array
from ...autograd.grad_mode import GRAD
from ...autograd.graph import Node
from ...ops.inplace import check_inplace, commit
from ...ops import _distributions as D
from ...random import default_generator
from ...tensor import Tensor
from ...ops._util import _parser_type, check_tensor_args

__all__ = ['dropout', 'dropout1d', 'dropout2d', 'dropout3d', 'alpha_dropout', 'feature_alpha_dropout']


class MulBackward0(Node):
    """Backward of x * mask (the mask already scaled by 1/(1-p)): g * mask."""
    __slots__ = ('mask',)

    def backward(self, g):
        return g * self.mask if is_array(g) else g * const(self.mask, g)   # a Tensor under create_graph


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f'dropout probability has to be between 0 and 1, but got {p}')


def _check_train(op, training):
    """PyTorch's parser refusal of a ``training`` flag that is not a Python bool (a string, an int, None, a tensor),
    under the name of the kernel the functional form calls."""
    if not isinstance(training, bool):
        raise TypeError(f"{op}(): argument 'train' (position 3) must be bool, not {_parser_type(training)}")


def _noise(shape, p, dtype, order=None):
    """PyTorch's noise: ``empty(shape).bernoulli_(1 - p)`` (one double uniform per element, u < 1 - p), drawn
    along the axes in ``order`` (outermost first; default: row-major)."""
    kept = D.below(default_generator, math.prod(shape), 1.0 - p)
    if order is None:
        return kept.astype(dtype).reshape(shape)
    drawn = kept.astype(dtype).reshape([shape[d] for d in order])
    return drawn.transpose(np.argsort(order))


def _mask(shape, p, dtype, order=None):
    """The noise divided by 1 - p in ``dtype`` (``noise.div_(1 - p)``), as PyTorch scales it."""
    if _bf16.is_bf16(dtype):   # PyTorch's bf16 noise, divided in float and rounded to bf16
        return _bf16.from_f32(_mask(shape, p, np.dtype(np.float32), order))
    if p == 1.0:   # (in the input's memory order, as PyTorch's input * 0 keeps a transposed input's layout)
        return np.zeros(shape, dtype) if order is None else \
            np.zeros([shape[d] for d in order], dtype).transpose(np.argsort(order))
    return _noise(shape, p, dtype, order) / dtype.type(1.0 - p)


def _memory_order(x):
    """The axes of a permuted contiguous array, outermost first (None for a row-major or non-dense one):
    PyTorch's dropout noise is ``empty_like(input)``, which keeps such strides, and bernoulli_ fills it in
    memory order (a batch_first attention output, transposed, draws its mask so)."""
    if x.flags.c_contiguous or x.ndim < 2:
        return None
    order = sorted(range(x.ndim), key=lambda d: -abs(x.strides[d]))
    return order if x.transpose(order).flags.c_contiguous else None


def _apply_mask(input, m, inplace):
    x = input._data
    if inplace:
        if check_inplace(input):
            return commit(input, _apply_mask(input, m, False))
        try:
            np.multiply(x, m, out=x, casting='unsafe')
        except RuntimeWarning:  # inf * 0, an overflow, raised by the user's filter after every value was written
            pass
        input._bump()
        return input
    try:
        out = x * m
    except RuntimeWarning:  # as above (see _quiet); the mask is drawn already, so only the product runs again
        out = _quiet.again(np.multiply, x, m)
    if GRAD.enabled and input._requires_grad:
        node = MulBackward0((input,))
        node.mask = m
        return Tensor._make(out, node)
    return Tensor._make(out)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1/(1-p) (identity when not training)."""
    _check_p(p)
    _check_train('dropout', training)
    if not training or p == 0:
        return input
    x = input._data
    if x.dtype.kind in 'biu':   # PyTorch's mask is float: it does not cast back to an integer or bool input
        raise RuntimeError(f"result type Float can't be cast to the desired output type {scalar_name(x.dtype)}")
    return _apply_mask(input, _mask(x.shape, p, x.dtype, _memory_order(x)), inplace)


def _feature_dropout(input, p, training, inplace, batched):
    _check_p(p)
    _check_train('feature_dropout', training)
    if not training or p == 0:
        return input
    x = input._data
    _check_feature_dims(x, p)
    lead = 2 if batched else 1
    shape = x.shape[:lead] + (1,) * (x.ndim - lead)
    return _apply_mask(input, _mask(shape, p, x.dtype), inplace)


def _check_feature_dims(x, p):
    """PyTorch's feature noise needs a channel dim: refused below 2-D where a mask would be drawn."""
    if p != 1 and x.size and x.ndim < 2:
        raise RuntimeError('Feature dropout requires at least 2 dimensions in the input')


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) input."""
    if input.dim() not in (2, 3):
        raise RuntimeError(f'dropout1d: Expected 2D or 3D input, but received a {input.dim()}D input. Note that '
                           'dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, a '
                           'channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).')
    return _batched(input, p, training, inplace, input.dim() == 3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) input (3-D input is treated as (N, C, L), as PyTorch does)."""
    _check_p(p)
    d = input.dim()
    if d not in (3, 4):
        warnings.warn(f'dropout2d: Received a {d}-D input to dropout2d, which is deprecated and will result in an '
                      'error in a future release. To retain the behavior and silence this warning, please use '
                      'dropout instead. Note that dropout2d exists to provide channel-wise dropout on inputs with 2 '
                      'spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 3D or 4D '
                      'inputs).', stacklevel=2)
    if d == 3:
        warnings.warn('dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout '
                      'behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. '
                      'This behavior will change in a future release to interpret the input as one without a '
                      'batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, '
                      'please switch to using dropout1d instead.', stacklevel=2)
    return _feature_dropout(input, p, training, inplace, True)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input."""
    d = input.dim()
    if d not in (4, 5):
        warnings.warn(f'dropout3d: Received a {d}-D input to dropout3d, which is deprecated and will result in an '
                      'error in a future release. To retain the behavior and silence this warning, please use '
                      'dropout instead. Note that dropout3d exists to provide channel-wise dropout on inputs with 3 '
                      'spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 4D or 5D '
                      'inputs).', stacklevel=2)
    return _batched(input, p, training, inplace, d == 5)


def _batched(input, p, training, inplace, batched):
    """Feature dropout; unbatched input runs as a batch of one, as PyTorch's dropout1d/3d do (unsqueeze(0),
    drop, squeeze(0): the result is a view with grad_fn SqueezeBackward1, in eval mode too)."""
    if batched:
        return _feature_dropout(input, p, training, inplace, True)
    x = input.unsqueeze_(0) if inplace else input.unsqueeze(0)
    out = _feature_dropout(x, p, training, inplace, True)
    return out.squeeze_(0) if inplace else out.squeeze(0)


_ALPHA = 1.7580993408473766     # -SELU's negative saturation value, as PyTorch writes it


def _alpha(input, p, training, shape):
    """Dropped values moved to SELU's negative saturation, then an affine map keeping mean and variance
    (PyTorch's order: b = (noise - 1) * alpha * a + alpha * a * p, then input * (noise * a) + b)."""
    _check_p(p)
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0
    dt = input._data.dtype
    if _bf16.is_bf16(dt):   # each of PyTorch's steps in float, rounded to bf16
        dt, rnd, wrap = np.dtype(np.float32), lambda v: _bf16.to_f32(_bf16.from_f32(v)), _bf16.from_f32
    else:
        rnd = wrap = lambda v: v   # noqa: E731
    noise = _noise(shape, p, dt)
    a = 1.0 / np.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
    b = rnd(rnd(rnd(noise - dt.type(1)) * dt.type(_ALPHA * a)) + dt.type(_ALPHA * a * p))
    return input * Tensor._make(wrap(noise * dt.type(a))) + Tensor._make(wrap(b))


def _check_alpha_inplace(input, p, training, inplace):
    """Refuse, before drawing, an in-place alpha dropout autograd forbids (on a leaf that requires grad)."""
    _check_p(p)
    if inplace and training and p != 0:
        check_inplace(input)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for SELU networks: keeps zero mean and unit variance."""
    try:
        _check_p(p)
        _check_train('alpha_dropout', training)
        _check_alpha_inplace(input, p, training, inplace)
        out = _alpha(input, p, training, input._data.shape)
        return commit(input, out) if inplace and out is not input else out
    except (AttributeError, TypeError):
        check_tensor_args('alpha_dropout', 'input')
        raise


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels."""
    try:
        _check_p(p)
        _check_train('feature_alpha_dropout', training)
        _check_alpha_inplace(input, p, training, inplace)
        x = input._data
        if training and p != 0:
            _check_feature_dims(x, p)
        shape = x.shape[:2] + (1,) * (x.ndim - 2)
        out = _alpha(input, p, training, shape)
        return commit(input, out) if inplace and out is not input else out
    except (AttributeError, TypeError):
        check_tensor_args('feature_alpha_dropout', 'input')
        raise
