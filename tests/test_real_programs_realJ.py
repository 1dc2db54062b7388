"""Real PyTorch programs under the alias against PyTorch (session 45, lane realJ): AntixK/PyTorch-VAE's models
(VanillaVAE, BetaVAE, VQVAE, WAE_MMD, InfoVAE, FactorVAE... on 64x64 images), among others; each defect found is
reduced here to the lines that found it (the programs themselves are not needed)."""
import pytest

from helpers import run_both


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
