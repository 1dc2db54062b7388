"""``torch.svd_lowrank`` and ``torch.pca_lowrank``: Halko, Martinsson and Tropp's randomized SVD (their
Algorithms 4.4 and 5.1), for dense, batched or sparse COO input. The random test matrix comes from ember's
generator, which draws PyTorch's numbers, so that after the same ``manual_seed`` both libraries project on the
same subspace and agree to rounding."""
from . import _layout


def _floating(A):
    """A's dtype when it is a float type, else float32 (PyTorch's _linalg_utils.get_floating_dtype)."""
    from . import float16, float32, float64
    return A.dtype if A.dtype in (float16, float32, float64) else float32


def _matmul(A, B):
    """A @ B where A may be sparse COO (B is dense)."""
    from . import matmul, sparse
    if A.layout == _layout.sparse_coo:
        return sparse.mm(A, B)
    return matmul(A, B)


def _basis(A, q, niter, M):
    """An orthonormal (m, q) Q with Q Q^H (A - M) close to A - M: a random projection then ``niter`` rounds of
    subspace iteration, re-orthonormalised by QR after each product."""
    from . import randn, linalg
    R = randn(A.shape[-1], q, dtype=A.dtype if A.is_complex() else _floating(A), device=A.device)

    def times(X, Y, Z):
        out = _matmul(X, Z)
        return out if Y is None else out - _matmul(Y, Z)
    Q = linalg.qr(times(A, M, R)).Q
    for _ in range(2 if niter is None else niter):
        Q = linalg.qr(times(A.mH, None if M is None else M.mH, Q)).Q
        Q = linalg.qr(times(A, M, Q)).Q
    return Q


def svd_lowrank(A, q=6, niter=2, M=None):
    """(U, S, V), U (m, q), S (q,), V (n, q), with A - M close to U diag(S) V^H (M broadcast to A's shape;
    None is zero). Tall and wide matrices are handled through A^H, as PyTorch does, so the draws agree."""
    from . import linalg
    q = 6 if q is None else q
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(A.size())
    if m < n:
        A = A.mH
        M = None if M is None else M.mH
    Q = _basis(A, q, niter, M)
    B = _matmul(Q.mH, A) if A.layout != _layout.sparse_coo else _matmul(A.mH, Q).mH
    if M is not None:
        B = B - _matmul(Q.mH, M)
    U, S, Vh = linalg.svd(B, full_matrices=False)
    U, V = Q.matmul(U), Vh.mH
    return (V, S, U) if m < n else (U, S, V)


def pca_lowrank(A, q=None, center=True, niter=2):
    """Principal components of the rows of A: ``svd_lowrank`` of A less its column means (``center``); q
    defaults to min(6, m, n)."""
    from . import ones, sparse_coo_tensor, zeros, sparse
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not (q >= 0 and q <= min(m, n)):
        raise ValueError(f'q(={q}) must be non-negative integer and not greater than min(m, n)={min(m, n)}')
    if not niter >= 0:
        raise ValueError(f'niter(={niter}) must be non-negative integer')
    if not center:
        return svd_lowrank(A, q, niter=niter, M=None)
    if A.layout == _layout.sparse_coo:
        if len(A.shape) != 2:
            raise ValueError('pca_lowrank input is expected to be 2-dimensional tensor')
        dtype = _floating(A)
        c = sparse.sum(A, dim=(-2,)) / m
        cols = c.indices()[0]
        idx = zeros(2, len(cols), dtype=cols.dtype)
        idx[0] = cols
        C_t = sparse_coo_tensor(idx, c.values(), (n, 1), dtype=dtype)
        M = sparse.mm(C_t, ones(tuple(A.shape[:-2]) + (1, m), dtype=dtype)).mT
        return svd_lowrank(A, q, niter=niter, M=M)
    return svd_lowrank(A - A.mean(dim=(-2,), keepdim=True), q, niter=niter, M=None)
