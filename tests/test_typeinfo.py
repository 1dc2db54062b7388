"""torch.finfo / torch.iinfo against PyTorch: every attribute, the repr, and the errors."""
import pytest
import torch

import ember

FLOATS = ['float16', 'float32', 'float64', 'bfloat16']
INTS = ['int8', 'int16', 'int32', 'int64', 'uint8']


def raises_like(fn_ember, fn_torch):
    with pytest.raises(Exception) as theirs:
        fn_torch()
    with pytest.raises(type(theirs.value)) as mine:
        fn_ember()
    assert str(mine.value) == str(theirs.value)


@pytest.mark.parametrize('name', FLOATS)
def test_finfo(name):
    mine, theirs = ember.finfo(getattr(ember, name)), torch.finfo(getattr(torch, name))
    for attr in ('bits', 'eps', 'max', 'min', 'tiny', 'smallest_normal', 'resolution', 'dtype'):
        assert getattr(mine, attr) == getattr(theirs, attr) and type(getattr(mine, attr)) is type(getattr(theirs, attr))
    assert repr(mine) == repr(theirs) and str(mine) == str(theirs)
    assert mine == ember.finfo(getattr(ember, name))
    raises_like(lambda: setattr(mine, 'eps', 1.0), lambda: setattr(theirs, 'eps', 1.0))


def test_finfo_default_dtype_follows_set_default_dtype():
    assert repr(ember.finfo()) == repr(torch.finfo())
    ember.set_default_dtype(ember.float64)
    try:
        assert ember.finfo().bits == 64
    finally:
        ember.set_default_dtype(ember.float32)
    assert repr(ember.finfo(type=ember.float16)) == repr(torch.finfo(type=torch.float16))


@pytest.mark.parametrize('name', INTS)
def test_iinfo(name):
    mine, theirs = ember.iinfo(getattr(ember, name)), torch.iinfo(getattr(torch, name))
    for attr in ('bits', 'min', 'max', 'dtype'):
        assert getattr(mine, attr) == getattr(theirs, attr) and type(getattr(mine, attr)) is type(getattr(theirs, attr))
    assert repr(mine) == repr(theirs)


def test_errors():
    raises_like(lambda: ember.finfo(ember.int32), lambda: torch.finfo(torch.int32))
    raises_like(lambda: ember.finfo(ember.bool), lambda: torch.finfo(torch.bool))
    raises_like(lambda: ember.iinfo(ember.float32), lambda: torch.iinfo(torch.float32))
    raises_like(lambda: ember.iinfo(ember.bfloat16), lambda: torch.iinfo(torch.bfloat16))
    raises_like(lambda: ember.iinfo(ember.bool), lambda: torch.iinfo(torch.bool))
    raises_like(lambda: ember.finfo(3), lambda: torch.finfo(3))
    raises_like(lambda: ember.iinfo('int8'), lambda: torch.iinfo('int8'))
