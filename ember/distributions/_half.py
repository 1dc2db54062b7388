"""What HalfNormal and HalfCauchy share: |X| for a distribution X symmetric about 0 (the ``base_dist`` with location
0 that their ``__init__`` folds with an AbsTransform) has twice its density on [0, inf), its cdf 2 F(x) - 1 and its
entropy less log 2."""
import math

import ember as ops  # the torch-level namespace: ember is loaded by now

__all__ = []


class HalfMixin:
    """The folded distribution's methods, ahead of TransformedDistribution's in the MRO."""
    # PyTorch's HalfCauchy.log_prob takes its value through as_tensor (HalfNormal's does not)
    _value_as_tensor = False

    @property
    def scale(self):
        return self.base_dist.scale

    @property
    def mode(self):
        return ops.zeros_like(self.scale)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        if self._value_as_tensor:
            value = ops.as_tensor(value, dtype=self.base_dist.scale.dtype)
        log_prob = self.base_dist.log_prob(value) + math.log(2)
        return ops.where(value >= 0, log_prob, -math.inf)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob):
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self):
        return self.base_dist.entropy() - math.log(2)
