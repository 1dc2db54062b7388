"""The LKJ distribution over Cholesky factors of correlation matrices (Lewandowski, Kurowicka and Joe, 2009),
sampled by the onion method as PyTorch does (Beta draws, then normals)."""
import math

import ember as ops  # the torch-level namespace (randn, mvlgamma...): ember is loaded by now
from ..autograd.grad_mode import no_grad
from ..tensor import Size
from . import constraints
from .beta import Beta
from .distribution import Distribution
from .utils import _finfo, broadcast_all

__all__ = ['LKJCholesky']


class LKJCholesky(Distribution):
    """LKJ over ``dim`` x ``dim`` correlation Cholesky factors: density proportional to det(L L^T) ** (eta - 1)
    with eta = ``concentration``."""

    arg_constraints = {'concentration': constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim, concentration=1.0, validate_args=None):
        if dim < 2:
            raise ValueError(f'Expected dim to be an integer greater than or equal to 2. Found dim={dim}.')
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        # the Beta marginals of the onion method (Sec. 3.2 of the paper), vectorized over the rows
        marginal_conc = self.concentration + 0.5 * (self.dim - 2)
        offset = ops.arange(self.dim - 1, dtype=self.concentration.dtype)
        offset = ops.cat([offset.new_zeros((1,)), offset])
        self._beta = Beta(offset + 0.5, marginal_conc.unsqueeze(-1) - 0.5 * offset)
        super().__init__(self.concentration.size(), Size((dim, dim)), validate_args)

    def expand(self, batch_shape, _instance=None):
        batch_shape = Size(batch_shape)
        return self._expanded(LKJCholesky, batch_shape, _instance,
                              dict(dim=self.dim, concentration=self.concentration.expand(batch_shape),
                                   _beta=self._beta.expand(tuple(batch_shape) + (self.dim,))))

    def sample(self, sample_shape=Size()):
        """Onion method on the Cholesky factor: row i is sqrt(y_i) times a uniform direction in its first i
        coordinates (y_i ~ Beta), with the diagonal completing the unit norm."""
        with no_grad():
            y = self._beta.sample(sample_shape).unsqueeze(-1)
            u_normal = ops.randn(self._extended_shape(sample_shape), dtype=y.dtype).tril(-1)
            u_hypersphere = u_normal / u_normal.norm(dim=-1, keepdim=True)
            u_hypersphere[..., 0, :].fill_(0.0)       # the first row was 0 / 0
            w = ops.sqrt(y) * u_hypersphere
            eps = float(_finfo(w.dtype).tiny)
            diag_elems = ops.clamp(1 - ops.sum(w ** 2, dim=-1), min=eps).sqrt()
            return w + ops.diag_embed(diag_elems)

    def log_prob(self, value):
        """sum_i (2 (eta - 1) + D - i) log L_ii minus the normalizer (Stan's Cholesky LKJ density)."""
        if self._validate_args:
            self._validate_sample(value)
        diag_elems = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = ops.arange(2, self.dim + 1)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized_log_pdf = ops.sum(order * diag_elems.log(), dim=-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        denominator = ops.lgamma(alpha) * dm1
        numerator = ops.mvlgamma(alpha - 0.5, dm1)
        # the paper's pi constant is D (D - 1) / 4 log(pi), multigammaln's (D - 1)(D - 2) / 4 log(pi)
        pi_constant = 0.5 * dm1 * math.log(math.pi)
        return unnormalized_log_pdf - (pi_constant + numerator - denominator)
