"""Real PyTorch libraries under the alias against PyTorch (session 41, lane realD): torchkbnufft 1.5.2, with
k-diffusion 0.1.1, pykan 0.2.8, pytorch-tcn 1.2.3 and torchsummary 1.5.1 run alongside; each defect found is reduced
here to the lines that found it (the libraries themselves are not needed)."""
import numpy as np
import pytest

from helpers import run_both


def _signs(t):
    """The gradient's values and the sign bits of its real and imaginary parts (allclose does not see -0.0)."""
    a = t.detach().numpy()
    return t, np.signbit(a.real).tolist(), np.signbit(a.imag).tolist()


# -- torchkbnufft: KbNufft pads the scaled complex image (F.pad) before its FFT; the image requires grad --------------
@pytest.mark.parametrize('mode,shape,pad', [
    ('constant', (1, 2, 6), (2, 1)), ('constant', (1, 2, 6), (-1, 2)), ('constant', (1, 1, 4, 5), (1, 2, 2, 1)),
    ('reflect', (1, 2, 6), (2, 1)), ('reflect', (1, 2, 4, 5), (1, 2, 2, 1)), ('reflect', (1, 1, 3, 4, 5), (1, 1, 2, 0, 1, 2)),
    ('replicate', (1, 2, 6), (2, 1)), ('replicate', (1, 2, 4, 5), (1, 2, 2, 1)),
    ('replicate', (1, 1, 3, 4, 5), (1, 1, 2, 0, 1, 2)), ('circular', (1, 2, 6), (2, 1))])
def test_pad_of_a_complex_tensor_differentiates(mode, shape, pad):
    """F.pad of a complex tensor that requires grad: PyTorch's ConstantPadNd/ReflectionPad/ReplicationPad backwards
    take complex gradients; ember refused them ('does not differentiate this op on complex tensors yet')."""
    def run(L):
        n = int(np.prod(shape))
        x = (L.arange(float(n)).reshape(shape).to(L.complex64) * (1 + 2j)).requires_grad_()
        y = L.nn.functional.pad(x, pad, mode=mode)
        w = L.linspace(1, 2, y.shape[-1]).to(L.complex64) * (1 - 3j)
        (y * w).sum().abs().backward()
        return (y.grad_fn.name(),) + _signs(x.grad)
    run_both(run, tol=1e-5)


@pytest.mark.parametrize('op', ['slice', 'pad_crop', 'where', 'tril', 'index'])
def test_zeros_filled_in_by_a_complex_backward_are_plus_zero(op):
    """A slice's (a crop's, where's, tril's, an index's) backward fills the rest of a complex gradient with 0+0j, as
    PyTorch's; ember ran these real-linear backwards between two conjugations and gave 0-0j there."""
    def run(L):
        x = L.tensor([[1 + 2j, 3 - 1j, 2 + 2j], [0.5 - 1j, -2 + 1j, 1 + 1j]]).requires_grad_()
        y = {'slice': lambda: x[:, 1:], 'pad_crop': lambda: L.nn.functional.pad(x, (-1, 1)),
             'where': lambda: L.where(x.real > 0.7, x, L.zeros((), dtype=x.dtype)), 'tril': lambda: x.tril(),
             'index': lambda: x[L.tensor([1, 1])]}[op]()
        (y * L.tensor(2 - 1j)).sum().abs().backward()
        return _signs(x.grad)
    run_both(run, tol=1e-5)


# -- torchkbnufft: its table interpolation is a custom autograd.Function on complex images --------------------------
class _Interp:
    """torchkbnufft's KbTableInterpForward reduced: a list of tables among the arguments, a complex result, and a
    backward that zero-fills the gradient outside the interpolated entries."""

    @staticmethod
    def make(L):
        class Interp(L.autograd.Function):
            @staticmethod
            def forward(ctx, image, omega, tables, n):
                ctx.save_for_backward(omega, *tables)
                return image[..., :3] * tables[0]

            @staticmethod
            def backward(ctx, g):
                omega, t0 = ctx.saved_tensors
                out = L.zeros(g.shape[:-1] + (5,), dtype=g.dtype)
                out[..., :3] = g * t0.conj()
                return out, None, None, None
        return Interp


@pytest.mark.parametrize('dtype', ['complex64', 'complex128', 'float32'])
def test_custom_function_with_a_complex_result_records_its_node(dtype):
    """A custom autograd.Function whose output is complex gets its grad_fn (PyTorch differentiates floating and
    complex outputs); ember left complex outputs without one, so KbNufft's result did not require grad."""
    def run(L):
        d = getattr(L, dtype)
        x = L.tensor([1 + 2j, 3 - 1j, 2 + 2j, 1j, 1.] if d.is_complex else [1., 3, 2, 0.5, 1], dtype=d)
        x.requires_grad_()
        t = L.tensor([1 - 1j, 2, 3j] if d.is_complex else [1., 2, 3], dtype=d)
        y = _Interp.make(L).apply(x * 2, L.ones(2), [t], L.tensor(3))
        y.abs().sum().backward()
        return y, y.requires_grad, type(y.grad_fn).__name__, x.grad
    run_both(run, tol=1e-5)


# -- pykan: curve2coef fits each (in, out) spline by a batched torch.linalg.lstsq ------------------------------------
def _graded(L, dtype):
    """Three 6x4 matrices with singular values 1, 0.5, 1e-2, 1e-5 and right-hand sides, in ``dtype``."""
    rng = np.random.default_rng(0)
    u = np.linalg.qr(rng.standard_normal((3, 6, 6)))[0]
    v = np.linalg.qr(rng.standard_normal((3, 4, 4)))[0]
    s = np.zeros((3, 6, 4))
    s[:, range(4), range(4)] = [1, 0.5, 1e-2, 1e-5]
    return L.tensor(u @ s @ v, dtype=dtype), L.tensor(rng.standard_normal((3, 6, 2)), dtype=dtype)


@pytest.mark.parametrize('driver', ['gelsd', 'gelss'])
@pytest.mark.parametrize('rcond', [None, 1e-3, 1e-1, -1.0])
def test_batched_lstsq_honours_rcond(driver, rcond):
    """A batch of matrices: singular values up to rcond times the largest are dropped, as for one matrix; ember's
    batched route (a pseudo-inverse) ignored rcond, so the solutions and ranks were the full-rank ones."""
    def run(L):
        a, b = _graded(L, L.float64)
        r = L.linalg.lstsq(a, b, rcond=rcond, driver=driver)
        return r.solution, r.rank, r.singular_values, r.residuals
    run_both(run, tol=1e-6)


def test_batched_lstsq_broadcasts_and_keeps_a_batch_rank():
    """A's batch of one against B's batch of three, rcond cutting one singular value: the rank has A's batch shape."""
    def run(L):
        a, b = _graded(L, L.float64)
        r = L.linalg.lstsq(a[:1], b, rcond=1e-3, driver='gelsd')
        return r.solution, r.rank
    run_both(run, tol=1e-6)


# -- torch-harmonics: RealSHT.forward checks its input with torch._check(cond, lambda: message) ----------------------
_CHECKS = [
    lambda L: L._check(True), lambda L: L._check(False), lambda L: L._check(False, lambda: 'bad dims'),
    lambda L: L._check(1 > 2, 'not callable'), lambda L: L._check(L.tensor(True)), lambda L: L._check(1),
    lambda L: L._check_index(False, lambda: 'idx'), lambda L: L._check_value(False), lambda L: L._check_type(False),
    lambda L: L._check_not_implemented(False), lambda L: L._check_with(UserWarning, False, None),
    lambda L: L._check_with(KeyError, False, lambda: 7), lambda L: L._check_with(ValueError, False),
    lambda L: L._check_tensor_all(L.tensor([True, False])), lambda L: L._check_tensor_all(L.tensor([1, 1])),
    lambda L: L._check_tensor_all(True), lambda L: L._check_tensor_all(L.ones(2, dtype=L.bool)),
    lambda L: L._check_tensor_all_with(ValueError, L.tensor([[True], [False]]), lambda: 'v'),
    lambda L: L._check_is_size(-1, lambda: 'neg'), lambda L: L._check_is_size(3, max=2),
    lambda L: L._check_is_size(2, max=2)]


@pytest.mark.parametrize('i', range(len(_CHECKS)))
def test_torch_check_family(i):
    """torch._check and its family raise PyTorch's error types and texts; ember had none of them (and `ember run`
    bound its own script-checker module as ember._check, so the alias called a module)."""
    run_both(lambda L: _CHECKS[i](L), message=True)


def test_check_is_size_warns_its_deprecation():
    """_check_is_size's FutureWarning text is PyTorch's."""
    import warnings
    import torch
    import ember
    texts = []
    for L in (torch, ember):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            L._check_is_size(3)
        texts.append([(x.category, str(x.message)) for x in w])
    assert texts[0] == texts[1] and texts[0]


def test_ember_run_leaves_torch_check_a_function():
    """The CLI's checker module is no longer named ember._check: importing it leaves torch._check callable."""
    import ember
    from ember import cli, _usage_check  # noqa: F401 (the imports `ember run --check` does)
    assert callable(ember._check) and ember._check(True) is None


# -- torchcrepe: preprocess frames audio with F.unfold, then mean-centres the frames in place -----------------------
@pytest.mark.parametrize('shape,kernel,stride', [((1, 1, 1, 40), (1, 8), (1, 4)), ((2, 1, 1, 30), (1, 6), (1, 3)),
                                                 ((1, 2, 9, 1), (3, 1), (2, 1)), ((1, 1, 40), (1, 8), (1, 4))])
def test_unfold_result_is_a_fresh_tensor(shape, kernel, stride):
    """F.unfold gives a new contiguous tensor (PyTorch's im2col); ember's could be an overlapping strided view of
    the input, so torchcrepe's `frames -= frames.mean(...)` after transpose/reshape refused the in-place write."""
    def run(L):
        a = L.arange(float(np.prod(shape))).reshape(shape)
        f = L.nn.functional.unfold(a, kernel_size=kernel, stride=stride)
        g = f.transpose(-1, -2).reshape(-1, kernel[0] * kernel[1])
        g -= g.mean(dim=1, keepdim=True)
        return f, f.stride(), f.is_contiguous(), g, a
    run_both(run)
