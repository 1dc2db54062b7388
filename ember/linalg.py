"""``torch.linalg``: PyTorch's linear-algebra names, implemented in ``ember._linalg`` (this module exposes
only those names, so ``dir(torch.linalg)`` shows no helper of ember's)."""
from ._linalg import (solve, inv, det, slogdet, lstsq, norm, vector_norm, matrix_norm, matrix_rank, pinv, eigh,
                      eigvalsh, svd, svdvals, cholesky, qr, cross, matmul, solve_triangular, matrix_power, matrix_exp,
                      multi_dot, vecdot, diagonal, vander, inv_ex, cholesky_ex, solve_ex, LinAlgError, cond,
                      tensorinv, tensorsolve, eig, eigvals)
from ._lu import lu_factor, lu_factor_ex, lu, lu_solve
from ._householder import householder_product
from ._ldl import ldl_factor, ldl_factor_ex, ldl_solve

from . import _complex
from .ops import _out, _util

_out.install(globals(), ('lu_factor', 'lu_factor_ex', 'lu', 'lu_solve'), prefix='linalg.')

# PyTorch's argument parser takes NumPy's axis/keepdims for dim/keepdim here too (POT's torch backend calls
# ``torch.linalg.norm(a, dim=axis, keepdims=keepdims)``)
norm, vector_norm, matrix_norm, cross, vecdot = map(_util.dim_aliases, (norm, vector_norm, matrix_norm, cross, vecdot))

# written for real numbers (a transpose where the conjugate transpose is PyTorch's, real-only algorithms)
_complex.refuse_in(globals(), 'linalg.', ('slogdet', 'lstsq', 'vecdot',
                                          'solve_triangular', 'tensorinv', 'tensorsolve',
                                          'lu_factor', 'lu_factor_ex', 'lu', 'lu_solve', 'householder_product',
                                          'ldl_factor', 'ldl_factor_ex', 'ldl_solve'))
# NumPy's LAPACK computes these (and matrix_rank) for Hermitian / complex matrices as PyTorch does (conjugate
# transposes, real eigen- and singular values); their backward formulas are the real case's: refused where a
# complex input requires grad
_complex.refuse_in(globals(), 'linalg.', ('pinv', 'cholesky', 'cholesky_ex', 'cond'),
                   grad_only=True)

__all__ = ['solve', 'inv', 'det', 'slogdet', 'lstsq', 'norm', 'vector_norm', 'matrix_norm', 'matrix_rank', 'pinv',
           'eigh', 'eigvalsh', 'svd', 'svdvals', 'cholesky', 'qr', 'cross', 'matmul', 'solve_triangular',
           'matrix_power', 'matrix_exp', 'multi_dot', 'vecdot', 'diagonal', 'vander', 'inv_ex', 'cholesky_ex',
           'solve_ex', 'LinAlgError', 'cond', 'tensorinv', 'tensorsolve', 'eig', 'eigvals', 'lu_factor',
           'lu_factor_ex', 'lu', 'lu_solve', 'householder_product', 'ldl_factor', 'ldl_factor_ex', 'ldl_solve']

from . import _builtin as _builtin_module  # noqa: E402
_builtin_module.seal(globals(), __name__)   # PyTorch's builtins do not bind as methods: nor do ember's
