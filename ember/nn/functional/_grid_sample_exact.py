"""float32 grid_sample gradients as PyTorch's CPU kernels compute them, bit for bit, for ember._exact.

3-D (GridSampler.cpp, built without FMA): the input's gradient is its in-place scatter (per sample, output positions
in order, the eight corners in turn, each channel's weight * g added to the voxel); the grid's its running sums over
channels and corners of value * factor * factor * g, times d(coordinate)/d(grid). 2-D bilinear (GridSamplerKernel.cpp,
vectorised over 8 output positions, built with FMA): the input's scatter goes a vector of positions at a time, corner
by corner (nw, ne, sw, se), lane by lane; the grid's sums are fma(fma(se - sw, n, (ne - nw) s), g, gx) over channels
(and likewise for y), times the multiplier, which is +0 where the coordinate was clipped."""
import numpy as np

from ._interp_exact import slots, with_zero

_F32 = np.float32
_CHUNK = 1 << 22     # padded terms one chunk of channels holds
_LANES = 8           # the 2-D kernel's Vectorized<float> (its AVX2 build, which AVX-512 hosts run too)


def input_grad(sampling, g, shape):
    """d(sum g * sample(a)) / d a: each input pixel's terms gathered in PyTorch's order (a stable sort by target)
    and added one after another from +0; 2-D or 3-D by the sampling's taps."""
    n, c = shape[:2]
    length = g[0, 0].size
    taps = len(sampling.taps)
    targets = np.stack([np.where(inside.reshape(n, -1), flat.reshape(n, -1), -1)
                        for flat, inside, _, _ in sampling.taps], -1)      # (n, position, tap)
    weights = np.stack([w.reshape(n, -1) for _, _, w, _ in sampling.taps], -1)
    if len(shape) == 4:      # a vector of positions at a time, then tap, then lane
        blocks = -(-length // _LANES)
        pad = blocks * _LANES - length
        targets = np.pad(targets, ((0, 0), (0, pad), (0, 0)), constant_values=-1)
        weights = np.pad(weights, ((0, 0), (0, pad), (0, 0)))
        targets, weights = (t.reshape(n, blocks, _LANES, taps).transpose(0, 1, 3, 2).reshape(n, -1)
                            for t in (targets, weights))
        positions = np.broadcast_to(np.arange(blocks * _LANES).reshape(blocks, 1, _LANES), (blocks, taps, _LANES))
    else:
        targets, weights = targets.reshape(n, -1), weights.reshape(n, -1)
        positions = np.broadcast_to(np.arange(length)[:, None], (length, taps))
    positions = positions.reshape(-1)
    gn = np.pad(g.reshape(n, c, length), ((0, 0), (0, 0), (0, positions.max() + 1 - length)))
    out = np.empty((n, c, sampling.numel), _F32)
    for s in range(n):
        keep = np.flatnonzero(targets[s] >= 0)
        slot = slots(targets[s][keep], sampling.numel)
        w, pos = weights[s][keep], positions[keep]
        step = max(1, _CHUNK // slot.size)
        for lo in range(0, c, step):
            terms = with_zero(w * gn[s, lo:lo + step][:, pos])
            np.add.reduce(np.take(terms, slot.T, axis=1), axis=1, out=out[s, lo:lo + step], initial=0.0)
    return out.reshape(shape)


def grid_grad(sampling, g, a):
    """d(sum g * sample(a)) / d grid, (N, *grid spatial, 2 or 3)."""
    if len(sampling.scales) == 2:
        return _grid_grad_2d(sampling, g, a)
    n, c = a.shape[:2]
    rests, fracs = sampling.factors
    rows = sampling._rows(a)
    gt = sampling._channels_last(g)      # (N * L, C)
    sums = [np.zeros(gt.shape[0], _F32) for _ in range(3)]
    picks = [[(corner >> k) & 1 for k in range(3)] for corner in range(8)]
    factors = [[(fracs[k] if p[k] else rests[k]).reshape(-1) for k in range(3)] for p in picks]
    inside = [ins.reshape(-1) for _, ins, _, _ in sampling.taps]
    vals = [np.take(rows, gi, axis=0) for gi in sampling._global(n)]    # (N * L, C) each corner
    for ch in range(c):
        go = gt[:, ch]
        for corner in range(8):
            v = vals[corner][:, ch]
            f = factors[corner]
            for axis, (o1, o2) in enumerate(((1, 2), (0, 2), (0, 1))):
                term = v * f[o1] * f[o2] * go
                term = np.where(inside[corner], term, _F32(0))
                if picks[corner][axis]:
                    sums[axis] += term
                else:
                    sums[axis] -= term
    return np.stack([(sc.reshape(-1) * acc).reshape(sc.shape) for acc, sc in zip(sums, sampling.scales)], -1)


def _fma(a, b, c):
    """float32 a * b + c rounded once (float64 products are exact; but for a double rounding on a float64 tie)."""
    s = a.astype(np.float64)
    s *= b
    s += c
    return s.astype(_F32)


def _grid_grad_2d(sampling, g, a):
    n, c = a.shape[:2]
    ix, iy = (v.reshape(-1) for v in sampling.coords)
    w = ix - np.floor(ix)
    e = _F32(1) - w
    nn = iy - np.floor(iy)
    s = _F32(1) - nn
    rows = sampling._rows(a)
    nw, ne, sw, se = (np.take(rows, gi, axis=0) for gi in sampling._global(n))     # (N * L, C), 0 outside
    gt = sampling._channels_last(g)
    gx = np.zeros(ix.shape, _F32)
    gy = np.zeros(ix.shape, _F32)
    for ch in range(c):
        go = gt[:, ch]
        tx = _fma(se[:, ch] - sw[:, ch], nn, (ne[:, ch] - nw[:, ch]) * s)
        ty = _fma(se[:, ch] - ne[:, ch], w, (sw[:, ch] - nw[:, ch]) * e)
        gx = _fma(tx, go, gx)
        gy = _fma(ty, go, gy)
    mx, my = (sc.reshape(-1) + _F32(0) for sc in sampling.scales)     # the kernel's masked multiplier: +0 outside
    return np.stack([(gx * mx).reshape(sampling.scales[0].shape), (gy * my).reshape(sampling.scales[1].shape)], -1)
