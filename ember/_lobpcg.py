"""``torch.lobpcg``: the k largest (or smallest) eigenpairs of a symmetric (generalized) eigenproblem A X = B X E
by the locally optimal block preconditioned conjugate gradient method, in PyTorch's two variants: 'basic'
(Knyazev 2001: Rayleigh-Ritz on span[X, P, W] through a Cholesky transform) and 'ortho' (the default; Duersch et
al. 2018: span[X, P, W] kept B-orthonormal by SVQB passes, Stathopoulos and Wu 2002). The steps, their order and
their stopping rules are PyTorch's, so iterates and results agree with its (float64: to rounding). A worker object
with PyTorch's attribute names (A, B, X, E, R, S, ivars, fvars, bvars, tvars, iparams...) is what ``tracker``
receives each iteration."""
from .autograd.grad_mode import no_grad


def _mm(A, B):
    """A @ B, A None standing for the identity (B unchanged); a sparse COO A by sparse.mm."""
    if A is None:
        return B
    if A.is_sparse:
        from . import sparse
        return sparse.mm(A, B)
    return A @ B


def _qform(A, S):
    """S^T A S."""
    return _mm(S.mT, _mm(A, S))


def _symeig(A, largest=False):
    """A's eigenpairs (eigh of its upper triangle), ascending, or descending where ``largest``."""
    from . import linalg
    E, Z = linalg.eigh(A, UPLO='U')
    return (E.flip(-1), Z.flip(-1)) if largest else (E, Z)


class LOBPCG:
    """One problem's iteration state and its update steps (PyTorch's worker, by its attribute names)."""

    def __init__(self, A, B, X, iK, iparams, fparams, bparams, method, tracker):
        from .ops.creation import zeros
        self.A, self.B, self.iK, self.X = A, B, iK, X
        self.iparams, self.fparams, self.bparams, self.method, self.tracker = iparams, fparams, bparams, method, tracker
        m, n = iparams['m'], iparams['n']
        self.E = zeros(n, dtype=X.dtype)
        self.R = zeros(m, n, dtype=X.dtype)
        self.S = zeros(m, 3 * n, dtype=X.dtype)
        self.tvars, self.ivars, self.fvars, self.bvars = {}, {'istep': 0}, {'_': 0.0}, {'_': False}

    def update(self):
        """One step: the first sets the norms the convergence test scales by."""
        if self.ivars['istep'] == 0:
            X_norm = float(self.X.norm())
            self.fvars.update(X_norm=X_norm, A_norm=float(_mm(self.A, self.X).norm()) / X_norm,
                              B_norm=float(_mm(self.B, self.X).norm()) / X_norm)
            self.ivars.update(iterations_left=self.iparams['niter'], converged_count=0, converged_end=0)
        (self._update_ortho if self.method == 'ortho' else self._update_basic)()
        self.ivars['iterations_left'] -= 1
        self.ivars['istep'] += 1

    def update_residual(self):
        self.R = _mm(self.A, self.X) - _mm(self.B, self.X) * self.E

    def update_converged_count(self):
        """The leading pairs whose backward-stable relative residual is below tol (Duersch et al., sec. 4.3)."""
        prev = self.ivars['converged_count']
        E, X, R = self.E, self.X, self.R
        scale = self.fvars['A_norm'] + E[:X.shape[-1]].abs() * self.fvars['B_norm']
        rerr = R.norm(2, (0,)) / (X.norm(2, (0,)) * scale)
        count = 0
        for ok in (rerr < self.fparams['tol']).tolist():
            if not ok:
                break
            count += 1
        if count < prev:
            raise AssertionError(f'the number of converged eigenpairs (was {prev}, got {count}) cannot decrease')
        self.ivars['converged_count'] = count
        self.tvars['rerr'] = rerr
        return count

    def stop_iteration(self):
        return (self.bvars.get('force_stop', False) or self.ivars['iterations_left'] == 0
                or self.ivars['converged_count'] >= self.iparams['k'])

    def run(self):
        self.update()
        self.call_tracker()
        while not self.stop_iteration():
            self.update()
            self.call_tracker()

    def call_tracker(self):
        if self.tracker is not None:
            self.tracker(self)

    def _fill_search(self, P, W):
        """S = [X, P, W]; converged_end marks W's end."""
        n, np_ = self.iparams['n'], P.shape[-1]
        self.S[:, :n] = self.X
        self.S[:, n:n + np_] = P
        ns = self.ivars['converged_end'] = n + np_ + W.shape[-1]
        self.S[:, n + np_:ns] = W

    def _update_basic(self):
        n, largest = self.iparams['n'], self.bparams['largest']
        ns, nc = self.ivars['converged_end'], self.ivars['converged_count']
        if self.ivars['istep'] == 0:
            Ri = self._get_rayleigh_ritz_transform(self.X)
            E, Z = _symeig(_qform(_qform(self.A, self.X), Ri), largest)
            self.X[:] = self.X @ (Ri @ Z)
            self.E[:] = E
            self.update_residual()
            self.update_converged_count()
            self._fill_search(self.X[:, :0], _mm(self.iK, self.R))
            return
        S_ = self.S[:, nc:ns]
        Ri = self._get_rayleigh_ritz_transform(S_)
        E_, Z = _symeig(_qform(_qform(self.A, S_), Ri), largest)
        self.X[:, nc:] = S_ @ (Ri @ Z[:, :n - nc])
        self.E[nc:] = E_[:n - nc]
        P = S_ @ (Ri @ Z[:, n:2 * n - nc])
        self.update_residual()
        nc = self.update_converged_count()
        self._fill_search(P, _mm(self.iK, self.R[:, nc:]))

    def _update_ortho(self):
        from . import linalg
        n, largest = self.iparams['n'], self.bparams['largest']
        ns, nc = self.ivars['converged_end'], self.ivars['converged_count']
        if self.ivars['istep'] == 0:
            Ri = self._get_rayleigh_ritz_transform(self.X)
            _, Z = _symeig(_qform(_qform(self.A, self.X), Ri), largest)
            self.X = self.X @ (Ri @ Z)
            self.update_residual()   # (with E still zero, as PyTorch's first step)
            self.update_converged_count()
            self.S[:, :n] = self.X
            W = self._get_ortho(self.R, self.X)
            self.ivars['converged_end'] = n + W.shape[-1]
            self.S[:, n:n + W.shape[-1]] = W
            return
        S_ = self.S[:, nc:ns]
        E_, Z = _symeig(_qform(self.A, S_), largest)
        self.X[:, nc:] = S_ @ Z[:, :n - nc]
        self.E[nc:] = E_[:n - nc]
        P = S_ @ (Z[:, n - nc:] @ linalg.qr(Z[:n - nc, n - nc:].mT).Q)
        self.update_residual()
        nc = self.update_converged_count()
        self.S[:, :n] = self.X
        self.S[:, n:n + P.shape[-1]] = P
        W = self._get_ortho(self.R[:, nc:], self.S[:, :n + P.shape[-1]])
        self._fill_search(P, W)

    def _get_rayleigh_ritz_transform(self, S):
        """Ri, upper triangular, reducing (S^T A S) C = (S^T B S) C E to the standard problem (Ri^T S^T A S Ri) Z =
        Z E (C = Ri Z): the Cholesky factor of S^T B S scaled to a unit diagonal, inverted and scaled back."""
        from . import linalg
        SBS = _qform(self.B, S)
        d_row = SBS.diagonal(0, -2, -1) ** -0.5
        R = linalg.cholesky((SBS * d_row) * d_row.reshape(-1, 1), upper=True)
        return linalg.solve_triangular(R, d_row.diag_embed(), upper=True, left=False)

    def _get_svqb(self, U, drop, tau):
        """U's columns made B-orthonormal by one SVQB pass (Duersch's Algorithm 4); with ``drop`` the columns whose
        contribution to span(U) is below tau go."""
        if U.numel() == 0:
            return U
        UBU = _qform(self.B, U)
        d = UBU.diagonal(0, -2, -1)
        nz = (d.abs() != 0).nonzero().reshape(-1)
        if nz.numel() < d.numel():
            U = U[:, nz]
            if U.numel() == 0:
                return U
            UBU = _qform(self.B, U)
            d = UBU.diagonal(0, -2, -1)
        d_col = (d ** -0.5).reshape(-1, 1)
        E, Z = _symeig((UBU * d_col) * d_col.mT)
        t = tau * float(E.abs().max())
        if drop:
            keep = (E > t).nonzero().reshape(-1)
            E, Z, d_col = E[keep], Z[:, keep], d_col[keep]
        else:
            E[(E < t).nonzero().reshape(-1)] = t
        return (U * d_col.mT) @ (Z * E ** -0.5)

    def _get_ortho(self, U, V):
        """U made B-orthonormal and B-orthogonal to V (Duersch's Algorithm 3, or 6 with ortho_use_drop); empty when
        all of U lies in span(V)."""
        from .ops.creation import eye
        tau_ortho, tau_drop, tau_replace = (self.fparams[k] for k in ('ortho_tol', 'ortho_tol_drop',
                                                                       'ortho_tol_replace'))
        use_drop = self.bparams['ortho_use_drop']
        for key in [k for k in self.fvars if k.startswith('ortho_') and k.endswith('_rerr')]:
            self.fvars.pop(key)
        self.ivars.pop('ortho_i', 0)
        self.ivars.pop('ortho_j', 0)
        BV_norm = _mm(self.B, V).norm()
        BU = _mm(self.B, U)
        VBU = V.mT @ BU
        i = j = 0
        for i in range(self.iparams['ortho_i_max']):
            U = U - V @ VBU
            drop, tau_svqb = False, tau_drop
            for j in range(self.iparams['ortho_j_max']):
                if use_drop:
                    U = self._get_svqb(U, drop, tau_svqb)
                    drop, tau_svqb = True, tau_replace
                else:
                    U = self._get_svqb(U, False, tau_replace)
                if U.numel() == 0:
                    self.ivars.update(ortho_i=i, ortho_j=j)
                    return U
                BU = _mm(self.B, U)
                UBU = U.mT @ BU
                rerr = float((UBU - eye(UBU.shape[-1], dtype=UBU.dtype)).norm()) * float(BU.norm() * U.norm()) ** -1
                self.fvars[f'ortho_UBUmI_rerr[{i}, {j}]'] = rerr
                if rerr < tau_ortho:
                    break
            VBU = V.mT @ BU
            rerr = float(VBU.norm()) * float(BV_norm * U.norm()) ** -1
            self.fvars[f'ortho_VBU_rerr[{i}]'] = rerr
            if rerr < tau_ortho:
                break
            if self.iparams['m'] < U.shape[-1] + V.shape[-1]:
                if self.B is None:
                    raise AssertionError('B must not be None')
                raise ValueError(f'Overdetermined shape of U: #B-cols(={self.B.shape[-1]}) >= #U-cols(={U.shape[-1]}) '
                                 f'+ #V-cols(={V.shape[-1]}) must hold')
        self.ivars.update(ortho_i=i, ortho_j=j)
        return U


_EPS = {'float32': 1.2e-07, 'float64': 2.23e-16}


def _params(A, k, X, n, niter, tol, largest, method, ortho_iparams, ortho_fparams, ortho_bparams):
    """PyTorch's defaults and checks: (k, n, method, iparams, fparams, bparams)."""
    from . import float16, float32, float64
    dtype = A.dtype if A.dtype in (float16, float32, float64) else float32
    if tol is None:
        tol = _EPS[str(dtype).replace('torch.', '')] ** 0.5   # (float16: PyTorch's table has no entry either)
    m = A.shape[-1]
    k = (1 if X is None else X.shape[-1]) if k is None else k
    n = (k if n is None else n) if X is None else X.shape[-1]
    if m < 3 * n:
        raise ValueError(f'LOBPCG algorithm is not applicable when the number of A rows (={m}) is smaller than 3 x the '
                         f'number of requested eigenpairs (={n})')
    method = 'ortho' if method is None else method
    iparams = {'m': m, 'n': n, 'k': k, 'niter': 1000 if niter is None else niter}
    fparams, bparams = {'tol': tol}, {'largest': True if largest is None else largest}
    if method == 'ortho':
        iparams.update(ortho_iparams or {})
        fparams.update(ortho_fparams or {})
        bparams.update(ortho_bparams or {})
        iparams.setdefault('ortho_i_max', 3)
        iparams.setdefault('ortho_j_max', 3)
        for key in ('ortho_tol', 'ortho_tol_drop', 'ortho_tol_replace'):
            fparams.setdefault(key, tol)
        bparams.setdefault('ortho_use_drop', False)
    return dtype, k, n, method, iparams, fparams, bparams


def _solve(A, k, B, X, n, iK, niter, tol, largest, method, tracker, ortho_iparams, ortho_fparams, ortho_bparams):
    """(E, X) of each matrix in A's batch; an X not given is drawn by randn (m, n), one per matrix, as PyTorch's."""
    from .ops.random import randn
    from .ops.creation import empty
    if A.shape[-2] != A.shape[-1]:
        raise AssertionError(f'A must be square, got shape {A.shape}')
    if B is not None and A.shape != B.shape:
        raise AssertionError(f'A and B must have same shape, got {A.shape} vs {B.shape}')
    dtype, k, n, method, iparams, fparams, bparams = _params(A, k, X, n, niter, tol, largest, method, ortho_iparams,
                                                             ortho_fparams, ortho_bparams)
    m = iparams['m']

    def one(A_, B_, X_):
        X_ = randn((m, n), dtype=dtype) if X_ is None else X_
        if not (X_.dim() == 2 and tuple(X_.shape) == (m, n)):
            raise AssertionError(f'X{"_" if A.dim() > 2 else ""} shape mismatch: got {X_.shape}, expected {(m, n)}')
        worker = LOBPCG(A_, B_, X_, iK, iparams, fparams, bparams, method, tracker)
        worker.run()
        return worker.E[:k], worker.X[:, :k]

    if A.dim() == 2:
        return one(A, B, X)
    N = A.shape[:-2].numel()
    bA, bB = A.reshape((N,) + A.shape[-2:]), None if B is None else B.reshape((N,) + A.shape[-2:])
    bX = None if X is None else X.reshape((N,) + X.shape[-2:])
    bE, bXret = empty((N, k), dtype=dtype), empty((N, m, k), dtype=dtype)
    for i in range(N):
        iparams['batch_index'] = i
        bE[i], bXret[i] = one(bA[i], None if bB is None else bB[i], None if bX is None else bX[i])
    return bE.reshape(A.shape[:-2] + (k,)), bXret.reshape(A.shape[:-2] + (m, k))


def lobpcg(A, k=None, B=None, X=None, n=None, iK=None, niter=None, tol=None, largest=None, method=None, tracker=None,
           ortho_iparams=None, ortho_fparams=None, ortho_bparams=None):
    """(E, X): the k largest (largest=False: smallest) eigenvalues of A X = B X E and their eigenvectors, for
    symmetric A and symmetric positive definite B (None: the identity), by LOBPCG ('ortho' or 'basic'); X (m, n)
    starts the search (n >= k columns; drawn by randn when not given), iK preconditions it."""
    if A.requires_grad or (B is not None and B.requires_grad):
        from ._lobpcg_grad import lobpcg_with_grad
        return lobpcg_with_grad(A, k, B, X, n, iK, niter, tol, largest, method, tracker, ortho_iparams,
                                ortho_fparams, ortho_bparams)
    with no_grad():
        return _solve(A, k, B, X, n, iK, niter, tol, largest, method, tracker, ortho_iparams, ortho_fparams,
                      ortho_bparams)
