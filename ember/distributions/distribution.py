"""``Distribution``: the base class (batch/event shapes, argument and sample validation, repr)."""
import warnings

import numpy as np

from ..autograd.grad_mode import no_grad
from ..tensor import Size, Tensor
from . import constraints
from .utils import lazy_property

__all__ = ['Distribution']


def _all_true(valid):
    return bool(np.all(valid._data)) if isinstance(valid, Tensor) else bool(np.all(valid))


class Distribution:
    """Base class of probability distributions: ``batch_shape`` (independent parameter sets) and
    ``event_shape`` (the shape of one sample); ``validate_args`` checks parameters and scored values."""

    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__

    @staticmethod
    def set_default_validate_args(value):
        """Turn argument validation on or off for every distribution created afterwards."""
        if value not in [True, False]:
            raise ValueError
        Distribution._validate_args = value

    def __init__(self, batch_shape=Size(), event_shape=Size(), validate_args=None):
        self._batch_shape = batch_shape
        self._event_shape = event_shape
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            self._check_args()
        super().__init__()

    def _check_args(self):
        """Check every parameter against its constraint (PyTorch's ValueError otherwise)."""
        try:
            arg_constraints = self.arg_constraints
        except NotImplementedError:
            arg_constraints = {}
            warnings.warn(f'{self.__class__} does not define `arg_constraints`. Please set `arg_constraints = {{}}` '
                          'or initialize the distribution with `validate_args=False` to turn off validation.',
                          stacklevel=3)
        for param, constraint in arg_constraints.items():
            if constraints.is_dependent(constraint):
                continue
            if param not in self.__dict__ and isinstance(getattr(type(self), param), lazy_property):
                continue
            value = getattr(self, param)
            if not _all_true(constraint.check(value)):
                raise ValueError(f'Expected parameter {param} ({type(value).__name__} of shape '
                                 f'{tuple(value.shape)}) of distribution {self!r} to satisfy the constraint '
                                 f'{constraint!r}, but found invalid values:\n{value}')

    def expand(self, batch_shape, _instance=None):
        """A new distribution whose parameters are expanded to ``batch_shape`` (views, no copies)."""
        raise NotImplementedError

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    @property
    def arg_constraints(self):
        raise NotImplementedError

    @property
    def support(self):
        raise NotImplementedError

    @property
    def mean(self):
        raise NotImplementedError

    @property
    def mode(self):
        raise NotImplementedError(f'{self.__class__} does not implement mode')

    @property
    def variance(self):
        raise NotImplementedError

    @property
    def stddev(self):
        return self.variance.sqrt()

    def sample(self, sample_shape=Size()):
        """Draw ``sample_shape`` samples (no gradient)."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=Size()):
        """Draw reparameterized samples (differentiable in the parameters)."""
        raise NotImplementedError

    def sample_n(self, n):
        """Deprecated: ``sample((n,))``."""
        warnings.warn('`sample_n(n)` will be deprecated. Use `sample((n,))` instead.', FutureWarning, stacklevel=2)
        return self.sample(Size((n,)))

    def log_prob(self, value):
        raise NotImplementedError

    def cdf(self, value):
        raise NotImplementedError

    def icdf(self, value):
        raise NotImplementedError

    def enumerate_support(self, expand=True):
        raise NotImplementedError

    def entropy(self):
        raise NotImplementedError

    def perplexity(self):
        """exp(entropy)."""
        return self.entropy().exp()

    def _extended_shape(self, sample_shape=Size()):
        """``sample_shape + batch_shape + event_shape``."""
        if not isinstance(sample_shape, Size):
            sample_shape = Size(sample_shape)
        return Size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    def _validate_sample(self, value):
        """PyTorch's checks of a value to score: a tensor, matching event shape, broadcastable, in the support."""
        if not isinstance(value, Tensor):
            raise ValueError('The value argument to log_prob must be a Tensor')
        event_dim_start = len(value.size()) - len(self._event_shape)
        if value.size()[event_dim_start:] != self._event_shape:
            raise ValueError(f'The right-most size of value must match event_shape: {value.size()} vs '
                             f'{self._event_shape}.')
        actual_shape = value.size()
        expected_shape = Size(tuple(self._batch_shape) + tuple(self._event_shape))
        for i, j in zip(reversed(actual_shape), reversed(expected_shape)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f'Value is not broadcastable with batch_shape+event_shape: {actual_shape} vs '
                                 f'{expected_shape}.')
        try:
            support = self.support
        except NotImplementedError:
            warnings.warn(f'{self.__class__} does not define `support` to enable sample validation. Please '
                          'initialize the distribution with `validate_args=False` to turn off validation.',
                          stacklevel=2)
            return
        if not _all_true(support.check(value)):
            raise ValueError(f'Expected value argument ({type(value).__name__} of shape {tuple(value.shape)}) '
                             f'to be within the support ({support!r}) of the distribution {self!r}, but found '
                             f'invalid values:\n{value}')

    def _get_checked_instance(self, cls, _instance=None):
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(f'Subclass {self.__class__.__name__} of {cls.__name__} that defines a custom '
                                      '__init__ method must also define a custom .expand() method.')
        return self.__new__(type(self)) if _instance is None else _instance

    def _expanded(self, cls, batch_shape, _instance, params, event_shape=None):
        """The body of most ``expand`` methods: a new ``cls`` instance holding ``params`` (name -> expanded
        tensor), unvalidated, with this instance's ``validate_args``."""
        new = self._get_checked_instance(cls, _instance)
        for name, value in params.items():
            setattr(new, name, value)
        event_shape = self._event_shape if event_shape is None else event_shape
        Distribution.__init__(new, Size(batch_shape), event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def __repr__(self):
        param_names = [k for k in self.arg_constraints if k in self.__dict__]
        args_string = ', '.join(f'{p}: {self.__dict__[p] if self.__dict__[p].numel() == 1 else self.__dict__[p].size()}'
                                for p in param_names)
        return self.__class__.__name__ + '(' + args_string + ')'
