"""Fit the polynomials of ember/ops/_special.py (erf, erfc, and GELU's normal CDF in float32) with mpmath and print them as Python source.

Each piece is the Chebyshev interpolant of its function on its interval, computed in 200-bit arithmetic
and written in powers of (t - centre); the script also reports each piece's worst relative error when
evaluated in float64 by Horner's rule, in units of 2**-52. Run: python tools/special_coefficients.py
(needs mpmath, which PyTorch's install brings; ember itself does not)."""
import mpmath as mp
import numpy as np

mp.mp.prec = 200


def _erf_over_x(y):
    """erf(sqrt(y)) / sqrt(y): erf(x) = x * S(x*x) for |x| < 2."""
    return mp.erf(mp.sqrt(y)) / mp.sqrt(y) if y > 0 else 2 / mp.sqrt(mp.pi)


def _atanh_phi_over_x(y):
    """atanh(2 Phi(sqrt(y)) - 1) / sqrt(y): Phi(x) = 1/2 + tanh(x * T(x*x)) / 2 for |x| < 2 sqrt(2)."""
    return mp.atanh(mp.erf(mp.sqrt(y / 2))) / mp.sqrt(y) if y > 0 else mp.sqrt(2 / mp.pi)


def _erfcx(x):
    """exp(x*x) * erfc(x): erfc(x) = exp(-x*x) * G(x) for x >= 0.5."""
    return mp.exp(x * x) * mp.erfc(x)


def _erfc_asym(s):
    """sqrt(pi) * x * exp(x*x) * erfc(x) in s = 1 / (x*x), for x >= 4."""
    return mp.sqrt(mp.pi) * _erfcx(1 / mp.sqrt(s)) / mp.sqrt(s) if s > 0 else mp.mpf(1)


# name, function, interval, degree (the lowest degree that reaches about one ulp)
PIECES = (('_ERF_SMALL', _erf_over_x, (0, 4), 16),
          ('_ERFCX_MID', _erfcx, (0.5, 2), 18),
          ('_ERFCX_HIGH', _erfcx, (2, 4), 18),
          ('_ERFC_ASYM', _erfc_asym, (0, 1 / 16), 13),
          ('_PHI_TANH_F32', _atanh_phi_over_x, (0, 8), 5))   # GELU's CDF inside float32 tanh: within its rounding


def fit(f, a, b, n):
    """Coefficients in powers of (t - c), and c, of the degree-n Chebyshev interpolant of f on [a, b]."""
    a, b = mp.mpf(a), mp.mpf(b)
    c, h = (a + b) / 2, (b - a) / 2
    nodes = [mp.cos(mp.pi * (k + mp.mpf(1) / 2) / (n + 1)) for k in range(n + 1)]
    vandermonde = mp.matrix([[u ** j for j in range(n + 1)] for u in nodes])
    co = mp.lu_solve(vandermonde, mp.matrix([f(c + h * u) for u in nodes]))
    return [float(co[j] / h ** j) for j in range(n + 1)], float(c)


def worst_error(f, coefs, c, a, b, n=2000):
    t = np.linspace(a, b, n)
    r = np.full_like(t, coefs[-1])
    for k in coefs[-2::-1]:
        r = r * (t - c) + k
    ref = np.array([float(f(mp.mpf(float(v)))) for v in t])
    return float(np.max(np.abs(r - ref) / np.abs(ref)) / 2.0 ** -52)


if __name__ == '__main__':
    for name, f, (a, b), n in PIECES:
        coefs, c = fit(f, a, b, n)
        print(f'# {f.__doc__.split(":")[0]} on [{a}, {b}], degree {n}: worst error '
              f'{worst_error(f, coefs, c, a, b):.2f} x 2**-52')
        body = ',\n    '.join(', '.join(repr(v) for v in coefs[i:i + 3]) for i in range(0, len(coefs), 3))
        print(f'{name} = ({c!r}, (\n    {body}))\n')
