"""ember.backend's array helpers: select is np.where to the bit, for every float dtype and broadcasting."""
import numpy as np
import pytest

from ember.backend import select


@pytest.mark.parametrize('dtype', [np.float16, np.float32, np.float64])
def test_select_is_where_to_the_bit(dtype):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 1, 5)).astype(dtype)
    b = rng.standard_normal((4, 5)).astype(dtype)
    c = rng.standard_normal((3, 4, 1)) > 0
    a[0, 0, :2] = (np.nan, -np.inf)
    b[1, :3] = (-0.0, np.inf, 0.0)
    got, want = select(c, a, b), np.where(c, a, b)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert np.array_equal(got.view(np.uint8), want.view(np.uint8))   # NaN payloads and zero signs too


def test_select_falls_back_for_mixed_operands():
    c = np.array([True, False])
    assert np.array_equal(select(c, np.array([1.0, 2.0]), 0.0), [1.0, 0.0])
    assert select(c, np.array([1, 2]), np.array([3, 4])).tolist() == [1, 4]
    assert select(c, np.array([1.0], np.float32), np.array([3.0, 4.0])).dtype == np.float64
