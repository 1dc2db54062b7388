"""Real PyTorch programs under the alias against PyTorch (session 44, lane realH): rasbt/LLMs-from-scratch's
``llms_from_scratch`` package (Llama 3 and Qwen 3 from scratch, dense and mixture-of-experts, with and without
KV caches, in float32 and bfloat16), among others; each defect found is reduced here to the lines that found it
(the programs themselves are not needed)."""
import pytest

from helpers import exact_like_torch, run_both, threads  # noqa: F401 (fixtures)


# -- llms_from_scratch.qwen3.MoEFeedForward in bfloat16: each expert reads its tokens' routing weights through ----
# ``torch.gather(topk_probs_flat.index_select(0, selected_idx), ...)``, so the routing weights' gradient is the sum
# of one gradient per expert; and ``expert_out * selected_probs.unsqueeze(-1)`` sums its gradient back over the
# broadcast feature dim. The gate's gradient differed from PyTorch's (and a retained one was float32).
def _moe_routing(lib):
    lib.manual_seed(0)
    x = lib.randn(6, 8, dtype=lib.bfloat16, requires_grad=True)
    gate = lib.randn(8, 4).bfloat16()
    scores = x @ gate
    top, top_idx = lib.topk(scores, 2, dim=-1)
    probs = lib.softmax(top, dim=-1)
    probs.retain_grad()
    out = lib.zeros(6, 8, dtype=x.dtype)
    for e in range(4):
        mask = top_idx == e
        sel = mask.any(dim=-1).nonzero(as_tuple=False).squeeze(-1)
        slot = mask[sel].int().argmax(dim=-1, keepdim=True)
        p = lib.gather(probs.index_select(0, sel), dim=-1, index=slot).squeeze(-1)
        out.index_add_(0, sel, x.index_select(0, sel) * (e + 1.37) * p.unsqueeze(-1))
    (out.float() * lib.randn(6, 8)).sum().backward()
    return probs.grad, x.grad


def test_moe_routing_gradients_in_bfloat16_are_pytorchs():
    run_both(_moe_routing, tol=0)


def _retained_sum(lib):
    """A bf16 non-leaf read by several ops: its gradient is the sum of theirs, a bf16 tensor, rounded per add."""
    x = lib.arange(12.).reshape(4, 3).bfloat16().requires_grad_()
    y = x * 1.01
    y.retain_grad()
    seen = []
    y.register_hook(lambda g: seen.append(g.dtype))
    z = (y[:2] * 1.1).sum() + (y[1:] * 0.3).sum() + y.index_select(0, lib.tensor([1, 1, 3])).sum() * 0.77
    z.backward()
    return y.grad, x.grad, seen


def test_gradient_summed_over_several_uses_stays_bfloat16():
    """ember's engine added two bf16 gradient arrays with NumPy's ``+``, which gave float32: ``y.grad`` and the
    hook's gradient were float32, and the sum was rounded once instead of after each add."""
    run_both(_retained_sum, tol=0)


@pytest.mark.parametrize('shapes', [((1, 8), (6, 8)), ((6,), (3, 6)), ((6, 1), (1, 8)), ((2, 1, 4), (3, 4))])
@pytest.mark.parametrize('op', ['add', 'mul', 'sub'])
def test_bfloat16_broadcast_gradient_is_rounded_sum_of_rounded_terms(op, shapes):
    """A bf16 operand broadcast by an op gets its gradient summed back (PyTorch's sum_to_size on a bf16 gradient
    tensor: each term rounded, then added in float32 and rounded once). ember's sum over leading dims came back
    unrounded (values no bf16 can hold in a bf16 ``.grad``), its terms unrounded."""
    def f(lib):
        lib.manual_seed(0)
        a = lib.randn(*shapes[0], dtype=lib.bfloat16, requires_grad=True)
        b = lib.randn(*shapes[1], dtype=lib.bfloat16, requires_grad=True)
        out = getattr(lib, op)(a, b)
        out.backward(lib.randn(out.shape).bfloat16())
        return a.grad, b.grad
    run_both(f, tol=0)


_BF16_FORMULAS = {
    'div': lambda lib, a, b: a / b,
    'pow': lambda lib, a, b: a.abs() ** 2.5,
    'reciprocal': lambda lib, a, b: a.reciprocal(),
    'rsqrt': lambda lib, a, b: a.abs().rsqrt(),
    'sin': lambda lib, a, b: a.sin(),
    'cos': lambda lib, a, b: a.cos(),
    'erf': lambda lib, a, b: lib.erf(a),
    'atan2': lambda lib, a, b: lib.atan2(a, b),
    'hypot': lambda lib, a, b: lib.hypot(a, b),
    'addcmul': lambda lib, a, b: lib.addcmul(a, a, b, value=0.3),
    'norm': lambda lib, a, b: a.norm(dim=-1, keepdim=True) * b,
    'normalize': lambda lib, a, b: lib.nn.functional.normalize(a, dim=-1),
    'cosine_similarity': lambda lib, a, b: lib.nn.functional.cosine_similarity(a, b),
}


@pytest.mark.parametrize('name', sorted(_BF16_FORMULAS))
def test_bfloat16_backward_formulas_round_each_step_as_pytorchs(name):
    """PyTorch's derivative formulas are tensor ops, each giving a bf16 tensor: the divisor's gradient
    ``-grad * ((self / other) / other)``, reciprocal's ``-grad * (result * result)``, sin's ``grad * self.cos()``,
    pow's ``grad * (exponent * self.pow(exponent - 1))``, erf's ``2 / sqrt(pi) * exp(-self.pow(2)) * grad``, atan2's
    ``grad * other * (self * self + other * other).reciprocal()``, hypot's ``grad * self / result``, addcmul's
    ``grad * (tensor2 * value)``, the 2-norm's ``grad * (self / norm)`` (normalize, cosine_similarity). ember
    computed each formula in float32 and rounded once: about a quarter of the gradients were a bf16 step off.
    (32 elements: rsqrt's own bf16 forward differs from PyTorch's in a tail shorter than one AVX-512 vector.)"""
    def f(lib):
        lib.manual_seed(0)
        a = lib.randn(4, 8, dtype=lib.bfloat16, requires_grad=True)
        b = lib.randn(4, 8, dtype=lib.bfloat16, requires_grad=True)
        out = _BF16_FORMULAS[name](lib, a, b)
        out.backward(lib.randn(out.shape).bfloat16())
        return out, a.grad, b.grad
    run_both(f, tol=0)


@pytest.mark.parametrize('fn', ['var', 'std'])
@pytest.mark.parametrize('shape, kwargs', [((6, 8), dict(dim=-1, keepdim=True)), ((6, 8), dict(dim=0)), ((5, 7), {}),
                                           ((4, 3, 5), dict(dim=(0, 2), unbiased=False))])
def test_bfloat16_var_and_std_gradients_are_pytorchs(fn, shape, kwargs):
    """A hand-written LayerNorm on a bf16 model (``x.var(dim=-1, keepdim=True, unbiased=False)``) differentiates
    through PyTorch's ``2 / (n - c) * grad * (self - self.mean(dim, True))``, std's through ``grad / (result * 2)``
    first: each a bf16 tensor, the mean summed and divided in float32 then rounded. ember rounded once at the end
    (std: 16 of 48 gradients a bf16 step off)."""
    def f(lib):
        lib.manual_seed(0)
        a = lib.randn(*shape, dtype=lib.bfloat16, requires_grad=True)
        out = getattr(a, fn)(**kwargs)
        out.backward(lib.randn(out.shape).bfloat16())
        return out, a.grad
    run_both(f, tol=0)


def test_bfloat16_std_gradient_is_zero_where_the_std_is():
    def f(lib):
        x = lib.zeros(2, 3, dtype=lib.bfloat16, requires_grad=True)
        x.std(1).sum().backward()
        return x.grad
    run_both(f, tol=0)


@pytest.mark.parametrize('shape, dim', [((50, 8), -1), ((50, 64), -1), ((20, 100), -1), ((5, 1000), 1), ((40, 7), 0),
                                        ((6, 70, 3), 1), ((3, 5, 70), None), ((130,), None)])
def test_bfloat16_prod_multiplies_in_pytorchs_order_and_rounding(shape, dim):
    """PyTorch's bf16 prod rounds every multiply, along the last axis in its vectorised order (blocks of 64, four
    16-lane accumulators); ember multiplied in float32 and rounded once (40 of 50 row products a step off), and
    its gradient is PyTorch's grad * (result / input)."""
    def f(lib):
        lib.manual_seed(0)
        b = (lib.rand(*shape) * 0.5 + 0.75).bfloat16().requires_grad_()
        p = b.prod() if dim is None else b.prod(dim)
        p.sum().backward()
        return p, b.grad
    run_both(f, tol=0)


@pytest.mark.parametrize('name', ['rand', 'randn', 'zeros', 'ones', 'empty'])
def test_factory_without_a_size_is_refused_as_pytorchs(name):
    """``torch.rand()`` (found by this lane's bf16 sweep, which drew ``torch.rand(*shape)`` with ``shape = ()``)
    raises PyTorch's TypeError; ember returned a 0-d tensor. ``rand(())`` is the 0-d draw on both."""
    run_both(lambda lib: getattr(lib, name)(), message=True)
    run_both(lambda lib: getattr(lib, name)(()).shape)
    run_both(lambda lib: getattr(lib, name)(size=()).shape)


@pytest.mark.parametrize('shape', [(5,), (31,), (40,), (6, 8), (70,), (3, 33), (2, 3, 7), 'transposed'])
def test_bfloat16_rsqrt_is_pytorchs_in_the_vector_tail(shape):
    """A bf16 RMSNorm's ``torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)``: PyTorch's kernel takes float32's
    1 / sqrt in its vectorised blocks of 32 elements and 1 / (the bf16-rounded sqrt) in the tail; ember took the
    first everywhere (4 of 48 values a bf16 step off)."""
    def f(lib):
        lib.manual_seed(0)
        b = (lib.rand(6, 8) * 100).bfloat16().t() if shape == 'transposed' else (lib.rand(*shape) * 100).bfloat16()
        b.requires_grad_()
        out = b.rsqrt()
        out.sum().backward()
        return out, b.grad
    run_both(f, tol=0)


@pytest.mark.parametrize('n', [20, 32, 40, 111])
@pytest.mark.parametrize('eps', [None, 0.1])
def test_bfloat16_logit_rounds_as_pytorchs_vectorised_kernel(n, eps):
    """PyTorch's bf16 logit is ``(x / (1 - x)).log()`` on bf16 vectors, each step rounded; ember left ``1 - x``
    unrounded (43 of 111 values a bf16 step off)."""
    def f(lib):
        lib.manual_seed(0)
        x = (lib.rand(n) * 0.9 + 0.05).bfloat16()
        return lib.logit(x, eps=eps), lib.logit(lib.tensor([0., 1., 0.5, -0.1, 1.5]).bfloat16())
    run_both(f, tol=0)


@pytest.mark.parametrize('dtype', ['bfloat16', 'half'])
@pytest.mark.parametrize('shape, dim', [((5, 7, 9), 1), ((64, 33), 0), ((3, 37), 0), ((4, 100, 3), 1),
                                        ((2, 3, 4, 5), 2), ((7, 62), 0), ((5, 63), 0), ((3, 100), 0),
                                        ((4, 130), 0), ((2, 9, 33), 0), ((3, 5, 70), 1), ((4, 40, 1), 1)])
def test_bfloat16_softmax_over_a_dim_that_is_not_the_last(shape, dim, dtype, threads):
    """PyTorch's bf16/float16 softmax over another dim than the last takes the positions after it 32 at a time
    (AVX-512) in vectors, each thread's span's pieces from their starts: those divide float32 exps by their
    float32 sum, rounding once; the rest keep exp(x - max) rounded in the output and divide that. Which are which
    depends on the thread count: ember, at 1 thread, had (64, 33) over dim 0 529 of 2112 values a bf16 step off."""
    def f(lib):
        lib.manual_seed(0)
        return getattr(lib.randn(*shape) * 3, dtype)().softmax(dim)
    run_both(f, tol=0)


@pytest.mark.parametrize('dtype', ['bfloat16', 'half'])
@pytest.mark.parametrize('shape, dim', [((700, 40), 0), ((3, 20000), 0), ((2, 70, 45), 1)])
def test_reduced_softmax_over_another_dim_under_exact_kernels(shape, dim, dtype, threads, exact_like_torch):
    """Under ember's exact kernels the vector lanes take SLEEF's exp and the scalar tails glibc's, as PyTorch's:
    NumPy's exp left float16 (3, 20000) over dim 0 2 of 60000 values a step off, (700, 40) at 2 threads 2."""
    def f(lib):
        lib.manual_seed(0)
        return getattr(lib.randn(*shape) * 3, dtype)().softmax(dim)
    run_both(f, tol=0)


@pytest.mark.parametrize('shape, dim', [((6, 50), 1), ((3, 4, 70), 2), ((4, 1000), 1), ((64, 33), 0),
                                        ((4, 100, 3), 1), ((3, 5, 70), 1)])
def test_float16_log_softmax_gradient_is_computed_in_float32(shape, dim, threads):
    """PyTorch's float16 log_softmax backward takes g's sums, exp(y), their product and g minus it in float32 and
    rounds once; ember's float16 steps left (6, 50) 25 of 300 values a step off, (64, 33) over dim 0 213 of 2112."""
    def f(lib):
        lib.manual_seed(0)
        x = (lib.randn(*shape) * 3).half().requires_grad_()
        g = lib.randn(*shape).half()
        x.log_softmax(dim).backward(g)
        return x.grad
    run_both(f, tol=0)


@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
@pytest.mark.parametrize('target_shape', [(6, 8), (8,)])
def test_bfloat16_mse_loss_values_and_gradients_are_pytorchs(reduction, target_shape):
    """PyTorch's bf16 mse_loss gradient is its kernel's norm * (input - target) * grad with the norm (2 / numel for
    'mean') a bf16 and each product rounded (ember: 13 of 48 a bf16 step off for 'mean'); reduction='none'
    squares the rounded bf16 difference."""
    def f(lib):
        import warnings
        warnings.simplefilter('ignore')
        lib.manual_seed(0)
        a = lib.randn(6, 8, dtype=lib.bfloat16, requires_grad=True)
        b = lib.randn(*target_shape, dtype=lib.bfloat16, requires_grad=True)
        out = lib.nn.functional.mse_loss(a, b, reduction=reduction)
        out.backward(lib.randn(out.shape).bfloat16())
        return out, a.grad, b.grad
    run_both(f, tol=0)
