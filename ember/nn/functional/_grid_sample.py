"""``grid_sample`` and ``affine_grid`` (spatial transformers): sampling an image at the (x, y) positions of a grid
in [-1, 1], with PyTorch's CPU rules for unnormalizing, padding (zeros, border, reflection) and interpolation
(bilinear, nearest, bicubic; trilinear and nearest for volumes), and their gradients for the input and the grid
(GridSampler2DBackward0, GridSampler3DBackward0, AffineGridGeneratorBackward0)."""
import warnings

import numpy as np

from ... import _bf16, _exact, _quiet
from ...amp import _state as _autocast
from ...autograd import dual, forward_refusal
from ...autograd.grad_mode import GRAD
from ...autograd.graph import Node
from ...ops._composite import composite, node_class
from ...tensor import Tensor
from ...ops._util import check_inner_args
from . import _grid_sample_exact as _exact_gs
from ._interpolate import _fused_pair

__all__ = ['grid_sample', 'affine_grid', 'GRID_SAMPLE_INTERPOLATION_MODES', 'GRID_SAMPLE_PADDING_MODES']
# the integer codes torch.grid_sampler takes for grid_sample's mode and padding_mode names
GRID_SAMPLE_INTERPOLATION_MODES = {'bilinear': 0, 'nearest': 1, 'bicubic': 2}
GRID_SAMPLE_PADDING_MODES = {'zeros': 0, 'border': 1, 'reflection': 2}

_DEFAULT = ('Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. Please '
            'specify align_corners=True if the old behavior is desired. See the documentation of grid_sample for '
            'details.')
_A = -0.75      # the cubic convolution constant of PyTorch's bicubic modes


# --- source coordinates -----------------------------------------------------------------------------------------

def _unnormalize(coord, size, align_corners, fused=True):
    """Pixel coordinates of grid values in [-1, 1], and d(pixel)/d(grid); ``fused``: float32 rounded as PyTorch's
    2-D kernel (compiled with FMA contraction) rounds them, where its 3-D one (baseline flags) does not."""
    dt = coord.dtype.type
    if align_corners:
        scale = dt((size - 1) / 2)
        return (coord + dt(1)) * scale, scale
    scale = dt(size / 2)
    if fused and coord.dtype == np.float32:     # fma((coord + 1), scale, -0.5)
        return _fused_pair(coord + dt(1), scale, dt(-0.5)), scale
    return (coord + dt(1)) * scale - dt(0.5), scale


def _reflect(x, twice_low, twice_high):
    """PyTorch's reflect_coordinates (and its derivative): x reflected into [low, high] by whole spans."""
    dt = x.dtype.type
    if twice_low == twice_high:
        return np.zeros_like(x), np.zeros_like(x)
    lo, span = dt(twice_low / 2), dt((twice_high - twice_low) / 2)
    shifted = x - lo
    sign = np.where(shifted < 0, dt(-1), dt(1))
    shifted = np.abs(shifted)
    extra = np.fmod(shifted, span)
    even = np.fmod(np.floor(shifted / span), 2) == 0
    return np.where(even, extra + lo, span - extra + lo), np.where(even, sign, -sign)


def _clip(x, size):
    """PyTorch's clip_coordinates (and its derivative: borders count as outside)."""
    dt = x.dtype.type
    top = dt(size - 1)
    return np.minimum(top, np.maximum(x, dt(0))), ((x > 0) & (x < top)).astype(x.dtype)


def _pad(x, size, padding_mode, align_corners):
    """The coordinate after the padding mode, and its derivative."""
    if padding_mode == 'zeros':
        return x, np.ones_like(x)
    grad = np.ones_like(x)
    if padding_mode == 'reflection':
        x, grad = _reflect(x, 0, 2 * (size - 1)) if align_corners else _reflect(x, -1, 2 * size - 1)
    x, g2 = _clip(x, size)
    return x, grad * g2


# --- taps ---------------------------------------------------------------------------------------------------------

def _cubic_weights(t):
    """The four cubic convolution weights for fraction t (an array, or a Tensor under create_graph=True; A and
    its multiples are exact in float32, so an array keeps its dtype and values)."""
    A = _A

    def near(x):
        return ((A + 2) * x - (A + 3)) * x * x + 1

    def far(x):
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _cubic(t):
    """The four cubic convolution weights for fraction t, and their derivatives."""
    A = t.dtype.type(_A)

    def dnear(x):
        return (3 * (A + 2) * x - 2 * (A + 3)) * x

    def dfar(x):
        return (3 * A * x - 10 * A) * x + 8 * A
    return _cubic_weights(t), [dfar(t + 1), dnear(t), -dnear(1 - t), -dfar(2 - t)]


def _tap_weights(mode, fracs):
    """The taps' weights in the order of ``_taps`` (2-D) or ``_Sampling3D`` (volumes) from the coordinates'
    fractional parts (x first): the same polynomials on arrays or on Tensors; None for nearest (weight 1)."""
    if mode == 'nearest':
        return [None]
    if mode == 'bicubic':
        cx, cy = _cubic_weights(fracs[0]), _cubic_weights(fracs[1])
        return [cy[i] * cx[j] for i in range(4) for j in range(4)]
    if len(fracs) == 2:
        w, n = fracs
        e, s = 1 - w, 1 - n
        return [s * e, s * w, n * e, n * w]
    out = []
    for corner in range(8):
        ws = [f if (corner >> k) & 1 else 1 - f for k, f in enumerate(fracs)]
        out.append(ws[2] * ws[1] * ws[0])
    return out


def _taps(ix, iy, H, W, mode, padding_mode, align_corners):
    """[(yi, xi, weight, dweight/dix, dweight/diy)] of every tap: integer positions (invalid ones masked out by a
    zero weight) in (N, Ho, Wo) arrays."""
    if mode == 'nearest':
        x0, y0 = np.rint(ix), np.rint(iy)
        one = np.ones_like(ix)
        return [(y0, x0, one, np.zeros_like(ix), np.zeros_like(ix))]
    if mode == 'bilinear':
        x0, y0 = np.floor(ix), np.floor(iy)
        w, n = ix - x0, iy - y0
        e, s = 1 - w, 1 - n
        return [(y0, x0, s * e, -s, -e), (y0, x0 + 1, s * w, s, -w),
                (y0 + 1, x0, n * e, -n, e), (y0 + 1, x0 + 1, n * w, n, w)]
    x0, y0 = np.floor(ix), np.floor(iy)
    cx, dx = _cubic(ix - x0)
    cy, dy = _cubic(iy - y0)
    out = []
    for i in range(4):
        for j in range(4):
            out.append((y0 - 1 + i, x0 - 1 + j, cy[i] * cx[j], cy[i] * dx[j], dy[i] * cx[j]))
    return out


def _resolve(yi, xi, H, W, mode, padding_mode, align_corners):
    """Flat indices of taps inside the image (bicubic pads each tap) and the mask of those inside."""
    if mode == 'bicubic' and padding_mode != 'zeros':
        xi = _pad(xi, W, padding_mode, align_corners)[0]
        yi = _pad(yi, H, padding_mode, align_corners)[0]
    inside = (xi >= 0) & (xi <= W - 1) & (yi >= 0) & (yi <= H - 1)
    flat = np.where(inside, yi * W + xi, 0).astype(np.int64)
    return flat, inside


class _Sampling:
    """One grid_sample call's taps, reused by the backward pass."""

    def __init__(self, grid, H, W, mode, padding_mode, align_corners):
        ix, sx = _unnormalize(grid[..., 0], W, align_corners)
        iy, sy = _unnormalize(grid[..., 1], H, align_corners)
        gx = np.full_like(ix, sx)
        gy = np.full_like(iy, sy)
        if mode != 'bicubic':
            ix, px = _pad(ix, W, padding_mode, align_corners)
            iy, py = _pad(iy, H, padding_mode, align_corners)
            gx, gy = gx * px, gy * py
        self.scales, self.numel, self.mode, self.coords = (gx, gy), H * W, mode, (ix, iy)
        self.contiguous = grid.flags.c_contiguous
        self.taps = []
        for yi, xi, w, dwx, dwy in _taps(ix, iy, H, W, mode, padding_mode, align_corners):
            flat, inside = _resolve(yi, xi, H, W, mode, padding_mode, align_corners)
            self._add_tap(flat, inside, w, (dwx, dwy))

    def _add_tap(self, flat, inside, w, dws):
        """Keep one tap: flat source indices, the mask of those inside, its weight and d weight / d coordinate."""
        self.taps.append((flat.reshape(flat.shape[0], 1, -1), inside.reshape(inside.shape[0], 1, -1), w, dws))

    def sample_graph(self, a, grid):
        """``sample`` in differentiable ops of Tensors ``a`` and ``grid`` (for create_graph=True): the taps' positions
        and masks as recorded, their weights the interpolation polynomials of the coordinates' fractional parts,
        each written as grid * d(coordinate)/d(grid) + a constant (the padding modes are piecewise linear)."""
        from ...ops.indexing import gather
        N, C = a.shape[:2]
        gd = grid._data
        fracs = [grid[..., c] * Tensor._make(sc) + Tensor._make(i - np.floor(i) - gd[..., c] * sc)
                 for c, (i, sc) in enumerate(zip(self.coords, self.scales))]
        src = a.reshape(N, C, -1)
        out = None
        for (flat, inside, _, _), w in zip(self.taps, _tap_weights(self.mode, fracs)):
            v = gather(src, 2, Tensor._make(np.ascontiguousarray(np.broadcast_to(flat, (N, C, flat.shape[-1])))))
            scale = Tensor._make(inside.astype(a._data.dtype))
            if w is not None:
                scale = scale * w.reshape(N, 1, -1)
            term = v * scale
            out = term if out is None else out + term
        return out.reshape((N, C) + self.scales[0].shape[1:])

    # The array passes gather and scatter whole channel rows: the image goes channels-last, (N * numel, C), with a
    # zero row appended that every tap outside the image reads (the value np.where gave it), so one row gather per
    # tap replaces a gather of N * C * L single elements and a masking pass. (8, 64, 32, 32) bilinear, CPU ms on
    # one thread: forward 14.4 -> 1.9, grid gradient 9.4 -> 3.2 (input gradient: see input_grad); the same values
    # bitwise (the same products summed in the same order).
    def _global(self, n):
        """Each tap's row indices into _rows (N * L,), outside taps pointing at the zero row."""
        if getattr(self, '_gidx', None) is None:
            off = (np.arange(n) * self.numel)[:, None, None]
            self._gidx = [np.where(inside, flat + off, n * self.numel).ravel() for flat, inside, _, _ in self.taps]
        return self._gidx

    def _rows(self, a):
        """Image array ``a`` (N, C, ...) as (N * numel + 1, C) channel rows, the last one zeros."""
        n, c = a.shape[:2]
        rows = np.empty((n * self.numel + 1, c), a.dtype)
        rows[:-1].reshape(n, self.numel, c)[...] = a.reshape(n, c, -1).transpose(0, 2, 1)
        rows[-1] = 0
        return rows

    def _channels_last(self, g):
        """Output-shaped ``g`` (N, C, ...) as (N * L, C) rows."""
        n, c = g.shape[:2]
        return np.ascontiguousarray(g.reshape(n, c, -1).transpose(0, 2, 1)).reshape(-1, c)

    def _spatial(self):
        return self.scales[0].shape[1:]

    def sample(self, a):
        """(N, C, *grid spatial) values of image array ``a`` at the grid. float32 bilinear adds its corners as PyTorch's
        compiled kernel does: fma(se_v, se, fma(sw_v, sw, fma(ne_v, ne, nw_v * nw))) (_interpolate._fused_pair); the
        plain sum differed from PyTorch's in about a fifth of the values."""
        n, c = a.shape[:2]
        rows = self._rows(a)
        out = None
        fused = self.mode == 'bilinear' and len(self.taps) == 4 and a.dtype == np.float32
        for k, (gi, (_, _, w, _)) in enumerate(zip(self._global(n), self.taps)):
            term = np.take(rows, gi, axis=0)
            if fused and k:
                out = _fused_pair(term, w.reshape(-1, 1), out)
                continue
            term *= w.reshape(-1, 1)
            if out is None:
                out = term
            else:
                out += term
        out = out.reshape(n, -1, c).transpose(0, 2, 1)
        return np.ascontiguousarray(out).reshape((n, c) + self._spatial())

    def _exact(self, g):
        """Whether PyTorch's float32 gradients are reproduced bit for bit (ember._exact; 2-D bilinear on a
        contiguous grid, which its vectorised kernel reads in runs of 8 positions)."""
        return (_exact.ON[0] and g.dtype == np.float32 and self.mode == 'bilinear' and len(self.taps) == 4
                and self.contiguous)

    def input_grad(self, g, shape):
        """d(sum g * sample(a)) / d a: each output's gradient added at its taps, one np.bincount a channel over the
        taps inside the image (float64 sums, tap after tap in output order)."""
        if self._exact(g):
            return _exact_gs.input_grad(self, g, shape)
        n, c = shape[:2]
        keep = [np.flatnonzero(inside.ravel()) for _, inside, _, _ in self.taps]   # taps outside add nothing
        idx = np.concatenate([gi[k] for gi, k in zip(self._global(n), keep)])
        w = np.concatenate([w.ravel()[k] for (_, _, w, _), k in zip(self.taps, keep)])
        gc = np.ascontiguousarray(g.reshape(n, c, -1).transpose(1, 0, 2)).reshape(c, -1)    # (C, N * L)
        at = np.concatenate(keep)
        out = np.empty((c, n * self.numel), g.dtype)
        for ch in range(c):
            out[ch] = np.bincount(idx, weights=gc[ch][at] * w, minlength=n * self.numel)
        return np.ascontiguousarray(out.reshape(c, n, self.numel).transpose(1, 0, 2)).reshape(shape)

    def grid_grad(self, g, a):
        """d(sum g * sample(a)) / d grid, as (N, *grid spatial, 2 or 3): zeros for nearest (constant in the grid,
        whatever the values, NaN included, as PyTorch's)."""
        n = a.shape[0]
        if self.mode == 'nearest':
            return np.zeros(self.scales[0].shape + (len(self.scales),), g.dtype)
        if self._exact(g):
            return _exact_gs.grid_grad(self, g, a)
        rows, gt = self._rows(a), self._channels_last(g)
        grads = [0] * len(self.scales)
        for gi, (_, _, _, dws) in zip(self._global(n), self.taps):
            gv = (np.take(rows, gi, axis=0) * gt).sum(1).reshape(n, -1)
            grads = [acc + gv * dw.reshape(n, -1) for acc, dw in zip(grads, dws)]
        return np.stack([acc.reshape(sc.shape) * sc for acc, sc in zip(grads, self.scales)], -1).astype(g.dtype)


class _Sampling3D(_Sampling):
    """One volumetric grid_sample call's taps: (x, y, z) positions, trilinear (eight corners) or nearest."""

    def __init__(self, grid, D, H, W, mode, padding_mode, align_corners):
        coords, self.scales = [], []
        for c, size in enumerate((W, H, D)):
            i, sc = _unnormalize(grid[..., c], size, align_corners, fused=False)
            i, p = _pad(i, size, padding_mode, align_corners)
            coords.append(i)
            self.scales.append(np.full_like(i, sc) * p)
        self.numel, self.taps, self.mode, self.coords = D * H * W, [], mode, tuple(coords)
        if mode == 'nearest':
            xi, yi, zi = (np.rint(i) for i in coords)
            zero = np.zeros_like(xi)
            self._corner(xi, yi, zi, (W, H, D), np.ones_like(xi), (zero, zero, zero))
            return
        lows = [np.floor(i) for i in coords]
        fracs = [i - lo for i, lo in zip(coords, lows)]
        # each corner's factor as PyTorch's kernel rounds it: (low + 1) - i on the low side, i - low on the high one,
        # their product x * y * z from the left (1 - frac and z * y * x differed in 40% of the values)
        rests = [(lo + lo.dtype.type(1)) - i for i, lo in zip(coords, lows)]
        self.factors = (rests, fracs)
        for corner in range(8):
            picks = [(corner >> k) & 1 for k in range(3)]   # x, y, z: 0 the low side, 1 the high side
            ws = [f if up else r for f, r, up in zip(fracs, rests, picks)]
            ds = [np.ones_like(f) if up else -np.ones_like(f) for f, up in zip(fracs, picks)]
            w = ws[0] * ws[1] * ws[2]
            dws = (ws[2] * ws[1] * ds[0], ws[2] * ds[1] * ws[0], ds[2] * ws[1] * ws[0])
            self._corner(*(lo + up for lo, up in zip(lows, picks)), (W, H, D), w, dws)

    def sample(self, a):
        """(N, C, *grid spatial) values of image array ``a``: the corners inside the image added to +0 in turn, each
        value times its weight, as PyTorch's 3-D kernel (built without FMA)."""
        n, c = a.shape[:2]
        rows = self._rows(a)
        out = np.zeros((self.taps[0][2].size, c), a.dtype)
        for gi, (_, _, w, _) in zip(self._global(n), self.taps):
            term = np.take(rows, gi, axis=0)
            term *= w.reshape(-1, 1)
            out += term
        out = out.reshape(n, -1, c).transpose(0, 2, 1)
        return np.ascontiguousarray(out).reshape((n, c) + self._spatial())

    def input_grad(self, g, shape):
        if not (_exact.ON[0] and g.dtype == np.float32):
            return super().input_grad(g, shape)
        return _exact_gs.input_grad(self, g, shape)

    def grid_grad(self, g, a):
        if not (_exact.ON[0] and g.dtype == np.float32 and self.mode == 'bilinear'):
            return super().grid_grad(g, a)
        return _exact_gs.grid_grad(self, g, a)

    def _corner(self, xi, yi, zi, sizes, w, dws):
        W, H, D = sizes
        inside = (xi >= 0) & (xi <= W - 1) & (yi >= 0) & (yi <= H - 1) & (zi >= 0) & (zi <= D - 1)
        flat = np.where(inside, (zi * H + yi) * W + xi, 0).astype(np.int64)
        self._add_tap(flat, inside, w, dws)


GridSampler2DBackwardBackward0 = node_class('GridSampler2DBackwardBackward0')
GridSampler3DBackwardBackward0 = node_class('GridSampler3DBackwardBackward0')


class GridSampler2DBackward0(Node):
    """The gradients of the input (each output's gradient added at its taps) and the grid (the taps' values times
    their weights' derivatives); under create_graph=True, each a GridSampler*BackwardBackward0 node (PyTorch's
    name) over the same differentiated in ember ops (``_Sampling.sample_graph``), so it is differentiable again."""
    __slots__ = ('sampling', 'need')
    _twice = GridSampler2DBackwardBackward0

    def backward(self, g):
        a, grid = self.saved()
        if not dual.is_array(g):
            return self._graph_grads(g, a, grid)
        return self._grads(g, a)

    def _graph_grads(self, g, a, grid):
        """Each gradient over the tensors it depends on: the input's on g and (unless nearest) the grid, not on
        the input (sampling is linear in it); the grid's on all three (zero for nearest, constant in the grid)."""
        from ...autograd import grad
        sample = self.sampling.sample_graph
        nearest = self.sampling.mode == 'nearest'
        gi = gg = None
        if self.need[0]:
            def input_grad(g, grid=grid):
                leaf = Tensor._make(a._data).requires_grad_()
                return grad(sample(leaf, grid), leaf, g, create_graph=True)[0]
            gi = composite(self._twice, input_grad, (g,) if nearest else (g, grid))
        if self.need[1]:
            if nearest:
                gg = Tensor._make(np.zeros(grid.shape, grid._data.dtype))
            else:
                gg = composite(self._twice, lambda g, a, grid: grad(sample(a, grid), grid, g, create_graph=True)[0],
                               (g, a, grid))
        return gi, gg

    def _grads(self, g, a):
        gi = self.sampling.input_grad(g, a.shape) if self.need[0] else None
        gg = self.sampling.grid_grad(g, a) if self.need[1] else None
        return gi, gg


class GridSampler3DBackward0(GridSampler2DBackward0):
    __slots__ = ()
    _twice = GridSampler3DBackwardBackward0


forward_refusal.refusing(GridSampler2DBackward0, 'grid_sampler_2d')   # no forward-mode formula in PyTorch
forward_refusal.refusing(GridSampler3DBackward0, 'grid_sampler_3d')   # (wraps 2D's: its name is checked first)


def _check_grid(a, gr):
    """PyTorch's first grid_sampler checks, in its order: the grid's last size (the input's spatial dims), then the
    batch sizes."""
    if gr.ndim and gr.shape[-1] != a.ndim - 2:
        raise RuntimeError(f'grid_sampler(): expected grid to have size {a.ndim - 2} in last dimension, but got grid '
                           f'with sizes {list(gr.shape)}')
    if gr.ndim and a.ndim and gr.shape[0] != a.shape[0]:
        raise RuntimeError(f'grid_sampler(): expected grid and input to have same batch size, but got input with '
                           f'sizes {list(a.shape)} and grid with sizes {list(gr.shape)}')


@_quiet.quietly
@_autocast.fp32
def grid_sample(input, grid, mode='bilinear', padding_mode='zeros', align_corners=None):
    """``input`` (N, C, H, W) sampled at ``grid`` (N, Ho, Wo, 2) positions in [-1, 1] (x then y)."""
    try:
        if mode not in ('bilinear', 'nearest', 'bicubic'):
            raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but "
                             f"got: '{mode}'")
        if padding_mode not in ('zeros', 'border', 'reflection'):
            raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                             f"'reflection', but got: '{padding_mode}'")
        if align_corners is None:
            warnings.warn(_DEFAULT, stacklevel=2)
            align_corners = False
        a, gr = input._data, grid._data
        _check_grid(a, gr)
        if a.ndim == 5:
            return _grid_sample_3d(input, grid, mode, padding_mode, align_corners)
        if a.ndim != 4 or gr.ndim != 4 or gr.shape[-1] != 2 or gr.shape[0] != a.shape[0]:
            raise RuntimeError(f'grid_sampler(): expected 4D input and grid with same batch size and last dim 2, but '
                               f'got input with sizes {list(a.shape)} and grid with sizes {list(gr.shape)}')
        if a.dtype != gr.dtype:
            raise RuntimeError(f'grid_sampler(): expected input and grid to have same dtype, but input has '
                               f'{input.dtype} and grid has {grid.dtype}')
        if a.dtype.kind != 'f':
            raise NotImplementedError(f'"grid_sampler_2d_cpu" not implemented for \'{input.dtype}\'')
        sampling = _Sampling(gr, a.shape[2], a.shape[3], mode, padding_mode, align_corners)
        return _sampled(GridSampler2DBackward0, sampling, input, grid)
    except (AttributeError, TypeError):
        check_inner_args('grid_sampler', ('input', input), ('grid', grid))
        raise


def _sampled(cls, sampling, input, grid):
    """``input`` sampled by ``sampling`` (a _Sampling or _Sampling3D of ``grid``), recorded by node class ``cls``."""
    out = sampling.sample(input._data).astype(input._data.dtype)
    need = (input.requires_grad, grid.requires_grad)
    if GRAD.enabled and any(need):
        node = cls((input, grid))
        node.sampling, node.need = sampling, need
        node.save(input, grid)
        return Tensor._make(out, node)
    return Tensor._make(out)


def _grid_sample_3d(input, grid, mode, padding_mode, align_corners):
    """``input`` (N, C, D, H, W) sampled at ``grid`` (N, Do, Ho, Wo, 3) positions (x, y, z): trilinear or nearest."""
    a, gr = input._data, grid._data
    if gr.ndim != 5 or gr.shape[-1] != 3 or gr.shape[0] != a.shape[0]:
        raise RuntimeError(f'grid_sampler(): expected 5D input and grid with same batch size and last dim 3, but '
                           f'got input with sizes {list(a.shape)} and grid with sizes {list(gr.shape)}')
    if mode == 'bicubic':
        raise RuntimeError('grid_sampler(): bicubic interpolation only supports 4D input')
    if a.dtype != gr.dtype:
        raise RuntimeError(f'grid_sampler(): expected input and grid to have same dtype, but input has '
                           f'{input.dtype} and grid has {grid.dtype}')
    if a.dtype.kind != 'f':
        raise NotImplementedError(f'"grid_sampler_3d_cpu" not implemented for \'{input.dtype}\'')
    sampling = _Sampling3D(gr, *a.shape[2:], mode, padding_mode, align_corners)
    return _sampled(GridSampler3DBackward0, sampling, input, grid)


# --- affine_grid --------------------------------------------------------------------------------------------------

def _linspace_from_neg_one(n, align_corners, dt):
    """PyTorch's linspace(-1, 1, n), scaled by (n - 1) / n without align_corners (pixel centres)."""
    if n <= 1:
        return np.zeros(1, dt)
    from ...ops.creation import linspace
    from ..._dtype import FROM_NP
    r = linspace(-1, 1, n, dtype=FROM_NP[np.dtype(dt)])._data
    return r if align_corners else r * dt(n - 1) / dt(n)


def _base_grid(size, align_corners, dt):
    """(H*W, 3) [x, y, 1] rows (2-D) or (D*H*W, 4) [x, y, z, 1] rows (3-D)."""
    spatial = size[2:]
    axes = [_linspace_from_neg_one(n, align_corners, dt) for n in reversed(spatial)]    # x first
    mesh = np.meshgrid(*reversed(axes), indexing='ij')     # slowest axis first
    cols = [m.ravel() for m in reversed(mesh)] + [np.ones(int(np.prod(spatial)), dt)]
    return np.stack(cols, -1).astype(dt)


def _affine(base, th):
    """(N, positions, dims) = base (positions, dims + 1) @ theta^T per sample. float32 as PyTorch's bmm computes it
    here: the products added one after another from the left, unfused (np.matmul's BLAS sums differed in 44 of 480
    and 119 of 918 coordinates; this form in none of 8 shapes up to (8, 3, 32, 40))."""
    if th.dtype != np.float32:
        return np.matmul(base, th.transpose(0, 2, 1))
    out = base[None, :, :1] * th[:, None, :, 0]
    for k in range(1, base.shape[1]):
        out += base[None, :, k:k + 1] * th[:, None, :, k]
    return out


class AffineGridGeneratorBackward0(Node):
    __slots__ = ('base',)

    def backward(self, g):
        N = g.shape[0]
        k = self.base.shape[-1]
        gf = g.reshape(N, -1, k - 1)
        if not dual.is_array(g):
            from ...ops.blas import matmul
            return (matmul(Tensor._make(self.base.T), gf).transpose(1, 2),)
        return (np.matmul(self.base.T, gf).transpose(0, 2, 1),)


@_quiet.quietly
def affine_grid(theta, size, align_corners=None):
    """The sampling grid (N, H, W, 2) (or (N, D, H, W, 3)) of the affine maps ``theta`` (N, 2, 3) (or (N, 3, 4))."""
    if align_corners is None:
        warnings.warn(_DEFAULT, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f'Expected theta to have floating point type, but got {theta.dtype}')
    size = list(size)
    if len(size) == 4:
        if theta.dim() != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
            raise ValueError(f'Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. Got '
                             f'{theta.shape}.')
    elif len(size) == 5:
        if theta.dim() != 3 or theta.shape[-2] != 3 or theta.shape[-1] != 4:
            raise ValueError(f'Expected a batch of 3D affine matrices of shape Nx3x4 for size {size}. Got '
                             f'{theta.shape}.')
    else:
        raise NotImplementedError(f'affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, '
                                  f'respectively. Got size {size}.')
    if align_corners and min(size[2:]) == 1:
        warnings.warn('Since version 1.3.0, affine_grid behavior has changed for unit-size grids when '
                      'align_corners=True. This is not an intended use case of affine_grid. See the documentation of '
                      'affine_grid for details.', stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f'Expected non-zero, positive output size. Got {size}')
    th = theta._data
    bf16 = _bf16.is_bf16(th.dtype)
    if bf16:    # computed in float32 and rounded once
        th = _bf16.to_f32(th)
    base = _base_grid(size, align_corners, th.dtype.type)
    grid = _affine(base, th).reshape([size[0]] + size[2:] + [len(size) - 2])
    if bf16:
        grid = _bf16.from_f32(grid)
    if GRAD.enabled and theta.requires_grad:
        node = AffineGridGeneratorBackward0((theta,))
        node.base = base
        return Tensor._make(grid, node)
    return Tensor._make(grid)
