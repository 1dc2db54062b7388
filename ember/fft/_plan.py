"""One FFT call, checked and resolved (``Plan``): PyTorch's argument rules (n/s, dim, norm, dtypes), the forward
transform on NumPy, and its adjoint for backward.

Gradients follow PyTorch (derivatives.yaml): the adjoint of a transform is the transform the other way with the
norm mode swapped ('backward' <-> 'forward', 'ortho' kept); a real input takes the real part; a one-sided (r2c)
output is zero-extended first; a c2r transform's gradient is the one-sided r2c transform of the gradient with the
mirrored frequencies doubled, as PyTorch's ``fft_c2r_backward``."""
import numpy as np

from .. import _dtype
from ..tensor import _wrap_dim

_NORMS = (None, 'backward', 'forward', 'ortho')
_SWAP = {'backward': 'forward', 'forward': 'backward', 'ortho': 'ortho'}
_SHORT = {'fft_rfft': 'rfft', 'fft_rfft2': 'rfftn', 'fft_rfftn': 'rfftn', 'fft_ihfft': 'ihfft',
          'fft_hfft2': 'hfftn', 'fft_hfftn': 'hfftn', 'fft_ihfft2': 'ihfftn', 'fft_ihfftn': 'ihfftn'}


def check_norm(norm):
    """The norm mode ('backward' when None), or PyTorch's error."""
    if norm not in _NORMS:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return norm or 'backward'


def _check_n(n):
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f'FFT sizes must be ints, got {type(n).__name__}')
    if n < 1:
        raise RuntimeError(f'Invalid number of data points ({n}) specified')
    return n


def _resize(a, axis, n):
    """``a`` trimmed or zero-padded to ``n`` along ``axis``."""
    m = a.shape[axis]
    if m == n:
        return a
    if m > n:
        return a[(slice(None),) * axis + (slice(0, n),)]
    pad = [(0, 0)] * a.ndim
    pad[axis] = (0, n - m)
    return np.pad(a.view(np.ndarray), pad)


def _resize_tensor(t, axis, n):
    """Tensor ``t`` trimmed or zero-padded to ``n`` along ``axis`` (differentiably)."""
    m = t.shape[axis]
    if m == n:
        return t
    if m > n:
        return t.narrow(axis, 0, n)
    shape = list(t.shape)
    shape[axis] = n - m
    from .. import cat, zeros
    return cat([t, zeros(shape, dtype=t.dtype)], axis)


class Plan:
    """A resolved transform: ``kind`` ('c2c', 'c2c_inv', 'r2c', 'c2r', 'hfft', 'ihfft'), ``axes`` (wrapped dims),
    ``s`` (signal sizes per axis: the output's for c2r/hfft, the input's for the others), ``norm``."""

    def __init__(self, kind, name, input, axes, s, norm):
        self.kind, self.name, self.axes, self.s, self.norm = kind, name, tuple(axes), tuple(s), norm
        self.in_shape = input._data.shape
        self.in_dtype = input._data.dtype

    # -- forward -------------------------------------------------------------------------------------------
    def prepare(self, input):
        """The input array in the dtype the transform computes in (PyTorch's promotion, refusals)."""
        a = input._data
        dt = input.dtype
        if dt in (_dtype.float16, _dtype.bfloat16):
            raise RuntimeError(f'Unsupported dtype {_dtype.scalar_name(dt)}')
        if self.name in ('fft_ihfft2', 'fft_ihfftn') and dt.is_complex:
            raise RuntimeError(f'Only supports floating-point dtypes, but found: {_dtype.scalar_name(dt)}')
        if self.kind in ('r2c', 'ihfft') and dt.is_complex:
            raise RuntimeError(f'{_SHORT[self.name]} expects a real input tensor, but got {_dtype.scalar_name(dt)}')
        if not (dt.is_floating_point or dt.is_complex):
            a = a.astype(_dtype.DEFAULT.np)
        if self.kind in ('c2r', 'hfft') and a.dtype.kind != 'c':
            a = a.astype(np.result_type(a.dtype, np.complex64))
        return a

    def forward(self, a):
        """The transform of prepared array ``a``, laid out in memory as PyTorch's result (``_layout``)."""
        a = a.view(np.ndarray)
        if not self.axes:
            return a.astype(np.result_type(a.dtype, np.complex64)) if self.kind in ('c2c', 'c2c_inv') else a.copy()
        r = self._transform(a)
        perm = self._layout(a)
        return np.ascontiguousarray(r.transpose(perm)).transpose(np.argsort(perm))

    def _layout(self, a):
        """The dims of PyTorch's result from the outermost in memory to the innermost. Its CPU kernel (_exec_fft)
        writes a contiguous block with the untransformed dims first, ordered by the input's strides (largest first),
        then the transformed dims; c2c sorts those by stride too, r2c all but the last, and a c2r transform of
        several dims is a c2c over all but the last followed by a 1-D c2r over the intermediate."""
        k, ax = self.kind, list(self.axes)
        sizes_in = [n // 2 + 1 if k in ('c2r', 'hfft') and i == len(ax) - 1 else n for i, n in enumerate(self.s)]
        if any(n > a.shape[d] for n, d in zip(sizes_in, ax)):   # zero-padded first into a contiguous tensor
            strides = _c_strides(range(a.ndim), a.shape)
        else:
            strides = a.strides
        if k in ('c2c', 'c2c_inv'):
            return _batch_first(strides, _by_stride(strides, ax))
        if k in ('r2c', 'ihfft'):
            return _batch_first(strides, _by_stride(strides, ax[:-1]) + ax[-1:])
        if len(ax) > 1:
            shape = list(a.shape)
            for d, n in zip(ax, sizes_in):
                shape[d] = n
            strides = _c_strides(_batch_first(strides, _by_stride(strides, ax[:-1])), shape)
        return _batch_first(strides, ax[-1:])

    def _transform(self, a):
        """The transform on NumPy (which resizes the input along the axes itself)."""
        k, ax, s, norm = self.kind, self.axes, list(self.s), self.norm
        if a.dtype.kind != 'c' and self.name in ('fft_fft', 'fft_ifft'):
            return self._r2c_two_sided(a, s[0], ax[0], norm, k == 'c2c')
        if k == 'c2c':
            return np.fft.fftn(a, s, ax, norm)
        if k == 'c2c_inv':
            return np.fft.ifftn(a, s, ax, norm)
        if k == 'r2c':
            return np.fft.rfftn(a, s, ax, norm)
        if k == 'c2r':
            return np.fft.irfftn(a, s, ax, norm)
        # hfft(n)/ihfft(n) as NumPy's own 1-D hfft/ihfft: irfft of the conjugate and the conjugate of rfft, with
        # the norm mode swapped (the same for several axes: the conjugate turns the forward c2c into the inverse)
        if k == 'hfft':
            return np.fft.irfftn(np.conjugate(a), s, ax, _SWAP[norm])
        return np.conjugate(np.fft.rfftn(a, s, ax, _SWAP[norm]))

    # -- backward ------------------------------------------------------------------------------------------
    def adjoint(self, g):
        """The gradient w.r.t. the input of gradient ``g`` w.r.t. the output (PyTorch's convention)."""
        g = np.asarray(g)
        k, ax, s = self.kind, self.axes, list(self.s)
        # hfft/ihfft are NumPy's irfft/rfft of the conjugate with the norm already swapped
        norm = self.norm if k in ('hfft', 'ihfft') else _SWAP[self.norm]
        if not ax:
            r = g
        elif k == 'c2c':
            r = np.fft.ifftn(g, s, ax, norm)
        elif k == 'c2c_inv':
            r = np.fft.fftn(g, s, ax, norm)
        elif k in ('r2c', 'ihfft'):
            r = self._r2c_adjoint(np.conjugate(g) if k == 'ihfft' else g, ax, s, norm)
        else:
            r = self._c2r_adjoint(g, ax, s, norm)
            if k == 'hfft':
                r = np.conjugate(r)
        for axis, n in zip(ax, [self.in_shape[a] for a in ax]):
            r = _resize(r, axis, n)
        if self.in_dtype.kind != 'c':
            r = r.real
        return np.ascontiguousarray(r).astype(self.in_dtype, copy=False)

    def adjoint_tensor(self, g):
        """``adjoint`` of a Tensor gradient through ember's own (differentiable) transforms, so that a backward
        under create_graph=True records the graph of the backward pass (double backward)."""
        from . import fftn, ifftn, rfftn
        k, ax, s = self.kind, list(self.axes), list(self.s)
        norm = self.norm if k in ('hfft', 'ihfft') else _SWAP[self.norm]
        if not ax:
            r = g
        elif k == 'c2c':
            r = ifftn(g, s, ax, norm)
        elif k == 'c2c_inv':
            r = fftn(g, s, ax, norm)
        elif k in ('r2c', 'ihfft'):
            full = _resize_tensor(g.conj() if k == 'ihfft' else g, ax[-1], s[-1])
            r = ifftn(full, s, ax, norm).real
        else:
            gi = rfftn(g, s, ax, norm)
            double = s[-1] - gi.shape[ax[-1]]
            if double > 0:   # the frequencies that stand for two (their mirror images)
                from .. import ones
                scale = ones(gi.shape[ax[-1]], dtype=gi.real.dtype)
                scale[1:1 + double] = 2
                shape = [1] * gi.dim()
                shape[ax[-1]] = -1
                gi = gi * scale.reshape(shape)
            r = gi.conj() if k == 'hfft' else gi
        for axis, n in zip(ax, [self.in_shape[a] for a in ax]):
            r = _resize_tensor(r, axis, n)
        if self.in_dtype.kind != 'c' and r.is_complex():
            r = r.real
        return r

    @staticmethod
    def _r2c_two_sided(a, n, axis, norm, forward):
        """PyTorch's 1-D fft/ifft of a real input (fft2/fftn promote it to complex first, as NumPy does): the
        one-sided r2c transform (conjugated for the inverse) and the other half filled in as the conjugate of its
        mirror image. The signs of zero imaginary parts are then PyTorch's (-0.0 where NumPy's complex
        transform gives +0.0), and mirrored entries are exact conjugates."""
        half = np.fft.rfft(a, n, axis, norm if forward else _SWAP[norm])
        if not forward:
            half = np.conjugate(half)
        m = half.shape[axis]
        mirror = np.conjugate(np.flip(half[(slice(None),) * axis + (slice(1, n - m + 1),)], axis))
        return np.concatenate([half, mirror], axis)

    @staticmethod
    def _r2c_adjoint(g, ax, s, norm):
        """Adjoint of a one-sided real-to-complex transform: zero-extend, inverse c2c, real part."""
        full = _resize(g, ax[-1], s[-1])
        return np.fft.ifftn(full, s, ax, norm).real

    @staticmethod
    def _c2r_adjoint(g, ax, s, norm):
        """Adjoint of a complex-to-real transform (PyTorch's fft_c2r_backward): the one-sided r2c transform of
        ``g`` with the frequencies that stand for two (their mirror images) doubled."""
        gi = np.fft.rfftn(g, s, ax, norm)
        last = ax[-1]
        double = s[-1] - gi.shape[last]
        if double > 0:
            idx = (slice(None),) * last + (slice(1, 1 + double),)
            gi[idx] *= 2
        return gi


def _by_stride(strides, dims):
    """``dims`` ordered by stride, largest first (ties keep their order)."""
    return sorted(dims, key=lambda d: -strides[d])


def _batch_first(strides, fft_dims):
    """A permutation: the dims not in ``fft_dims`` by stride, largest first, then ``fft_dims`` as given."""
    return _by_stride(strides, [d for d in range(len(strides)) if d not in fft_dims]) + list(fft_dims)


def _c_strides(order, shape):
    """Per-dim strides (in elements) of a block of ``shape`` that is contiguous with its dims in ``order``."""
    order = list(order)
    strides, step = [0] * len(shape), 1
    for d in reversed(order):
        strides[d] = step
        step *= shape[d]
    return strides


def _in_len(kind, a, axis, n):
    """The signal size along ``axis``: ``n``, or the input's (for c2r/hfft, 2 * (m - 1) from m inputs)."""
    if n is not None and n != -1:
        return _check_n(n)
    m = a.shape[axis]
    return _check_n(2 * (m - 1) if kind in ('c2r', 'hfft') else m)


def plan_1d(kind, name, input, n, dim, norm):
    """The Plan of a 1-D transform (fft, ifft, rfft, irfft, hfft, ihfft)."""
    _tensor(name, input)
    axis = _wrap_dim(dim, input._data.ndim, scalar=False)
    if n is not None:   # (-1 means "the input's size" only in an N-D transform's s)
        _check_n(n)
    return Plan(kind, name, input, (axis,), (_in_len(kind, input._data, axis, n),), check_norm(norm))


def plan_nd(kind, name, input, s, dim, norm):
    """The Plan of an N-D transform (fft2/fftn and their inverse and real forms)."""
    _tensor(name, input)
    nd = input._data.ndim
    norm = check_norm(norm)
    if isinstance(dim, int):
        dim = (dim,)
    if s is not None:
        s = tuple(s) if not isinstance(s, int) else (s,)
        if dim is not None and len(dim) != len(s):
            raise RuntimeError('When given, dim and shape arguments must have the same length')
        if len(s) > nd:
            raise RuntimeError(f'Got shape with {len(s)} values but input tensor only has {nd} dimensions.')
        if dim is None:
            dim = tuple(range(nd - len(s), nd))
    elif dim is None:
        dim = tuple(range(nd))
    axes = [_wrap_dim(d, nd, scalar=False) for d in dim]
    if len(set(axes)) != len(axes):
        raise RuntimeError('FFT dims must be unique')
    if kind in ('r2c', 'c2r', 'hfft', 'ihfft') and not axes:
        raise RuntimeError(f'{_SHORT.get(name, name[4:])} must transform at least one axis')
    sizes = []
    for i, axis in enumerate(axes):
        last = i == len(axes) - 1
        n = None if s is None else s[i]
        sizes.append(_in_len(kind if last else 'c2c', input._data, axis, n))
    return Plan(kind, name, input, axes, sizes, norm)


def _tensor(name, x):
    from ..tensor import Tensor
    if not isinstance(x, Tensor):
        from ..ops._util import arg_error
        raise arg_error(name, 'input', 1, x)
