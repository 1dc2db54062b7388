"""Second-order and Bayesian tools that read autograd's internals, run under the alias against PyTorch (session 38):
backpack-for-pytorch 1.7 (extend, its first- and second-order extensions), laplace-torch 0.3 with its backpack,
curvlinops and asdl backends, and curvlinops-for-pytorch 3.0; each test is reduced to the lines that found a
defect in ember and needs none of the libraries."""
import warnings

import torch

import ember
from helpers import run_both


# -- laplace-torch's asdl backend: asdl/core.py extend registers regular (non-full) backward hooks -----------------
def _hook_log(log, tag):
    """A regular backward hook that records the shapes and sums of what it gets."""
    def hook(module, grad_input, grad_output):
        log.append([tag, type(module).__name__,
                    [None if g is None else (tuple(g.shape), round(float(g.sum()), 4)) for g in grad_input],
                    [None if g is None else (tuple(g.shape), round(float(g.sum()), 4)) for g in grad_output]])
    return hook


def test_regular_backward_hook_gets_its_nodes_gradients():
    """asdl/core.py (laplace's AsdlGGN/AsdlEF) calls ``module.register_backward_hook``: PyTorch runs the hook on
    the node that made the module's output, with that node's gradients (a Linear's addmm: bias, input and
    transposed weight; a Conv2d's convolution: input, weight, bias), and the hook may replace them. ember ran it
    as a full backward hook (one gradient per module input)."""
    def run(lib):
        lib.manual_seed(0)
        log = []
        nn = lib.nn
        m = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3), nn.Tanh(), nn.Linear(3, 2))
        for i, mod in enumerate(m.modules()):
            mod.register_backward_hook(_hook_log(log, i))
        x = lib.randn(2, 1, 4, 4)
        m(x).pow(2).sum().backward()
        x.requires_grad_()
        m(x).pow(2).sum().backward()
        lin = nn.Linear(3, 2)
        lin.register_backward_hook(lambda mod, gi, go: (gi[0], gi[1] * 0, gi[2]))
        a = lib.randn(4, 3, requires_grad=True)
        lin(a).sum().backward()
        return log + [lin.weight.grad, lin.bias.grad, a.grad, m[0]._is_full_backward_hook]
    run_both(run, tol=1e-5)


def test_regular_backward_hook_warns_as_pytorch():
    """PyTorch's FutureWarning when a regular hook's module ran more than one node (a Linear's transposed weight
    and addmm; a Sequential), and none where its forward is one node on tensors that require grad (a Tanh);
    ember warned that a full backward hook fired with no input requiring grad instead."""
    def run(lib):
        lib.manual_seed(0)
        out = []
        for mod in (lib.nn.Linear(3, 2), lib.nn.Tanh(), lib.nn.Sequential(lib.nn.Tanh(), lib.nn.Tanh())):
            mod.register_backward_hook(lambda *a: None)
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter('always')
                y = mod(lib.randn(4, 3, requires_grad=True))
                y.sum().backward()
            out.append([(x.category.__name__, str(x.message)) for x in w])
        return out
    assert run(ember) == run(torch)


def test_regular_and_full_backward_hooks_refused_on_one_module():
    """laplace's AsdlGGN on a model that BackPackGGN had extended (backpack/__init__.py registers full backward
    hooks, asdl/core.py regular ones): PyTorch refuses the second kind on a module that ever had the other, even
    after the first was removed; ember took both."""
    def full_then_regular(lib):
        m = lib.nn.Linear(2, 2)
        m.register_full_backward_hook(lambda *a: None).remove()
        m.register_backward_hook(lambda *a: None)

    def regular_then_full(lib):
        m = lib.nn.Linear(2, 2)
        m.register_backward_hook(lambda *a: None).remove()
        m.register_full_backward_hook(lambda *a: None)
    run_both(full_then_regular, message=True)
    run_both(regular_then_full, message=True)


def test_nvtx_imports_and_refuses_without_cuda():
    """asdl/utils.py does ``from torch.cuda import nvtx`` (laplace imports asdl for its curvature backends); a
    CPU-only PyTorch has the module and fails each call."""
    run_both(lambda lib: lib.cuda.nvtx.range_push('fisher'), message=True)
    run_both(lambda lib: lib.cuda.nvtx.range('fisher {}', 1).__enter__(), message=True)


def test_backward_hooks_of_a_module_called_once_and_dropped():
    """backpack's converter example calls ``extend(nn.MSELoss())(out, y)`` inline: PyTorch's graph keeps the module
    its backward hooks belong to, so backpack's hook gets it; ember kept it weakly and passed None."""
    import gc

    def run(lib):
        got = []
        lib.manual_seed(0)
        x = lib.randn(3, 2, requires_grad=True)
        m = lib.nn.MSELoss()
        m.register_full_backward_pre_hook(lambda mod, go: got.append(['pre', type(mod).__name__]))
        m.register_full_backward_hook(lambda mod, gi, go: got.append([type(mod).__name__, gi[0]]))
        loss = m(x, lib.zeros(3, 2))
        del m
        gc.collect()
        loss.backward()
        return got
    run_both(run)


def test_vmap_randomness_with_a_generator_argument():
    """curvlinops/fisher.py (FisherMCLinearOperator, laplace's CurvlinopsGGN with stochastic=True) vmaps its
    Fisher-vector product with ``randomness='same'`` and passes its own seeded Generator, which draws the labels
    (``multinomial``), the MSE noise (``normal``) and binary targets (``bernoulli``): every column must see the
    same draw and the generator advance once, as PyTorch's one batched call does; ember replayed only the
    default generator, so the MC Fisher differed (trace 2.39 against 2.49). 'error' refuses a draw from it."""
    def run(lib):
        g = lib.Generator().manual_seed(3)
        p = lib.tensor([[0.2, 0.8], [0.5, 0.5]])
        same = dict(in_dims=(0, None), randomness='same')
        out = [lib.vmap(lambda x, g: x + lib.rand(3, generator=g), **same)(lib.zeros(4, 3), g),
               lib.rand(2, generator=g),
               lib.vmap(lambda x, g: x + p.multinomial(3, replacement=True, generator=g), **same)(
                   lib.zeros(3, 2, 3, dtype=lib.long), g),
               lib.vmap(lambda x, g: x + lib.normal(lib.zeros(2), 1.0, generator=g), **same)(lib.zeros(3, 2), g),
               lib.vmap(lambda x, *, g: x + lib.rand(2, generator=g).bernoulli(generator=g), randomness='same')(
                   lib.zeros(3, 2), g=g),
               lib.rand(2, generator=g)]
        try:
            lib.vmap(lambda x, g: x + lib.rand(3, generator=g), in_dims=(0, None))(lib.zeros(2, 3), g)
        except RuntimeError as e:
            out.append(str(e))
        return out + [lib.rand(2, generator=g)]
    run_both(run)


def test_einsum_size_mismatch_errors():
    """backpack/extensions/firstorder/batch_l2_grad and diag_ggn on a grouped, dilated Conv2d feeding a
    ConvTranspose2d: its einsum met operands whose subscript sizes differ; PyTorch names the subscript, operand
    and sizes (a label repeated in one operand, or a dim the ellipsis covers, in their own words), ember passed
    NumPy's broadcasting message."""
    cases = [('ij,jk->ik', (2, 3), (4, 2)), ('ij,jk,kl->il', (2, 3), (4, 2), (2, 2)), ('ij,ij->i', (2, 3), (1, 3)),
             ('i,i,i->', (1,), (3,), (2,)), ('ii->i', (2, 3)), ('iji->j', (2, 3, 4)), ('iij->j', (2, 2, 3)),
             ('...i,...i->...', (5, 2, 3), (4, 3)), ('...i,...i->...', (2, 3), (5, 4, 3)),
             ('i...,i...->', (3, 2, 7), (3, 2, 6)), ('bij,bjk->bik', (1, 2, 3), (4, 3, 2))]
    for eq, *shapes in cases:
        run_both(lambda lib: lib.einsum(eq, *[lib.ones(s) for s in shapes]), message=True)


def test_hooked_modules_and_functions_without_setup_context_in_func_transforms():
    """curvlinops' HessianLinearOperator (jacrev inside jvp under vmap) on a model backpack had extended: PyTorch
    routes a module's tensors with backward hooks through an autograd.Function without setup_context, which
    grad, vjp and jacrev refuse (vmap and jvp, whose tensors need no grad, pass); and any such Function under any
    transform. ember ran them."""
    def run(lib):
        lib.manual_seed(0)
        lin, act = lib.nn.Linear(3, 2), lib.nn.Tanh()
        act.register_full_backward_hook(lambda *a: None)
        x = lib.randn(4, 3)
        params = dict(lin.named_parameters())

        class Twice(lib.autograd.Function):
            @staticmethod
            def forward(ctx, t):
                return t * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2
        out = []
        for fn in (lambda: lib.func.grad(lambda p: act(lib.func.functional_call(lin, p, (x,))).sum())(params),
                   lambda: lib.func.vmap(lambda xx: act(lin(xx)))(x),
                   lambda: lib.func.jacrev(act)(x), lambda: lib.func.jvp(act, (x,), (x,)),
                   lambda: lib.func.vjp(act, x[0])[0], lambda: lib.func.hessian(lambda xx: act(xx).sum())(x[0]),
                   lambda: lib.func.grad(lambda t: Twice.apply(t).sum())(x[0]),
                   lambda: lib.func.vmap(Twice.apply)(x), lambda: lib.func.jvp(Twice.apply, (x,), (x,))):
            try:
                r = fn()
                out.append(r[0] if isinstance(r, tuple) else r)
            except RuntimeError as e:
                out.append(str(e))
        return out
    run_both(run)


def _hooked_grad(lib, how):
    """Runs a hooked Linear's backward ``how``, one frame below its caller (curvlinops' generator of grads)."""
    m = lib.nn.Linear(2, 3)
    m.register_full_backward_hook(lambda *a: None)
    loss = m(lib.ones(4, 2)).sum()
    if how == 'grad':
        return lib.autograd.grad(loss, list(m.parameters()))
    if how == 'autograd.backward':
        return lib.autograd.backward(loss)
    return loss.backward()


def test_full_hook_warning_points_where_pytorchs_does():
    """curvlinops/_torch_base.py's check_deterministic: the warning that a full backward hook fired with no input
    requiring grad names the caller's caller of ``autograd.grad``/``autograd.backward`` (PyTorch's
    ``stacklevel=5`` counted from the hook), but the caller of ``Tensor.backward``; ember named the caller."""
    def run(lib):
        out = []
        for how in ('grad', 'autograd.backward', 'backward'):
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter('always')
                _hooked_grad(lib, how)
            out.append([(x.filename == __file__, x.lineno) for x in w])
        return out
    assert run(ember) == run(torch)
