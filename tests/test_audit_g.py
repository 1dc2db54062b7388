"""Corners a differential fuzzer over PyTorch's OpInfo samples (every dtype, strided and 0-d inputs, the ops' own
keyword arguments) found differing from PyTorch. Each row runs one program on both libraries and compares the
results bit for bit (dtype, shape, values), or that both raise the same exception type with PyTorch's first line."""
import pytest

from helpers import run_both as run


def _case(src):
    """A row's program as ``fn(L)``: the expression ``src`` with ``L`` the library."""
    return lambda L: eval(src, {'L': L})   # noqa: S307 - the rows below are the only sources


# -- two Python numbers: add/sub/mul/div/true_divide/floor_divide wrap both (a float in the default dtype), the
# other binary ops refuse them -------------------------------------------------------------------------------
NUMBERS = ['L.add(2.5, 3)', 'L.add(True, 2.5)', 'L.add(-7, 2.5, alpha=2)', 'L.sub(2.5, -7)', 'L.sub(True, 3)',
           'L.mul(2.5, True)', 'L.multiply(3, 2.5)', 'L.subtract(2.5, 1)', 'L.div(True, 3)', 'L.div(7, 2)',
           'L.divide(-7, 2.5)', 'L.true_divide(3, 7)', 'L.floor_divide(7, 2.5)', 'L.floor_divide(7, 2)',
           'L.div(-7, 2, rounding_mode="trunc")', 'L.div(7.5, 2, rounding_mode="floor")', 'L.add(1 + 2j, 2.5)',
           'L.eq(2.5, 3)', 'L.lt(1, 2)', 'L.bitwise_and(3, 1)', 'L.bitwise_left_shift(1, 2)', 'L.dist(2.5, 1.)',
           'L.remainder(7, 2)', 'L.xlogy(2., 3.)', 'L.atan2(1., 2.)', 'L.mul(L.tensor(2), 2.5)']


@pytest.mark.parametrize('src', NUMBERS)
def test_two_numbers(src):
    run(_case(src), message=True)


# -- addr: bools as PyTorch's kernel ((beta and x) or (alpha and a and b)); each op rounded in the dtype --------
ADDR = ['L.addr(L.zeros(2, 3, dtype=L.bool), L.tensor([True, False]), L.tensor([True, True, False]), beta=3, alpha=2)',
        'L.addr(L.ones(2, 3, dtype=L.bool), L.tensor([True, False]), L.tensor([True, True, False]), beta=0)',
        'L.addr(L.ones(2, 3, dtype=L.bool), L.tensor([True, False]), L.tensor([True, True, False]), alpha=0)',
        'L.ones(2, 3, dtype=L.bool).addr_(L.tensor([True, False]), L.tensor([False, True, False]), beta=0, alpha=5)',
        'L.addr(L.linspace(-3, 3, 6).reshape(2, 3).bfloat16(), L.tensor([1.3, -2.7]).bfloat16(), '
        'L.tensor([0.7, 1.9, -3.1]).bfloat16(), beta=0.6, alpha=0.2)',
        'L.addr(L.tensor(1.7).half(), L.tensor([1.3, -2.7]).half(), L.tensor([0.7, 1.9, -3.1]).half(), alpha=0.3)',
        'L.addr(L.linspace(-3, 3, 6).reshape(2, 3), L.tensor([1.3, -2.7]), L.tensor([0.7, 1.9, -3.1]), alpha=0.3)',
        'L.addr(L.ones(2, 3, dtype=L.int32), L.tensor([1, -2], dtype=L.int32), L.tensor([5, 3, 1], dtype=L.int32), '
        'beta=2, alpha=3)',
        'L.addr(L.ones(2, 3), L.tensor([1, -2]), L.tensor([True, False, True]), beta=0)']


@pytest.mark.parametrize('src', ADDR)
def test_addr(src):
    run(_case(src), message=True, tol=0)
