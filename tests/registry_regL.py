"""Registry entries for names that had none (session 45, lane regL): linalg's LU family, eig, cond and tensor
inverses; torch's LU functions, complex views, conv_tbc, conv_transpose3d, histogramdd, stft/istft; the removed
functions (PyTorch's error); anomaly mode and forward_ad; nn pooling/unpooling/lazy modules and their functionals.

Loaded by tests/registry.py (one line at its end, with its helpers as the ``registry`` module): the ``Op``
entries are added to ``OPS``, the ``Call`` entries to ``TRAINING``; tests/registry_nn.py adds ``modules()``.
No torch import here."""
import numpy as np

from registry import (F32, F64, I64, Op, Sample, View, _dt, _resolve, add, arr, c64, f32, f64, fn, i64, la, spd,
                      TRAINING, wc)
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


_NO_COMPLEX_GG = 'ember has no double backward of complex ops yet (ViewAsRealBackward0 refuses create_graph=True)'


def _eig(lib, a):
    """linalg.eig's eigenvalues, |eigenvectors| and V diag(L) V^-1 (eigenvectors are unique up to a phase, which
    LAPACK's float32 and float64 runs pick differently)."""
    L, V = lib.linalg.eig(a)
    return L, V.abs(), lib.view_as_real(V @ lib.diag_embed(L) @ lib.linalg.inv(V))


def _real_view(name):
    """``lib.<name>`` seen through view_as_real (its complex result as real pairs: gradcheck takes real outputs)."""
    def call(lib, *args, **kwargs):
        r = getattr(lib, name)(*args, **kwargs)
        return r if kwargs.get('out') is not None else lib.view_as_real(r)
    return call


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
                           Sample(spd(3, 3, dtype=F64))], grad=False),
    la('eig', lambda: [Sample(spd(3, 3), grad=False, desc='symmetric'), Sample(spd(2, 3, 3), grad=False),
                       Sample(wc(3, 3), grad=False, desc='complex eigenvalues'), Sample(f32(3, 4), error=True),
                       Sample(spd(3, 3, dtype=F64), grad=False), Sample(wc(2, 4, 4, dtype=F64), grad=False)],
       grad=False, out=False, call=_eig),
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
                         Sample(f32(3), f64(3), error=True)], method=False, call=_real_view('polar'), gaps={'gradgrad': _NO_COMPLEX_GG}),
    Op('complex', lambda: [Sample(f32(3, 4), f32(3, 4, seed=1)), Sample(f64(2, 3), f64(2, 3, seed=1), gradcheck=True),
                           Sample(f32(3), f64(3), error=True), Sample(i64(3), i64(3), error=True),
                           Sample(f32(3, 1), f32(4, seed=1), desc='broadcast')], method=False, call=_real_view('complex'), gaps={'gradgrad': _NO_COMPLEX_GG}),
    Op('view_as_real', lambda: [Sample(c64(3, 4), grad=False), Sample(f32(3), error=True),
                                Sample(View(c64(3, 4), lambda t: t[:, 1:], 'sliced'), grad=False)],
       method=False, out=False, grad=False),
    Op('view_as_complex', lambda: [Sample(f32(3, 2)), Sample(f32(2, 4, 2)), Sample(f64(3, 2), gradcheck=True),
                                   Sample(f32(3, 3), error=True),
                                   Sample(View(f32(2, 3), lambda t: t.t(), 'transposed'), error=True),
                                   Sample(View(f32(4, 2, 2), lambda t: t[:, 0], 'strided'))],
       method=False, out=False, call=lambda lib, x: lib.view_as_real(lib.view_as_complex(x) ** 2),
       gaps={'gradgrad': _NO_COMPLEX_GG}),
    Op('conv_tbc', lambda: [Sample(f32(5, 2, 3), f32(3, 3, 4, seed=1), f32(4, seed=2)),
                            Sample(f32(5, 2, 3), f32(2, 3, 4, seed=1), f32(4, seed=2), 1),
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
