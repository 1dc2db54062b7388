"""Fit the polynomials of ember/ops/_special.py (erf, erfc, and GELU's normal CDF in float32) with mpmath and print
them as Python source.

Each piece is the Chebyshev interpolant of its function on its interval, computed in 200-bit arithmetic
and written in powers of (t - centre) (GELU's float32 CDF: in powers of a scaled t, monic); the script also
reports each piece's worst relative error when evaluated in float64 by Horner's rule, in units of 2**-52.
Run: python tools/special_coefficients.py (needs mpmath, which PyTorch's install brings; ember itself does not)."""
import mpmath as mp
import numpy as np

mp.mp.prec = 200


def _erf_over_x(y):
    """erf(sqrt(y)) / sqrt(y): erf(x) = x * S(x*x) for |x| < 2."""
    return mp.erf(mp.sqrt(y)) / mp.sqrt(y) if y > 0 else 2 / mp.sqrt(mp.pi)


def _log2_phi_over_x(y):
    """log2(1 / Phi(sqrt(y)) - 1) / sqrt(y): Phi(x) = 1 / (1 + 2**(x * W(x*x))) for |x| < 2 sqrt(2)."""
    if y == 0:
        return -2 * mp.sqrt(2 / mp.pi) / mp.log(2)
    return mp.log(1 / mp.ncdf(mp.sqrt(y)) - 1, 2) / mp.sqrt(y)


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
          ('_ERFC_ASYM', _erfc_asym, (0, 1 / 16), 13))
# GELU's CDF in float32 (ndtr_f32): monic in t = s * y, just past y = 8 so that t's rounding stays inside
MONIC = ('_PHI_LOG2_F32', _log2_phi_over_x, (0, 8.05), 5, 8)


def fit_monic(f, a, b, n):
    """(s, coefficients of degree 0..n-1) with f(y) = P(s * y), P monic of degree n: the Chebyshev interpolant
    of f on [a, b] in powers of y, its leading coefficient (positive) scaled to 1."""
    coefs, c = fit(f, a, b, n)
    co = [mp.mpf(0)] * (n + 1)
    for j, cj in enumerate(coefs):      # powers of (y - c) expanded into powers of y
        for i in range(j + 1):
            co[i] += cj * mp.binomial(j, i) * (-c) ** (j - i)
    s = co[n] ** (mp.mpf(1) / n)
    return float(s), [float(co[j] / s ** j) for j in range(n)]


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
    name, f, (a, b), n, bound = MONIC
    s, coefs = fit_monic(f, a, b, n)
    body = ',\n    '.join(', '.join(repr(v) for v in coefs[i:i + 3]) for i in range(0, len(coefs), 3))
    print(f'{name} = (np.float32({s!r}), tuple(np.float32(c) for c in (\n    {body})), np.float32({bound} * {s!r}))')
