"""The binomial distribution: successes in ``total_count`` trials, parameterized by probs or logits."""
import ember as ops  # the torch-level namespace (binomial, lgamma...): ember is loaded by now
from ..autograd.grad_mode import no_grad
from ..tensor import Size
from . import constraints
from .distribution import Distribution
from .utils import _BinaryProbs, _ByParam, broadcast_all

__all__ = ['Binomial']


def _clamp_by_zero(x):
    """max(x, 0), with the gradient 1/2 at 0 (PyTorch's formula, kept for its gradients)."""
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


class _Counted(_BinaryProbs, _ByParam):
    """A ``total_count`` broadcast with ``probs`` or ``logits`` (exactly one given), in the parameter's dtype: what
    Binomial and NegativeBinomial take."""

    def _counted_init(self, total_count, probs, logits, validate_args):
        if (probs is None) == (logits is None):
            raise ValueError('Either `probs` or `logits` must be specified, but not both.')
        if probs is not None:
            self.total_count, self.probs = broadcast_all(total_count, probs)
            self._param = self.probs
        else:
            self.total_count, self.logits = broadcast_all(total_count, logits)
            self._param = self.logits
        self.total_count = self.total_count.type_as(self._param)
        Distribution.__init__(self, self._param.size(), validate_args=validate_args)

    def _counted_expand(self, cls, batch_shape, _instance):
        batch_shape = Size(batch_shape)
        params = {k: self.__dict__[k].expand(batch_shape) for k in ('probs', 'logits') if k in self.__dict__}
        params['total_count'] = self.total_count.expand(batch_shape)
        new = self._expanded(cls, batch_shape, _instance, params)
        new._param = params.get('logits', params.get('probs'))
        return new


class Binomial(_Counted, Distribution):
    """Binomial distribution: ``total_count`` (broadcast with the parameter) trials of probability ``probs``
    (or sigmoid(``logits``)). Samples come from ``torch.binomial``, PyTorch's draws."""

    arg_constraints = {'total_count': constraints.nonnegative_integer, 'probs': constraints.unit_interval,
                       'logits': constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        self._counted_init(total_count, probs, logits, validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._counted_expand(Binomial, batch_shape, _instance)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return ops.binomial(self.total_count.expand(shape), self.probs.expand(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_factorial_n = ops.lgamma(self.total_count + 1)
        log_factorial_k = ops.lgamma(value + 1)
        log_factorial_nmk = ops.lgamma(self.total_count - value + 1)
        # log(1 + exp(logits)) * n, stably: n * max(logits, 0) + n * log1p(exp(-|logits|))
        normalize_term = (self.total_count * _clamp_by_zero(self.logits)
                          + self.total_count * ops.log1p(ops.exp(-ops.abs(self.logits))) - log_factorial_n)
        return value * self.logits - log_factorial_k - log_factorial_nmk - normalize_term

    def entropy(self):
        """Summed over the support; only for one total_count across the batch (as PyTorch)."""
        total_count = int(self.total_count.max())
        if not self.total_count.min() == total_count:
            raise NotImplementedError('Inhomogeneous total count not supported by `entropy`.')
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(ops.exp(log_prob) * log_prob).sum(0)

    def enumerate_support(self, expand=True):
        total_count = int(self.total_count.max())
        if not self.total_count.min() == total_count:
            raise NotImplementedError('Inhomogeneous total count not supported by `enumerate_support`.')
        values = ops.arange(1 + total_count, dtype=self._param.dtype)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values
