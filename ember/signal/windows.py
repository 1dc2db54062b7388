"""``torch.signal.windows``: window functions of length M (symmetric, or periodic with ``sym=False``), composed of
ember's ops in PyTorch's order (a linspace, then elementwise functions), so that values, dtypes and, with
``requires_grad=True``, graphs come out as PyTorch's."""
import math
from collections.abc import Iterable

from .. import _dtype, _layout
from ..ops import creation, pointwise, reduction

__all__ = ['bartlett', 'blackman', 'cosine', 'exponential', 'gaussian', 'general_cosine', 'general_hamming',
           'hamming', 'hann', 'kaiser', 'nuttall']


def _check(name, M, dtype, layout):
    """The dtype (the default when None), after PyTorch's checks of a window's length, layout and dtype."""
    dtype = dtype or _dtype.get_default_dtype()
    if M < 0:
        raise ValueError(f'{name} requires non-negative window length, got M={M}')
    if layout is not None and layout is not _layout.strided:
        raise ValueError(f'{name} is implemented for strided tensors only, got: {layout}')
    if dtype not in (_dtype.float32, _dtype.float64):
        raise ValueError(f'{name} expects float32 or float64 dtypes, got: {dtype}')
    return dtype


def _trivial(M, dtype, requires_grad):
    """The window of length 0 or 1 (empty, or one 1), or None for longer ones."""
    if M == 0:
        return creation.empty((0,), dtype=dtype, requires_grad=requires_grad)
    if M == 1:
        return creation.ones((1,), dtype=dtype, requires_grad=requires_grad)
    return None


def _line(start, end, M, dtype, requires_grad):
    return creation.linspace(start, end, M, dtype=dtype, requires_grad=requires_grad)


def exponential(M, *, center=None, tau=1.0, sym=True, dtype=None, layout=_layout.strided, device=None,
                requires_grad=False):
    """exp(-|n - center| / tau)."""
    dtype = _check('exponential', M, dtype, layout)
    if tau <= 0:
        raise ValueError(f'Tau must be positive, got: {tau} instead.')
    if sym and center is not None:
        raise ValueError('Center must be None for symmetric windows')
    if M == 0:
        return _trivial(M, dtype, requires_grad)
    if center is None:
        center = (M if not sym and M > 1 else M - 1) / 2.0
    k = _line(-center / tau, (-center + (M - 1)) / tau, M, dtype, requires_grad)
    return pointwise.exp(-pointwise.abs(k))


def cosine(M, *, sym=True, dtype=None, layout=_layout.strided, device=None, requires_grad=False):
    """sin(pi (n + 1/2) / M), the sine window."""
    dtype = _check('cosine', M, dtype, layout)
    if M == 0:
        return _trivial(M, dtype, requires_grad)
    step = math.pi / (M + 1 if not sym and M > 1 else M)
    return pointwise.sin(_line(0.5 * step, (0.5 + (M - 1)) * step, M, dtype, requires_grad))


def gaussian(M, *, std=1.0, sym=True, dtype=None, layout=_layout.strided, device=None, requires_grad=False):
    """exp(-(n - (M - 1) / 2)^2 / (2 std^2))."""
    dtype = _check('gaussian', M, dtype, layout)
    if std <= 0:
        raise ValueError(f'Standard deviation must be positive, got: {std} instead.')
    if M == 0:
        return _trivial(M, dtype, requires_grad)
    start = -(M if not sym and M > 1 else M - 1) / 2.0
    scale = 1 / (std * math.sqrt(2))
    k = _line(start * scale, (start + (M - 1)) * scale, M, dtype, requires_grad)
    return pointwise.exp(-(k ** 2))


def kaiser(M, *, beta=12.0, sym=True, dtype=None, layout=_layout.strided, device=None, requires_grad=False):
    """I0(beta sqrt(1 - (2n / (M - 1) - 1)^2)) / I0(beta)."""
    from ..ops import special
    dtype = _check('kaiser', M, dtype, layout)
    if beta < 0:
        raise ValueError(f'beta must be non-negative, got: {beta} instead.')
    if M <= 1:
        return _trivial(M, dtype, requires_grad)
    b = creation.tensor(beta, dtype=dtype)   # in the window's dtype, as PyTorch (no NaN from rounding)
    start = -b
    end = pointwise.minimum(b, start + (M - 1) * (2.0 * b / (M if not sym else M - 1)))
    k = _line(start.item(), end.item(), M, dtype, requires_grad)
    return special.i0(pointwise.sqrt(b * b - k ** 2)) / special.i0(b)


def hann(M, *, sym=True, dtype=None, layout=_layout.strided, device=None, requires_grad=False):
    """The Hann window, 1/2 - 1/2 cos(2 pi n / (M - 1))."""
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, layout=layout, requires_grad=requires_grad)


def hamming(M, *, sym=True, dtype=None, layout=_layout.strided, device=None, requires_grad=False):
    """The Hamming window, 0.54 - 0.46 cos(2 pi n / (M - 1))."""
    return general_hamming(M, sym=sym, dtype=dtype, layout=layout, requires_grad=requires_grad)


def bartlett(M, *, sym=True, dtype=None, layout=_layout.strided, device=None, requires_grad=False):
    """The triangular window, 1 - |2n / (M - 1) - 1|."""
    dtype = _check('bartlett', M, dtype, layout)
    if M <= 1:
        return _trivial(M, dtype, requires_grad)
    step = 2 / (M if not sym else M - 1)
    return 1 - pointwise.abs(_line(-1, -1 + (M - 1) * step, M, dtype, requires_grad))


def general_cosine(M, *, a, sym=True, dtype=None, layout=_layout.strided, device=None, requires_grad=False):
    """sum_i (-1)^i a_i cos(2 pi i n / (M - 1))."""
    dtype = _check('general_cosine', M, dtype, layout)
    if M <= 1:
        return _trivial(M, dtype, requires_grad)
    if not isinstance(a, Iterable):
        raise TypeError('Coefficients must be a list/tuple')
    if not a:
        raise ValueError('Coefficients cannot be empty')
    step = 2 * math.pi / (M if not sym else M - 1)
    k = _line(0, (M - 1) * step, M, dtype, requires_grad)
    coefs = creation.tensor([(-1) ** i * w for i, w in enumerate(a)], dtype=dtype, requires_grad=requires_grad)
    i = creation.arange(coefs.shape[0], dtype=coefs.dtype, requires_grad=coefs.requires_grad)
    return reduction.sum(coefs.unsqueeze(-1) * pointwise.cos(i.unsqueeze(-1) * k), 0)


def general_hamming(M, *, alpha=0.54, sym=True, dtype=None, layout=_layout.strided, device=None, requires_grad=False):
    """alpha - (1 - alpha) cos(2 pi n / (M - 1))."""
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout,
                          requires_grad=requires_grad)


def nuttall(M, *, sym=True, dtype=None, layout=_layout.strided, device=None, requires_grad=False):
    """Nuttall's minimum 4-term Blackman-Harris window."""
    return general_cosine(M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym, dtype=dtype, layout=layout,
                          requires_grad=requires_grad)


def blackman(M, *, sym=True, dtype=None, layout=_layout.strided, device=None, requires_grad=False):
    """The Blackman window, 0.42 - 0.5 cos(2 pi n / (M - 1)) + 0.08 cos(4 pi n / (M - 1))."""
    dtype = _check('blackman', M, dtype, layout)
    return general_cosine(M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, layout=layout, requires_grad=requires_grad)
