"""The geometric distribution: failures before the first success."""
import numbers

import ember as ops  # the torch-level namespace (broadcast_tensors, lgamma...): ember is loaded by now
from ..autograd.grad_mode import no_grad
from ..nn.functional import binary_cross_entropy_with_logits
from ..tensor import Size
from . import constraints
from .distribution import Distribution
from .utils import _BinaryProbs, _finfo, broadcast_all

__all__ = ['Geometric']


class Geometric(_BinaryProbs, Distribution):
    """Geometric distribution: P(k) = (1 - p)^k p for k = 0, 1, ..., by ``probs`` or ``logits``."""

    arg_constraints = {'probs': constraints.unit_interval, 'logits': constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError('Either `probs` or `logits` must be specified, but not both.')
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
        else:
            (self.logits,) = broadcast_all(logits)
        param = probs if probs is not None else logits
        batch_shape = Size() if isinstance(param, numbers.Number) else (self.probs if probs is not None
                                                                          else self.logits).size()
        super().__init__(batch_shape, validate_args=validate_args)
        if self._validate_args and probs is not None:
            value = self.probs.data
            if not bool((value > 0).all()):
                invalid = value <= 0
                raise ValueError(f'Expected parameter probs ({type(value).__name__} of shape {tuple(value.shape)}) '
                                 f'of distribution {self!r} to be positive but found invalid values:\n{value[invalid]}')

    def expand(self, batch_shape, _instance=None):
        batch_shape = Size(batch_shape)
        params = {k: self.__dict__[k].expand(batch_shape) for k in ('probs', 'logits') if k in self.__dict__}
        return self._expanded(Geometric, batch_shape, _instance, params)

    @property
    def mean(self):
        return 1.0 / self.probs - 1.0

    @property
    def mode(self):
        return ops.zeros_like(self.probs)

    @property
    def variance(self):
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape=Size()):
        """floor(log(u) / log1p(-p)) with u uniform on [tiny, 1), as PyTorch draws it."""
        shape = self._extended_shape(sample_shape)
        tiny = float(_finfo(self.probs.dtype).tiny)
        with no_grad():
            u = self.probs.new(shape).uniform_(tiny, 1)
            return (u.log() / (-self.probs).log1p()).floor()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        probs = probs.clone()
        probs[(probs == 1) & (value == 0)] = 0
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self):
        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction='none') / self.probs
