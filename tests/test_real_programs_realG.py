"""Real PyTorch programs under the alias against PyTorch (session 43, lane realG): the UvA deep learning course
notebooks (phlippe/uvadlc_notebooks, PyTorch tutorials 2-17) converted to scripts, among others; each defect found
is reduced here to the lines that found it (the programs themselves are not needed)."""
import re

import pytest
import torch

import ember


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
