"""Real PyTorch programs under the alias against PyTorch (session 46, lane realM): mrdbourke/pytorch-deep-learning's
later notebooks and going_modular scripts, yunjey/pytorch-tutorial and others, on tiny stand-in data; each defect
found is reduced here to the lines that found it (the programs themselves are not needed)."""
import pytest

from helpers import run_both


# -- Round L's probe of an uninitialized (lazy) parameter's attributes: PyTorch refuses element_size(), type(),
# requires_grad_(), is_inference() and is_pinned() (its ValueError naming the method) where ember answered from the
# placeholder, and gives ndim 1 and nbytes 0 where ember raised.
@pytest.mark.parametrize('expr', ['element_size()', 'type()', 'type(lib.float64)', 'requires_grad_(False)',
                                  'requires_grad_()', 'is_inference()', 'is_pinned()', 'ndim', 'nbytes', 'itemsize',
                                  'dim()', 'numel()'])
@pytest.mark.parametrize('kind', ['UninitializedParameter', 'UninitializedBuffer'])
def test_uninitialized_tensor_attributes(expr, kind):
    def fn(lib):
        t = getattr(lib.nn.parameter, kind)()
        return eval('t.' + expr, {'t': t, 'lib': lib})
    run_both(fn)


def test_lazy_module_requires_grad_refused():
    """``LazyLinear(3).requires_grad_(False)`` reaches each uninitialized parameter's requires_grad_: PyTorch raises."""
    run_both(lambda lib: lib.nn.LazyLinear(3).requires_grad_(False))
