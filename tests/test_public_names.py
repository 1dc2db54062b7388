"""The public modules show no helper of ember's: every public name ``dir()`` gives in ember.linalg, ember,
ember.nn, nn.functional, optim, autograd and utils.data is one PyTorch's module has too, except ember's own
submodules (ember.aliasing, autograd.engine...: bound once imported) and IPython's hooks (imported modules,
classes and grad_fn nodes do not leak)."""
import importlib

import pytest
import torch

import ember

EMBER_ONLY = {'': {'load_ipython_extension', 'unload_ipython_extension'}}   # `%load_ext ember`


@pytest.mark.parametrize('mod', ['linalg', '', 'nn', 'nn.functional', 'optim', 'autograd', 'utils.data'])
def test_no_leaked_names(mod):
    t = importlib.import_module('torch' + ('.' + mod if mod else ''))
    e = importlib.import_module('ember' + ('.' + mod if mod else ''))
    extra = {n for n in dir(e) if not n.startswith('_') and not hasattr(t, n)
             and getattr(getattr(e, n), '__name__', None) != f'{e.__name__}.{n}'}   # not an own submodule
    assert extra == EMBER_ONLY.get(mod, set())


def test_moved_names_still_import():
    """What left a public namespace stays where PyTorch keeps it."""
    from ember.autograd.function import FunctionCtx, InplaceFunction, once_differentiable  # noqa: F401
    from ember.autograd.graph import Node  # noqa: F401
    from ember.autograd.gradcheck import GradcheckError  # noqa: F401
    from ember.nn.modules.linear import NonDynamicallyQuantizableLinear  # noqa: F401
    from ember.nn.modules.module import register_module_forward_hook  # noqa: F401
    from ember.optim.adam import Adam
    assert Adam is ember.optim.Adam and not hasattr(ember.optim, 'adam') and not hasattr(torch.optim, 'adam')
    assert type(ember.linalg.det(ember.ones(2, 2, requires_grad=True)).grad_fn).__name__ == 'LinalgDetBackward0'
