"""Real PyTorch programs under the alias against PyTorch (session 45, lane realJ): AntixK/PyTorch-VAE's models
(VanillaVAE, BetaVAE, VQVAE, WAE_MMD, InfoVAE, FactorVAE... on 64x64 images), among others; each defect found is
reduced here to the lines that found it (the programs themselves are not needed)."""
import pytest

from helpers import ember, run_both, torch


# -- PyTorch-VAE's MSSIMVAE.sample and VampVAE.loss_function call ``z.cuda(current_device)`` with
# current_device='cpu': a CPU-only PyTorch raises "Invalid device, must be cuda device" (a RuntimeError), ember
# raised its CUDA-not-compiled error for every argument, and a module's ``.cuda('cpu')`` passed silently.
@pytest.mark.parametrize('dev', ['cpu', 'meta', 'foo', 'cuda:x', 0, 1.5, True], ids=repr)
@pytest.mark.parametrize('what', ['tensor', 'linear', 'relu'])
def test_cuda_with_a_non_cuda_device_is_refused_as_pytorch_does(what, dev):
    def fn(lib):
        lib.manual_seed(0)
        obj = {'tensor': lambda: lib.zeros(2), 'linear': lambda: lib.nn.Linear(2, 2),
               'relu': lambda: lib.nn.ReLU()}[what]()
        out = obj.cuda(dev)
        return out is obj
    run_both(fn, message=dev not in ('foo',))


@pytest.mark.parametrize('dev', [None, 'cuda', 'cuda:1'])
def test_cuda_device_is_refused_on_a_cpu_build(dev):
    """The CUDA device itself: an AssertionError in both (ember's message says more)."""
    run_both(lambda lib: lib.zeros(2).cuda(dev))
    run_both(lambda lib: lib.nn.ReLU().cuda(dev) is not None)


# -- PyTorch-VAE's GammaVAE builds ``nn.Sequential(nn.Linear(...), nn.Softmax())`` twice: PyTorch warns of the
# implicit dim at its module call (``F.softmax(..., _stacklevel=5)``), one location printed once under the default
# filters; ember ignored ``_stacklevel`` and warned at each caller's line, printing the warning twice.
def _softmax_warning_sites(lib):
    import warnings
    F = lib.nn.functional
    x = lib.zeros(2, 3)
    hooked = lib.nn.Softmax()
    hooked.register_forward_hook(lambda *a: None)
    calls = [lambda: F.softmax(x), lambda: F.log_softmax(x, _stacklevel=4), lambda: F.softmin(x, _stacklevel=2),
             lambda: F.softmax(x, _stacklevel=1), lambda: F.softmax(x, dim=1, _stacklevel=9),
             lambda: lib.nn.Softmax()(x), lambda: lib.nn.LogSoftmax()(x),
             lambda: lib.nn.Sequential(lib.nn.Softmin())(x), lambda: hooked(x)]
    sites = []
    for call in calls:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter('always')
            call()
        sites.append([(w.category.__name__, str(w.message)[:40], w.filename, w.lineno) for w in seen])
    return sites


def _where(site, module_site):
    """A warning's place as both libraries can share it: this file's line, Python's 'sys', the module call's
    place (the same for every module), or elsewhere in the library."""
    cat, msg, filename, lineno = site
    where = ('test', lineno) if filename == __file__ else ('sys',) if filename == 'sys' else \
        ('module call',) if (filename, lineno) == module_site else ('library',)
    return cat, msg, where


def test_softmax_implicit_dim_warns_at_pytorchs_stacklevel():
    got = {}
    for lib in (torch, ember):
        sites = _softmax_warning_sites(lib)
        module_site = sites[5][0][2:]
        got[lib] = [[_where(s, module_site) for s in call] for call in sites]
    assert got[ember] == got[torch]


def test_softmax_warning_place_with_torch_function_dispatch_on():
    """As above in a fresh process where ember's ``__torch_function__`` wrappers (after torch.fx or a dispatching
    subclass) and shell-dtype gates (after a uint16 tensor) are on: their frames are not PyTorch's (it dispatches
    in C), so the warning's place stays PyTorch's (it was their file once an earlier test had put them on)."""
    import os
    import subprocess
    import sys
    code = ('import sys; sys.path.insert(0, sys.argv[1]); import ember._torch_function, ember._shell; '
            'ember._torch_function.install(); ember._shell.arm(); import test_real_programs_realJ as t; '
            't.test_softmax_implicit_dim_warns_at_pytorchs_stacklevel(); print("same")')
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(here), os.environ.get('PYTHONPATH', '')]))
    out = subprocess.run([sys.executable, '-c', code, here], capture_output=True, text=True, env=env)
    assert out.stdout.strip().splitlines()[-1:] == ['same'], out.stderr[-2000:]
