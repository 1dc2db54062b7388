"""The Gamma distribution; ``rsample`` is differentiable through ``_standard_gamma``'s gradient, PyTorch's
approximation of the implicit reparameterization gradient."""
import numbers

import numpy as np

import ember as ops  # the torch-level namespace (broadcast_tensors, lgamma...): ember is loaded by now
from ..ops.random import _standard_gamma
from ..tensor import Size
from . import constraints
from .exp_family import ExponentialFamily
from .utils import _finfo, broadcast_all

__all__ = ['Gamma']


class Gamma(ExponentialFamily):
    """Gamma distribution with shape ``concentration`` and ``rate`` (1 / scale)."""

    arg_constraints = {'concentration': constraints.positive, 'rate': constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        scalar = isinstance(concentration, numbers.Number) and isinstance(rate, numbers.Number)
        super().__init__(Size() if scalar else self.concentration.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        batch_shape = Size(batch_shape)
        return self._expanded(Gamma, batch_shape, _instance, dict(concentration=self.concentration.expand(batch_shape),
                                                                 rate=self.rate.expand(batch_shape)))

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=Size()):
        """Gamma(concentration, 1) draws divided by the rate, floored at the dtype's tiny (as PyTorch's)."""
        shape = self._extended_shape(sample_shape)
        value = _standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        data = value._data
        np.maximum(data, _finfo(value.dtype).tiny, out=data)
        return value

    def log_prob(self, value):
        value = ops.as_tensor(value, dtype=self.rate.dtype)
        if self._validate_args:
            self._validate_sample(value)
        return (ops.xlogy(self.concentration, self.rate) + ops.xlogy(self.concentration - 1, value)
                - self.rate * value - ops.lgamma(self.concentration))

    def cdf(self, value):
        """P(concentration, rate * value), the regularized lower incomplete gamma function."""
        if self._validate_args:
            self._validate_sample(value)
        return ops.special.gammainc(self.concentration, self.rate * value)

    def entropy(self):
        return (self.concentration - ops.log(self.rate) + ops.lgamma(self.concentration)
                + (1.0 - self.concentration) * ops.digamma(self.concentration))

    @property
    def _natural_params(self):
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x, y):
        return ops.lgamma(x + 1) + (x + 1) * ops.log(-y.reciprocal())
