"""The multivariate normal distribution, parameterized by a covariance, a precision or a Cholesky factor."""
import math

import ember as ops  # the torch-level namespace (broadcast_tensors, lgamma...): ember is loaded by now
from .. import linalg
from ..tensor import Size
from . import constraints
from .distribution import Distribution
from .utils import _standard_normal, lazy_property

__all__ = ['MultivariateNormal']


def _batch_mv(bmat, bvec):
    """Batched matrix-vector product with broadcasting batch dims."""
    return ops.matmul(bmat, bvec.unsqueeze(-1)).squeeze(-1)


def _batch_mahalanobis(bL, bx):
    """x^T (L L^T)^-1 x for lower-triangular ``bL`` broadcast against the vectors ``bx``."""
    n = bx.size(-1)
    batch = Size(ops.broadcast_shapes(tuple(bL.shape[:-2]), tuple(bx.shape[:-1])))
    sol = linalg.solve_triangular(bL.expand(tuple(batch) + (n, n)), bx.expand(tuple(batch) + (n,)).unsqueeze(-1),
                                  upper=False)
    return sol.squeeze(-1).pow(2).sum(-1)


def _precision_to_scale_tril(P):
    """The lower Cholesky factor of P^-1, through the Cholesky factor of P with its rows and columns reversed."""
    Lf = linalg.cholesky(ops.flip(P, (-2, -1)))
    L_inv = ops.transpose(ops.flip(Lf, (-2, -1)), -2, -1)
    eye = ops.eye(P.shape[-1], dtype=P.dtype)
    return linalg.solve_triangular(L_inv, eye.expand(tuple(L_inv.shape)), upper=False)


class MultivariateNormal(Distribution):
    """Multivariate normal with mean ``loc`` and exactly one of ``covariance_matrix``, ``precision_matrix``
    or ``scale_tril`` (the lower Cholesky factor of the covariance, used internally)."""

    arg_constraints = {'loc': constraints.real_vector, 'covariance_matrix': constraints.positive_definite,
                       'precision_matrix': constraints.positive_definite, 'scale_tril': constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None, validate_args=None):
        if loc.dim() < 1:
            raise ValueError('loc must be at least one-dimensional.')
        if (covariance_matrix is not None) + (scale_tril is not None) + (precision_matrix is not None) != 1:
            raise ValueError('Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified.')
        name, matrix = next((n, m) for n, m in (('scale_tril', scale_tril), ('covariance_matrix', covariance_matrix),
                                               ('precision_matrix', precision_matrix)) if m is not None)
        if matrix.dim() < 2:
            raise ValueError(f'{name} matrix must be at least two-dimensional, with optional leading batch dimensions'
                             if name == 'scale_tril' else
                             f'{name} must be at least two-dimensional, with optional leading batch dimensions')
        batch_shape = Size(ops.broadcast_shapes(tuple(matrix.shape[:-2]), tuple(loc.shape[:-1])))
        setattr(self, name, matrix.expand(tuple(batch_shape) + (-1, -1)))
        self.loc = loc.expand(tuple(batch_shape) + (-1,))
        super().__init__(batch_shape, self.loc.shape[-1:], validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = linalg.cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)

    def expand(self, batch_shape, _instance=None):
        batch_shape = Size(batch_shape)
        cov_shape = tuple(batch_shape) + tuple(self.event_shape) * 2
        params = dict(loc=self.loc.expand(tuple(batch_shape) + tuple(self.event_shape)),
                      _unbroadcasted_scale_tril=self._unbroadcasted_scale_tril)
        for name in ('covariance_matrix', 'scale_tril', 'precision_matrix'):
            if name in self.__dict__:
                params[name] = self.__dict__[name].expand(cov_shape)
        return self._expanded(MultivariateNormal, batch_shape, _instance, params)

    def _matrix_shape(self):
        return tuple(self._batch_shape) + tuple(self._event_shape) * 2

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self):
        L = self._unbroadcasted_scale_tril
        return ops.matmul(L, L.mT).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self):
        L = self._unbroadcasted_scale_tril
        eye = ops.eye(L.shape[-1], dtype=L.dtype).expand(tuple(L.shape))
        L_inv = linalg.solve_triangular(L, eye, upper=False)
        return ops.matmul(L_inv.mT, L_inv).expand(self._matrix_shape())

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(tuple(self._batch_shape) + tuple(self._event_shape))

    def rsample(self, sample_shape=Size()):
        """``loc + L eps`` with standard normal ``eps``: differentiable in loc and the covariance."""
        shape = self._extended_shape(sample_shape)
        eps = _standard_normal(shape, dtype=self.loc.dtype)
        return self.loc + _batch_mv(self._unbroadcasted_scale_tril, eps)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        M = _batch_mahalanobis(self._unbroadcasted_scale_tril, diff)
        half_log_det = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + M) - half_log_det

    def entropy(self):
        half_log_det = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        H = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + half_log_det
        if len(self._batch_shape) == 0:
            return H
        return H.expand(self._batch_shape)
