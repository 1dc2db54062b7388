"""Real PyTorch programs under the alias against PyTorch (session 45, lane realI): Aladdin Persson's
Machine-Learning-Collection scripts (tensor basics, EfficientNet, the transformer from scratch, YOLOv3 with its loss,
NMS and mAP, ProGAN with its gradient penalty), among others; each defect found is reduced here to the lines that
found it (the programs themselves are not needed)."""
import warnings

import pytest
import torch

import ember
from helpers import run_both  # noqa: F401


def _scaler_warnings(lib):
    """Two ``torch.cuda.amp.GradScaler()`` from two lines (ProGAN's train.py makes one for the critic, one for the
    generator) under the default filter: the warnings shown, as (category, message, whether from the caller's file)."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter('default')
        lib.cuda.amp.GradScaler()
        lib.cuda.amp.GradScaler()
    return [(w.category.__name__, str(w.message), w.filename == __file__) for w in seen]


def test_cuda_grad_scaler_warns_once_from_its_own_module():
    """PyTorch's 'GradScaler is enabled, but CUDA is not available' comes from torch.cuda.amp's ``super().__init__``
    line, one location, so it is shown once; ember's pointed at each caller's line and was shown once per scaler."""
    assert _scaler_warnings(ember) == _scaler_warnings(torch)


# -- ChatRWKV's RWKV_in_150_lines.py: ``class RWKV_RNN(torch.jit.ScriptModule)`` with ``@torch.jit.script_method``
# time/channel mixing; the class's MRO printed ``torch.jit.ScriptModule`` where PyTorch's is in torch.jit._script, and
# ``from torch.jit._script import RecursiveScriptModule`` (a common isinstance check) did not import.
def test_jit_classes_live_in_pytorchs_submodules():
    from ember import aliasing
    names = ['ScriptModule', 'RecursiveScriptModule', 'ScriptWarning', 'Attribute', 'TracedModule',
             'TopLevelTracedModule', 'TracerWarning', 'TracingCheckError']
    want = {n: getattr(torch.jit, n).__module__ for n in names}
    assert {n: getattr(ember.jit, n).__module__.replace('ember', 'torch', 1) for n in names} == want
    with aliasing.as_torch():
        import torch as aliased
        from torch.jit._script import RecursiveScriptModule
        from torch.jit._trace import TracerWarning
        assert RecursiveScriptModule is ember.jit.RecursiveScriptModule and TracerWarning is ember.jit.TracerWarning
        assert str(aliased.jit.ScriptModule) == str(torch.jit.ScriptModule)


# -- tiny NeRF (krrish94's tiny_nerf: ``meshgrid_xy`` calls ``torch.meshgrid`` without indexing) and a warnings audit
# beside it: PyTorch raises these from its Python wrappers (torch/functional.py, nn's loss classes), at one line of
# its own, and meshgrid's, stft's, chain_matmul's and lu's are TORCH_WARN_ONCE. ember's pointed at each caller's line
# (shown again for every new line, and meshgrid and stft again under 'always'), and chain_matmul's, lu's and stft's
# lacked PyTorch's '(Triggered internally at ...)' ending; istft without a window did not warn.
def _wrapper_warnings(lib, action):
    """The warnings two rounds of calls from different lines show under ``action``: (category, message, whether
    attributed to this file)."""
    import warnings
    F = lib.nn.functional
    a = lib.arange(3.)
    spec = lib.stft(lib.arange(64.), 16, window=lib.ones(16), return_complex=True)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter(action)
        for _ in range(2):
            lib.meshgrid(a, a)
            lib.meshgrid(a, a)
            lib.chain_matmul(lib.eye(2), lib.eye(2))
            lib.stft(lib.arange(64.), 16, return_complex=True)
            lib.stft(lib.arange(64.), 16, window=lib.ones(16), return_complex=False)
            lib.istft(spec, 16)
            lib.lu(lib.eye(3))
            lib.nn.MSELoss(size_average=False)
            lib.nn.L1Loss(size_average=False)
            F.l1_loss(a, a, size_average=False)
            F.l1_loss(a, a, reduce=False)
    return [(w.category.__name__, str(w.message), w.filename == __file__) for w in seen]


def test_warnings_from_pytorchs_python_wrappers_show_as_often():
    """In a fresh process (TORCH_WARN_ONCE is spent once a process, in either library), both filter actions."""
    import json
    import os
    import subprocess
    import sys
    code = ('import json, sys; sys.path.insert(0, sys.argv[1]); import torch, ember, test_real_programs_realI as t; '
            'print(json.dumps([t._wrapper_warnings(L, a) for L in (torch, ember) for a in ("default", "always")]))')
    here = os.path.dirname(os.path.abspath(__file__))
    out = subprocess.run([sys.executable, '-c', code, here], capture_output=True, text=True, check=True).stdout
    torch_default, torch_always, ember_default, ember_always = json.loads(out.splitlines()[-1])
    assert (ember_default, ember_always) == (torch_default, torch_always)
    # what the test relies on: nine shown, only istft's (bound directly, no wrapper) at this file's line
    assert len(torch_default) == 9
    istft = 'A window was not provided. A rectangular window will be applied.Please'
    assert [m[:len(istft)] for _, m, mine in torch_default if mine] == [istft]


# -- gateloop-transformer (lucidrains): ``checkpoint(fn, q, k, v, a)`` without use_reentrant, from two layers' lines.
def _checkpoint_warnings(lib):
    import warnings
    from functools import partial
    ckpt = lib.utils.checkpoint
    x = lib.ones(2, requires_grad=True)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter('default')
        ckpt.checkpoint(lib.sin, x)
        ckpt.checkpoint(lib.cos, x)
        ckpt.checkpoint(partial(lib.mul, other=2.0), x).sum().backward()
        ckpt.checkpoint_sequential([lib.nn.Identity(), lib.nn.Tanh()], 2, x)
        ckpt.checkpoint_sequential([lib.nn.Identity(), lib.nn.Tanh()], 2, x)
    return [(w.category.__name__, str(w.message), w.filename == __file__) for w in seen], x.grad


def test_checkpoint_without_use_reentrant_warns_once_from_its_own_module():
    """PyTorch's checkpoint runs under torch._disable_dynamo's wrapper: its warning (stacklevel=2) points into
    torch, one line, shown once; ember's pointed at each caller's line. checkpoint_sequential's points at the
    caller's line in both."""
    run_both(_checkpoint_warnings, tol=0)


# -- compressive-transformer-pytorch (lucidrains): each attention layer calls ``self.to_kv.weight.detach_()`` after
# using to_kv for the layer's keys and values, so the weight (a leaf Parameter) stops requiring grad with a graph that
# reads it already recorded. PyTorch's AccumulateGrad skips a leaf that no longer requires grad; ember's accumulated
# into it, so to_kv trained and the losses parted from PyTorch's after the first Adam step (float64 too).
def _detached_in_place_leaf(lib):
    lib.manual_seed(0)
    lin = lib.nn.Linear(3, 2)
    x = lib.randn(4, 3)
    y = lin(x).sum()
    lin.weight.detach_()
    z = lin(x).sum()
    (y + z).backward()
    opt = lib.optim.Adam(lin.parameters(), lr=0.1)
    opt.step()
    return lin.weight.grad, lin.bias.grad, lin.weight.requires_grad, z.requires_grad, lin.weight.detach().clone()


def test_leaf_detached_in_place_after_use_gets_no_gradient():
    run_both(_detached_in_place_leaf, tol=0)


# -- block-recurrent-transformer-pytorch (lucidrains): its Attend packs the learned initial state's keys (n, d) to
# (1, n, d) and runs ``einsum('b h i d, b j d -> b h i j', q, k)`` with q's batch 2: label b broadcasts from size 1.
# ember's EinsumBackward0 gave k a (2, n, d) gradient (a leaf refused it; a computed k passed it on, and the state
# parameters' gradients were wrong, float64 included).
@pytest.mark.parametrize('eq, shapes', [('bhid,bjd->bhij', ((2, 3, 4, 5), (1, 6, 5))),
                                        ('bij,bjk->bik', ((1, 3, 4), (2, 4, 2))),
                                        ('ij,ij->i', ((3, 1), (3, 4)))])
def test_einsum_gradient_sums_a_broadcast_size_one_label(eq, shapes):
    def f(lib):
        lib.manual_seed(0)
        a, b = (lib.randn(*s, dtype=lib.float64, requires_grad=True) for s in shapes)
        out = lib.einsum(eq, a, b)
        ga, gb = lib.autograd.grad(out, (a, b), lib.randn(out.shape, dtype=lib.float64), create_graph=True)
        (ga.square().sum() + gb.sin().sum()).backward()
        return out, ga, gb, a.grad, b.grad
    run_both(f, tol=1e-12)
