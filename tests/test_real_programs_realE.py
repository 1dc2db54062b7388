"""Real PyTorch programs under the alias against PyTorch (session 42, lane realE): Karpathy's llm.c train_gpt2.py
(tiny config, synthetic tokens), makemore.py and minGPT, among others; each defect found is reduced here to the
lines that found it (the programs themselves are not needed)."""
import importlib

import pytest
import torch

import ember
from ember import aliasing


def _aliased(name):
    """Module ``name`` as a script importing it under the alias gets it."""
    with aliasing.as_torch():
        return importlib.import_module(name)


# -- llm.c train_gpt2.py: ``import torch._inductor.config as config`` at the top, set when --compile=1 --------------
@pytest.mark.parametrize('name', ['torch._inductor.config', 'torch._dynamo.config'])
def test_compiler_config_modules_import_and_keep_settings(name):
    """llm.c imports torch._inductor.config (and sets coordinate_descent_tuning); scripts import torch._dynamo.config
    the same way. ember refused both imports ('ember has no counterpart of it'). Every setting ember keeps has
    PyTorch's default; unknown names and patch() behave as PyTorch's."""
    real, ours = importlib.import_module(name), _aliased(name)
    settings = ours.get_config_copy()
    assert len(settings) > 10
    for key, value in settings.items():
        assert value == eval(f'real.{key}'), key
    for config in (real, ours):
        for bad in ('nonexistent_option', 'triton.nonexistent_option') if 'inductor' in name else ('nonexistent_option',):
            holder, _, attr = ('config.' + bad).rpartition('.')
            with pytest.raises(AttributeError, match=rf'^{name}.{bad} does not exist$'):
                setattr(eval(holder), attr, 1)
            with pytest.raises(AttributeError, match=rf'^{name}.{bad} does not exist$'):
                getattr(eval(holder), attr)
    key = 'coordinate_descent_tuning' if 'inductor' in name else 'suppress_errors'
    for config in (real, ours):
        with config.patch(key, True):
            assert getattr(config, key) is True
        assert getattr(config, key) is False

        @config.patch({key: True})
        def read():
            return getattr(config, key)
        assert read() is True and getattr(config, key) is False
        setattr(config, key, True)
        assert getattr(config, key) is True
        setattr(config, key, False)


def test_compiler_config_is_the_package_attribute():
    """``import torch._inductor.config as config`` and ``torch._inductor.config`` are one module, as in PyTorch."""
    with aliasing.as_torch():
        config = importlib.import_module('torch._inductor.config')
        t = importlib.import_module('torch')
        from torch._inductor import config as again
        assert t._inductor.config is config is again is ember._inductor.config
        assert t._dynamo.config is importlib.import_module('torch._dynamo.config')
