"""Bessel functions of the first and second kinds of orders 0 and 1, J0, J1, Y0, Y1, on float32 or float64
NumPy arrays in their own precision, by the method of PyTorch's CPU kernels (Cephes's j0, j1, y0, y1): up to 5 a
rational function of x^2 (times the factors that vanish at J's first zeros, plus (2/pi) log(x) J for Y), beyond
it Hankel's asymptotic form sqrt(2 / (pi x)) (P cos(x - phase) -+ (5/x) Q sin(x - phase)) with P and Q rational in
(5/x)^2, each step rounded as PyTorch's (see ``_cephes``). Y is NaN for x < 0 and -inf at 0; all four are NaN at
+-inf (cos and sin of inf), as PyTorch's are.

PyTorch's kernels sum the rational functions' denominators without the leading coefficient 1 that Cephes's p1evl
implies, so they are accurate to about 1e-7 only, between about 1 and 40 (J0(8) is 0.171650809 there, 0.171650807
in fact): ember computes PyTorch's values (the tables below are its, with their count of terms)."""
import numpy as np

from ._cephes import cos, fma, horner, log, piecewise, sin, sqrt, table

# the asymptotic P and Q of order 0 (J0 and Y0)
_P0 = table((
    7.96936729297347051624e-04, 8.28352392107440799803e-02, 1.23953371646414299388e+00, 5.44725003058768775090e+00,
    8.74716500199817011941e+00, 5.30324038235394892183e+00, 9.99999999999999997821e-01))
_P0D = table((
    9.24408810558863637013e-04, 8.56288474354474431428e-02, 1.25352743901058953537e+00, 5.47097740330417105182e+00,
    8.76190883237069594232e+00, 5.30605288235394617618e+00, 1.00000000000000000218e+00))
_Q0 = table((
    -1.13663838898469149931e-02, -1.28252718670509318512e+00, -1.95539544257735972385e+01,
    -9.32060152123768231369e+01, -1.77681167980488050595e+02, -1.47077505154951170175e+02,
    -5.14105326766599330220e+01, -6.05014350600728481186e+00))
_Q0D = table((
    6.43178256118178023184e+01, 8.56430025976980587198e+02, 3.88240183605401609683e+03, 7.24046774195652478189e+03,
    5.93072701187316984827e+03, 2.06209331660327847417e+03, 2.42005740240291393179e+02))
# and of order 1 (J1 and Y1)
_P1 = table((
    7.62125616208173112003e-04, 7.31397056940917570436e-02, 1.12719608129684925192e+00, 5.11207951146807644818e+00,
    8.42404590141772420927e+00, 5.21451598682361504063e+00, 1.00000000000000000254e+00))
_P1D = table((
    5.71323128072548699714e-04, 6.88455908754495404082e-02, 1.10514232634061696926e+00, 5.07386386128601488557e+00,
    8.39985554327604159757e+00, 5.20982848682361821619e+00, 9.99999999999999997461e-01))
_Q1 = table((
    5.10862594750176621635e-02, 4.98213872951233449420e+00, 7.58238284132545283818e+01, 3.66779609360150777800e+02,
    7.10856304998926107277e+02, 5.97489612400613639965e+02, 2.11688757100572135698e+02, 2.52070205858023719784e+01))
_Q1D = table((
    7.42373277035675149943e+01, 1.05644886038262816351e+03, 4.98641058337653607651e+03, 9.56231892404756170795e+03,
    7.99704160447350683650e+03, 2.82619278517639096600e+03, 3.36093607810698293419e+02))
# J0 and J1 up to 5, rational in x^2 (numerator and denominator)
_J0N = table((
    -4.79443220978201773821e+09, 1.95617491946556577543e+12, -2.49248344360967716204e+14, 9.70862251047306323952e+15))
_J0D = table((
    4.99563147152651017219e+02, 1.73785401676374683123e+05, 4.84409658339962045305e+07, 1.11855537045356834862e+10,
    2.11277520115489217587e+12, 3.10518229857422583814e+14, 3.18121955943204943306e+16, 1.71086294081043136091e+18))
_J1N = table((
    -8.99971225705559398224e+08, 4.52228297998194034323e+11, -7.27494245221818276015e+13, 3.68295732863852883286e+15))
_J1D = table((
    6.20836478118054335476e+02, 2.56987256757748830383e+05, 8.35146791431949253037e+07, 2.21511595479792499675e+10,
    4.74914122079991414898e+12, 7.84369607876235854894e+14, 8.95222336184627338078e+16, 5.32278620332680085395e+18))
# Y0 and Y1 up to 5, less (2/pi) log(x) J (and, for Y1, less -2 / (pi x))
_Y0N = table((
    1.55924367855235737965e+04, -1.46639295903971606143e+07, 5.43526477051876500413e+09, -9.82136065717911466409e+11,
    8.75906394395366999549e+13, -3.46628303384729719441e+15, 4.42733268572569800351e+16, -1.84950800436986690637e+16))
_Y0D = table((
    1.04128353664259848412e+03, 6.26107330137134956842e+05, 2.68919633393814121987e+08, 8.64002487103935000337e+10,
    2.02979612750105546709e+13, 3.17157752842975028269e+15, 2.50596256172653059228e+17))
_Y1N = table((
    1.26320474790178026440e+09, -6.47355876379160291031e+11, 1.14509511541823727583e+14, -8.12770255501325109621e+15,
    2.02439475713594898196e+17, -7.78877196265950026825e+17))
_Y1D = table((
    5.94301592346128195359e+02, 2.35564092943068577943e+05, 7.34811944459721705660e+07, 1.87601316108706159478e+10,
    3.88231277496238566008e+12, 6.20557727146953693363e+14, 6.87141087355300489866e+16, 3.97270608116560655612e+18))

_J0_ZEROS_SQ = (5.78318596294678452118e+00, 3.04712623436620863991e+01)   # squares of J0's first two zeros
_J1_ZEROS_SQ = (1.46819706421238932572e+01, 4.92184563216946036703e+01)   # and of J1's
_PIO4, _3PIO4 = 0.785398163397448309615660845819875721, 2.356194490192344928846982537459627163
_SQ2OPI = 0.797884560802865355879892119868763737   # sqrt(2 / pi)
_TWOOPI = 0.636619772367581343075535053490057448   # 2 / pi


def _asymptotic(x, order, second):
    """J (or Y when ``second``) of order 0 or 1 beyond 5: sqrt(2/(pi x)) (P c - (5/x) Q s) for J, with
    c, s = cos, sin of x - phase, and (P s + (5/x) Q c) for Y."""
    t = x.dtype.type
    if order == 0:
        w = t(25.0) / (x * x)
        p, pd, q, qd, phase = _P0, _P0D, _Q0, _Q0D, _PIO4
    else:
        w = (t(5.0) / x) * (t(5.0) / x)
        p, pd, q, qd, phase = _P1, _P1D, _Q1, _Q1D, _3PIO4
    u = x - t(phase)
    c, s = cos(u), sin(u)
    pq = horner(w, p) / horner(w, pd)
    qq = t(5.0) / x * (horner(w, q) / horner(w, qd))
    r = fma(pq, s, qq * c) if second else fma(pq, c, -(qq * s))
    return r * t(_SQ2OPI) / sqrt(x)


def _j0_near(x):
    """J0 of 0 <= x <= 5: 1 - x^2/4 below 1e-5, else (x^2 - z1^2)(x^2 - z2^2) N(x^2) / D(x^2)."""
    t = x.dtype.type
    z = x * x
    tiny = x < t(0.00001)
    r = (z - t(_J0_ZEROS_SQ[0])) * (z - t(_J0_ZEROS_SQ[1])) * horner(z, _J0N) / horner(z, _J0D)
    return np.where(tiny, t(1.0) - z / t(4.0), r)


def _j1_near(x):
    """J1 of 0 <= x <= 5: N(x^2) / D(x^2) x (x^2 - z1^2)(x^2 - z2^2)."""
    t = x.dtype.type
    z = x * x
    return horner(z, _J1N) / horner(z, _J1D) * x * (z - t(_J1_ZEROS_SQ[0])) * (z - t(_J1_ZEROS_SQ[1]))


def j0(x):
    ax = np.abs(x)
    return piecewise(ax, np.nan, ((ax <= 5.0, _j0_near), (True, lambda v: _asymptotic(v, 0, False))))


def j1(x):
    ax = np.abs(x)
    r = piecewise(ax, np.nan, ((ax <= 5.0, _j1_near), (True, lambda v: _asymptotic(v, 1, False))))
    return np.where(np.signbit(x), -r, r)    # odd, and -0 at -0 as PyTorch's x * ... gives it


def _y0_near(x):
    """Y0 of 0 < x <= 5: N(x^2) / D(x^2) + (2/pi) log(x) J0(x)."""
    z = x * x
    return fma(x.dtype.type(_TWOOPI) * log(x), _j0_near(x), horner(z, _Y0N) / horner(z, _Y0D))


def _y1_near(x):
    """Y1 of 0 < x <= 5: x N(x^2) / D(x^2) + (2/pi) (J1(x) log(x) - 1/x)."""
    t = x.dtype.type
    z = x * x
    return fma(x, horner(z, _Y1N) / horner(z, _Y1D), t(_TWOOPI) * fma(_j1_near(x), log(x), -(t(1.0) / x)))


def y0(x):
    return piecewise(x, np.nan, ((x == 0, lambda v: np.full_like(v, -np.inf)), (x < 0, lambda v: v * np.nan),
                                 (x <= 5.0, _y0_near), (True, lambda v: _asymptotic(v, 0, True))))


def y1(x):
    return piecewise(x, np.nan, ((x == 0, lambda v: np.full_like(v, -np.inf)), (x < 0, lambda v: v * np.nan),
                                 (x <= 5.0, _y1_near), (True, lambda v: _asymptotic(v, 1, True))))
