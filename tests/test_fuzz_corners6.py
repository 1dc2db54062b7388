"""Corners a sixth differential fuzzer found differing from PyTorch: integer and bool arithmetic with alpha (a
low-dtype 0-d operand times alpha wrapped in its own dtype), rounded division with numbers outside an integer
tensor's range, shifts of bools, integer powers with exponents beyond the dtype. Each case runs the same program
on both libraries and compares results, or that both raise the same exception type with PyTorch's first line."""
import pytest

from helpers import run_both as run


# -- add/sub/rsub with alpha compute in the result dtype: alpha is checked and cast to it first --------------
ALPHA = [
    lambda L: L.add(L.tensor([-5, 3, 8]), L.tensor(8, dtype=L.uint8), alpha=-3),
    lambda L: L.sub(L.tensor([-5, 3, 8], dtype=L.int16), L.tensor(100, dtype=L.int8), alpha=300),
    lambda L: L.rsub(L.tensor(8, dtype=L.uint8), L.tensor([-5, 3, 8]), alpha=3),
    lambda L: L.tensor([1, 2, 3], dtype=L.int16).add_(L.tensor(2, dtype=L.uint8), alpha=-3),
    lambda L: L.sub(L.tensor([-5, 3, 8], dtype=L.int8), L.tensor(100, dtype=L.int16), alpha=300),
    lambda L: L.sub(L.tensor([1, 2], dtype=L.int8), L.tensor([1, 2], dtype=L.int8), alpha=-128),
    lambda L: L.sub(L.tensor([1, 2], dtype=L.int8), L.tensor([1, 2], dtype=L.int8), alpha=128),
    lambda L: L.sub(L.tensor([1, 2]), L.tensor([1, 2]), alpha=-2 ** 63),
    lambda L: L.rsub(L.tensor([1, 2], dtype=L.uint8), L.tensor([1, 2], dtype=L.uint8), alpha=-255),
    lambda L: L.rsub(L.tensor([1, 2], dtype=L.uint8), L.tensor([1, 2], dtype=L.uint8), alpha=256),
    lambda L: L.sub(L.tensor([128, 9], dtype=L.uint8), -4, alpha=2),
    lambda L: L.add(L.tensor([100, 9], dtype=L.int8), 2 ** 40, alpha=2),
    lambda L: L.add(L.tensor([1, 2, 3]), L.tensor([1, 2]), alpha=2),
    lambda L: L.add(L.tensor([False, True]), L.tensor([True, True]), alpha=-5),
    lambda L: L.add(L.tensor([False, True]), L.tensor([True, True]), alpha=0),
    lambda L: L.add(L.tensor(False), L.tensor(True), alpha=2),
    lambda L: L.add(L.tensor([False, True]), L.tensor(3), alpha=2),
    lambda L: L.add(L.tensor([1., 2]), L.tensor(3, dtype=L.uint8), alpha=2),
]


@pytest.mark.parametrize('fn', ALPHA)
def test_integer_alpha_in_the_result_dtype(fn):
    run(fn, message=True)


# -- div(rounding_mode=): a number wraps into the integer tensor's dtype; bool and complex are refused --------
@pytest.mark.parametrize('dtype', ['uint8', 'int8', 'int16'])
@pytest.mark.parametrize('number', [-1, -3, 128, 256, 300, -129, 2 ** 40])
@pytest.mark.parametrize('mode', ['floor', 'trunc'])
def test_rounded_division_by_a_number_outside_the_dtype(dtype, number, mode):
    run(lambda L: L.div(L.tensor([3, 8, 100, 120]).to(getattr(L, dtype)), number, rounding_mode=mode),
        message=True)
    run(lambda L: L.tensor([3, 8, 100, 120]).to(getattr(L, dtype)).div_(number, rounding_mode=mode), message=True)


@pytest.mark.parametrize('fn', [
    lambda L: L.div(L.tensor([True]), True, rounding_mode='floor'),
    lambda L: L.div(L.tensor([True]), 3, rounding_mode='floor'),
    lambda L: L.div(L.tensor([True]), L.tensor([False]), rounding_mode='trunc'),
    lambda L: L.div(L.tensor([1j]), 2, rounding_mode='trunc'),
    lambda L: L.div(L.tensor([1]), 2j, rounding_mode='floor'),
    lambda L: L.div(L.tensor([1, 2]), L.tensor([0, 1, 2]), rounding_mode='floor'),
    lambda L: L.div(L.tensor([1, 2]), L.tensor([0, 1, 2]), rounding_mode='xx'),
    lambda L: L.tensor([True]).div_(True, rounding_mode='floor'),
    lambda L: L.div(5, L.tensor([2, -2], dtype=L.int8), rounding_mode='floor'),
    lambda L: L.tensor([-7, 7]).div(L.tensor([2, -2]), rounding_mode='trunc'),
])
def test_rounded_division_refusals_and_signs(fn):
    run(fn, message=True)


# -- shifts have no Bool kernel ----------------------------------------------------------------------------
@pytest.mark.parametrize('op', ['__lshift__', '__rshift__', '__rlshift__', '__ilshift__', 'bitwise_left_shift',
                                'bitwise_right_shift'])
@pytest.mark.parametrize('other', [1, True, 'bool', 'long'])
def test_shifts_of_bools(op, other):
    def fn(L):
        a = L.tensor([True, False])
        b = L.tensor([True, True]) if other == 'bool' else L.tensor([1, 2]) if other == 'long' else other
        return getattr(a, op)(b) if op.startswith('__') else getattr(L, op)(a, b)
    run(fn, message=True)


# -- an integer tensor ** a Python int: the exponent must fit the dtype --------------------------------------
@pytest.mark.parametrize('dtype', ['uint8', 'int8', 'int16', 'int32', 'bool'])
@pytest.mark.parametrize('exponent', [-300, 3, 127, 128, 255, 256, 300, 2 ** 31, True])
def test_integer_power_of_a_number_outside_the_dtype(dtype, exponent):
    run(lambda L: L.tensor([2, 3, 0]).to(getattr(L, dtype)) ** exponent, message=True)
    run(lambda L: L.tensor([2, 3, 0]).to(getattr(L, dtype)).pow_(exponent), message=True)
