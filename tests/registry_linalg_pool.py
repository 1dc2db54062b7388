"""Registry entries for names that had none (session 45): linalg's LU family, eig, cond and tensor
inverses; torch's LU functions, complex views, conv_tbc, conv_transpose3d, histogramdd, stft/istft; the removed
functions (PyTorch's error); anomaly mode and forward_ad; nn pooling/unpooling/lazy modules and their functionals.

Loaded by tests/registry.py (one line at its end, with its helpers as the ``registry`` module): the ``Op``
entries are added to ``OPS``, the ``Call`` entries to ``TRAINING``; tests/registry_nn.py adds ``modules()``.
No torch import here."""
import warnings

import numpy as np

from registry import F32, F64, I64, Op, Sample, TRAINING, View, add, c64, f32, f64, fn, i64, la, spd, wc
from registry_training import Call, Case


def _istft(lib, x, n_fft, *args, length=None, **kwargs):
    """istft of stft(x) (the round trip PyTorch users run), through the function and the Tensor method."""
    spec = lib.stft(x, n_fft, *args, return_complex=True, **kwargs)
    return lib.istft(spec, n_fft, *args, length=length, **kwargs), spec.istft(n_fft, *args, length=length, **kwargs)


def _removed(name, ns='torch', method=True):
    """A function PyTorch removed: calling it raises PyTorch's error (the message names the replacement)."""
    return Op(name, lambda: [Sample(wc(3, 3), error=True), Sample(wc(3, 3), f32(3, 2, seed=1), error=True,
                                                                    desc='two args')],
              ns=ns, method=method and ns == 'torch', out=False, grad=False,
              call=None if ns == 'torch' else (lambda lib, x, *a: getattr(x, name)(*a)))


def _eig(lib, a):
    """linalg.eig's eigenvalues, |eigenvectors| and V diag(L) V^-1 (eigenvectors are unique up to a phase, which
    LAPACK's float32 and float64 runs pick differently)."""
    L, V = lib.linalg.eig(a)
    return L, V.abs(), lib.view_as_real(V @ lib.diag_embed(L) @ lib.linalg.inv(V))


def _through_real(fn):
    """``fn`` (a complex-valued op) seen through view_as_real, since gradcheck takes real outputs. Its out= form
    runs on a complex out tensor (the harness's float ``out`` then receives that tensor's real view)."""
    def call(lib, *args, out=None, **kwargs):
        if out is None:
            return lib.view_as_real(fn(lib)(*args, **kwargs))
        tmp = lib.empty(0, dtype=lib.complex64 if out.dtype == lib.float32 else lib.complex128)
        if fn(lib)(*args, out=tmp, **kwargs) is not tmp:
            raise AssertionError('out=: the result is not the out tensor')
        return out.resize_(lib.view_as_real(tmp).shape).copy_(lib.view_as_real(tmp))
    return call


def _real_view(name):
    return _through_real(lambda lib: getattr(lib, name))


def _real_view_linalg(name):
    return _through_real(lambda lib: getattr(lib.linalg, name))


# -- torch.linalg -------------------------------------------------------------------------------------------------
add(
    la('lu_factor', lambda: [Sample(wc(3, 3)), Sample(wc(2, 4, 4)), Sample(f32(3, 5)), Sample(f32(5, 3)),
                             Sample(wc(3, 3), pivot=False, error=True, desc='pivot=False on CPU'),
                             Sample(f32(3), error=True), Sample(wc(3, 3, dtype=F64), gradcheck=True)]),
    la('lu_factor_ex', lambda: [Sample(wc(3, 3)), Sample(np.zeros((3, 3), F32), desc='singular'),
                                Sample(wc(2, 4, 4), check_errors=True),
                                Sample(wc(3, 3, dtype=F64), gradcheck=True)]),
    la('lu', lambda: [Sample(wc(3, 3)), Sample(wc(2, 4, 4)), Sample(f32(3, 5)), Sample(f32(5, 3)),
                      Sample(f32(2, 3, 4, seed=1)), Sample(f32(3), error=True),
                      Sample(wc(3, 3, dtype=F64), gradcheck=True), Sample(f64(2, 4, 3), gradcheck=True)]),
    la('lu_solve', lambda: [Sample(wc(3, 3), f32(3, 2, seed=1)), Sample(wc(2, 3, 3), f32(2, 3, 1, seed=1)),
                            Sample(wc(3, 3), f32(2, 3, seed=1), left=False),
                            Sample(wc(3, 3), f32(3, 2, seed=1), adjoint=True),
                            Sample(wc(3, 3), f32(4, 2, seed=1), error=True),
                            Sample(wc(3, 3), f64(3, 2, seed=1), error=True, desc='mixed dtypes'),
                            Sample(wc(3, 3, dtype=F64), f64(3, 2, seed=1), gradcheck=True),
                            Sample(wc(3, 3, dtype=F64), f64(2, 3, seed=1), left=False, adjoint=True, gradcheck=True)],
       call=lambda lib, a, b, **k: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b, **k)),
    # PyTorch's backward of cond for the norms it computes through inv fails (inv_ex's output modified in place):
    # those samples compare forward only
    la('cond', lambda: [Sample(wc(3, 3)), Sample(wc(2, 3, 3)), Sample(wc(3, 3), 'nuc'),
                        *[Sample(wc(3, 3), p, grad=False) for p in ('fro', np.inf, -np.inf, 1, -1)],
                        Sample(wc(3, 3), 2), Sample(wc(3, 3), -2), Sample(f32(3, 4)), Sample(f32(3, 4), 'fro', error=True),
                        Sample(wc(3, 3), 3, error=True), Sample(wc(3, 3, dtype=F64), gradcheck=True),
                        Sample(wc(3, 3, dtype=F64), 'nuc', gradcheck=True)]),
    la('eigvals', lambda: [Sample(wc(3, 3)), Sample(wc(2, 3, 3)), Sample(f32(3, 4), error=True),
                           Sample(spd(3, 3, dtype=F64), gradcheck=True, desc='symmetric f64'),
                           Sample(wc(3, 3, dtype=F64), gradcheck=True)],
       call=_real_view_linalg('eigvals')),
    # (no gradcheck sample: ember's gradcheck takes real outputs, eig's are complex; eigvals' is checked through
    # view_as_real)
    la('eig', lambda: [Sample(spd(3, 3), desc='symmetric'), Sample(spd(2, 3, 3)),
                       Sample(wc(3, 3), desc='complex eigenvalues'), Sample(f32(3, 4), error=True),
                       Sample(spd(3, 3, dtype=F64)), Sample(wc(2, 4, 4, dtype=F64))],
       out=False, call=_eig),
    la('tensorinv', lambda: [Sample(wc(4, 4).reshape(2, 2, 4)), Sample(wc(4, 4).reshape(4, 2, 2), ind=1),
                             Sample(wc(6, 6).reshape(2, 3, 6), ind=2), Sample(wc(4, 4).reshape(4, 2, 2), error=True),
                             Sample(f32(4, 3), error=True), Sample(wc(4, 4, dtype=F64).reshape(2, 2, 4), gradcheck=True)]),
    la('tensorsolve', lambda: [Sample(wc(6, 6).reshape(2, 3, 6), f32(2, 3, seed=1)),
                               Sample(wc(6, 6).reshape(6, 2, 3), f32(2, 3, seed=1), dims=(0,)),
                               Sample(wc(4, 4), f32(3, seed=1), error=True),
                               Sample(wc(4, 4, dtype=F64).reshape(2, 2, 4), f64(2, 2, seed=1), gradcheck=True)]),
)

# -- torch: LU, removed functions, complex views, convolutions, histograms, stft -----------------------------------
add(
    Op('lu', lambda: [Sample(wc(3, 3)), Sample(wc(2, 4, 4)), Sample(f32(3, 5)), Sample(wc(3, 3), get_infos=True),
                      Sample(wc(3, 3), pivot=False, error=True, desc='pivot=False on CPU'),
                      Sample(wc(3, 3, dtype=F64), gradcheck=True)], out=False),
    Op('lu_solve', lambda: [Sample(f32(3, 2, seed=1), wc(3, 3)), Sample(f32(2, 3, 1, seed=1), wc(2, 3, 3)),
                            Sample(f64(3, 2, seed=1), wc(3, 3, dtype=F64), gradcheck=True)],
       call=lambda lib, b, a, **k: lib.lu_solve(b, *lib.linalg.lu_factor(a), **k),
       method=False, covers=('torch.Tensor.lu_solve',)),
    Op('lu_unpack', lambda: [Sample(wc(3, 3)), Sample(wc(2, 4, 4)), Sample(f32(3, 5)), Sample(f32(5, 3)),
                             Sample(wc(3, 3), unpack_data=False, grad=False),   # PyTorch's backward of the empty L, U raises
                              Sample(wc(3, 3), unpack_pivots=False),
                             Sample(wc(3, 3, dtype=F64), gradcheck=True)],
       call=lambda lib, a, **k: lib.lu_unpack(*lib.linalg.lu_factor(a), **k), method=False),
    *[_removed(n) for n in ('lstsq', 'eig', 'symeig', 'solve')], _removed('matrix_rank', method=False),
    *[_removed(n, 'Tensor') for n in ('lstsq', 'eig', 'symeig', 'solve')],
    Op('polar', lambda: [Sample(f32(3, 4, domain='positive'), f32(3, 4, seed=1)),
                         Sample(f32(3, 1, domain='positive'), f32(4, seed=1), desc='broadcast'),
                         Sample(f64(2, 3, domain='positive'), f64(2, 3, seed=1), gradcheck=True),
                         Sample(f32(3), f64(3), error=True)],
       method=False, call=_real_view('polar')),
    Op('complex', lambda: [Sample(f32(3, 4), f32(3, 4, seed=1)), Sample(f64(2, 3), f64(2, 3, seed=1), gradcheck=True),
                           Sample(f32(3), f64(3), error=True), Sample(i64(3), i64(3), error=True),
                           Sample(f32(3, 1), f32(4, seed=1), desc='broadcast')],
       method=False, call=_real_view('complex')),
    Op('view_as_real', lambda: [Sample(c64(3, 4), grad=False), Sample(f32(3), error=True),
                                Sample(View(c64(3, 4), lambda t: t[:, 1:], 'sliced'), grad=False)],
       method=False, out=False, grad=False),
    Op('view_as_complex', lambda: [Sample(f32(3, 2)), Sample(f32(2, 4, 2)), Sample(f64(3, 2), gradcheck=True),
                                   Sample(f32(3, 3), error=True),
                                   Sample(View(f32(2, 3), lambda t: t.t(), 'transposed'), error=True),
                                   Sample(View(f32(4, 2, 2), lambda t: t[:, 0], 'strided'))],
       method=False, out=False, call=lambda lib, x: lib.view_as_real(lib.view_as_complex(x) ** 2)),
    Op('conv_tbc', lambda: [Sample(f32(5, 2, 3), f32(3, 3, 4, seed=1), f32(4, seed=2)),
                            Sample(f32(5, 2, 3), f32(2, 3, 4, seed=1), f32(4, seed=2), 1),
                            Sample(f32(5, 2, 3), f32(2, 3, 4, seed=1), f32(4, seed=2), -1, desc='negative pad'),
                            Sample(f32(4, 2, 3), f32(5, 3, 4, seed=1), f32(4, seed=2), desc='kernel past the input'),
                            Sample(f32(5, 2, 3), f32(3, 4, 4, seed=1), f32(4, seed=2), error=True),
                            Sample(f64(4, 2, 2), f64(2, 2, 3, seed=1), f64(3, seed=2), 1, gradcheck=True)],
       method=False, out=False),
    Op('conv_transpose3d', lambda: [Sample(f32(1, 2, 3, 3, 3), f32(2, 3, 2, 2, 2, seed=1)),
                                    Sample(f32(2, 3, 3, 2), f32(2, 2, 2, 2, 2, seed=1), f32(2, seed=2), desc='unbatched'),
                                    Sample(f32(1, 4, 2, 3, 2), f32(4, 1, 2, 2, 2, seed=1), f32(2, seed=2), 2, 1, 1, 2,
                                           desc='stride padding output_padding groups'),
                                    Sample(f32(1, 2, 3, 3, 3), f32(2, 1, 2, 2, 2, seed=1), dilation=2),
                                    Sample(f32(1, 2, 3, 3, 3), f32(3, 1, 2, 2, 2, seed=1), error=True),
                                    Sample(f64(1, 2, 2, 2, 2), f64(2, 1, 2, 2, 2, seed=1), f64(1, seed=2),
                                           gradcheck=True)],
       method=False, out=False),
    Op('histogramdd', lambda: [Sample(f32(10, 2), 3), Sample(f32(10, 2), [2, 3], desc='bins per dim'),
                               Sample(f32(10, 3), 2, range=[-1.0, 1.0, -2.0, 2.0, 0.0, 1.0]),
                               Sample(f32(10, 2), 3, weight=f32(10, domain='positive', seed=1), density=True),
                               Sample(f64(6, 2), [np.array([-2.0, 0.0, 2.0]), np.array([-2.0, -1.0, 1.0, 2.0])],
                                      desc='bin edges'),
                               Sample(f32(3, 4, 2), 2, desc='batched points'),
                               Sample(i64(5, 2), 2, error=True)],
       method=False, out=False, grad=False),
    Op('i0_', lambda: [Sample(f32(3, 4)), Sample(f64(2, 3)), Sample(i64(3), error=True)],
       call=lambda lib, x: lib.i0_(x.clone()), method=False, out=False, grad=False),
    Op('stft', lambda: [Sample(f32(32), 8), Sample(f32(2, 40), 16, 4, 12, desc='batched hop win'),
                        Sample(f32(30), 8, window=np.hanning(8).astype(F32), center=False),
                        Sample(f32(30), 8, 3, pad_mode='constant', normalized=True, onesided=False),
                        Sample(f64(24), 8, 4, gradcheck=True),
                        Sample(f32(32), 8, return_complex=False, error=True, desc='return_complex=False'),
                        Sample(f32(4), 8, error=True, desc='too short')],
       call=lambda lib, x, *a, **k: lib.view_as_real(x.stft(*a, **{'return_complex': True, **k})),
       method=False, out=False, gradgrad=False, covers=('torch.Tensor.stft',)),
    Op('istft', lambda: [Sample(f32(32), 8), Sample(f32(2, 40), 16, 4, 12, desc='batched hop win'),
                         Sample(f32(30), 8, window=np.hanning(8).astype(F32) + 0.1, desc='window'),
                         Sample(f32(32), 8, length=30), Sample(f32(32), 8, normalized=True),
                         Sample(f64(24), 8, 4, gradcheck=True)],
       call=lambda lib, x, n, *a, **k: _istft(lib, x, n, *a, **k),
       method=False, out=False, gradgrad=False, covers=('torch.Tensor.istft',)),
)


# -- torch.nn.functional ------------------------------------------------------------------------------------------
def _unpool3d(lib, x, *args, **kwargs):
    """F.max_unpool3d fed the values and indices of F.max_pool3d(x, 2)."""
    y, i = lib.nn.functional.max_pool3d(x, 2, return_indices=True)
    return lib.nn.functional.max_unpool3d(y, i, *args, **kwargs)


def _ctc(lib, logits, targets, input_lengths, target_lengths, **kwargs):
    """F.ctc_loss on log_softmax(logits) (what users feed it), lengths as given (tensors or tuples)."""
    return lib.nn.functional.ctc_loss(logits.log_softmax(-1), targets, input_lengths, target_lengths, **kwargs)


_T, _N, _C = 6, 2, 4
_TARGETS = np.array([[1, 2, 2], [3, 1, 0]], I64)
_LOGITS = f32(_T, _N, _C)
add(
    fn('conv_tbc', lambda: [Sample(f32(5, 2, 3), f32(3, 3, 4, seed=1), f32(4, seed=2)),
                            Sample(f64(4, 2, 2), f64(2, 2, 3, seed=1), f64(3, seed=2), 1, gradcheck=True)]),
    fn('lp_pool3d', lambda: [Sample(f32(1, 2, 4, 4, 4, domain='positive'), 2, 2),
                             Sample(f32(2, 4, 4, 6, domain='positive'), 1.5, (2, 2, 3), desc='unbatched'),
                             Sample(f32(1, 2, 5, 5, 5, domain='positive'), 3, 3, 2, True, desc='stride ceil_mode'),
                             Sample(f32(4, 4, 4), 2, 2, error=True),
                             Sample(f64(1, 1, 4, 4, 4, domain='positive'), 2, 2, gradcheck=True)]),
    fn('max_unpool3d', lambda: [Sample(f32(1, 2, 4, 4, 4), 2), Sample(f32(2, 4, 4, 6), 2, 2, 0, desc='unbatched'),
                                Sample(f32(1, 1, 4, 4, 4), 2, output_size=(5, 5, 5)),
                                Sample(f32(1, 1, 4, 4, 4), 2, output_size=(9, 9, 9), error=True),
                                Sample(f64(1, 1, 4, 4, 2), 2, gradcheck=True)], call=_unpool3d),
    fn('adaptive_max_pool3d_with_indices', lambda: [Sample(f32(2, 3, 5, 6, 4), 3), Sample(f32(2, 4, 4, 5), (2, 3, None)),
                                                    Sample(f32(4, 4, 4), 2, error=True),
                                                    Sample(f64(1, 2, 4, 3, 4), 2, gradcheck=True)]),
    fn('fractional_max_pool2d_with_indices', lambda: [Sample(f32(2, 3, 9, 10), 2, output_size=(4, 5)),
                                                      Sample(f32(3, 7, 8), 3, output_ratio=(0.5, 0.6)),
                                                      Sample(f32(1, 2, 7, 8), 2, error=True, desc='no output size'),
                                                      Sample(f64(1, 2, 7, 8), 2, output_size=3, gradcheck=True)],
       seed=0),
    fn('fractional_max_pool3d_with_indices', lambda: [Sample(f32(2, 2, 6, 7, 6), 2, output_size=(3, 4, 3)),
                                                      Sample(f32(2, 6, 6, 6), 2, output_ratio=0.5, desc='unbatched'),
                                                      Sample(f64(1, 2, 5, 6, 5), 2, output_size=3, gradcheck=True)],
       seed=0),
    fn('ctc_loss', lambda: [Sample(_LOGITS, _TARGETS, (6, 5), (3, 2)),
                            Sample(_LOGITS, _TARGETS, np.array([6, 6]), np.array([3, 2]), reduction='sum'),
                            Sample(_LOGITS, _TARGETS, (6, 4), (3, 2), reduction='none', desc='none'),
                            Sample(_LOGITS, np.array([1, 2, 2, 3, 1], I64), (6, 5), (3, 2), desc='concatenated targets'),
                            Sample(f32(_T, _C), np.array([1, 2], I64), (6,), (2,), desc='unbatched'),
                            Sample(_LOGITS, np.array([[1, 1, 1], [2, 2, 2]], I64), (3, 2), (3, 3), desc='infeasible'),
                            Sample(_LOGITS, np.array([[1, 1, 1], [2, 2, 2]], I64), (3, 2), (3, 3), zero_infinity=True,
                                   desc='infeasible zero_infinity'),
                            Sample(_LOGITS, _TARGETS, (6, 5), (3, 2), blank=3, desc='blank=3'),
                            Sample(_LOGITS, _TARGETS, (7, 5), (3, 2), error=True, desc='input length > T'),
                            Sample(f64(_T, _N, _C), _TARGETS, (6, 5), (3, 2), gradcheck=True)],
       call=_ctc, gradgrad=False),
)


# -- torch.nn classes (tests/registry_nn.py adds them to its MODULES) --------------------------------------------------
def _unpool3d_module(lib, module, x, **kwargs):
    """MaxUnpool3d fed the values and indices of F.max_pool3d(x, 2)."""
    y, i = lib.nn.functional.max_pool3d(x, 2, return_indices=True)
    return module(y, i, **kwargs)


def _asm(lib, module, x, target):
    """AdaptiveLogSoftmaxWithLoss: its (output, loss), and log_prob and predict on the same batch (PyTorch's two
    take batches only)."""
    out = module(x, target)
    return (out.output, out.loss) + ((module.log_prob(x), module.predict(x)) if x.dim() == 2 else ())


def _ctc_module(lib, module, logits, targets, input_lengths, target_lengths):
    return module(logits.log_softmax(-1), targets, input_lengths, target_lengths)


def modules(nn):
    """The torch.nn class entries, built with registry_nn's helpers (``nn``: its globals)."""
    Mod, Build, S = nn['Mod'], nn['Build'], Sample
    lazy_probe, lazy_then = nn['_lazy_probe'], nn['_lazy_then']
    return [
        Mod('AdaptiveMaxPool3d', [Build((2, 3, 1), samples=[S(f32(1, 2, 5, 7, 3)), S(f32(2, 4, 4, 4), desc='unbatched'),
                                                            S(f32(4, 4), error=True),
                                                            S(f64(1, 1, 3, 4, 2), gradcheck=True)]),
                                  Build((None, 2, None), samples=[S(f32(1, 2, 3, 5, 2))]),
                                  Build(2, return_indices=True, samples=[S(f32(1, 2, 4, 5, 4))])]),
        Mod('ConvTranspose3d', [Build(2, 3, 2, samples=[S(f32(1, 2, 3, 3, 3)), S(f32(2, 3, 2, 3), desc='unbatched'),
                                                        S(f32(1, 3, 3, 3, 3), error=True),
                                                        S(f64(1, 2, 2, 2, 2), gradcheck=True)]),
                                Build(4, 2, (2, 1, 2), stride=2, padding=1, output_padding=1, groups=2, bias=False,
                                      samples=[S(f32(1, 4, 3, 2, 3))]),
                                Build(2, 2, 2, dilation=2, samples=[S(f32(1, 2, 2, 3, 2))]),
                                Build(2, 2, 2, padding_mode='reflect', error=True)]),
        Mod('FractionalMaxPool2d', [Build(2, output_size=(4, 5), samples=[S(f32(2, 3, 9, 10)),
                                                                          S(f32(3, 8, 9), desc='unbatched'),
                                                                          S(f64(1, 2, 7, 8), gradcheck=True)]),
                                    Build(3, output_ratio=(0.5, 0.6), return_indices=True, samples=[S(f32(1, 2, 7, 8))]),
                                    Build(2, desc='no output size', error=True),
                                    Build(2, output_ratio=1.5, error=True)]),
        Mod('FractionalMaxPool3d', [Build(2, output_size=(3, 4, 3), samples=[S(f32(2, 2, 6, 7, 6)),
                                                                             S(f32(2, 6, 7, 6), desc='unbatched'),
                                                                             S(f64(1, 1, 5, 6, 5), gradcheck=True)]),
                                    Build(2, output_ratio=0.5, return_indices=True, samples=[S(f32(1, 2, 6, 6, 6))]),
                                    Build(2, desc='no output size', error=True)]),
        Mod('LPPool3d', [Build(2, 2, samples=[S(f32(1, 2, 4, 4, 4, domain='positive')),
                                              S(f32(2, 4, 4, 4, domain='positive'), desc='unbatched'),
                                              S(f32(4, 4, 4), error=True),
                                              S(f64(1, 1, 4, 4, 4, domain='positive'), gradcheck=True)]),
                         Build(1.5, (2, 3, 2), stride=1, ceil_mode=True, samples=[S(f32(1, 2, 3, 4, 3, domain='positive'))])]),
        Mod('MaxUnpool3d', [Build(2, samples=[S(f32(1, 2, 4, 4, 4)), S(f32(2, 4, 4, 2), desc='unbatched'),
                                              S(f64(1, 1, 4, 2, 4), gradcheck=True)]),
                            Build(2, stride=2, padding=0, samples=[S(f32(2, 1, 4, 6, 2))])], call=_unpool3d_module),
        Mod('CTCLoss', [Build(samples=[S(_LOGITS, _TARGETS, (6, 5), (3, 2)),
                                       S(_LOGITS, np.array([1, 2, 2, 3, 1], I64), np.array([6, 5]), np.array([3, 2]),
                                         desc='concatenated targets'),
                                       S(f64(_T, _N, _C), _TARGETS, (6, 5), (3, 2), gradcheck=True)]),
                        Build(blank=3, reduction='sum', zero_infinity=True,
                              samples=[S(_LOGITS, np.array([[1, 1, 1], [2, 2, 2]], I64), (3, 2), (3, 3), desc='infeasible')]),
                        Build(reduction='none', samples=[S(_LOGITS, _TARGETS, (7, 5), (3, 2), error=True)])],
            call=_ctc_module),
        Mod('AdaptiveLogSoftmaxWithLoss', [Build(8, 10, [3, 6], samples=[S(f32(5, 8), np.array([0, 2, 4, 7, 9])),
                                                                         S(f32(8), np.array(5), desc='unbatched'),
                                                                         S(f32(5, 8), np.array([0, 2, 4, 7, 10]),
                                                                           error=True, desc='target out of range'),
                                                                         S(f64(3, 8), np.array([1, 5, 8]), gradcheck=True)]),
                                           Build(6, 7, [2, 4], div_value=2.0, head_bias=True,
                                                 samples=[S(f32(4, 6), np.array([0, 3, 5, 6]))]),
                                           Build(6, 7, [4, 2], desc='cutoffs not increasing', error=True),
                                           Build(6, 7, [2, 7], desc='cutoff == n_classes', error=True)],
            call=_asm),
        *[Mod(f'LazyConvTranspose{d}d', [Build(3, 2, probe=lazy_probe, samples=[S(f32(1, 2, *(3,) * d))]),
                                          Build(4, 2, stride=2, padding=1, output_padding=1, groups=2, bias=False,
                                                samples=[S(f32(2, 4, *(3,) * d), desc='strided groups')])],
              call=lazy_then, grad=False) for d in (1, 2, 3)],
        *[Mod(f'LazyInstanceNorm{d}d', [Build(probe=lazy_probe, modes=True, samples=[S(f32(2, 3, *(4,) * d))]),
                                         Build(affine=True, track_running_stats=True, probe=lazy_probe, modes=True,
                                               samples=[S(f32(2, 3, *(3,) * d)), S(f32(3, *(3,) * d), desc='unbatched')])],
              call=lazy_then, grad=False) for d in (1, 2, 3)],
    ]


# -- functions and state checked through Call entries (tests/test_registry_training.py) ----------------------------
def _restoring(getter, setter, body):
    """``body(lib)`` with a global flag restored after it (``getter``/``setter`` named in lib)."""
    def fn(lib):
        old = getattr(lib, getter)()
        try:
            return body(lib)
        finally:
            getattr(lib, setter)(old)
    return fn


def _anomaly_nan(lib):
    """Anomaly mode names the backward that returned NaN (sqrt of a negative number's gradient)."""
    x = lib.tensor([-1.0, 4.0], requires_grad=True)
    with lib.autograd.detect_anomaly():
        x.sqrt().sum().backward()


def _anomaly_flags(lib):
    got = [lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()]
    with lib.autograd.detect_anomaly(check_nan=False):
        got += [lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()]
    with lib.autograd.set_detect_anomaly(True):
        got += [lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()]
    lib.autograd.set_detect_anomaly(False)   # as a function call (PyTorch's set_detect_anomaly sets on construction)
    return got + [lib.is_anomaly_enabled()]


def _set_anomaly(lib):
    lib.set_anomaly_enabled(True, False)
    got = [lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()]
    lib.set_anomaly_enabled(False)
    return got + [lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()]


def _fwd(lib, f, primal, tangent):
    """Forward-mode AD: ``f`` on a dual tensor, the output's primal and tangent (and the input's, unpacked)."""
    fwd = lib.autograd.forward_ad
    with warnings.catch_warnings():   # PyTorch's first dual op imports modules that warn (jit.script deprecated)
        warnings.simplefilter('ignore')
        with fwd.dual_level():
            f(lib, fwd.make_dual(lib.tensor(primal), lib.tensor(tangent)))
    with fwd.dual_level():
        x = fwd.make_dual(lib.tensor(primal), lib.tensor(tangent))
        y = f(lib, x)
        return list(fwd.unpack_dual(y)) + [fwd.unpack_dual(x).tangent, type(fwd.unpack_dual(y)).__name__]


def _from_file(lib, shared, size, dtype):
    """torch.from_file on a file of float32 bytes (written here), read as ``dtype``."""
    import os
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, 'x.bin')
        np.arange(6, dtype=np.float32).tofile(path)
        t = lib.from_file(path, shared=shared, size=size, dtype=getattr(lib, dtype))
        return [t.clone(), str(t.dtype)]


def _default_type(name):
    def fn(lib):
        lib.set_default_tensor_type(getattr(lib, name))
        try:
            return [str(lib.tensor([1.5]).dtype), str(lib.ones(2).dtype), str(lib.get_default_dtype()),
                    str(lib.tensor([2]).dtype)]
        finally:
            lib.set_default_tensor_type(lib.FloatTensor)
    return fn


_NO_FLUSH = ('set_flush_denormal returns False in ember (NumPy cannot flush denormals, so it reports the mode as '
             'unsupported); PyTorch returns True on x86 and then flushes')
_DENSE = np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 3.0]], F32)


def _csr(t):
    """A compressed sparse tensor's parts, comparable across the libraries."""
    lay = str(t.layout).split('.')[-1]
    if lay == 'sparse_csr':
        return [lay, t.crow_indices(), t.col_indices(), t.values(), list(t.shape), t.to_dense()]
    return [lay, t.ccol_indices(), t.row_indices(), t.values(), list(t.shape), t.to_dense()]


TRAINING.extend([
    Call('', 'get_device', [Case('cpu', lambda lib: [lib.get_device(lib.ones(2)), lib.ones(2).get_device()])],
         exact=True),
    Call('', 'empty_permuted', [
        Case('shape and strides', lambda lib: [(tuple(t.shape), t.stride(), str(t.dtype)) for t in (
            lib.empty_permuted((2, 3, 4), (0, 2, 1)), lib.empty_permuted((2, 3, 4, 5), (0, 2, 3, 1), dtype=lib.float64),
            lib.empty_permuted((3,), (0,)), lib.empty_permuted((2, 0, 3), (2, 0, 1)))]),
        Case('requires_grad', lambda lib: lib.empty_permuted((2, 3), (1, 0), requires_grad=True).requires_grad),
        Case('not a permutation', lambda lib: lib.empty_permuted((2, 3), (0, 0)), error=True),
        Case('wrong length', lambda lib: lib.empty_permuted((2, 3), (0,)), error=True)], exact=True),
    Call('', 'typename', [Case('tensors and objects', lambda lib: [
        lib.typename(lib.ones(2)), lib.typename(lib.ones(2, dtype=lib.float64)), lib.typename(lib.ones(2, dtype=lib.int64)),
        lib.typename(lib.ones(2, dtype=lib.bool)), lib.typename(3), lib.typename(np.zeros(2)), lib.typename(lib.nn.Linear(2, 2))])],
         exact=True),
    Call('', 'is_anomaly_enabled', [Case('flags', _anomaly_flags)], exact=True),
    Call('', 'is_anomaly_check_nan_enabled', [Case('default', lambda lib: lib.is_anomaly_check_nan_enabled())], exact=True),
    Call('', 'set_anomaly_enabled', [Case('on and off', _set_anomaly)], exact=True),
    Call('', 'set_warn_always', [Case('on and off', _restoring('is_warn_always_enabled', 'set_warn_always', lambda lib: [
        lib.set_warn_always(True), lib.is_warn_always_enabled(), lib.set_warn_always(False), lib.is_warn_always_enabled()]))],
         exact=True),
    Call('', 'is_warn_always_enabled', [Case('default', lambda lib: lib.is_warn_always_enabled())], exact=True),
    Call('', 'set_flush_denormal', [Case('off', lambda lib: [lib.set_flush_denormal(False),
                                                            lib.tensor([1e-310], dtype=lib.float64) * 1])],
         exact=True, gaps={'case:off': _NO_FLUSH}),
    Call('', 'get_num_interop_threads', [Case('an int', lambda lib: type(lib.get_num_interop_threads()).__name__)],
         exact=True),
    Call('', 'frombuffer', [
        Case('int32', lambda lib: lib.frombuffer(bytearray(np.array([1, -2, 3], np.int32).tobytes()), dtype=lib.int32)),
        Case('count and offset', lambda lib: lib.frombuffer(bytearray(np.arange(6, dtype=np.float32).tobytes()),
                                                            dtype=lib.float32, count=3, offset=8)),
        Case('shares memory', lambda lib: _shares(lib)),
        Case('requires_grad', lambda lib: lib.frombuffer(bytearray(8), dtype=lib.float32, requires_grad=True).requires_grad),
        Case('empty buffer', lambda lib: lib.frombuffer(bytearray(), dtype=lib.float32), error=True),
        Case('offset past the end', lambda lib: lib.frombuffer(bytearray(8), dtype=lib.float32, offset=9), error=True),
        Case('count too large', lambda lib: lib.frombuffer(bytearray(8), dtype=lib.float32, count=3), error=True),
        Case('not divisible', lambda lib: lib.frombuffer(bytearray(6), dtype=lib.float32), error=True)], exact=True),
    Call('', 'from_file', [Case('float32', lambda lib: _from_file(lib, False, 6, 'float32')),
                           Case('as int32', lambda lib: _from_file(lib, False, 3, 'int32')),
                           Case('shared', lambda lib: _from_file(lib, True, 4, 'float32')),
                           Case('size past the end', lambda lib: _from_file(lib, False, 7, 'float32'), error=True)],
         exact=True),
    Call('', 'vmap', [
        Case('sum', lambda lib: lib.vmap(lib.sum)(lib.arange(6.).reshape(2, 3))),
        Case('in_dims', lambda lib: lib.vmap(lambda a, b: a * b, in_dims=(1, None))(lib.arange(6.).reshape(2, 3),
                                                                                    lib.arange(2.))),
        Case('out_dims', lambda lib: lib.vmap(lambda a: a * 2, out_dims=1)(lib.arange(6.).reshape(2, 3))),
        Case('nested', lambda lib: lib.vmap(lib.vmap(lib.dot))(lib.ones(2, 3, 4), lib.arange(24.).reshape(2, 3, 4))),
        Case('tuple out', lambda lib: lib.vmap(lambda a: (a.sum(), a.max()))(lib.arange(6.).reshape(3, 2))),
        Case('mismatched sizes', lambda lib: lib.vmap(lib.add)(lib.ones(2, 3), lib.ones(3, 3)), error=True)]),
    Call('', 'set_default_tensor_type', [Case('DoubleTensor', _default_type('DoubleTensor')),
                                         Case('not a float type', lambda lib: lib.set_default_tensor_type(lib.IntTensor),
                                              error=True)], exact=True),
    Call('Tensor', 'sparse_mask', [
        Case('coo mask', lambda lib: lib.arange(6.).reshape(2, 3).sparse_mask(lib.tensor(_DENSE).to_sparse())),
        Case('csr mask', lambda lib: _csr(lib.arange(6.).reshape(2, 3).sparse_mask(lib.tensor(_DENSE).to_sparse_csr()))),
        Case('shape mismatch', lambda lib: lib.ones(3, 3).sparse_mask(lib.tensor(_DENSE).to_sparse()), error=True)],
         gaps={'case:csr mask': 'ember masks by COO only: a CSR mask gives a COO result without ccol/crow indices'}),
    Call('Tensor', 'to_sparse_csr', [Case('2-d', lambda lib: _csr(lib.tensor(_DENSE).to_sparse_csr())),
                                     Case('batched', lambda lib: _csr(lib.tensor(np.stack([_DENSE, _DENSE[::-1]])).to_sparse_csr())),
                                     Case('1-d', lambda lib: lib.ones(3).to_sparse_csr(), error=True)],
         gaps={'case:batched': 'ember converts 2-D tensors to sparse_csr only (a batch of matrices is refused)'}),
    Call('Tensor', 'to_sparse_csc', [Case('2-d', lambda lib: _csr(lib.tensor(_DENSE).to_sparse_csc())),
                                     Case('int64', lambda lib: _csr(lib.tensor(_DENSE.astype(I64)).to_sparse_csc())),
                                     Case('1-d', lambda lib: lib.ones(3).to_sparse_csc(), error=True)]),
    Call('autograd', 'detect_anomaly', [Case('NaN in backward', _anomaly_nan, error=True),
                                        Case('a clean backward', lambda lib: _clean_anomaly(lib))]),
    Call('autograd', 'set_detect_anomaly', [Case('flags', _anomaly_flags)], exact=True),
    Call('autograd', 'anomaly_mode', [Case('names', lambda lib: [hasattr(lib.autograd.anomaly_mode, n) for n in
                                                                 ('detect_anomaly', 'set_detect_anomaly')])], exact=True),
    Call('autograd', 'forward_ad', [
        Case('sin of square', lambda lib: _fwd(lib, lambda L, x: (x * x).sin(), [1.0, 2.0, -0.5], [1.0, 0.0, 2.0])),
        Case('matmul and exp', lambda lib: _fwd(lib, lambda L, x: (x @ x.T).exp().sum(1), [[0.1, 0.2], [0.3, -0.4]],
                                                [[1.0, 0.0], [0.5, 1.0]])),
        Case('no tangent outside a level', lambda lib: lib.autograd.forward_ad.make_dual(lib.ones(2), lib.ones(2)),
             error=True)]),
])


def _shares(lib):
    """frombuffer's tensor shares the buffer: a write to the buffer shows in the tensor."""
    buf = bytearray(np.zeros(2, np.float32).tobytes())
    t = lib.frombuffer(buf, dtype=lib.float32)
    buf[0:4] = np.float32(7.0).tobytes()
    return t.clone()


def _clean_anomaly(lib):
    x = lib.tensor([1.0, 4.0], requires_grad=True)
    with lib.autograd.detect_anomaly():
        x.sqrt().sum().backward()
    return x.grad


# -- dtypes, LinAlgError, compressed constructors, submodules ------------------------------------------------------
def _complex_dtype(name, target):
    def fn(lib):
        d = getattr(lib, name)
        return [d is getattr(lib, target), repr(d), str(d), d.itemsize, d.is_complex, d.is_floating_point,
                repr(d.to_real()), lib.tensor([1.5 + 2j, -1j], dtype=d), lib.ones(2).to(d), lib.zeros(2, dtype=d).dtype == d]
    return Call('', name, [Case('dtype', fn), Case('to an int tensor', lambda lib: str((lib.ones(2, dtype=getattr(
        lib, name)) + lib.ones(2, dtype=lib.int64)).dtype))], exact=True)


def _linalg_error(lib):
    try:
        lib.linalg.inv(lib.zeros(2, 2))
    except lib.linalg.LinAlgError as e:
        return [type(e).__name__, issubclass(lib.linalg.LinAlgError, RuntimeError), 'singular' in str(e)]
    return 'no error'


def _grad_conv(lib):
    """nn.grad's conv input and weight gradients equal what autograd gives for the same conv2d."""
    x = lib.tensor(f64(1, 2, 5, 4), requires_grad=True)
    w = lib.tensor(f64(3, 2, 3, 2, seed=1), requires_grad=True)
    y = lib.nn.functional.conv2d(x, w, stride=2, padding=1)
    g = lib.tensor(np.ones(tuple(y.shape)))
    y.backward(g)
    gi = lib.nn.grad.conv2d_input(x.shape, w.detach(), g, stride=2, padding=1)
    gw = lib.nn.grad.conv2d_weight(x.detach(), w.shape, g, stride=2, padding=1)
    g1 = lib.nn.grad.conv1d_input((1, 2, 5), w.detach()[..., 0], lib.ones(1, 3, 3, dtype=lib.float64))
    return [gi, gw, x.grad, w.grad, g1]


def _func(lib):
    f = lambda x: (x.sin() * x).sum()   # noqa: E731
    x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64)
    lin = lib.nn.Linear(3, 2)
    params = {k: lib.ones_like(v) for k, v in lin.named_parameters()}
    return [lib.func.grad(f)(x), lib.func.jacrev(lambda x: x.exp() * x)(x), lib.func.jacfwd(lambda x: x.exp() * x)(x),
            lib.func.hessian(f)(x), lib.func.vmap(lib.func.grad(f))(x.reshape(3, 1)),
            lib.func.grad_and_value(f)(x), lib.func.functional_call(lin, params, (x.float(),))]


TRAINING.extend([
    _complex_dtype('cfloat', 'complex64'), _complex_dtype('cdouble', 'complex128'),
    _complex_dtype('complex64', 'cfloat'), _complex_dtype('complex128', 'cdouble'),
    Call('linalg', 'LinAlgError', [Case('raised by inv', _linalg_error),
                                   Case('raise it', lambda lib: (_ for _ in ()).throw(lib.linalg.LinAlgError('x')),
                                        error=True)], exact=True),
    Call('', 'sparse_csr_tensor', [
        Case('2-d', lambda lib: _csr(lib.sparse_csr_tensor(lib.tensor([0, 2, 3]), lib.tensor([0, 2, 1]),
                                                           lib.tensor([1.0, 2.0, 3.0]), (2, 3)))),
        Case('size inferred', lambda lib: _csr(lib.sparse_csr_tensor([0, 1, 2], [1, 0], [4.0, 5.0]))),
        Case('float64', lambda lib: _csr(lib.sparse_csr_tensor([0, 1, 1], [2], [4.0], (2, 3), dtype=lib.float64))),
        Case('bad crow_indices', lambda lib: lib.sparse_csr_tensor([0, 3, 2], [0, 1], [1.0, 2.0], (2, 3),
                                                                check_invariants=True), error=True)]),
    Call('', 'sparse_csc_tensor', [
        Case('2-d', lambda lib: _csr(lib.sparse_csc_tensor(lib.tensor([0, 1, 1, 3]), lib.tensor([0, 0, 1]),
                                                           lib.tensor([1.0, 2.0, 3.0]), (2, 3)))),
        Case('bad ccol_indices', lambda lib: lib.sparse_csc_tensor([0, 2, 1, 3], [0, 0, 1], [1.0, 2.0, 3.0], (2, 3),
                                                                check_invariants=True),
             error=True)]),
    Call('', 'BFloat16Storage', [Case('values', lambda lib: [lib.BFloat16Storage([1.5, -2.0, 1e-3]).tolist(),
                                                             lib.BFloat16Storage(3).size(),
                                                             str(lib.BFloat16Storage(2).dtype)])], exact=True),
    Call('nn', 'grad', [Case('conv gradients', _grad_conv)]),
    Call('', 'func', [Case('transforms', _func)]),
    Call('', 'functional', [Case('functions', lambda lib: [
        lib.functional.einsum('ij,jk->ik', lib.ones(2, 3), lib.arange(6.).reshape(3, 2)),
        list(lib.functional.meshgrid(lib.arange(2), lib.arange(3), indexing='ij')),
        list(lib.functional.split(lib.arange(5), 2)), lib.functional.broadcast_shapes((2, 1), (3,)),
        lib.functional.cdist(lib.ones(2, 3), lib.zeros(1, 3)), list(lib.functional.unique(lib.tensor([3, 1, 3]),
                                                                                        return_counts=True))])]),
    Call('', 'quasirandom', [Case('SobolEngine', lambda lib: lib.quasirandom.SobolEngine(2).draw(4))], exact=True),
    Call('', 'sparse', [Case('mm and sum', lambda lib: [lib.sparse.mm(lib.tensor(_DENSE).to_sparse(), lib.ones(3, 2)),
                                                        lib.sparse.sum(lib.tensor(_DENSE).to_sparse()),
                                                        lib.sparse.sum(lib.tensor(_DENSE).to_sparse(), dim=1).to_dense()])]),
    Call('', 'storage', [Case('classes', lambda lib: [lib.storage.TypedStorage is lib.TypedStorage,
                                                      lib.storage.UntypedStorage is lib.UntypedStorage])], exact=True),
    Call('', 'compiler', [Case('state', lambda lib: [lib.compiler.is_compiling(), lib.compiler.is_dynamo_compiling(),
                                                     lib.compiler.is_exporting(),
                                                     lib.compiler.disable(lambda x: x * 2)(lib.ones(2))])], exact=True),
    Call('', 'overrides', [Case('predicates', lambda lib: [lib.overrides.is_tensor_like(lib.ones(1)),
                                                           lib.overrides.is_tensor_like(np.ones(1)),
                                                           lib.overrides.has_torch_function((lib.ones(1),)),
                                                           lib.overrides.is_tensor_method_or_property(lib.Tensor.add)])],
         exact=True),
    Call('nn', 'common_types', [Case('names', lambda lib: [n in dir(lib.nn.common_types) for n in
                                                           ('_size_2_t', '_size_any_t', '_ratio_any_t', 'Tensor')])],
         exact=True),
])


def _file_reader(lib):
    """PyTorchFileReader over a file that lib.save wrote: its records, and the pickle's bytes count."""
    import os
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, 'a.pt')
        lib.save({'x': lib.arange(3.0)}, path)
        r = lib.PyTorchFileReader(path)
        return [sorted(r.get_all_records()), r.has_record('data.pkl'), r.has_record('nope'),
                len(r.get_record('data.pkl')), bytes(r.get_record('data/0'))]


def _interop_twice(lib):
    """The second set_num_interop_threads (or the first after parallel work) is PyTorch's RuntimeError."""
    lib.set_num_interop_threads(lib.get_num_interop_threads())
    lib.set_num_interop_threads(lib.get_num_interop_threads())


TRAINING.extend([
    Call('', 'PyTorchFileReader', [Case('records', _file_reader),
                                   Case('missing file', lambda lib: lib.PyTorchFileReader('/nonexistent/a.pt'), error=True)],
         exact=True),
    Call('', 'ScriptModule', [Case('class', lambda lib: [lib.ScriptModule.__name__, issubclass(lib.ScriptModule, lib.nn.Module),
                                                         isinstance(lib.nn.Linear(2, 2), lib.ScriptModule)])], exact=True),
    Call('', 'set_num_interop_threads', [Case('twice', _interop_twice, error=True),
                                         Case('zero', lambda lib: lib.set_num_interop_threads(0), error=True),
                                         Case('a float', lambda lib: lib.set_num_interop_threads(2.0), error=True)]),
])
