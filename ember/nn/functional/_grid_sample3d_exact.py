"""The float32 gradients of 3-D grid_sample as PyTorch's kernel (GridSampler.cpp, built without FMA) computes them, bit
for bit, for ember._exact: the input's as its in-place scatter (for each sample, output positions in order, the
eight corners in turn, each channel's term weight * g added to the input voxel), the grid's as its running sums
over channels and corners of value * factor * factor * g, times d(coordinate)/d(grid)."""
import numpy as np

_F32 = np.float32
_CHUNK = 1 << 22     # padded terms one chunk of channels holds


def input_grad(sampling, g, shape):
    """d(sum g * sample(a)) / d a for the _Sampling3D ``sampling``: each input voxel's terms gathered in PyTorch's
    order (a stable sort by target) and added one after another from +0 (trilinear's eight corners or nearest's
    one tap)."""
    n, c = shape[:2]
    vol = sampling.numel
    length = g[0, 0].size
    targets = np.stack([np.where(inside.reshape(n, -1), flat.reshape(n, -1), -1)
                        for flat, inside, _, _ in sampling.taps], -1).reshape(n, -1)    # (n, output pos, tap)
    weights = np.stack([w.reshape(n, -1) for _, _, w, _ in sampling.taps], -1).reshape(n, -1)
    gn = g.reshape(n, c, length)
    out = np.empty((n, c, vol), _F32)
    for s in range(n):
        keep = np.flatnonzero(targets[s] >= 0)
        tgt = targets[s][keep]
        order = np.argsort(tgt, kind='stable')
        counts = np.bincount(tgt, minlength=vol)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        slot = np.full((vol, max(int(counts.max()) if tgt.size else 1, 1)), keep.size, np.int64)   # last: a zero
        slot[tgt[order], np.arange(order.size) - starts[tgt[order]]] = order
        w = weights[s][keep]
        pos = keep // len(sampling.taps)
        step = max(1, _CHUNK // slot.size)
        for lo in range(0, c, step):
            terms = w * gn[s, lo:lo + step][:, pos]
            terms = np.concatenate([terms, np.zeros((terms.shape[0], 1), _F32)], 1)
            np.add.reduce(np.take(terms, slot.T, axis=1), axis=1, out=out[s, lo:lo + step], initial=0.0)
    return out.reshape(shape)


def grid_grad(sampling, g, a):
    """d(sum g * sample(a)) / d grid, (N, *grid spatial, 3): per output position, for each channel and each corner
    inside the volume, (value * f1 * f2) * g added (high corner of the axis) or subtracted (low corner) into that
    axis's sum, f1 and f2 the corner's factors of the other two axes; then times d(coordinate)/d(grid)."""
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
