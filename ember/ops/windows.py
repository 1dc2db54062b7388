"""Window functions (``torch.hann_window``, ``hamming_window``, ``blackman_window``, ``bartlett_window``,
``kaiser_window``), computed as PyTorch's CPU kernels do: in the requested dtype, step by step (an arange scaled,
its cosine, scaled and shifted), so that float32 windows round as PyTorch's."""
import math

import numpy as np

from .. import _dtype
from ..tensor import Tensor


def _checks(name, window_length, dtype, layout, device, requires_grad):
    """PyTorch's window_function_checks; the NumPy dtype of the window."""
    from .creation import _factory
    _factory(device, layout, False, name)
    d = _dtype.DEFAULT.dtype if dtype is None else dtype
    if not d.is_floating_point:
        grad = 'true' if requires_grad else 'false (default)'
        raise RuntimeError(f'{name} expects floating point dtypes, got: TensorOptions(dtype={_dtype.cpp_name(d)}, '
                           f'device=cpu, layout=Strided (default), requires_grad={grad}, pinned_memory=false, '
                           'memory_format=(nullopt))')
    if window_length < 0:
        raise RuntimeError(f'{name} requires non-negative window_length, got window_length={window_length}')
    return d.np


def _window(name, window_length, periodic, dtype, layout, device, requires_grad, body):
    """A window of ``window_length`` points: ``body(n, np_dtype)`` over n points (one more when periodic, the last
    dropped); length 0 and 1 give an empty tensor and [1], as PyTorch."""
    nd = _checks(name, window_length, dtype, layout, device, requires_grad)
    if window_length == 0:
        w = np.zeros(0, nd)
    elif window_length == 1:
        w = np.ones(1, nd)
    else:
        n = window_length + 1 if periodic else window_length
        w = body(n, nd)[:window_length]
    t = Tensor._make(np.ascontiguousarray(w, nd))
    return t.requires_grad_(True) if requires_grad else t


def _hamming_body(alpha, beta):
    def body(n, nd):
        t = nd.type
        w = np.arange(n, dtype=nd) * t(math.pi * 2.0 / (n - 1))
        return np.cos(w) * t(-beta) + t(alpha)
    return body


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None, device=None,
                   requires_grad=False, pin_memory=False):
    """alpha - beta cos(2 pi n / (N - 1)) (N: one more point when ``periodic``, the last dropped)."""
    return _window('hamming_window', window_length, periodic, dtype, layout, device, requires_grad,
                   _hamming_body(alpha, beta))


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False,
                pin_memory=False):
    """The Hann window, 0.5 - 0.5 cos(2 pi n / (N - 1)) (a Hamming window with alpha = beta = 0.5)."""
    return _window('hann_window', window_length, periodic, dtype, layout, device, requires_grad,
                   _hamming_body(0.5, 0.5))


def _blackman(n, nd):
    t = nd.type
    w = np.arange(n, dtype=nd) * t(math.pi / (n - 1))
    return np.cos(w * t(4)) * t(0.08) - np.cos(w * t(2)) * t(0.5) + t(0.42)


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False,
                    pin_memory=False):
    """The Blackman window, 0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))."""
    return _window('blackman_window', window_length, periodic, dtype, layout, device, requires_grad, _blackman)


def _bartlett(n, nd):
    w = np.arange(n, dtype=nd) * nd.type(2.0 / (n - 1))
    half = ((n - 1) >> 1) + 1
    w[half:] = w[half:] * nd.type(-1) + nd.type(2)
    return w


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False,
                    pin_memory=False):
    """The triangular Bartlett window: 2n / (N - 1) rising, then 2 - 2n / (N - 1)."""
    return _window('bartlett_window', window_length, periodic, dtype, layout, device, requires_grad, _bartlett)


def _kaiser_body(beta):
    def body(n, nd):
        t = nd.type
        alpha = t((n - 1) / 2.0)
        x = (np.arange(n, dtype=nd) - alpha) / alpha
        arg = t(beta) * np.sqrt(np.abs(t(1) - x * x))
        return (np.i0(arg.astype(np.float64)) / np.i0(float(beta))).astype(nd)
    return body


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None, device=None,
                  requires_grad=False, pin_memory=False):
    """The Kaiser window, I0(beta sqrt(1 - ((n - a) / a)^2)) / I0(beta) with a = (N - 1) / 2 (I0: the modified
    Bessel function of order 0)."""
    return _window('kaiser_window', window_length, periodic, dtype, layout, device, requires_grad,
                   _kaiser_body(beta))
