"""The multinomial distribution: counts of ``total_count`` categorical draws over the last dim."""
import math

import ember as ops  # the torch-level namespace (lgamma, ones_like...): ember is loaded by now
from ..tensor import Size
from . import constraints
from .binomial import Binomial
from .categorical import Categorical
from .distribution import Distribution
from .utils import _ByCategorical, broadcast_all

__all__ = ['Multinomial']


class Multinomial(_ByCategorical, Distribution):
    """Multinomial distribution: an int ``total_count`` of draws from Categorical(``probs`` or ``logits``),
    counted per category. Samples are PyTorch's: the categorical draws, scattered into counts."""

    arg_constraints = {'probs': constraints.simplex, 'logits': constraints.real_vector}

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int):
            raise NotImplementedError('inhomogeneous total_count is not supported')
        self.total_count = total_count
        categorical = Categorical(probs=probs, logits=logits)
        self._binomial = Binomial(total_count=total_count, probs=categorical.probs)
        self._wrap_categorical(categorical, validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_categorical(Multinomial, batch_shape, _instance, total_count=self.total_count)

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return constraints.multinomial(self.total_count)

    def sample(self, sample_shape=Size()):
        sample_shape = Size(sample_shape)
        samples = self._categorical.sample(Size((self.total_count,)) + sample_shape)
        # the draws' leading dim (total_count) moved last, then counted into each category
        order = list(range(1, samples.dim())) + [0]
        samples = samples.permute(*order)
        counts = samples.new(self._extended_shape(sample_shape)).zero_()
        counts.scatter_add_(-1, samples, ops.ones_like(samples))
        return counts.type_as(self.probs)

    def entropy(self):
        n = ops.tensor(self.total_count)
        cat_entropy = self._categorical.entropy()
        term1 = n * cat_entropy - ops.lgamma(n + 1)
        support = self._binomial.enumerate_support(expand=False)[1:]
        binomial_probs = ops.exp(self._binomial.log_prob(support))
        weights = ops.lgamma(support + 1)
        term2 = (binomial_probs * weights).sum([0, -1])
        return term1 + term2

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        logits = logits.clone(memory_format=ops.contiguous_format)
        log_factorial_n = ops.lgamma(value.sum(-1) + 1)
        log_factorial_xs = ops.lgamma(value + 1).sum(-1)
        logits[(value == 0) & (logits == -math.inf)] = 0     # 0 * log(0) counts as 0
        log_powers = (logits * value).sum(-1)
        return log_factorial_n - log_factorial_xs + log_powers
