"""Issue 10, no silent wrong answers: values, errors and empty-tensor cases where ember once differed from
PyTorch (creation rounding, integer sorting and division, indexing bounds, losses, empties)."""
import numpy as np
import pytest
import torch

import ember
from helpers import assert_same, check

LIBS = (torch, ember)


def same(fn, atol=1e-6, rtol=1e-5):
    """``fn(lib)`` gives the same result (values, dtype, shape) on ember as on PyTorch."""
    assert_same(fn(ember), fn(torch), atol=atol, rtol=rtol)


def raises_like(fn, match=None):
    """``fn(lib)`` raises the same exception type on ember as on PyTorch (and ember's message matches)."""
    with pytest.raises(Exception) as t:
        fn(torch)
    with pytest.raises(type(t.value), match=match):
        fn(ember)


# -- creation: data is converted straight to the requested dtype -------------------------------------------

DATA = [0.1, 1e40, 1e-50, 2**70]


@pytest.mark.parametrize('make', [
    lambda L: L.tensor(DATA, dtype=L.float64),
    lambda L: L.tensor(0.1, dtype=L.float64),
    lambda L: L.tensor([[0.1, 1e-50], [3, True]], dtype=L.float64),
    lambda L: L.as_tensor(DATA, dtype=L.float64),
    lambda L: L.DoubleTensor(DATA),
    lambda L: L.zeros(1, dtype=L.float64).new_tensor(DATA),
    lambda L: L.tensor(DATA[:2], dtype=L.float32),
    lambda L: L.tensor([1.7, -2.5], dtype=L.int64),
])
def test_creation_exact_in_requested_dtype(make):
    e, t = make(ember), make(torch)
    assert repr(e.dtype) == repr(t.dtype)
    assert e.tolist() == t.tolist()
