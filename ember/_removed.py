"""torch's linear algebra functions removed in PyTorch 1.9 (``symeig``, ``eig``, ``lstsq``, ``solve``,
``matrix_rank``): old scripts still call them, and PyTorch raises a message saying what replaces each; so does
ember."""

_REMOVED = 'This function was deprecated since version 1.9 and is now removed.'
_MESSAGES = {
    'symeig': (f'{_REMOVED} The default behavior has changed from using the upper triangular portion of the matrix by '
               "default to using the lower triangular portion.\n\nL, _ = torch.symeig(A, upper=upper) should be "
               "replaced with:\nL = torch.linalg.eigvalsh(A, UPLO='U' if upper else 'L')\n\nand\n\nL, V = "
               "torch.symeig(A, eigenvectors=True) should be replaced with:\nL, V = torch.linalg.eigh(A, UPLO='U' if "
               "upper else 'L')"),
    'eig': (f'{_REMOVED} `torch.linalg.eig` returns complex tensors of dtype `cfloat` or `cdouble` rather than real '
            'tensors mimicking complex tensors.\n\nL, _ = torch.eig(A) should be replaced with:\nL_complex = '
            'torch.linalg.eigvals(A)\n\nand\n\nL, V = torch.eig(A, eigenvectors=True) should be replaced with:\n'
            'L_complex, V_complex = torch.linalg.eig(A)'),
    'lstsq': (f'{_REMOVED} `torch.lstsq` is deprecated in favor of `torch.linalg.lstsq`.\n`torch.linalg.lstsq` has '
              'reversed arguments and does not return the QR decomposition in the returned tuple (although it returns '
              'other information about the problem).\n\nTo get the QR decomposition consider using '
              '`torch.linalg.qr`.\n\nThe returned solution in `torch.lstsq` stored the residuals of the solution in '
              'the last m - n columns of the returned value whenever m > n. In torch.linalg.lstsq, the residuals are '
              "in the field 'residuals' of the returned named tuple.\n\nThe unpacking of the solution, as in\nX, _ = "
              'torch.lstsq(B, A).solution[:A.size(1)]\nshould be replaced with:\nX = torch.linalg.lstsq(A, B).solution'),
    'solve': (f'{_REMOVED} `torch.solve` is deprecated in favor of `torch.linalg.solve`. `torch.linalg.solve` has its '
              'arguments reversed and does not return the LU factorization.\n\nTo get the LU factorization see '
              '`torch.lu`, which can be used with `torch.lu_solve` or `torch.lu_unpack`.\nX = torch.solve(B, '
              'A).solution should be replaced with:\nX = torch.linalg.solve(A, B)'),
    'matrix_rank': (f'{_REMOVED}\nPlease use the `torch.linalg.matrix_rank` function instead. The parameter '
                    "'symmetric' was renamed in `torch.linalg.matrix_rank()` to 'hermitian'."),
}


def symeig(input, eigenvectors=False, upper=True, *, out=None):
    """Removed in PyTorch 1.9: raises its message (use linalg.eigvalsh / linalg.eigh)."""
    raise RuntimeError(_MESSAGES['symeig'])


def eig(self, eigenvectors=False, *, e=None, v=None):
    """Removed in PyTorch 1.9: raises its message (use linalg.eigvals / linalg.eig)."""
    raise RuntimeError(_MESSAGES['eig'])


def lstsq(input, A, *, out=None):
    """Removed in PyTorch 1.9: raises its message (use linalg.lstsq, arguments reversed)."""
    raise RuntimeError(_MESSAGES['lstsq'])


def solve(input, A, *, out=None):
    """Removed in PyTorch 1.9: raises its message (use linalg.solve, arguments reversed)."""
    raise RuntimeError(_MESSAGES['solve'])


def matrix_rank(input, tol=None, symmetric=False, *, out=None):
    """Removed in PyTorch 1.9: raises its message (use linalg.matrix_rank)."""
    raise RuntimeError(_MESSAGES['matrix_rank'])
