"""The Gamma distribution, with reparameterized samples through implicit differentiation of the sampler."""
import numbers

import numpy as np

import ember as ops  # the torch-level namespace (broadcast_tensors, lgamma...): ember is loaded by now
from ..autograd import dual
from ..autograd.grad_mode import GRAD
from ..autograd.graph import Node
from ..ops.special import _digamma
from ..tensor import Size, Tensor
from . import constraints
from .exp_family import ExponentialFamily
from .utils import _finfo, broadcast_all

__all__ = ['Gamma']


def _draw_standard_gamma(alpha):
    """Gamma(alpha, 1) draws: PyTorch's sampler when ``ember.ops.random`` provides ``_standard_gamma``; until
    then NumPy's, seeded by one draw from ember's default generator (reproducible under ``manual_seed``,
    but not PyTorch's numbers)."""
    from ..ops import random
    native = getattr(random, '_standard_gamma', None)
    if native is not None:
        return native(Tensor._make(alpha))._data
    seed = int(random.randint(0, 2 ** 62, (1,)).item())
    return np.random.default_rng(seed).standard_gamma(alpha.astype(np.float64)).astype(alpha.dtype)


def _standard_gamma_grad(x, alpha):
    """dx/dalpha of a Gamma(alpha, 1) sample x at fixed CDF value (implicit reparameterization):
    -(dP(alpha, x)/dalpha) / pdf(x). Below x = alpha + 1 from the series of the regularized incomplete gamma
    P; above it from the continued fraction of Q = 1 - P (where the series cancels); a normal approximation
    above alpha = 1000."""
    a = np.asarray(alpha, np.float64)
    xs = np.maximum(np.asarray(x, np.float64), np.finfo(np.float64).tiny)
    series = _gamma_grad_series(xs, a)
    tail = (xs > a + 1) & (a <= 1000)
    if tail.any():
        series[tail] = _gamma_grad_tail(xs[tail], a[tail] if a.ndim else np.full(tail.sum(), a))
    return series.astype(np.asarray(x).dtype)


def _log_cf_upper(a, x):
    """log of the continued fraction h with Q(a, x) = exp(-x) x^a h / Gamma(a) (modified Lentz, x > a + 1)."""
    tiny = 1e-300
    b = x + 1 - a
    c = np.full_like(x, 1 / tiny)
    d = 1 / b
    h = d.copy()
    for i in range(1, 2000):
        an = -i * (i - a)
        b = b + 2
        d = an * d + b
        d = np.where(np.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = np.where(np.abs(c) < tiny, tiny, c)
        d = 1 / d
        delta = d * c
        h = h * delta
        if np.all(np.abs(delta - 1) < 1e-16):
            break
    return np.log(h)


def _gamma_grad_tail(xs, a):
    """dQ/da / pdf = x h (ln x - psi(a) + d ln h / da), the derivative of ln h by central differences."""
    step = 1e-5 * np.maximum(a, 1.0)
    dlog_h = (_log_cf_upper(a + step, xs) - _log_cf_upper(a - step, xs)) / (2 * step)
    return xs * np.exp(_log_cf_upper(a, xs)) * (np.log(xs) - _digamma(a) + dlog_h)


def _gamma_grad_series(xs, a):
    """The series sum_n u_n (psi(a + n + 1) - ln x), u_n = x^(n+1) / (a (a+1) ... (a+n))."""
    with np.errstate(all='ignore'):
        log_x = np.log(xs)
        u = xs / a
        psi = _digamma(a) + 1 / a
        total = u * (psi - log_x)
        n = 0
        limit = int(min(np.max(xs, initial=0.0) + 10 * np.sqrt(np.max(xs, initial=0.0)) + 40, 20000))
        while n < limit:
            n += 1
            psi = psi + 1 / (a + n)
            u = u * xs / (a + n)
            total = total + u * (psi - log_x)
            if n > 5 and np.all(np.abs(u * (psi - log_x)) <= 1e-17 * np.abs(total)):
                break
        return np.where(a > 1000, 1 + (xs - a) / (2 * a), total)


class StandardGammaBackward0(Node):
    """Gradient of a Gamma(alpha, 1) sample with respect to alpha (once differentiable, as in PyTorch)."""
    __slots__ = ()

    def backward(self, g):
        alpha, x = self.saved()
        grad = _standard_gamma_grad(dual.data(x), dual.data(alpha))
        return g * (grad if dual.is_array(g) else dual.const(grad, g))


def _standard_gamma(concentration):
    """``torch._standard_gamma``: Gamma(concentration, 1) samples, differentiable in the concentration."""
    x = _draw_standard_gamma(concentration._data)
    if GRAD.enabled and concentration.requires_grad:
        node = StandardGammaBackward0((concentration,))
        out = Tensor._make(x, node)
        node.save(concentration)
        node.save_output(out)
        return out
    return Tensor._make(x)


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
        """Gamma(concentration, 1) draws divided by the rate; gradients by implicit reparameterization."""
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

    def entropy(self):
        return (self.concentration - ops.log(self.rate) + ops.lgamma(self.concentration)
                + (1.0 - self.concentration) * ops.digamma(self.concentration))

    @property
    def _natural_params(self):
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x, y):
        return ops.lgamma(x + 1) + (x + 1) * ops.log(-y.reciprocal())
