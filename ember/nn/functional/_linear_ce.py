"""``F.linear_cross_entropy``: cross_entropy of ``linear(input, linear_weight, linear_bias)``, the logits reshaped
to (*batch, classes, *out_features) when linear_weight has more than two dims (a K-dimensional loss). PyTorch's
``options`` select its chunked kernel (the batch in pieces, the logits never whole): ember refuses them."""
import math

from ._linear import linear
from ._loss import cross_entropy

__all__ = ['linear_cross_entropy']


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None, reduction='mean',
                         ignore_index=None, label_smoothing=0.0, options=None):
    """The loss of ``cross_entropy(linear(input, linear_weight, linear_bias), target, ...)`` (PyTorch's reference
    path); ignore_index None means -100, and is refused with class-probability targets."""
    if input.dim() < 1 or input.dim() > 2:
        raise RuntimeError(f'expected input with dimensionality 1 or 2, got {input.dim()}')
    if linear_weight.dim() < 2:
        raise RuntimeError(f'expected linear_weight with dimensionality at least 2, got {linear_weight.dim()}')
    batches, in_features = tuple(input.shape[:-1]), input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError('expected equal input and linear_weight last dimensions (in_features), got '
                           f'{input.shape[-1]} and {linear_weight.shape[-1]}, respectively')
    classes, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (classes, *out_features):
        raise RuntimeError(f'expected linear_bias shape {(classes, *out_features)}, got {tuple(linear_bias.shape)}')
    if out_features and not batches:
        raise RuntimeError(f'K-dimensional loss defined by linear_weight shape {tuple(linear_weight.shape)} requires '
                           f'batched input, (N, {in_features}), got unbatched input with shape {tuple(input.shape)}')
    logits_shape = (*batches, classes, *out_features)
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError('ignore_index cannot be specified when target contains probabilities')
    if options is not None:
        raise NotImplementedError('linear_cross_entropy: ember has no chunked kernel for `options` (PyTorch computes '
                                  'the loss batch chunk by batch chunk with it); pass options=None for the reference '
                                  'path, which gives the same loss')
    if out_features:
        linear_weight = linear_weight.reshape((math.prod(out_features, start=classes), in_features))
        if linear_bias is not None:
            linear_bias = linear_bias.reshape(math.prod(out_features, start=classes))
    logits = linear(input, linear_weight, linear_bias).reshape(logits_shape)
    return cross_entropy(logits, target, weight=weight, reduction=reduction,
                         ignore_index=-100 if ignore_index is None else ignore_index, label_smoothing=label_smoothing)
