"""The Airy function Ai on float32 or float64 NumPy arrays in their own precision, by the method of PyTorch's CPU
kernel (Cephes's airy, its Ai only): the Maclaurin series f(x) Ai(0) - g(x) |Ai'(0)| on [-2.09, 2.09), summed for
each element until its own term falls below the dtype's epsilon; beyond, the asymptotic forms with rational
corrections in 1/zeta (zeta = 2 x^(3/2) / 3), decaying for x >= 2.09 (0 past 103.892) and oscillating below -2.09.
NaN at +-inf, as PyTorch's kernel gives it. As in PyTorch's J and Y kernels (see ``_bessel_jy``), the
oscillating form's denominators lack Cephes's leading 1: its values (ember's too) are 3e-6 off near -2.1, 5e-9
near -4, 1e-13 relative near -5.5."""
import math

import numpy as np

from ._cephes import cos, exp, fma, horner, piecewise, sin, sqrt, table

_AN = table((
    3.46538101525629032477e-01, 1.20075952739645805542e+01, 7.62796053615234516538e+01, 1.68089224934630576269e+02,
    1.59756391350164413639e+02, 7.05360906840444183113e+01, 1.40264691163389668864e+01, 9.99999999999999995305e-01))
_AD = table((
    5.67594532638770212846e-01, 1.47562562584847203173e+01, 8.45138970141474626562e+01, 1.77318088145400459522e+02,
    1.64234692871529701831e+02, 7.14778400825575695274e+01, 1.40959135607834029598e+01, 1.00000000000000000470e+00))
_AFN = table((
    -1.31696323418331795333e-01, -6.26456544431912369773e-01, -6.93158036036933542233e-01,
    -2.79779981545119124951e-01, -4.91900132609500318020e-02, -4.06265923594885404393e-03,
    -1.59276496239262096340e-04, -2.77649108155232920844e-06, -1.67787698489114633780e-08))
_AFD = table((
    1.33560420706553243746e+01, 3.26825032795224613948e+01, 2.67367040941499554804e+01, 9.18707402907259625840e+00,
    1.47529146771666414581e+00, 1.15687173795188044134e-01, 4.40291641615211203805e-03, 7.54720348287414296618e-05,
    4.51850092970580378464e-07))
_AGN = table((
    1.97339932091685679179e-02, 3.91103029615688277255e-01, 1.06579897599595591108e+00, 9.39169229816650230044e-01,
    3.51465656105547619242e-01, 6.33888919628925490927e-02, 5.85804113048388458567e-03, 2.82851600836737019778e-04,
    6.98793669997260967291e-06, 8.11789239554389293311e-08, 3.41551784765923618484e-10))
_AGD = table((
    9.30892908077441974853e+00, 1.98352928718312140417e+01, 1.55646628932864612953e+01, 5.47686069422975497931e+00,
    9.54293611618961883998e-01, 8.64580826352392193095e-02, 4.12656523824222607191e-03, 1.01259085116509135510e-04,
    1.17166733214413521882e-06, 4.91834570062930015649e-09))
_SQPII = 5.64189583547756286948e-01   # 1 / sqrt(pi)
_C1, _C2 = 0.355028053887817239260, 0.258819403792806798405   # Ai(0) and -Ai'(0)


def _oscillating(x):
    """Ai(x) for x < -2.09: (sin(t) (1 + z^2 F(z^2)) - cos(t) z G(z^2)) / (sqrt(pi) |x|^(1/4)), z = 1/zeta,
    t = zeta + pi/4."""
    t = x.dtype.type
    zeta = t(-2.0) * x * sqrt(-x) / t(3.0)
    z = t(1.0) / zeta
    zz = z * z
    f = t(1.0) + zz * horner(zz, _AFN) / horner(zz, _AFD)
    g = z * horner(zz, _AGN) / horner(zz, _AGD)
    ph = zeta + t(0.25) * t(math.pi)
    return t(_SQPII) / sqrt(sqrt(-x)) * fma(sin(ph), f, -(cos(ph) * g))


def _decaying(x):
    """Ai(x) for x >= 2.09: e^-zeta N(1/zeta) / D(1/zeta) / (2 sqrt(pi) x^(1/4))."""
    t = x.dtype.type
    zeta = t(2.0) * x * sqrt(x) / t(3.0)
    w = t(1.0) / zeta
    return t(_SQPII) * (horner(w, _AN) / horner(w, _AD)) / (t(2.0) * sqrt(sqrt(x)) * exp(zeta))


def _series(x):
    """Ai(x) = Ai(0) f(x) + Ai'(0) g(x), f and g the Maclaurin series in x^3, each element summed until its last
    term of f is within epsilon of f (the count PyTorch's loop takes; NaN stops at once)."""
    t = x.dtype.type
    eps = np.finfo(x.dtype).eps
    f, g, m, n = np.ones_like(x), x.copy(), np.ones_like(x), x.copy()
    z = x * x * x
    k = t(1.0)
    live = np.arange(x.size)
    while live.size:
        zl = z[live]
        ml = m[live] * zl / (k + t(1.0))
        nl = n[live] * zl / (k + t(2.0))
        ml = ml / (k + t(2.0))
        fl = f[live] + ml
        nl = nl / (k + t(3.0))
        k = k + t(3.0)
        m[live], n[live], f[live] = ml, nl, fl
        g[live] += nl
        live = live[np.abs(ml / fl) > eps]
    return fma(np.full_like(f, _C1), f, -(t(_C2) * g))


def airy_ai(x):
    return piecewise(x, np.nan, ((np.isinf(x), lambda v: v * np.nan), (x > x.dtype.type(103.892), np.zeros_like),
                                 (x < x.dtype.type(-2.09), _oscillating), (x >= x.dtype.type(2.09), _decaying),
                                 (True, _series)))
