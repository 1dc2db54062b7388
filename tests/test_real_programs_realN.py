"""Real PyTorch programs under the alias against PyTorch (session 47, lane realN): mrdbourke/pytorch-deep-learning's
notebooks 07 and 09, udlbook's MNIST-1D notebooks, yunjey/pytorch-tutorial, rasbt's stat453 notebooks and more of
pytorch/examples, on tiny stand-in data; each defect found is reduced here to the lines that found it (the programs
themselves are not needed)."""
import warnings

import pytest

import ember
import torch

from helpers import import_torchvision, run_both


# -- ``.T`` of a lazy layer's uninitialized weight: PyTorch lets tensor properties and ``size`` through to the empty
# 1-D placeholder (``.T`` warns that a non-2-D ``.T`` is deprecated and gives ``tensor([])`` with PermuteBackward0;
# a buffer's ``.T`` is again an ``<UninitializedBuffer>``; ``.mT``/``.H``/``.mH`` raise their 1-D RuntimeErrors;
# ``size()`` is ``torch.Size([0])``); ember raised its "uninitialized parameter" ValueError for all of them.
@pytest.mark.parametrize('expr', ['p.T', 'p.mT', 'p.H', 'p.mH', 'p.size()', 'p.size(0)', 'p.size(-1)', 'p.size(1)'])
@pytest.mark.parametrize('kind', ['LazyLinear(3).weight', 'LazyConv2d(4, 3).weight', 'LazyBatchNorm1d().running_mean'])
def test_uninitialized_properties(expr, kind):
    def fn(lib):
        p = eval('lib.nn.' + kind, {'lib': lib})
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            r = eval(expr, {'p': p})
        return [str(x.message)[:60] for x in w] + [type(r).__name__, repr(r)]
    run_both(fn, message=True)


def test_uninitialized_transpose_then_materialize():
    """``.T`` does not materialize: the weight stays lazy, and after the first forward ``.T`` is the real transpose."""
    def fn(lib):
        m = lib.nn.LazyLinear(3)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            _ = m.weight.T
        lazy = type(m.weight).__name__
        lib.manual_seed(0)
        m(lib.ones(2, 5))
        return lazy, m.weight.T.shape, m.weight.T.is_contiguous()
    run_both(fn)


# -- mrdbourke 07 (experiment tracking) keeps ``normalize = transforms.Normalize(...)`` at top level and the harness
# listed the notebook's nn.Modules: torchvision's transforms with a ``forward`` are nn.Modules (hooks, Sequential,
# ``.train()``), ember's were plain callables.
def _module_transforms(lib, T):
    names = [n for n in dir(T) if n[0].isupper() and isinstance(getattr(T, n), type)]
    return sorted(n for n in names if issubclass(getattr(T, n), lib.nn.Module))


def test_transforms_are_modules():
    want = _module_transforms(torch, import_torchvision().transforms)
    got = _module_transforms(ember, ember.vision.transforms)
    assert set(want) <= set(got), set(want) - set(got)
    assert set(got) <= set(want), set(got) - set(want)


def test_transforms_in_sequential():
    """Normalize/CenterCrop in an ``nn.Sequential`` (torchvision's scriptable-transforms recipe), with a forward hook
    and in the module listing."""
    def fn(lib, T):
        seen = []
        pipe = lib.nn.Sequential(T.CenterCrop(4), T.Normalize([0.5, 0.25], [0.5, 2.0]))
        pipe[1].register_forward_hook(lambda m, i, o: seen.append(tuple(o.shape)))
        out = pipe(lib.arange(72.).reshape(2, 6, 6) / 72)
        return [n for n, _ in pipe.named_modules()], repr(pipe), seen, out.numpy(), pipe.training
    want, got = fn(torch, import_torchvision().transforms), fn(ember, ember.vision.transforms)
    assert want[:3] == got[:3] and want[4] == got[4]
    assert abs(want[3] - got[3]).max() < 1e-6
