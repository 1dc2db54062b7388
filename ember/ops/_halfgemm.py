"""float16 matrix products as PyTorch's CPU computes them: with no float16 BLAS (x86 without AVX512-FP16), its
cpublas kernel takes each entry as a float32 dot product summed in four interleaved partial sums (term l into
sum l mod 4, a tail past the last group of four into the first), added ((s0 + s1) + s2) + s3, then ``beta * c``
(a convolution's bias) added in float32 and the whole rounded once. Measured against PyTorch 2.13: every entry
of float16 convolutions (8 to 64 channels, 3x3 and 5x5) and of products of two row-major or two column-major
matrices, where float32 BLAS's order left 1 to 31 entries in a few thousand one float16 step off."""
import numpy as np

from .. import _quiet

_F32 = np.float32
_CHUNK = 1 << 16     # float32 partial sums held at a time (4 x rows x columns), bounding the scratch memory


@_quiet.quietly
def lanes_product(a, b, lanes=4):
    """``a @ b`` (float32 arrays, (m, k) and (k, n)) summed as PyTorch's ``sum`` of ``lanes`` partial sums;
    ``lanes=1`` is one running sum in order (its kernel for a column-major left operand)."""
    m, k = a.shape
    n = b.shape[1]
    step = max(1, _CHUNK // max(1, lanes * m))
    out = np.empty((m, n), _F32)
    for c in range(0, n, step):
        out[:, c:c + step] = _lanes(a, b[:, c:c + step], lanes)
    return out


def _lanes(a, b, lanes):
    k, whole = a.shape[1], a.shape[1] // lanes * lanes
    acc = np.zeros((lanes, a.shape[0], b.shape[1]), _F32)
    for l in range(0, whole, lanes):
        acc += a[:, l:l + lanes].T[:, :, None] * b[l:l + lanes, None, :]
    for l in range(whole, k):
        acc[0] += a[:, l, None] * b[l, None, :]
    total = acc[0]
    for j in range(1, lanes):
        total += acc[j]
    return total


def cpu_has(*names):
    """Whether this CPU has all of NumPy's named features (PyTorch picks kernels by them: AVX-512 or AVX2)."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:     # NumPy 1.x
        from numpy.core._multiarray_umath import __cpu_features__ as features
    return all(features.get(n) for n in names)


def _vector_lanes():
    """float32 lanes of PyTorch's vectorised dot product on this CPU: 16 with AVX-512, else 8 (AVX2)."""
    return 16 if cpu_has('AVX512F') else 8


_LANES = []     # _vector_lanes(), asked once


@_quiet.quietly
def dot_product(a, b):
    """``a @ b`` (float32 (m, k) and (k, n)) summed as PyTorch's vectorised float16 dot (its kernel when the left
    operand is row-major and the right column-major, as in ``linear``): four registers of W lanes (W = 16 with
    AVX-512) accumulate the products 4W at a time, are added as a tree, then take the remaining whole W-blocks one
    by one; the lanes are added as a tree (halves) and the last k mod W products one by one. Measured equal to
    PyTorch on eight shapes (k 64 to 2048) where float32 BLAS's order left 1 to 4 entries one step off."""
    if not _LANES:
        _LANES.append(_vector_lanes())
    w = _LANES[0]
    m, k = a.shape
    bt = np.ascontiguousarray(b.T)
    rows = max(1, (1 << 22) // max(1, b.shape[1] * k))     # products held at a time: about 16 MB
    out = np.empty((m, b.shape[1]), _F32)
    for r in range(0, m, rows):
        out[r:r + rows] = _vector_dot(a[r:r + rows, None, :] * bt[None, :, :], w)
    return out


def _vector_dot(p, w, regs=4):
    k, step = p.shape[-1], w * regs
    whole = k // step * step
    acc = np.zeros(p.shape[:-1] + (regs, w), _F32)
    for j in range(0, whole, step):
        acc += p[..., j:j + step].reshape(p.shape[:-1] + (regs, w))
    while acc.shape[-2] > 1:
        half = acc.shape[-2] // 2
        acc = acc[..., :half, :] + acc[..., half:, :]
    lanes = acc[..., 0, :]
    for j in range(whole, k // w * w, w):
        lanes = lanes + p[..., j:j + w]
    while lanes.shape[-1] > 1:
        half = lanes.shape[-1] // 2
        lanes = lanes[..., :half] + lanes[..., half:]
    total = lanes[..., 0]
    for j in range(k // w * w, k):
        total = total + p[..., j]
    return total


def _column_major(x):
    """Whether PyTorch's mm reads 2-D ``x`` as column-major: not usable as row-major (unit column stride, rows
    at least a row apart) but as column-major (unit row stride); any other strides it copies row-major."""
    (r, c), (sr, sc) = x.shape, (st // x.itemsize for st in x.strides)
    if sc == 1 and sr >= max(1, c):
        return False
    return sr == 1 and sc >= max(1, r)


@_quiet.quietly
def matmul(a, b, bias=None):
    """``a @ b`` (+ ``bias``, PyTorch's addmm) of two 2-D float16 arrays as PyTorch's mm rounds it, or None where
    its kernel is another (a product with one row or column: its gemv kernels). PyTorch computes the transposed
    product column-major: row-major operands (or copies, for other strides) and two column-major ones take the four
    partial sums, a column-major ``a`` times a row-major ``b`` one running sum, a row-major ``a`` times a
    column-major ``b`` the vectorised dot; the bias is added in float32 and the sum rounded once."""
    if a.shape[0] < 2 or b.shape[1] < 2:
        return None
    ca, cb = _column_major(a), _column_major(b)
    a32, b32 = a.astype(_F32), b.astype(_F32)
    if cb and not ca:
        r = dot_product(a32, b32)
    else:
        r = lanes_product(a32, b32, 1 if ca and not cb else 4)
    if bias is not None:
        r += bias.astype(_F32)
    return r.astype(np.float16)
