"""``torch.fft``: discrete Fourier transforms on NumPy's pocketfft (float32 computed in float32, as PyTorch's
CPU kernels), with PyTorch's arguments (``n``/``s``, ``dim``, ``norm``), dtypes (float32 in, complex64 out;
integers as the default float) and errors; gradients are PyTorch's (``ember.fft._grad``)."""
import builtins

import numpy as np

from .. import _dtype
from ..autograd.grad_mode import GRAD as _GRAD
from ..tensor import Tensor
from ..ops._util import wrap_dim as _wrap_dim, check_tensor_args as _check_tensor_args
from . import _grad
from ..amp import _state as _autocast
from ._plan import plan_1d as _plan_1d, plan_nd as _plan_nd   # (private: torch.fft has no such names)

__all__ = ['fft', 'ifft', 'rfft', 'irfft', 'hfft', 'ihfft', 'fft2', 'ifft2', 'rfft2', 'irfft2', 'hfft2', 'ihfft2',
           'fftn', 'ifftn', 'rfftn', 'irfftn', 'hfftn', 'ihfftn', 'fftfreq', 'rfftfreq', 'fftshift', 'ifftshift']


def _run(plan, input, out):
    """Run ``plan`` on ``input`` (recording its node when input needs grad) and honour ``out=``."""
    r = plan.forward(plan.prepare(input))
    if _GRAD.enabled and input._requires_grad:
        t = _grad.record(plan, input, r)
    else:
        t = Tensor._make(r)
    if out is not None:
        from ..ops.inplace import write_out
        from ..ops._out import AD_NAME
        real = plan.kind in ('c2r', 'hfft')
        if real and not out.is_floating_point() or not real and not out.is_complex():   # checked before autograd
            short = plan.name[4:].replace('2', 'n')
            if not real and len(plan.axes) > 1 or plan.name in ('fft_fft2', 'fft_ifft2', 'fft_ifftn'):
                short = 'rfftn' if plan.kind == 'r2c' else 'fftn'
            raise RuntimeError(f'{short} expects a {"floating point" if real else "complex"} output tensor, but got '
                               f'{_dtype.scalar_name(out.dtype)}')
        return write_out(AD_NAME.get(plan.name, plan.name), t, out)
    return t


def _one(kind, name):
    def op(input, n=None, dim=-1, norm=None, *, out=None):
        try:
            return _run(_plan_1d(kind, name, input, n, dim, norm), input, out)
        except Exception:
            _check_tensor_args(name, 'input')
            raise
    op.__name__ = op.__qualname__ = name
    return op


def _many(kind, name, default_dim):
    def op(input, s=None, dim=default_dim, norm=None, *, out=None):
        try:
            return _run(_plan_nd(kind, name, input, s, dim, norm), input, out)
        except Exception:
            _check_tensor_args(name, 'input')
            raise
    op.__name__ = op.__qualname__ = name
    return op


fft = _one('c2c', 'fft_fft')
ifft = _one('c2c_inv', 'fft_ifft')
rfft = _one('r2c', 'fft_rfft')
irfft = _one('c2r', 'fft_irfft')
hfft = _one('hfft', 'fft_hfft')
ihfft = _one('ihfft', 'fft_ihfft')
fft2 = _many('c2c', 'fft_fft2', (-2, -1))
ifft2 = _many('c2c_inv', 'fft_ifft2', (-2, -1))
rfft2 = _many('r2c', 'fft_rfft2', (-2, -1))
irfft2 = _many('c2r', 'fft_irfft2', (-2, -1))
fftn = _many('c2c', 'fft_fftn', None)
ifftn = _many('c2c_inv', 'fft_ifftn', None)
rfftn = _many('r2c', 'fft_rfftn', None)
irfftn = _many('c2r', 'fft_irfftn', None)
hfft2 = _many('hfft', 'fft_hfft2', (-2, -1))
ihfft2 = _many('ihfft', 'fft_ihfft2', (-2, -1))
hfftn = _many('hfft', 'fft_hfftn', None)
ihfftn = _many('ihfft', 'fft_ihfftn', None)
# PyTorch's CPU autocast runs these in float32 (its fp32 list; the Hermitian 2-D/N-D forms are not on it)
fft, ifft, rfft, irfft, hfft, ihfft, fft2, ifft2, rfft2, irfft2, fftn, ifftn, rfftn, irfftn = (
    _autocast.fp32(f) for f in (fft, ifft, rfft, irfft, hfft, ihfft, fft2, ifft2, rfft2, irfft2, fftn, ifftn, rfftn,
                                irfftn))
for _f, _doc in ((fft, 'The 1-D discrete Fourier transform along ``dim`` (``n`` points: trimmed or zero-padded).'),
                 (ifft, 'The inverse of ``fft``.'),
                 (rfft, 'The 1-D transform of a real signal: the ``n // 2 + 1`` non-negative frequencies.'),
                 (irfft, "The inverse of ``rfft``: a real signal of ``n`` points (default ``2 * (m - 1)``)."),
                 (hfft, 'The transform of a Hermitian-symmetric signal given by its first half: a real result.'),
                 (ihfft, 'The inverse of ``hfft``: the first half of a real signal\'s inverse transform.'),
                 (fft2, 'The 2-D transform over ``dim`` (default the last two dims), ``s`` points in each.'),
                 (ifft2, 'The inverse of ``fft2``.'), (rfft2, 'The 2-D transform of a real signal.'),
                 (irfft2, 'The inverse of ``rfft2``.'), (fftn, 'The N-D transform over ``dim`` (default all dims).'),
                 (ifftn, 'The inverse of ``fftn``.'), (rfftn, 'The N-D transform of a real signal.'),
                 (irfftn, 'The inverse of ``rfftn``.'),
                 (hfft2, 'The 2-D transform of a Hermitian-symmetric signal given by its half: a real result.'),
                 (ihfft2, 'The inverse of ``hfft2``.'),
                 (hfftn, 'The N-D transform of a Hermitian-symmetric signal given by its half: a real result.'),
                 (ihfftn, 'The inverse of ``hfftn``.')):
    _f.__doc__ = _doc + ' ``norm``: "backward" (default), "forward" or "ortho".'


def _freq_args(name, n, d, dtype, layout, device, requires_grad, points=None):
    """Check fftfreq/rfftfreq's arguments (``points(n)``: the result's length, n when None); the NumPy dtype of
    the result."""
    from ..ops.creation import _factory
    _factory(device, layout, False, name)
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"{name}(): argument 'n' (position 1) must be int, not {type(n).__name__}")
    m = n if points is None else points(n)
    if m < 0:
        raise RuntimeError(f'Trying to create tensor with negative dimension {m}: [{m}]')
    nd = _dtype.to_np(dtype) if dtype is not None else _dtype.DEFAULT.np
    if nd.kind not in 'fc':
        raise RuntimeError(f'{name} requires a floating point or complex dtype')
    if nd.kind == 'c':   # PyTorch's kernel counts in the result dtype, and its arange has no complex form
        raise NotImplementedError(f'"arange_cpu" not implemented for \'{_dtype.scalar_name(dtype)}\'')
    return nd


def _scaled(k, nd_, np_dtype):
    """``k * (1 / (n d))`` as PyTorch computes it: integers in the result dtype times the scale rounded to it."""
    with np.errstate(divide='ignore', invalid='ignore'):
        scale = 1.0 / nd_ if nd_ else np.inf
        return k.astype(np_dtype) * np_dtype.type(scale)


def _freq_result(vals, nd, requires_grad, out, name):
    from ..ops.creation import _finish
    t = Tensor._make(np.asarray(vals).astype(nd))
    return _finish(t, requires_grad, out, name)


def fftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """The sample frequencies of an ``n``-point transform with sample spacing ``d``: [0, 1, ..., -1] / (d n)."""
    dtype = out.dtype if dtype is None and out is not None else dtype   # (out's dtype, as PyTorch)
    nd = _freq_args('fftfreq', n, d, dtype, layout, device, requires_grad)
    k = np.concatenate((np.arange((n + 1) // 2), np.arange(-(n // 2), 0))) if n else np.zeros(0)
    return _freq_result(_scaled(k, n * d, nd), nd, requires_grad, out, 'fftfreq')


def rfftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """The non-negative sample frequencies of an ``n``-point real transform: [0, 1, ..., n // 2] / (d n)."""
    dtype = out.dtype if dtype is None and out is not None else dtype   # (out's dtype, as PyTorch)
    nd = _freq_args('rfftfreq', n, d, dtype, layout, device, requires_grad, points=lambda n: int(n / 2) + 1)
    k = np.arange(int(n / 2) + 1)   # C's n / 2 (rounds toward zero): rfftfreq(-1) is [-0.], as PyTorch's
    return _freq_result(_scaled(k, n * d, nd), nd, requires_grad, out, 'rfftfreq')


def _shift_dims(input, dim):
    """The wrapped dims to roll; none (a 0-d input, or dim=()) is PyTorch's roll error."""
    if dim is None:
        dim = tuple(range(input.dim()))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if not dims:
        raise RuntimeError('`shifts` required')
    return tuple(_wrap_dim(d, input.dim()) for d in dims)


def fftshift(input, dim=None):
    """The zero frequency moved to the middle of ``dim`` (all dims by default): a roll by ``n // 2``."""
    try:
        dims = _shift_dims(input, dim)
        return input.roll([input.shape[d] // 2 for d in dims], dims)
    except (AttributeError, TypeError):
        _check_tensor_args('fft_fftshift', 'input')
        raise


def ifftshift(input, dim=None):
    """The inverse of ``fftshift``: a roll by ``-(n // 2)``."""
    try:
        dims = _shift_dims(input, dim)
        return input.roll([-(input.shape[d] // 2) for d in dims], dims)
    except (AttributeError, TypeError):
        _check_tensor_args('fft_ifftshift', 'input')
        raise


del builtins

from .. import _builtin as _builtin_module  # noqa: E402
_builtin_module.seal(globals(), __name__)   # PyTorch's builtins do not bind as methods: nor do ember's
