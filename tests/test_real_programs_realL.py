"""Real PyTorch programs under the alias against PyTorch (session 46, lane realL): mrdbourke/pytorch-deep-learning
(notebooks 00-03 and 08, its cheatsheet and its most-common-errors notebook) and MorvanZhou/PyTorch-Tutorial's
scripts, on tiny stand-in data; each defect found is reduced here to the lines that found it (the programs themselves
are not needed)."""
import pytest

from helpers import run_both


# -- pytorch_most_common_errors.ipynb builds ``nn.Sequential(nn.Flatten(), nn.LazyLinear(10), nn.LazyLinear(10))`` and
# prints ``next(model_6.parameters()).device`` before any forward: PyTorch knows an uninitialized parameter's device
# (and dtype); ember raised its "uninitialized parameter" ValueError.
@pytest.mark.parametrize('attr', ['device', 'dtype', 'is_meta', 'is_cuda', 'requires_grad', 'is_leaf', 'grad'])
@pytest.mark.parametrize('kind', ['parameter', 'buffer'])
def test_uninitialized_parameter_knows_its_device_and_dtype(attr, kind):
    def fn(lib):
        if kind == 'parameter':
            model = lib.nn.Sequential(lib.nn.Flatten(), lib.nn.LazyLinear(out_features=10),
                                      lib.nn.LazyLinear(out_features=10))
            t = next(model.parameters())
        else:
            t = next(lib.nn.LazyBatchNorm1d().buffers())
        return str(getattr(t, attr))
    run_both(fn)


def test_lazy_model_device_then_forward():
    """The notebook's cell: the device printed, then the model called; the same output and initialized device."""
    def fn(lib):
        lib.manual_seed(42)
        model = lib.nn.Sequential(lib.nn.Flatten(), lib.nn.LazyLinear(10), lib.nn.LazyLinear(10))
        before = str(next(model.parameters()).device)
        out = model(lib.rand(1, 3, 8, 8))
        return before, str(next(model.parameters()).device), out
    run_both(fn)


# -- MorvanZhou's 406_conditional_GAN.py steps D's Adam between ``D_loss.backward(retain_graph=True)`` and
# ``G_loss.backward()``: PyTorch's version error names the tensor F.linear saved, weight.t() (``[128, 1]``, "which is
# output 0 of AsStrided"); ember named the weight itself (``[1, 128]``). An input that is not 2-D is saved as a matrix.
@pytest.mark.parametrize('xshape', [(4, 3), (2, 4, 3), (3,)], ids=str)
@pytest.mark.parametrize('changed', ['weight', 'input_leaf', 'input'])
@pytest.mark.parametrize('bias', [True, False])
@pytest.mark.parametrize('grads', [(True, True), (False, True), (True, False)], ids=str)
def test_linear_version_error_names_pytorchs_saved_view(xshape, changed, bias, grads):
    def fn(lib):
        lib.manual_seed(0)
        lin = lib.nn.Linear(3, 2, bias=bias)
        lin.weight.requires_grad_(grads[1])
        x = lib.randn(*xshape, requires_grad=grads[0])
        x2 = x * 1
        y = lin(x2).sum()
        with lib.no_grad():
            {'weight': lin.weight, 'input_leaf': x, 'input': x2}[changed].add_(1)
        y.backward()
    if not (bias or any(grads)):
        return
    run_both(fn, message=True)


@pytest.mark.parametrize('opt', ['Adam', 'SGD'])
def test_gan_discriminator_stepped_between_backwards(opt):
    """406_conditional_GAN's loop, reduced: the second backward raises PyTorch's message, word for word."""
    def fn(lib):
        lib.manual_seed(1)
        D = lib.nn.Sequential(lib.nn.Linear(6, 8), lib.nn.ReLU(), lib.nn.Linear(8, 1), lib.nn.Sigmoid())
        prob = D(lib.randn(4, 6))
        d_loss, g_loss = -lib.mean(lib.log(prob)), lib.mean(lib.log(1. - prob))
        d_loss.backward(retain_graph=True)
        getattr(lib.optim, opt)(D.parameters(), lr=0.01).step()
        try:
            g_loss.backward()
        except RuntimeError as e:
            return str(e)
    run_both(fn)
