"""Tensor-image resizing in NumPy with the semantics of ``torch.nn.functional.interpolate``.

Each axis is resampled by a dense (out x in) weight matrix; antialiased modes use PIL's separable
filters (as PyTorch's ``antialias=True`` does), the others PyTorch's plain interpolation rules."""
import numpy as np

__all__ = ['resize_array']


def _triangle(x):
    x = np.abs(x)
    return np.where(x < 1.0, 1.0 - x, 0.0)


def _cubic_aa(x, a=-0.5):
    x = np.abs(x)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = (((x - 5) * x + 8) * x - 4) * a
    return np.where(x < 1.0, near, np.where(x < 2.0, far, 0.0))


def _aa_weights(n_in, n_out, kernel, support, scale=None):
    """PIL/PyTorch antialias weights: the filter is widened by the scale when downsampling. ``scale``: input
    pixels per output pixel (n_in / n_out unless interpolate's align_corners or scale_factor set it)."""
    scale = n_in / n_out if scale is None else float(scale)
    fscale = max(scale, 1.0)
    support = support * fscale
    centers = scale * (np.arange(n_out) + 0.5)
    xmin = np.maximum(np.trunc(centers - support + 0.5), 0).astype(np.int64)
    xmax = np.minimum(np.trunc(centers + support + 0.5), n_in).astype(np.int64)
    j = np.arange(n_in)
    w = kernel((j[None, :] - centers[:, None] + 0.5) / fscale)
    w = np.where((j[None, :] >= xmin[:, None]) & (j[None, :] < xmax[:, None]), w, 0.0)
    total = w.sum(axis=1, keepdims=True)
    return w / np.where(total == 0, 1.0, total)


def _scatter(n_in, n_out, idx, weights):
    """Weight matrix whose row ``i`` puts ``weights[i, k]`` on column ``idx[i, k]`` (summing repeats)."""
    w = np.zeros((n_out, n_in))
    rows = np.repeat(np.arange(n_out), idx.shape[1])
    np.add.at(w, (rows, idx.ravel()), weights.ravel())
    return w


def _linear_weights(n_in, n_out):
    src = np.maximum((n_in / n_out) * (np.arange(n_out) + 0.5) - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    t = src - i0
    return _scatter(n_in, n_out, np.stack([i0, i1], 1), np.stack([1 - t, t], 1))


def _cubic_weights(n_in, n_out, a=-0.75):
    src = (n_in / n_out) * (np.arange(n_out) + 0.5) - 0.5
    i0 = np.floor(src).astype(np.int64)
    t = (src - i0)[:, None]
    d = np.abs(np.arange(-1, 3)[None, :] - t)
    w = np.where(d <= 1, ((a + 2) * d - (a + 3)) * d * d + 1, ((d - 5) * d + 8) * d * a - 4 * a)
    idx = np.clip(i0[:, None] + np.arange(-1, 3)[None, :], 0, n_in - 1)
    return _scatter(n_in, n_out, idx, w)


def _nearest_weights(n_in, n_out, exact):
    scale = np.float32(n_in) / np.float32(n_out)
    pos = np.arange(n_out, dtype=np.float32) + (np.float32(0.5) if exact else np.float32(0))
    idx = np.minimum(np.floor(pos * scale).astype(np.int64), n_in - 1)
    return _scatter(n_in, n_out, idx[:, None], np.ones((n_out, 1)))


def _weights(n_in, n_out, mode, antialias):
    if mode == 'bilinear':
        return _aa_weights(n_in, n_out, _triangle, 1.0) if antialias else _linear_weights(n_in, n_out)
    if mode == 'bicubic':
        return _aa_weights(n_in, n_out, _cubic_aa, 2.0) if antialias else _cubic_weights(n_in, n_out)
    if mode in ('nearest', 'nearest-exact'):
        return _nearest_weights(n_in, n_out, mode == 'nearest-exact')
    raise ValueError(f"Tensor images support interpolation 'nearest', 'nearest-exact', 'bilinear' and "
                     f"'bicubic', not {mode!r}")


def resize_array(arr, size, mode='bilinear', antialias=True):
    """Resize the last two axes of ``arr`` to ``size`` (h, w); integer images are rounded back."""
    h, w = arr.shape[-2:]
    out_h, out_w = int(size[0]), int(size[1])
    work = arr.dtype if arr.dtype in (np.float32, np.float64) else np.dtype(np.float32)
    wh = _weights(h, out_h, mode, antialias).astype(work)
    ww = _weights(w, out_w, mode, antialias).astype(work)
    out = np.matmul(np.matmul(wh, arr.astype(work, copy=False)), ww.T)
    if arr.dtype == work:
        return out
    if mode == 'bicubic' and arr.dtype == np.uint8:
        out = np.clip(out, 0, 255)
    return np.round(out).astype(arr.dtype)
