"""Real PyTorch programs under the alias against PyTorch (session 42, lane realF): labml.ai's annotated paper
implementations (labml_nn 0.5.1), among others; each defect found is reduced here to the lines that found it (the
programs themselves are not needed)."""
import importlib
import warnings

import pytest
import torch

import ember
from ember import aliasing


def _aliased(name):
    """Module ``name`` as a script importing it under the alias gets it."""
    with aliasing.as_torch():
        return importlib.import_module(name)


# -- labml_nn.optimizers.adam_fp16: ``from torch.cuda.amp import grad_scaler`` at the top ------------------------
@pytest.mark.parametrize('name', ['torch.cuda.amp.grad_scaler', 'torch.cuda.amp.autocast_mode',
                                  'torch.cuda.amp.common'])
def test_cuda_amp_submodules_import_with_pytorchs_names(name):
    """labml_nn's fp16 Adam subclasses ``torch.cuda.amp.grad_scaler.GradScaler``; ember's torch.cuda.amp was one
    module, so the import failed ('no attribute grad_scaler'). Each submodule has PyTorch's public names, and the
    package's names are the submodules' objects, as in PyTorch."""
    real, ours = importlib.import_module(name), _aliased(name)
    assert ours.__all__ == real.__all__
    for key in real.__all__:
        assert getattr(ours, key).__name__ == getattr(real, key).__name__
    real_pkg, our_pkg = importlib.import_module('torch.cuda.amp'), _aliased('torch.cuda.amp')
    assert our_pkg.__all__ == real_pkg.__all__
    leaf = name.rpartition('.')[2]
    assert getattr(our_pkg, leaf) is ours
    for key in ours.__all__:
        assert getattr(our_pkg, key) is getattr(ours, key)
        assert getattr(our_pkg, key).__module__.replace('ember', 'torch') == getattr(real_pkg, key).__module__


def test_cuda_amp_grad_scaler_module_keeps_optstate_and_warnings():
    """``grad_scaler.OptState`` stays importable from torch.cuda.amp.grad_scaler, ``amp_definitely_not_available()``
    is True without CUDA, and the GradScaler subclass warns and runs disabled as PyTorch's does."""
    real, ours = importlib.import_module('torch.cuda.amp'), _aliased('torch.cuda.amp')
    assert ours.common.amp_definitely_not_available() is real.common.amp_definitely_not_available() is True
    for amp in (real, ours):
        assert [s for s in ('READY', 'UNSCALED', 'STEPPED') if hasattr(amp.grad_scaler.OptState, s)] == \
            ['READY', 'UNSCALED', 'STEPPED']

    def made(amp):
        class Scaler(amp.grad_scaler.GradScaler):
            pass
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            scaler = Scaler(init_scale=4.0)
        return [(w.category, str(w.message)) for w in caught], scaler.is_enabled(), scaler.get_scale()
    assert made(ours) == made(real)


# -- labml_nn.transformers.alibi.get_slopes: torch.pow(2 ** -0.5, torch.arange(1, 1 + 2 * k, 2)) ------------------
@pytest.mark.parametrize('base, exponent', [
    (2.0 ** -0.5, lambda lib: lib.arange(1, 9, 2)),                     # ALiBi's slopes for 12 heads
    (0.1, lambda lib: lib.arange(0, 6)),
    (0.1, lambda lib: lib.arange(0, 6.0)),
    (lambda lib: lib.tensor([0.1, 0.3, 1.7, 2.5]), lambda lib: lib.tensor([2.0, 3.0, 0.7, -1.3])),
    (lambda lib: lib.tensor([[0.1], [0.7]]), lambda lib: lib.arange(0, 4)),
])
def test_float32_pow_with_a_tensor_exponent_is_correctly_rounded(base, exponent):
    """labml's ALiBi slopes printed 0.35355335 where PyTorch prints 0.35355338: ember raised float32 values to a
    tensor exponent with NumPy's float32 power, 1 ulp off (0.1f ** 2: 0.00999999977 vs 0.0100000007). PyTorch's
    powf is correctly rounded, as is float64's pow of the float32 operands rounded once."""
    def run(lib):
        b = base(lib) if callable(base) else base
        return lib.pow(b, exponent(lib)), b ** exponent(lib)
    for ours, real in zip(run(ember), run(torch)):
        assert ours.dtype == ember.float32 and real.dtype == torch.float32
        assert ours.tolist() == real.tolist()


# -- torcheval.metrics.functional.multiclass_confusion_matrix: a @torch.jit.script update makes a sparse tensor --------
def _sparse_warnings(lib, scripted):
    """The invariant-checks warnings a sparse_coo_tensor call gives, made by a scripted function or plain code."""
    def update(input: lib.Tensor, target: lib.Tensor, num_classes: int) -> lib.Tensor:
        coordinates = lib.vstack((target, input))
        return lib.sparse_coo_tensor(coordinates, lib.ones_like(target), lib.Size([num_classes, num_classes]))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        fn = lib.jit.script(update) if scripted else update
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        dense = fn(lib.tensor([1, 1, 0, 2]), lib.tensor([0, 1, 1, 2]), 3).to_dense()
    return dense.tolist(), [str(w.message)[:40] for w in caught if 'Sparse invariant' in str(w.message)]


def test_scripted_function_making_a_sparse_tensor_gives_no_invariants_warning():
    """torcheval's confusion-matrix metrics build their counts with torch.sparse_coo_tensor inside a
    @torch.jit.script function: PyTorch's compiled code calls ATen past the Python binding, where its 'Sparse
    invariant checks are implicitly disabled' warning lives, so it prints none; ember printed it. Plain code
    still warns (checked in a fresh process, as PyTorch warns once a process)."""
    assert _sparse_warnings(ember, True) == _sparse_warnings(torch, True)
    assert _sparse_warnings(ember, True)[1] == []
    import subprocess
    import sys
    code = ('import warnings, {0}; warnings.simplefilter("always"); i = {0}.tensor([[0, 1], [1, 0]]); '
            '{0}.sparse_coo_tensor(i, {0}.ones(2), (2, 2))')
    for lib in ('torch', 'ember'):
        err = subprocess.run([sys.executable, '-c', code.format(lib)], capture_output=True, text=True).stderr
        assert 'Sparse invariant checks are implicitly disabled' in err, lib


# -- torcheval.metrics.functional.multiclass_accuracy: ``scatter_(0, target, mask, reduce="add")`` ---------------------
def test_scatter_reduce_deprecation_warning_says_where_pytorch_raised_it():
    """torcheval's per-class accuracy calls scatter_ with reduce='add' and a tensor src: PyTorch's deprecation
    warning comes from C++ and ends '(Triggered internally at .../TensorAdvancedIndexing.cpp:225.)'; ember's
    lacked that ending. Compared in fresh processes, as both warn once a process."""
    import subprocess
    import sys
    code = ('import warnings, {0}; warnings.simplefilter("always"); x = {0}.zeros(3); '
            'x.scatter_(0, {0}.tensor([0, 1]), {0}.ones(2), reduce="add")')
    caught = []
    for lib in ('torch', 'ember'):
        err = subprocess.run([sys.executable, '-c', code.format(lib)], capture_output=True, text=True).stderr
        caught.append([line for line in err.splitlines() if 'UserWarning' in line])
    assert len(caught[0]) == 1 and caught[0][0].endswith('TensorAdvancedIndexing.cpp:225.)')
    assert caught[1] == caught[0]
