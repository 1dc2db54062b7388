"""NumPy's floating-point warnings off while ember computes: PyTorch gives inf/NaN silently, NumPy warns
("overflow encountered in exp"). backend's module filter hides those raised in ember's frames under the default
filters; a user's ``simplefilter('error')`` (or 'always') goes before it, so a NumPy call in a function of
NumPy's own (np.mean's), a backward pass, a reduction, a cast scope it here with ``enter()``/``leave(token)``,
and the smallest ops, which cannot afford that, catch the error and run ``again`` quietly (a try costs nothing). The
user's NumPy is untouched, and the user's code that a backward pass calls (a hook, a custom Function's backward) runs
under the user's state again (``outside``)."""
import functools

import numpy as np

try:
    # np.errstate is ~1-2 us a use (a small float32 op is ~1 us); setting its context variable to a
    # prebuilt quiet state directly is ~0.2 us (np.add of (4, 4), min of 25 interleaved runs: 352 plain,
    # 2307 under np.errstate, 564 with the variable set, load ~3)
    import contextvars

    from numpy._core._ufunc_config import _extobj_contextvar as _VAR
    with np.errstate(all='ignore'):
        _QUIET = _VAR.get()
    _DEFAULT = contextvars.Context().run(_VAR.get)     # NumPy's own state, where nothing was set

    def enter():
        return _VAR.set(_QUIET)

    def leave(token):
        _VAR.reset(token)

    def _before(token):
        old = token.old_value
        return _VAR.set(_DEFAULT if old is contextvars.Token.MISSING else old)
except ImportError:     # a NumPy without the variable: the public context manager
    def enter():
        s = np.errstate(all='ignore')
        s.__enter__()
        return s

    def leave(token):
        token.__exit__(None, None, None)

    def _before(token):
        s = np.errstate(**token.oldstate)
        s.__enter__()
        return s


def quietly(fn):
    """``fn`` with NumPy's warnings off throughout: for an op (a reduction, a fused op) whose several NumPy
    calls may each meet inf/NaN, one switch around all of them."""
    def run(*args, **kwargs):
        return again(fn, *args, **kwargs)
    return functools.update_wrapper(run, fn)


def again(fn, *args, **kwargs):
    """``fn(*args)`` with NumPy's warnings off: an op's rerun after NumPy's warning was raised as an error (on a
    path where a switch each call would cost more than the op: nothing is recorded before its NumPy call)."""
    q = enter()
    try:
        return fn(*args, **kwargs)
    finally:
        leave(q)


def rerun(fn):
    """``fn`` run as it is, and ``again`` quietly where a user's filter raised NumPy's warning as an error: for an
    op on a hot path (cross_entropy's) whose warnings, under default filters, come from ember's frames (hidden by
    backend's module filter) and whose rerun repeats nothing outside it (a graph half built is dropped)."""
    def run(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except RuntimeWarning:
            return again(fn, *args, **kwargs)
    return functools.update_wrapper(run, fn)


def outside(token, fn, *args):
    """``fn(*args)`` under the NumPy error state in force before ``token``'s ``enter``: the user's code that an
    ember pass calls (a custom autograd.Function's backward) warns as it would under PyTorch."""
    q = _before(token)
    try:
        return fn(*args)
    finally:
        leave(q)
