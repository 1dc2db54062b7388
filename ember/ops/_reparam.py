"""PyTorch's approximations of reparameterized gradients (``ATen/native/Distributions.h``), element by
element in the same operation order and precision, so ``rsample`` gradients of Gamma, Beta and Dirichlet
print PyTorch's digits: ``standard_gamma_grad`` (``torch._standard_gamma_grad``) and ``dirichlet_grad``
(``torch._dirichlet_grad``). float32 inputs compute partly in float (scalar_t) and partly in double
(accscalar_t) exactly where PyTorch's kernels do; float math functions come from the C library's
``logf``/``powf`` as PyTorch's do (double-then-round where that library is not reachable)."""
import ctypes
import ctypes.util
import math

import numpy as np

F = np.float32
_F08, _F09, _F11 = float(F(0.8)), float(F(0.9)), float(F(1.1))   # PyTorch's float literals, in double
_PSI_10 = 2.25175258906672110764
_DIGAMMA_A = (8.33333333333333333333E-2, -2.10927960927960927961E-2, 7.57575757575757575758E-3,
              -4.16666666666666666667E-3, 3.96825396825396825397E-3, -8.33333333333333333333E-3,
              8.33333333333333333333E-2)
_BIG = float(F(1.0e17))


def _c_float_functions():
    """``logf`` and ``powf`` of the C library (what PyTorch's float kernels call), or None."""
    try:
        libm = ctypes.CDLL(ctypes.util.find_library('m') or 'libm.so.6')
        logf, powf = libm.logf, libm.powf
    except (OSError, AttributeError, TypeError):
        return None
    logf.restype, logf.argtypes = ctypes.c_float, [ctypes.c_float]
    powf.restype, powf.argtypes = ctypes.c_float, [ctypes.c_float, ctypes.c_float]
    return logf, powf


_CF = _c_float_functions()


def _logf(x):
    return F(_CF[0](x)) if _CF else F(math.log(x)) if x > 0 else F(np.log(F(x)))


def _powf(x, y):
    if _CF:
        return F(_CF[1](x, y))
    try:
        return F(math.pow(x, y))
    except (ValueError, OverflowError):
        return F(np.power(F(x), F(y)))


def _polevl(x, coef):
    r = 0.0
    for c in coef:
        r = r * x + c
    return r


def _digamma_tail(result, x, log_x, half_over_x, xx):
    """The asymptotic end of ``digamma_one`` once x >= 10 (result: the recurrence's sum)."""
    y = 0.0
    if x < _BIG:
        z = 1.0 / xx
        y = z * _polevl(z, _DIGAMMA_A)
    return result + log_x - half_over_x - y


def digamma_d(x):
    """``digamma_one<double, double>`` for x > 0."""
    if x == 0:
        return math.inf
    result = 0.0
    while x < 10:
        result -= 1 / x
        x += 1
    if x == 10:
        return result + _PSI_10
    return _digamma_tail(result, x, math.log(x), 0.5 / x, x * x)


def digamma_f(x):
    """``digamma_one<float, double>`` for x > 0: x steps in float, the sum in double, a float result."""
    x = F(x)
    if x == 0:
        return F(math.inf)
    result = 0.0
    while x < 10:
        result -= float(F(1) / x)
        x = x + F(1)
    if x == 10:
        return F(result + _PSI_10)
    return F(_digamma_tail(result, float(x), float(_logf(x)), float(F(0.5) / x), float(x * x)))


def standard_gamma_grad(alpha, x):
    """``standard_gamma_grad_one<scalar_t, double>``: -(d/dalpha cdf(x; alpha)) / pdf(x; alpha) for a
    Gamma(alpha, 1) sample x, by a Taylor series (small x), Rice's saddle point (large alpha) or a
    bivariate rational approximation."""
    x, alpha = float(x), float(alpha)
    if x < _F08:
        numer, denom = 1.0, alpha
        s1, s2 = numer / denom, numer / (denom * denom)
        for i in range(1, 6):
            numer *= -x / i
            denom += 1
            s1 += numer / denom
            s2 += numer / (denom * denom)
        try:
            pow_x_alpha = math.pow(x, alpha)
            pdf = math.pow(x, alpha - 1) * math.exp(-x)
            cdf = pow_x_alpha * s1
            cdf_alpha = (math.log(x) - digamma_d(alpha)) * cdf - pow_x_alpha * s2
            result = -cdf_alpha / pdf
        except (ValueError, ZeroDivisionError, OverflowError):
            return 0.0
        return 0.0 if math.isnan(result) else result
    if alpha > 8.0:
        if _F09 * alpha <= x <= _F11 * alpha:
            numer_1 = 1 + 24 * alpha * (1 + 12 * alpha)
            numer_2 = 1440 * (alpha * alpha) + 6 * x * (53 - 120 * x) - 65 * x * x / alpha + alpha * (107 + 3600 * x)
            denom = 1244160 * (alpha * alpha) * (alpha * alpha)
            return numer_1 * numer_2 / denom
        denom = math.sqrt(8 * alpha)
        term2 = denom / (alpha - x)
        term3 = math.pow(x - alpha - alpha * math.log(x / alpha), -1.5)
        term23 = term2 - term3 if x < alpha else term2 + term3
        term1 = math.log(x / alpha) * term23 - math.sqrt(2 / alpha) * (alpha + x) / ((alpha - x) * (alpha - x))
        stirling = 1 + 1 / (12 * alpha) * (1 + 1 / (24 * alpha))
        return -stirling * (x * term1) / denom
    u, v = math.log(x / alpha), math.log(alpha)
    cv = [c0 + u * (c1 + u * c2) for c0, c1, c2 in zip(*_GAMMA_UV)]
    p = cv[0] + v * (cv[1] + v * (cv[2] + v * cv[3]))
    q = cv[4] + v * (cv[5] + v * (cv[6] + v * cv[7]))
    return math.exp(p / q)


_GAMMA_UV = ((0.16009398, -0.094634809, 0.025146376, -0.0030648343, 1, 0.32668115, 0.10406089, 0.0014179084),
             (0.53487893, 0.1298071, 0.065735949, -0.0015649758, 0.16639465, 0.020070113, -0.0035938915,
              -0.00058392623),
             (0.040121004, -0.0065914022, -0.0026286047, -0.0013441777, 0.017050642, -0.0021309326,
              0.00085092367, -1.5247877e-07))


class _Double:
    """scalar_t = double: the arithmetic helpers the Beta-gradient formulas use."""
    t = float
    digamma = staticmethod(digamma_d)
    log = staticmethod(math.log)

    @staticmethod
    def pow(x, y):
        try:
            return math.pow(x, y)
        except (ValueError, OverflowError):
            return math.nan


class _Float:
    """scalar_t = float: every operation rounds to float32, as PyTorch's float kernel does."""
    t = F
    digamma = staticmethod(digamma_f)
    log = staticmethod(_logf)
    pow = staticmethod(_powf)


def _isnan_to_zero(r):
    return type(r)(0) if np.isnan(r) else r


def _beta_grad_alpha_small(S, x, alpha, beta):
    """d/dalpha of a Beta(alpha, beta) sample near 0 (Taylor expansion), in scalar_t."""
    one = S.t(1)
    factor = S.digamma(alpha) - S.digamma(alpha + beta) - S.log(x)
    numer = one
    series = numer / alpha * (factor + one / alpha)
    for i in range(1, 11):
        ci = S.t(i)
        numer *= (ci - beta) * x / ci
        denom = alpha + ci
        series += numer / denom * (factor + one / denom)
    return _isnan_to_zero(x * S.pow(one - x, -beta) * series)


def _beta_grad_beta_small(S, x, alpha, beta):
    """d/dbeta of a Beta(alpha, beta) sample near 0 (Taylor expansion), in scalar_t."""
    one = S.t(1)
    factor = S.digamma(alpha + beta) - S.digamma(beta)
    numer, betas, dbetas, series = one, one, S.t(0), factor / alpha
    for i in range(1, 9):
        ci = S.t(i)
        numer *= -x / ci
        dbetas = dbetas * (beta - ci) + betas
        betas = betas * (beta - ci)
        series += numer / (alpha + ci) * (dbetas + factor * betas)
    return _isnan_to_zero(-S.pow(one - x, one - beta) * series)


def _beta_grad_alpha_mid(x, alpha, beta):
    """d/dalpha of a Beta sample when alpha and beta are both large (Rice saddle point), in double."""
    total = alpha + beta
    mean = alpha / total
    std = math.sqrt(alpha * beta / (total + 1)) / total
    if mean - 0.1 * std <= x <= mean + 0.1 * std:
        poly = 47 * x * (beta * beta) * (beta * beta) + alpha * (
            (43 + 20 * (16 + 27 * beta) * x) * (beta * beta) * beta + alpha * (
                3 * (59 + 180 * beta - 90 * x) * (beta * beta) + alpha * (
                    (453 + 1620 * beta * (1 - x) - 455 * x) * beta + alpha * (8 * (1 - x) * (135 * beta - 11)))))
        prefactor_num = (1 + 12 * alpha) * (1 + 12 * beta) / (total * total)
        prefactor_den = 12960 * alpha * alpha * alpha * beta * beta * (1 + 12 * total)
        return prefactor_num / (1 - x) * poly / prefactor_den
    prefactor = -x / math.sqrt(2 * alpha * beta / total)
    stirling = ((1 + 1 / (12 * alpha) + 1 / (288 * alpha * alpha)) * (1 + 1 / (12 * beta) + 1 / (288 * beta * beta))
                / (1 + 1 / (12 * total) + 1 / (288 * total * total)))
    term1_num = 2 * (alpha * alpha) * (x - 1) + alpha * beta * (x - 1) - x * (beta * beta)
    axbx = alpha * (x - 1) + beta * x
    term1_den = math.sqrt(2 * alpha / beta) * math.pow(total, 1.5) * axbx * axbx
    term1 = term1_num / term1_den
    term2 = 0.5 * math.log(alpha / (total * x))
    term3 = math.sqrt(8 * alpha * beta / total) / (beta * x + alpha * (x - 1))
    term4 = math.pow(beta * math.log(beta / (total * (1 - x))) + alpha * math.log(alpha / (total * x)), -1.5)
    term1234 = term1 + term2 * (term3 + (term4 if x < mean else -term4))
    return stirling * prefactor * term1234


_DIRICHLET_C = (
    (((1.003668233, -0.01061107488, -0.0657888334, 0.01201642863),
      (0.6336835991, -0.3557432599, 0.05486251648, -0.001465281033),
      (-0.03276231906, 0.004474107445, 0.002429354597, -0.0001557569013)),
     ((0.221950385, -0.3187676331, 0.01799915743, 0.01074823814),
      (-0.2951249643, 0.06219954479, 0.01535556598, 0.001550077057),
      (0.02155310298, 0.004170831599, 0.001292462449, 6.976601077e-05)),
     ((-0.05980841433, 0.008441916499, 0.01085618172, 0.002319392565),
      (0.02911413504, 0.01400243777, -0.002721828457, 0.000751041181),
      (0.005900514878, -0.001936558688, -9.495446725e-06, 5.385558597e-05))),
    (((1, -0.02924021934, -0.04438342661, 0.007285809825),
      (0.6357567472, -0.3473456711, 0.05454656494, -0.002407477521),
      (-0.03301322327, 0.004845219414, 0.00231480583, -0.0002307248149)),
     ((0.5925320577, -0.1757678135, 0.01505928619, 0.000564515273),
      (0.1014815858, -0.06589186703, 0.01272886114, -0.0007316646956),
      (-0.007258481865, 0.001096195486, 0.0003934994223, -4.12701925e-05)),
     ((0.06469649321, -0.0236701437, 0.002902096474, -5.896963079e-05),
      (0.001925008108, -0.002869809258, 0.0008000589141, -6.063713228e-05),
      (-0.0003477407336, 6.959756487e-05, 1.097287507e-05, -1.650964693e-06))))


def dirichlet_grad(x, alpha, total, S):
    """``dirichlet_grad_one<scalar_t, double>``: the reparameterized gradient of a Beta(alpha, total -
    alpha) sample x with respect to alpha, divided by (1 - x). S is _Float or _Double (scalar_t)."""
    x_, alpha_, total_ = float(x), float(alpha), float(total)
    x, alpha, total = S.t(x), S.t(alpha), S.t(total)
    beta, beta_ = total - alpha, total_ - alpha_
    boundary = total * x * (S.t(1) - x)
    if x <= 0.5 and boundary < 2.5:
        return _beta_grad_alpha_small(S, x, alpha, beta)
    if x >= 0.5 and boundary < 0.75:
        return -_beta_grad_beta_small(S, S.t(1) - x, beta, alpha)
    if alpha > 6 and beta > 6:
        return _beta_grad_alpha_mid(x_, alpha_, beta_)
    u = math.log(x_)
    a = math.log(alpha_) - u
    b = math.log(total_) - a
    pow_u, pow_a = (1.0, u, u * u), (1.0, a, a * a)
    p = q = 0.0
    for i in range(3):
        for j in range(3):
            ua = pow_u[i] * pow_a[j]
            cp, cq = _DIRICHLET_C[0][i][j], _DIRICHLET_C[1][i][j]
            p += ua * (cp[0] + b * (cp[1] + b * (cp[2] + b * cp[3])))
            q += ua * (cq[0] + b * (cq[1] + b * (cq[2] + b * cq[3])))
    approx = x_ * float(S.digamma(total_) - S.digamma(alpha_)) / beta_
    return p / q * approx


def standard_gamma_grad_array(alpha, x):
    """``torch._standard_gamma_grad(alpha, x)`` over arrays of one float dtype (element by element)."""
    alpha, x = np.broadcast_arrays(alpha, x)
    vals = [standard_gamma_grad(a, v) for a, v in zip(alpha.ravel().tolist(), x.ravel().tolist())]
    with np.errstate(all='ignore'):
        return np.array(vals, np.float64).astype(x.dtype).reshape(x.shape)


def dirichlet_grad_array(x, alpha, total):
    """``torch._dirichlet_grad(x, alpha, total)`` over arrays of one float dtype (element by element)."""
    x, alpha, total = np.broadcast_arrays(x, alpha, total)
    S = _Double if x.dtype == np.float64 else _Float
    with np.errstate(all='ignore'):
        vals = [float(dirichlet_grad(a, b, c, S))
                for a, b, c in zip(x.ravel().tolist(), alpha.ravel().tolist(), total.ravel().tolist())]
    with np.errstate(all='ignore'):
        return np.array(vals, np.float64).astype(x.dtype).reshape(x.shape)
