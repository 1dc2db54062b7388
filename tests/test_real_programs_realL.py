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
