"""The negative binomial distribution: failures before ``total_count`` successes, parameterized by probs or
logits; sampled as PyTorch does, a Poisson of a Gamma draw."""
import ember as ops  # the torch-level namespace (poisson, lgamma...): ember is loaded by now
from ..autograd.grad_mode import no_grad
from ..nn.functional import logsigmoid
from ..tensor import Size
from . import constraints
from .binomial import _Counted
from .distribution import Distribution
from .gamma import Gamma
from .utils import lazy_property

__all__ = ['NegativeBinomial']


class NegativeBinomial(_Counted, Distribution):
    """Number of successes (probability ``probs`` each) before ``total_count`` failures."""

    arg_constraints = {'total_count': constraints.greater_than_eq(0),
                       'probs': constraints.half_open_interval(0.0, 1.0), 'logits': constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        self._counted_init(total_count, probs, logits, validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._counted_expand(NegativeBinomial, batch_shape, _instance)

    @property
    def mean(self):
        return self.total_count * ops.exp(self.logits)

    @property
    def mode(self):
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self):
        return self.mean / ops.sigmoid(-self.logits)

    @lazy_property
    def _gamma(self):
        return Gamma(concentration=self.total_count, rate=ops.exp(-self.logits), validate_args=False)

    def sample(self, sample_shape=Size()):
        """Poisson(G) with G ~ Gamma(total_count, exp(-logits)): the gamma draws first, as PyTorch's."""
        with no_grad():
            rate = self._gamma.sample(sample_shape=sample_shape)
            return ops.poisson(rate)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_unnormalized_prob = self.total_count * logsigmoid(-self.logits) + value * logsigmoid(self.logits)
        log_normalization = (-ops.lgamma(self.total_count + value) + ops.lgamma(1.0 + value)
                             + ops.lgamma(self.total_count))
        log_normalization = log_normalization.masked_fill(self.total_count + value == 0.0, 0.0)
        return log_unnormalized_prob - log_normalization
