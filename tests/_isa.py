"""Which CPU kernels PyTorch runs on this host. ember reproduces PyTorch's AVX-512 kernels bit for bit (oneDNN's
and ATen's, and the OpenBLAS SkylakeX summation orders); an AVX2-only host (e.g. AMD Zen 1: capability 'AVX2',
OpenBLAS 'Haswell') rounds differently there, so tests assert agreement within a tolerance measured on one."""
import numpy as np
import torch


def pytorch_avx512():
    """Whether PyTorch runs its AVX-512 CPU kernels here (those ember emulates bit for bit)."""
    return torch.backends.cpu.get_cpu_capability().startswith('AVX512')


def bits_or(tol):
    """0 (bit for bit) where PyTorch runs its AVX-512 kernels, else ``tol``."""
    return 0 if pytorch_avx512() else tol


def assert_bits_or_close(actual, desired, err_msg='', **tol):
    """Equal where PyTorch runs its AVX-512 kernels; elsewhere within ``tol`` (assert_allclose's rtol/atol)."""
    if pytorch_avx512():
        np.testing.assert_array_equal(actual, desired, err_msg=err_msg)
    else:
        np.testing.assert_allclose(np.asarray(actual, np.float64), np.asarray(desired, np.float64), err_msg=err_msg,
                                   **tol)


def assert_bits_or_near_max(e, t, rel):
    """Tensors ``e`` (ember) and ``t`` (PyTorch) in float64: equal where PyTorch runs its AVX-512 kernels; elsewhere
    within ``rel`` times max|t| (for sums whose AVX2 kernel rounds partial sums to the low precision)."""
    assert str(e.dtype) == str(t.dtype), (e.dtype, t.dtype)
    a, b = (np.asarray(x.detach().float().numpy(), np.float64) for x in (e, t))
    if pytorch_avx512():
        np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_allclose(a, b, rtol=0, atol=rel * np.abs(b).max())


def cuts_exact():
    """Whether a float32 product cut into row blocks (ember's pool at 2 threads) equals the whole product bit for bit
    here: so on OpenBLAS's SkylakeX-family kernels; Haswell's sgemm rounds by the shape it is given (ember's
    backend.py says so), e.g. (64, 48) @ (48, 40) cut at row 8 differs from the whole in 707 of 2560 elements."""
    from ember import backend
    return backend.small_kernels()


def assert_cut_equal(actual, desired, err_msg=''):
    """A product (or what is made of products) computed cut across threads against computed whole: bit for bit where
    cuts are exact (cuts_exact), else within float32 rounding of its sums (rtol 1e-5 of the largest value)."""
    if cuts_exact():
        np.testing.assert_array_equal(actual, desired, err_msg=err_msg)
    else:
        a, d = np.asarray(actual, np.float64), np.asarray(desired, np.float64)
        np.testing.assert_allclose(a, d, rtol=0, atol=1e-5 * max(1.0, float(np.abs(d).max(initial=0))),
                                   err_msg=err_msg)
