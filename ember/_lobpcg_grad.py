"""lobpcg's gradient (PyTorch's LOBPCGAutogradFunction, for B = I): the derivative of the k selected eigenpairs of a
symmetric A. With all m pairs it is eigh's formula; with k < m the part of A's gradient in the complement of the k
eigenvectors comes from the characteristic polynomial p of the k eigenvalues, p(A) restricted to that complement
being definite (up to sign), as PyTorch derives it; the complement's basis is drawn by a generator of PyTorch's
default seed, as PyTorch's."""
from .autograd.function import Function


def _complete(D_grad, U_grad, D, U):
    """eigh's gradient: U (diag(D_grad) + (U^T U_grad) / (D_j - D_i)) U^T (the diagonal of the quotient zero)."""
    F = D.unsqueeze(-2) - D.unsqueeze(-1)
    F.diagonal(dim1=-2, dim2=-1).fill_(float('inf'))
    Ut = U.mT
    return U @ ((D_grad.diag_embed() + (Ut @ U_grad) * F.pow(-1)) @ Ut)


def _poly_from_roots(roots):
    """Coefficients (a_0, ..., a_{n-1}, 1) of prod (x - r_i), lowest power first."""
    from .ops.creation import zeros
    n = roots.shape[-1]
    c = zeros(roots.shape[:-1] + (n + 1,), dtype=roots.dtype)
    c[..., n] = 1
    for i in range(n):   # times (x - r_i): the coefficients kept at the top, the new lowest at n - i - 1
        lo = n - i - 1
        c[..., lo:n] = c[..., lo:n] - roots[..., i:i + 1] * c[..., lo + 1:n + 1]
    return c


def _horner(coeffs, step, start):
    """sum_k coeffs[..., k] x^k by Horner's rule; ``step(acc, c)`` is acc * x + c * x^0 for x's kind."""
    acc = start
    for k in range(coeffs.shape[-1] - 2, -1, -1):
        acc = step(acc, coeffs[..., k])
    return acc


def _partial(D_grad, U_grad, A, D, U, largest):
    from .ops.creation import eye, zeros
    from .random import Generator
    from .ops.random import randn
    from . import linalg, cholesky_solve
    Ut = U.mT
    proj = eye(A.shape[-1], dtype=A.dtype) - U @ Ut
    U_ortho = proj @ randn(*A.shape[:-1], A.shape[-1] - D.shape[-1], dtype=A.dtype, generator=Generator())
    chi = _poly_from_roots(D)
    projected, series = U_grad, zeros(U_grad.shape, dtype=U_grad.dtype)
    for k in range(1, chi.shape[-1]):
        tail = chi[..., k:]
        value = _horner(tail, lambda acc, c: c.unsqueeze(-1) + D * acc, D.new_ones(1).expand(D.shape))
        series = series + projected * value.unsqueeze(-2)
        projected = A @ projected
    I = eye(A.shape[-1], dtype=A.dtype)
    chi_A = _horner(chi, lambda acc, c: A @ acc + c.unsqueeze(-1).unsqueeze(-1) * I, I.expand(A.shape))
    sign = -1 if (largest and k % 2 == 1) else 1
    L = linalg.cholesky(sign * (U_ortho.mT @ (chi_A @ U_ortho)))
    res = _complete(D_grad, U_grad, D, U)
    return res - (U_ortho @ (sign * cholesky_solve(U_ortho.mT @ series, L))) @ Ut


class LOBPCGAutogradFunction(Function):
    """lobpcg recorded as PyTorch records it (grad_fn LOBPCGAutogradFunctionBackward)."""

    @staticmethod
    def forward(ctx, A, k, B, X, n, iK, niter, tol, largest, method, tracker, ortho_iparams, ortho_fparams,
                ortho_bparams):
        from ._lobpcg import _solve
        A = A if A.is_sparse else A.contiguous()
        B = B if B is None or B.is_sparse else B.contiguous()
        D, U = _solve(A, k, B, X, n, iK, niter, tol, largest, method, tracker, ortho_iparams, ortho_fparams,
                      ortho_bparams)
        ctx.save_for_backward(A, B, D, U)
        ctx.largest = largest
        return D, U

    @staticmethod
    def backward(ctx, D_grad, U_grad):
        A, B, D, U = ctx.saved_tensors
        if A.is_sparse or (B is not None and B.is_sparse and ctx.needs_input_grad[2]):
            raise ValueError('lobpcg.backward does not support sparse input yet. Note that lobpcg.forward does though.')
        if A.is_complex() or (B is not None and B.is_complex()):
            raise ValueError('lobpcg.backward does not support complex input yet. Note that lobpcg.forward does '
                             'though.')
        if B is not None:
            raise ValueError('lobpcg.backward does not support backward with B != I yet.')
        largest = True if ctx.largest is None else ctx.largest
        if U.shape[-1] == U.shape[-2]:
            A_grad = _complete(D_grad, U_grad, D, U)
        else:
            A_grad = _partial(D_grad, U_grad, A, D, U, largest)
        return (A_grad,) + (None,) * 13


def lobpcg_with_grad(A, k, B, X, n, iK, niter, tol, largest, method, tracker, ortho_iparams, ortho_fparams,
                     ortho_bparams):
    """lobpcg of A and B made symmetric ((M + M^T) / 2, so that A's gradient is symmetric too), recorded."""
    A_sym = (A + A.mT) / 2
    B_sym = None if B is None else (B + B.mT) / 2
    return LOBPCGAutogradFunction.apply(A_sym, k, B_sym, X, n, iK, niter, tol, largest, method, tracker,
                                        ortho_iparams, ortho_fparams, ortho_bparams)
