"""The orthogonal polynomials of ``torch.special`` (Chebyshev T, U, V, W and their shifted forms, Hermite H and He,
Laguerre L, Legendre P) at x for integer degrees n, elementwise over broadcast arrays, in the input's dtype and
with PyTorch's cases: 0 for n < 0, closed forms at the ends of [-1, 1], the trigonometric form for the Chebyshev
polynomials of high degree inside (-1, 1), else the three-term recurrence, run for all elements at once."""
import numpy as np

# Chebyshev kinds: their values at y = 1 and at y = -1, as functions of the degree n
_CHEB = {
    't': (lambda n: 1, lambda n: np.where(n % 2 == 0, 1, -1)),
    'u': (lambda n: n + 1, lambda n: np.where(n % 2 == 0, n + 1, -(n + 1))),
    'v': (lambda n: 1, lambda n: np.where(n % 2 == 0, n + n + 1, -(n + n + 1))),
    'w': (lambda n: n + n + 1, lambda n: np.where(n % 2 == 0, 1, -1)),
}


def _recur(out, todo, x, n, first, step):
    """Fill ``out[todo]`` (where n >= 1) with q_n of the recurrence q_{j+1} = step(j, x, q_{j-1}, q_j) from
    q_0 = 1 and q_1 = first(x)."""
    x, n = x[todo], n[todo]
    p, q = np.ones_like(x), first(x)
    j = 1
    while True:
        active = n > j
        if not active.any():
            break
        r = step(j, x, p, q)
        p = np.where(active, q, p)
        q = np.where(active, r, q)
        if np.isnan(q[active]).all():   # NaN stays NaN through the recurrence (PyTorch stops there too)
            break
        j += 1
    out[todo] = q


def _trig(kind, y, n, dt):
    """The Chebyshev polynomial of degree n at y = cos(theta) in (-1, 1), by its trigonometric form; where that
    form divides by 0, PyTorch's limits."""
    th = np.arccos(y)
    with np.errstate(all='ignore'):
        if kind == 't':
            return np.cos(n.astype(dt) * th)
        if kind == 'u':
            s = np.sin(th)
            return np.where(s != 0, np.sin((n + 1).astype(dt) * th) / s,
                            (n + 1).astype(dt) * np.cos((n + 1).astype(dt) * th) / y)
        half = th / dt.type(2.0)
        np1 = n.astype(dt) + dt.type(0.5)
        if kind == 'v':
            return np.where(np.sin(half) != 1, np.cos(np1 * th) / np.cos(half),
                            np.where(n % 2 == 0, n + n + 1, -(n + n + 1)).astype(dt))
        return np.where(np.cos(half) != 1, np.sin(np1 * th) / np.sin(half),
                        np.where(y > 0, n + n + 1, np.where(n % 2 == 0, 1, -1)).astype(dt))


def chebyshev(kind, x, n, shifted=False):
    """Chebyshev polynomial ``kind`` ('t', 'u', 'v', 'w') of degree n at x (at 2x - 1 when ``shifted``)."""
    at_one, at_minus_one = _CHEB[kind]
    dt = x.dtype
    one = dt.type(1.0)
    y = x + x - one if shifted else x
    out = np.zeros(x.shape, dt)
    live = n >= 0
    if shifted:
        top, bottom = live & (x == one), live & (x == 0)
    else:
        top, bottom = live & (np.abs(x) == one) & (x > 0), live & (np.abs(x) == one) & ~(x > 0)
    out[top] = np.broadcast_to(at_one(n), x.shape)[top]
    out[bottom] = np.broadcast_to(at_minus_one(n), x.shape)[bottom]
    live &= ~(top | bottom)
    above = {'t': 6, 'u': 8, 'v': 8, 'w': 8} if not shifted else {'t': 6, 'u': 6, 'v': 6, 'w': 4}
    trig = live & (n > above[kind]) & (np.abs(y) < one)
    if trig.any():
        out[trig] = _trig(kind, y[trig], n[trig], dt)
    live &= ~trig
    out[live & (n == 0)] = one
    rest = live & (n >= 1)
    if rest.any():
        first = {'t': lambda v: v, 'u': lambda v: v + v, 'v': lambda v: v + v - one, 'w': lambda v: v + v + one}
        _recur(out, rest, y, n, first[kind], lambda j, v, p, q: (v + v) * q - p)
    return out


def _hermite(x, n, first, step):
    """A Hermite polynomial by its recurrence, NaN beyond PyTorch's degree limit (128 in float32, 512 in float64)."""
    out = np.zeros(x.shape, x.dtype)
    out[n == 0] = 1
    limit = 128 if x.dtype == np.float32 else 512
    out[n > limit] = np.nan
    rest = (n >= 1) & (n <= limit)
    if rest.any():
        _recur(out, rest, x, n, first, step)
    return out


def hermite_h(x, n):
    """The physicists' Hermite polynomial H_n(x)."""
    k = x.dtype.type
    return _hermite(x, n, lambda v: v + v, lambda j, v, p, q: (v + v) * q - k(2 * j) * p)


def hermite_he(x, n):
    """The probabilists' Hermite polynomial He_n(x)."""
    k = x.dtype.type
    return _hermite(x, n, lambda v: v, lambda j, v, p, q: v * q - k(j) * p)


def laguerre_l(x, n):
    """The Laguerre polynomial L_n(x) (1 at x = 0)."""
    dt = x.dtype
    one = dt.type(1.0)
    out = np.zeros(x.shape, dt)
    out[(n >= 0) & ((x == 0) | (n == 0))] = one
    rest = (n >= 1) & (x != 0)
    if rest.any():
        _recur(out, rest, x, n, lambda v: one - v,
               lambda j, v, p, q: ((dt.type(j + j) + (one - v)) * q - dt.type(j) * p) / dt.type(j + 1))
    return out


def legendre_p(x, n):
    """The Legendre polynomial P_n(x) (+-1 at x = +-1)."""
    dt = x.dtype
    one = dt.type(1.0)
    out = np.zeros(x.shape, dt)
    ends = (n >= 0) & (np.abs(x) == one)
    out[ends] = np.where((x > 0) | (n % 2 == 0), one, -one)[ends]
    live = (n >= 0) & ~ends
    out[live & (n == 0)] = one
    rest = live & (n >= 1)
    if rest.any():
        _recur(out, rest, x, n, lambda v: v,
               lambda j, v, p, q: (dt.type(j + j + 1) * v * q - dt.type(j) * p) / dt.type(j + 1))
    return out
