"""``torch.special``: the special functions under their SciPy-style names. Most are ember's ops under
another name, as in PyTorch (``expit`` is ``sigmoid``, ``gammaln`` is ``lgamma``); the Bessel, zeta and
incomplete-gamma families import but are not supported yet."""
import math

from . import aliasing
from .autograd import dual as _dual
from .ops import pointwise as _pointwise, reduction as _reduction, special as _special

erf, erfc, erfinv = _pointwise.erf, _pointwise.erfc, _pointwise.erfinv
expit, exp2, expm1, log1p, round = (_pointwise.sigmoid, _pointwise.exp2, _pointwise.expm1, _pointwise.log1p,
                                    _pointwise.round)
gammaln, digamma, psi, polygamma = _special.lgamma, _special.digamma, _special.digamma, _special.polygamma
multigammaln, xlogy, xlog1py = _special.mvlgamma, _special.xlogy, _special.xlog1py
logit, sinc, entr, ndtri = _special.logit, _special.sinc, _special.entr, _special.ndtri
logsumexp = _reduction.logsumexp

_SQRT1_2 = 1 / math.sqrt(2.0)


def _ndtr_arr(a):
    return 0.5 * (1 + _pointwise._special.erf(a * _SQRT1_2))


# PyTorch composes ndtr as (1 + erf(x / sqrt 2)) * 0.5: its grad_fn is that product's, MulBackward1
ndtr = _pointwise.unary('ndtr', _pointwise._precise(_ndtr_arr), 'MulBackward1',
                        lambda g, x, y: g * math.sqrt(0.5 / math.pi) * _dual.exp(x * x * -0.5),
                        doc='The standard normal CDF.')


def softmax(input, dim, *, dtype=None):
    return _reduction.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    return _reduction.log_softmax(input, dim, dtype=dtype)


for _name in ('airy_ai', 'bessel_j0', 'bessel_j1', 'bessel_y0', 'bessel_y1', 'chebyshev_polynomial_t',
              'chebyshev_polynomial_u', 'chebyshev_polynomial_v', 'chebyshev_polynomial_w', 'erfcx', 'gammainc',
              'gammaincc', 'hermite_polynomial_h', 'hermite_polynomial_he', 'i0', 'i0e', 'i1', 'i1e',
              'laguerre_polynomial_l', 'legendre_polynomial_p', 'log_ndtr', 'modified_bessel_i0', 'modified_bessel_i1',
              'modified_bessel_k0', 'modified_bessel_k1', 'scaled_modified_bessel_k0', 'scaled_modified_bessel_k1',
              'shifted_chebyshev_polynomial_t', 'shifted_chebyshev_polynomial_u', 'shifted_chebyshev_polynomial_v',
              'shifted_chebyshev_polynomial_w', 'spherical_bessel_j0', 'zeta'):
    globals()[_name] = aliasing.unsupported_function(f'torch.special.{_name}')
del _name
# the incomplete gamma functions are ember's igamma/igammac (the loop above stubs the whole family first)
gammainc, gammaincc = _special.igamma, _special.igammac
