"""float32 input gradients of F.interpolate as PyTorch's CPU backward kernels add them, bit for bit (ember._exact).

Both kernels scatter: for each output pixel in row-major order, each tap adds its term to an input pixel in place.
Bicubic (UpSampleBicubic2d.cpp, built without FMA) adds (g * wy) * wx, x taps outer and y inner; the linear family
(UpSampleKernel.cpp, built with FMA) adds fma(w0 * w1 [* w2], g, acc), the first axis's taps outer. Each input pixel's
terms are gathered in that order (a stable sort by target, the same for every plane) and added in turn from +0."""
import math

import numpy as np

_F32 = np.float32
_CHUNK = 1 << 22     # padded terms one chunk of planes holds


def backward(kind, g, n_in, taps):
    """The input gradient (g's leading dims, then ``n_in``) for ``kind`` 'bicubic' or 'linear' with the taps
    ((index, weight) per resized axis) PyTorch's backward computes."""
    k = len(taps)
    out_sizes = g.shape[-k:]
    if kind == 'bicubic':      # x taps outer: (oy, ox, x tap, y tap)
        (iy, wy), (ix, wx) = taps
        target = (iy[:, None, None, :] * n_in[1] + ix[None, :, :, None]).reshape(-1)
        weights = None
    else:                       # (o0, o1, .., tap0, tap1, ..): the first axis's taps outer
        target, weights = _linear_terms(taps, n_in)
    slot = slots(target, math.prod(n_in))
    planes = g.reshape(-1, math.prod(out_sizes))
    out = np.empty((planes.shape[0], math.prod(n_in)), _F32)
    step = max(1, _CHUNK // slot.size)
    for lo in range(0, planes.shape[0], step):
        gp = planes[lo:lo + step]
        if kind == 'bicubic':
            terms = (gp.reshape((-1,) + out_sizes)[:, :, :, None, None] * wy[None, :, None, None, :]) \
                * wx[None, None, :, :, None]
            terms = with_zero(terms.reshape(gp.shape[0], -1))
            np.add.reduce(np.take(terms, slot.T, axis=1), axis=1, out=out[lo:lo + step], initial=0.0)
        else:
            out[lo:lo + step] = _fused_scatter(gp, weights, slot)
    return out.reshape(g.shape[:-k] + tuple(n_in))


def _linear_terms(taps, n_in):
    """Each term's flat input index and weight product (left to right over the axes), in the kernel's order."""
    k = len(taps)
    target = np.zeros((1,) * (2 * k), np.int64)
    weight = np.ones((1,) * (2 * k), _F32)
    stride = 1
    for axis in reversed(range(k)):
        idx, w = taps[axis]
        shape = [1] * (2 * k)
        shape[axis], shape[k + axis] = idx.shape
        target = target + idx.reshape(shape) * stride
        stride *= n_in[axis]
    for axis in range(k):
        idx, w = taps[axis]
        shape = [1] * (2 * k)
        shape[axis], shape[k + axis] = w.shape
        weight = weight * w.astype(_F32).reshape(shape)
    return target.reshape(-1), weight.reshape(-1)


def _fused_scatter(gp, weights, slot):
    """acc = fma(w, g, acc) over each input pixel's terms in order (float64 products, exact, each sum rounded once to
    float32 but for a double rounding on a float64 tie), the terms' g the output pixel's."""
    per = weights.size // gp.shape[1]
    gz = with_zero(np.repeat(gp, per, axis=1))
    wz = np.append(weights, _F32(0)).astype(np.float64)
    acc = np.zeros((gp.shape[0], slot.shape[0]), _F32)
    for col in slot.T:
        s = gz[:, col] * wz[col]
        s += acc
        acc = s.astype(_F32)
    return acc


def slots(target, n):
    """(n, most terms a pixel gets) indices into the terms, pixel by pixel in order, padded with len(target) (the
    zero term with_zero appends)."""
    order = np.argsort(target, kind='stable')
    counts = np.bincount(target, minlength=n)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    slot = np.full((n, max(int(counts.max()), 1)), target.size, np.int64)
    slot[target[order], np.arange(order.size) - starts[target[order]]] = order
    return slot


def with_zero(terms):
    """``terms`` (rows of terms) with a zero term appended to each row (where slots pads)."""
    return np.concatenate([terms, np.zeros((terms.shape[0], 1), terms.dtype)], 1)
