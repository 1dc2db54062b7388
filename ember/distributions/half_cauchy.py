"""The half-Cauchy distribution: |X| for X ~ Cauchy(0, scale)."""
import math

import ember as ops  # the torch-level namespace (broadcast_tensors, lgamma...): ember is loaded by now
from ..tensor import Size
from . import constraints
from ._half import HalfMixin
from .cauchy import Cauchy
from .transformed_distribution import TransformedDistribution
from .transforms import AbsTransform

__all__ = ['HalfCauchy']


class HalfCauchy(HalfMixin, TransformedDistribution):
    """|X| with X ~ Cauchy(0, ``scale``)."""

    arg_constraints = {'scale': constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _value_as_tensor = True

    def __init__(self, scale, validate_args=None):
        base_dist = Cauchy(0, scale, validate_args=False)
        super().__init__(base_dist, AbsTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(HalfCauchy, _instance)
        return super().expand(Size(batch_shape), _instance=new)

    @property
    def mean(self):
        return ops.full(self._extended_shape(), math.inf, dtype=self.scale.dtype)

    @property
    def variance(self):
        return self.base_dist.variance
