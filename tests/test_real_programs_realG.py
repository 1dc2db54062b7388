"""Real PyTorch programs under the alias against PyTorch (session 43, lane realG): the UvA deep learning course
notebooks (phlippe/uvadlc_notebooks, PyTorch tutorials 2-17) converted to scripts, among others; each defect found
is reduced here to the lines that found it (the programs themselves are not needed)."""
import re

import pytest
import torch

import ember
from helpers import run_both


def _no_address(text):
    return re.sub(r'0x[0-9a-f]+', '0x?', text)


# -- UvA tutorial 2: a cell ending in ``torch.manual_seed(42)`` shows the generator's repr ------------------------
@pytest.mark.parametrize('make', [lambda lib: lib.manual_seed(42), lambda lib: lib.Generator(),
                                  lambda lib: lib.default_generator])
def test_generator_prints_as_torch_C_generator(make):
    """The notebook printed ``<ember.random.Generator object at 0x...>`` where PyTorch shows
    ``<torch._C.Generator object at 0x...>``; the class prints as PyTorch's too."""
    ours, real = make(ember), make(torch)
    assert _no_address(repr(ours)) == _no_address(repr(real)) == '<torch._C.Generator object at 0x?>'
    assert str(ours) == repr(ours)
    assert repr(type(ours)) == repr(type(real)) == repr(ember.Generator) == "<class 'torch._C.Generator'>"


@pytest.mark.parametrize('name', ['finfo', 'iinfo'])
def test_typeinfo_classes_print_as_pytorchs(name):
    """``torch.finfo`` printed as ``<class 'ember._typeinfo.finfo'>``."""
    assert repr(getattr(ember, name)) == repr(getattr(torch, name)) == f"<class 'torch.{name}'>"
    arg = (ember.float32, torch.float32) if name == 'finfo' else (ember.int16, torch.int16)
    assert repr(getattr(ember, name)(arg[0])) == repr(getattr(torch, name)(arg[1]))


# -- gpt-fast generate.py: ``torch._functorch.config.enable_autograd_cache = True`` at the top, without an import --
def test_functorch_config_settings_read_and_set_as_pytorchs():
    """gpt-fast's generate.py stopped at ``torch._functorch`` ('not supported by ember yet'). Its config takes
    PyTorch's settings with PyTorch's defaults, and refuses an unknown one as PyTorch's does."""
    import torch._functorch.config as real
    from ember import aliasing
    ours = ember._functorch.config
    for key in ('enable_autograd_cache', 'activation_memory_budget', 'donated_buffer', 'cse',
                'view_replay_for_aliased_outputs', 'strict_autograd_cache'):
        assert getattr(ours, key) == getattr(real, key), key
    with aliasing.as_torch():
        import torch as aliased
        import torch._functorch.config as imported
        assert imported is aliased._functorch.config is ours
    with ours.patch(enable_autograd_cache=False), real.patch(enable_autograd_cache=False):
        assert ours.enable_autograd_cache is real.enable_autograd_cache is False
    assert ours.enable_autograd_cache is real.enable_autograd_cache is True
    for config in (ours, real):
        with pytest.raises(AttributeError, match='torch._functorch.config.no_such_setting does not exist'):
            config.no_such_setting = 1


# -- gpt-fast generate.py's decode loop: ``with torch.backends.cuda.sdp_kernel(enable_flash=False, ...)`` ----------
def _sdp_kernel_run(lib, kwargs):
    import warnings
    q = lib.ones(1, 2, 3, 4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        manager = lib.backends.cuda.sdp_kernel(**kwargs)
    seen = [(w.category, str(w.message), w.filename.rpartition('/')[2]) for w in caught]
    names = ('flash', 'mem_efficient', 'math', 'cudnn')
    flags = lambda: [getattr(lib.backends.cuda, f'{n}_sdp_enabled')() for n in names]
    with manager as context:
        inside = flags()
        try:
            out = lib.nn.functional.scaled_dot_product_attention(q, q, q).sum().item()
        except RuntimeError as e:
            out = str(e)
    return seen, context, inside, out, flags()


@pytest.mark.parametrize('kwargs', [dict(enable_flash=False, enable_mem_efficient=False, enable_math=True),
                                    dict(enable_flash=False, enable_mem_efficient=True, enable_math=False),
                                    dict(enable_flash=True, enable_math=False, enable_cudnn=False), {}])
def test_sdp_kernel_warns_and_sets_the_flags_sdpa_reads(kwargs):
    """gpt-fast's decode loop printed PyTorch's FutureWarning (made when the manager is made, attributed to
    contextlib) only on PyTorch; inside the block the flags read back as set, ``as`` gives ``{}``, and with math and
    flash both off scaled_dot_product_attention raises PyTorch's error (ember ran it)."""
    assert _sdp_kernel_run(ember, kwargs) == _sdp_kernel_run(torch, kwargs)


@pytest.mark.parametrize('backends', [lambda B: [B.MATH], lambda B: B.EFFICIENT_ATTENTION, lambda B: [1],
                                      lambda B: (B.MATH,), lambda B: [B.OVERRIDEABLE, B.FLASH_ATTENTION]])
def test_sdpa_kernel_sets_the_backends_flags(backends):
    """``sdpa_kernel`` sets torch.backends.cuda's flags (they read back inside), yields ``{}``, takes a list or
    one SDPBackend (a tuple is refused with PyTorch's AssertionError), and restores the flags."""
    def run(lib):
        from importlib import import_module
        attention = import_module(f'{lib.__name__}.nn.attention')
        names = ('flash', 'mem_efficient', 'math', 'cudnn')
        with attention.sdpa_kernel(backends(attention.SDPBackend)) as context:
            inside = [getattr(lib.backends.cuda, f'{n}_sdp_enabled')() for n in names]
        return context, inside, [getattr(lib.backends.cuda, f'{n}_sdp_enabled')() for n in names]
    run_both(run, message=True)


def test_sdp_flags_set_directly_gate_sdpa():
    """``enable_math_sdp(False)`` with ``enable_flash_sdp(False)`` leaves PyTorch's CPU no kernel: the same error."""
    def run(lib):
        cuda = lib.backends.cuda
        cuda.enable_math_sdp(False)
        cuda.enable_flash_sdp(False)
        try:
            q = lib.ones(1, 1, 2, 2)
            return lib.nn.functional.scaled_dot_product_attention(q, q, q)
        finally:
            cuda.enable_math_sdp(True)
            cuda.enable_flash_sdp(True)
    run_both(run, message=True)


# -- notebook cells ending in a grad-mode call or ``iter(loader)`` show the object's repr ----------------------------
@pytest.mark.parametrize('make', [lambda lib: lib.set_grad_enabled(False), lambda lib: lib.set_grad_enabled(True),
                                  lambda lib: lib.no_grad(), lambda lib: lib.enable_grad(),
                                  lambda lib: lib.inference_mode(),
                                  lambda lib: lib.autograd.set_multithreading_enabled(True),
                                  lambda lib: iter(lib.utils.data.DataLoader(
                                      lib.utils.data.TensorDataset(lib.zeros(2))))])
def test_grad_modes_and_loader_iterators_print_as_pytorchs(make):
    """``torch.set_grad_enabled(False)`` printed ``<ember.autograd.grad_mode.set_grad_enabled object at ...>`` where
    PyTorch shows ``torch.autograd.grad_mode.set_grad_enabled(mode=False)``; the other managers and a DataLoader's
    iterator printed ember's module path. ``mode`` and ``prev`` read back as PyTorch's."""
    def run(lib):
        before = lib.is_grad_enabled()
        try:
            obj = make(lib)
            extra = (obj.mode, obj.prev) if type(obj).__name__ == 'set_grad_enabled' else ()
            return _no_address(repr(obj)), extra
        finally:
            lib.set_grad_enabled(before)
            lib.autograd.set_multithreading_enabled(True)
    assert run(ember) == run(torch)


# -- a notebook cell ending in ``model.layer.register_forward_hook(hook)`` shows the handle ---------------------------
@pytest.mark.parametrize('register', [
    lambda lib, m, x: m.register_forward_hook(lambda *a: None),
    lambda lib, m, x: m.register_full_backward_hook(lambda *a: None),
    lambda lib, m, x: m.weight.register_hook(lambda g: g),
    lambda lib, m, x: (x * 2).grad_fn.register_prehook(lambda *a: None),
    lambda lib, m, x: x.register_post_accumulate_grad_hook(lambda t: None),
    lambda lib, m, x: lib.optim.SGD([x], lr=1.0).register_step_post_hook(lambda *a: None),
    lambda lib, m, x: lib.autograd.graph.register_multi_grad_hook((x,), lambda g: None)])
def test_hook_handles_print_as_pytorchs(register):
    """Hook handles printed ``<ember.utils.hooks.RemovableHandle ...>``, a tensor hook's
    ``<ember.autograd.graph._Handle ...>``; PyTorch prints ``<torch.utils.hooks.RemovableHandle object at ...>``."""
    def run(lib):
        x = lib.ones(2, requires_grad=True)
        handle = register(lib, lib.nn.Linear(2, 2), x)
        text = _no_address(repr(handle))
        handle.remove()
        return text
    assert run(ember) == run(torch)


# -- ``print(type(torch.compile(model)))``; accelerate's is_compiled_module reads torch._dynamo.eval_frame ------------
def test_compiled_module_class_has_pytorchs_module():
    """Under the alias ``type(torch.compile(model))`` printed ``<class 'ember._dynamo.eval_frame.OptimizedModule'>``
    (torch.compile loaded that module itself, unpatched), and ``import torch._dynamo.eval_frame`` was refused;
    PyTorch's class lives in torch._dynamo.eval_frame."""
    import importlib
    import subprocess
    import sys
    code = ('from ember import aliasing\n'
            'with aliasing.as_torch():\n'
            '    import torch\n'
            '    m = torch.compile(torch.nn.Linear(2, 2))\n'
            '    print(type(m))\n'
            '    import torch._dynamo.eval_frame as ef\n'
            '    print(ef.OptimizedModule is type(m))\n')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    real = type(torch.compile(torch.nn.Linear(2, 2)))
    assert real is importlib.import_module('torch._dynamo.eval_frame').OptimizedModule
    assert out.split('\n')[:2] == [repr(real), 'True']
