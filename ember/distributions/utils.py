"""Helpers shared by the distributions: broadcasting parameters, logits <-> probs, lazy properties."""
import functools
import numbers

import numpy as np

import ember as ops  # the torch-level namespace (broadcast_tensors, lgamma...): ember is loaded by now
from .._dtype import DEFAULT
from ..autograd.grad_mode import enable_grad
from ..tensor import Size, Tensor

__all__ = ['broadcast_all', 'logits_to_probs', 'clamp_probs', 'probs_to_logits', 'lazy_property',
           'tril_matrix_to_vec', 'vec_to_tril_matrix']

euler_constant = 0.57721566490153286060


def _finfo(dtype):
    """NumPy's finfo of a float tensor dtype (``torch.finfo``'s eps, tiny, min, max)."""
    return np.finfo(dtype.np if hasattr(dtype, 'np') else dtype)


def broadcast_all(*values):
    """Tensors broadcast together; numbers become tensors of the first tensor's dtype (default dtype if none)."""
    if not all(isinstance(v, (Tensor, numbers.Number)) for v in values):
        raise ValueError('Input arguments must all be instances of Number, torch.Tensor or objects implementing '
                         '__torch_function__.')
    if not all(isinstance(v, Tensor) for v in values):
        dtype = next((v.dtype for v in values if isinstance(v, Tensor)), DEFAULT.dtype)
        values = [v if isinstance(v, Tensor) else ops.tensor(v, dtype=dtype) for v in values]
    return ops.broadcast_tensors(*values)


def _standard_normal(shape, dtype, device=None):
    """Standard normal draws of ``shape`` (``torch.empty(shape).normal_()``, as PyTorch draws them)."""
    return ops.empty(shape, dtype=dtype).normal_()


def _sum_rightmost(value, dim):
    """Sum out the ``dim`` rightmost dims."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


def logits_to_probs(logits, is_binary=False):
    """Probabilities from logits: sigmoid for binary log-odds, softmax over the last dim otherwise."""
    if is_binary:
        return ops.sigmoid(logits)
    return ops.softmax(logits, dim=-1)


def clamp_probs(probs):
    """Probabilities clamped to [eps, 1 - eps] (eps of the dtype)."""
    eps = float(_finfo(probs.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """Logits from probabilities (log-odds when ``is_binary``), clamped away from 0 and 1 first."""
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return ops.log(ps_clamped) - ops.log1p(-ps_clamped)
    return ops.log(ps_clamped)


class lazy_property:
    """A property computed on first access (with grad enabled) and then stored on the instance."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        functools.update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):
    """What a lazy property looks like on the class: both a property and a lazy_property."""

    def __init__(self, wrapped):
        property.__init__(self, wrapped)


class _ByParam:
    """``param_shape`` and ``_new`` of a distribution that keeps the parameter it was given as ``_param``."""

    @property
    def param_shape(self):
        return self._param.size()

    def _new(self, *args, **kwargs):
        return self._param.new(*args, **kwargs)


class _ByCategorical:
    """A distribution built on a wrapped ``Categorical`` (``_categorical``): its shapes, ``probs``, ``logits``,
    ``param_shape``, ``_new`` and ``expand`` all come from that Categorical."""

    def _wrap_categorical(self, categorical, validate_args):
        """Keep ``categorical``; its batch shape is ours, its event count our one event dim."""
        self._categorical = categorical
        super().__init__(categorical.batch_shape, categorical.param_shape[-1:], validate_args=validate_args)

    def _expand_categorical(self, cls, batch_shape, _instance, **params):
        """The body of ``expand``: a new ``cls`` on the expanded Categorical, carrying ``params`` over."""
        batch_shape = Size(batch_shape)
        return self._expanded(cls, batch_shape, _instance,
                              dict(params, _categorical=self._categorical.expand(batch_shape)))

    def _new(self, *args, **kwargs):
        return self._categorical._new(*args, **kwargs)

    @property
    def param_shape(self):
        return self._categorical.param_shape

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits


class _BinaryProbs:
    """The ``probs``/``logits`` pair of a two-outcome parametrisation: the one not given is derived on first use."""

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)


class _Rate:
    """``__init__`` and ``expand`` of a one-``rate`` family: the rate gives the batch shape, ``()`` when it was a
    Python number. ``_family`` names the class ``expand`` builds."""

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(Size() if isinstance(rate, numbers.Number) else self.rate.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        batch_shape = Size(batch_shape)
        return self._expanded(self._family, batch_shape, _instance, dict(rate=self.rate.expand(batch_shape)))


class _LocScale:
    """``__init__`` and ``expand`` of a (``loc``, ``scale``) family: the two broadcast together and give the batch
    shape, which is ``()`` when both were Python numbers. ``_family`` names the class ``expand`` builds."""

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        scalar = isinstance(loc, numbers.Number) and isinstance(scale, numbers.Number)
        super().__init__(Size() if scalar else self.loc.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        batch_shape = Size(batch_shape)
        return self._expanded(self._family, batch_shape, _instance,
                              dict(loc=self.loc.expand(batch_shape), scale=self.scale.expand(batch_shape)))


def tril_matrix_to_vec(mat, diag=0):
    """The lower-triangular entries (from diagonal ``diag``) of a (batched) square matrix, row by row."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f'diag ({diag}) provided is outside [{-n}, {n - 1}].')
    rows, cols = np.tril_indices(n, diag)
    return mat[..., Tensor._make(rows), Tensor._make(cols)]


def vec_to_tril_matrix(vec, diag=0):
    """The inverse of ``tril_matrix_to_vec``."""
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * vec.shape[-1] + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    eps = float(_finfo(vec.dtype).eps)
    if round(n) - n > eps:
        raise ValueError(f'The size of last dimension is {vec.shape[-1]} which cannot be expressed as the '
                         'lower triangular part of a square D x D matrix.')
    n = round(n.item()) if isinstance(n, Tensor) else round(n)
    mat = ops.zeros(tuple(vec.shape[:-1]) + (n, n), dtype=vec.dtype)
    rows, cols = np.tril_indices(n, diag)
    mat[..., Tensor._make(rows), Tensor._make(cols)] = vec
    return mat
