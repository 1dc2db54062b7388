"""ember.backend's array helpers: select is np.where to the bit, for every float dtype and broadcasting; transposed is
a.T's copy to the bit; gemm's thread policy."""
import numpy as np
import pytest

from ember import backend
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


def test_gemm_threads_follow_multiply_adds(monkeypatch):
    """Products of at least BIG_GEMM multiply-adds run on set_num_threads's count, smaller ones on one
    thread; a matrix times a vector counts a.size multiply-adds (it once counted a.size * len(b)), a matrix times
    a stack once per matrix of the stack (it once counted one). Products OpenBLAS runs on one thread of its own
    accord (2-D up to 65536 * 4 multiply-adds, a matrix-vector product under 2304 * 4 elements) leave its count
    alone: no setter call (None below)."""
    from ember import _parallel, backend
    calls, state = [], {'n': 7}

    def setter(n):
        calls.append(n)
        state['n'] = n
    monkeypatch.setattr(backend.BLAS, 'ready', True)
    monkeypatch.setattr(backend.BLAS, 'setter', setter)
    monkeypatch.setattr(backend.BLAS, 'getter', lambda: state['n'])
    monkeypatch.setattr(backend.BLAS, 'many', 2)
    monkeypatch.setattr(backend.BLAS, 'pinned', 0)
    # the pool's split of large products (taken with a thread count an earlier test left) is not under test here
    monkeypatch.setattr(_parallel, 'product', lambda a, b, bias=None: None)
    cases = [((512, 1024), (1024,), 1), ((4096, 4096), (4096,), 2), ((4096, 2048), (2048,), 1),
             ((256, 256), (256, 256), 2), ((256, 256), (256, 255), 1),
             ((65, 65), (65, 65), 1), ((2048,), (2048, 8192), 2), ((1024,), (1024, 1024), 1),
             ((64, 64), (8, 64, 1024), 2), ((64, 64), (2, 64, 512), 1), ((64, 64), (0, 64, 512), 1),
             ((64, 64), (64, 64), None), ((4, 400), (400, 120), None), ((95, 95), (95,), None),
             ((95,), (95, 95), None), ((96, 96), (96,), 1), ((3, 95, 95), (95,), None), ((5,), (5,), None)]
    for sa, sb, want in cases:
        a, b = np.ones(sa, np.float32), np.ones(sb, np.float32)
        calls.clear()
        np.testing.assert_array_equal(backend.gemm(a, b), a @ b)
        assert calls == ([] if want is None else [want, 7]), (sa, sb, calls)
        assert state['n'] == 7


@pytest.mark.parametrize('threads', [1, 2])
def test_gemm_writes_into_out(threads):
    """gemm(out=) returns out holding the product the route gives without it, bit for bit: a small product, a large
    one (cut on the pool at 2 threads), a stack times a matrix, into a strided view."""
    import ember
    before = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        rng = np.random.default_rng(1)
        for sa, sb in (((7, 5), (5, 3)), ((512, 300), (300, 600)), ((3, 40, 30), (30, 20))):
            a, b = rng.standard_normal(sa).astype(np.float32), rng.standard_normal(sb).astype(np.float32)
            want = backend.gemm(a, b)
            wide = np.zeros(want.shape[:-1] + (want.shape[-1] + 3,), np.float32)
            got = backend.gemm(a, b, out=wide[..., 1:-2])
            assert got.base is wide and np.array_equal(wide[..., 1:-2], want)
            assert not wide[..., 0].any() and not wide[..., -2:].any()
    finally:
        ember.set_num_threads(before)


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_gemm_bias_taken_in_by_the_product_is_the_product_plus_the_bias(monkeypatch, dtype):
    """gemm(bias=) on one thread fills C with the bias and runs ?gemm with beta = 1 (_with_bias): the same values as
    the product on the same route then the add, bit for bit, for weights as they are and as transposed views
    (F.linear's w.T), into a strided ``out`` too; inner dimensions past _BIAS_IN_GEMM_K, single rows, other bias
    shapes and operands sharing memory go the separate way, with the same values. Small products are let in here
    (_BIAS_IN_GEMM_MIN)."""
    rng = np.random.default_rng(5)
    fused = backend._gemm_routine(np.dtype(dtype)) is not None
    monkeypatch.setattr(backend, '_BIAS_IN_GEMM_MIN', 0)
    for m, k, n in ((768, 128, 384), (64, 256, 65), (7, 3, 2), (300, 257, 40), (1, 16, 8), (9, 16, 1)):
        a = (rng.standard_normal((m, k)) * 30).astype(dtype)
        w, bias = rng.standard_normal((n, k)).astype(dtype), (rng.standard_normal(n) * 5).astype(dtype)
        for b in (w.T, np.ascontiguousarray(w.T)):
            want = backend.gemm(a, b)     # the product on the same route, then the bias added apart, as before
            want += bias
            used = backend._with_bias(a, b, bias)
            assert (used is not None) == (fused and k <= backend._BIAS_IN_GEMM_K and m > 1 and n > 1)
            assert np.array_equal(backend.gemm(a, b, bias=bias), want)
            wide = np.zeros((m, n + 3), dtype)
            got = backend.gemm(a, b, bias=bias, out=wide[:, 1:-2])
            assert got.base is wide and np.array_equal(wide[:, 1:-2], want) and not wide[:, 0].any()
    a = rng.standard_normal((6, 6)).astype(dtype)
    assert backend._with_bias(a, a.T, a[0]) is None and backend._with_bias(a, a, a[:1]) is None
    assert np.array_equal(backend.gemm(a, a.T, bias=a[0]), backend.gemm(a, a.T) + a[0])


@pytest.mark.parametrize('core', ['SkylakeX', 'Haswell'])
def test_gemm_narrow_is_the_product_cut_any_way(monkeypatch, core):
    """gemm_narrow equals the float64 product to float32 rounding whether it cuts (kernels with small-matrix kernels:
    result rows, columns or the inner dimension in blocks, with and without a remainder) or not; products it does not
    cut (wide results, float64, few multiply-adds) are gemm's, bit for bit."""
    monkeypatch.setattr(backend.BLAS, 'core', core)
    rng = np.random.default_rng(3)
    for sa, sb in (((6, 75), (75, 6272)), ((6, 75), (75, 6271)), ((75, 6273), (6273, 6)), ((75, 6272), (6272, 6)),
                   ((6001, 75), (75, 5)), ((6, 75), (75, 100)), ((16, 150), (150, 3200))):
        a, b = rng.standard_normal(sa).astype(np.float32), rng.standard_normal(sb).astype(np.float32)
        got = backend.gemm_narrow(a, b)
        want = a.astype(np.float64) @ b.astype(np.float64)
        assert got.dtype == np.float32 and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4 * np.sqrt(sa[1]))
        if max(sa[0], sb[1]) * sa[1] * min(sa[0], sb[1]) <= backend._SMALL_MACS or min(sa[0], sb[1]) > backend._NARROW:
            assert np.array_equal(got, backend.gemm(a, b))
    a64, b64 = rng.standard_normal((6, 75)), rng.standard_normal((75, 6272))
    assert np.array_equal(backend.gemm_narrow(a64, b64), backend.gemm(a64, b64))


@pytest.mark.parametrize('dtype,bits', [(np.float32, np.uint32), (np.float64, np.uint64)])
def test_transposed_copies_every_bit(dtype, bits):
    """Random bit patterns (denormals, infinities, both zeros, quiet NaNs with payloads) come back as a.T's, into a
    new array and into a view whose rows are further apart than its width (a slice of a wider array)."""
    rng = np.random.default_rng(0)
    raw = rng.integers(0, np.iinfo(bits).max, (301, 9), dtype=bits, endpoint=True)
    a = raw.view(dtype)
    a[np.isnan(a)] = np.array(np.nan, dtype)      # quiet NaNs: a signalling one may come back quieted
    a[0, :4] = (0.0, -0.0, np.inf, -np.inf)
    a[1, :2] = np.finfo(dtype).smallest_subnormal * np.array((3, -5), dtype)
    a[2, 0] = np.array(-np.nan, dtype)            # sign and payload kept
    want = np.ascontiguousarray(a.T).view(bits)
    assert np.array_equal(backend.transposed(a).view(bits), want)
    wide = np.zeros((9, 310), dtype)
    out = backend.transposed(a, wide[:, 4:305])
    assert out.base is wide and np.array_equal(wide[:, 4:305].view(bits), want)
    assert not wide[:, :4].any() and not wide[:, 305:].any()
    rows = np.zeros((301, 13), dtype)       # an input whose rows are further apart than its width
    rows[:, 2:11] = a
    assert np.array_equal(backend.transposed(rows[:, 2:11]).view(bits), want)


def test_transposed_falls_back_where_it_cannot_use_blas():
    """An input or output whose rows are not contiguous or run backwards, an integer or float16 array, an empty one:
    NumPy's copy, the same values."""
    a = np.arange(60.0).reshape(6, 10)
    cases = [(a[:, ::2], None), (a[::-1], None), (np.arange(12).reshape(3, 4), None), (a.astype(np.float16), None),
             (a, np.zeros((10, 12))[:, ::2]), (a, np.zeros((10, 6))[::-1]), (a[:0], None)]
    for x, out in cases:
        got = backend.transposed(x, out)
        assert got.dtype == x.dtype and np.array_equal(got, x.T)
        if out is not None:
            assert got is out


def test_openblas_core_names_the_kernels_numpy_runs():
    """openblas_core reads OpenBLAS's own answer: OPENBLAS_CORETYPE's family when the variable forces one."""
    import os
    core = backend.openblas_core()
    forced = os.environ.get('OPENBLAS_CORETYPE')
    if core is None:
        assert not list(backend._openblas_libs())
    else:
        assert core.strip() and (not forced or core.lower() == forced.lower())


@pytest.mark.parametrize('core', ['SkylakeX', 'Haswell'])
def test_reused_operand_copies_only_for_kernels_that_gain(monkeypatch, core):
    """Under SkylakeX's kernels a transposed view comes back as a C-contiguous copy (same values, and products with it
    equal the view's to rounding); under others, and for an array already C-contiguous, the array itself."""
    monkeypatch.setattr(backend.BLAS, 'core', core)
    rng = np.random.default_rng(3)
    w = rng.standard_normal((24, 6)).astype(np.float32)
    h = rng.standard_normal((5, 6)).astype(np.float32)
    got = backend.reused_operand(w.T)
    if core == 'SkylakeX':
        assert got.flags.c_contiguous and got.base is None and np.array_equal(got, w.T)
        np.testing.assert_allclose(backend.gemm(h, got), h.astype(np.float64) @ w.T, rtol=1e-5, atol=1e-5)
    else:
        assert got is not None and got.base is w and not got.flags.c_contiguous
    assert backend.reused_operand(w) is w


def test_lstm_with_contiguous_recurrent_weight_matches_torch(monkeypatch):
    """The LSTM layer's steps multiply by reused_operand(w_hh.T): with the C-contiguous copy SkylakeX's kernels get
    (forced here whatever kernels run), outputs, states and every gradient match PyTorch's."""
    import ember
    import torch
    monkeypatch.setattr(backend.BLAS, 'core', 'SkylakeX')
    rng = np.random.default_rng(11)
    x = rng.standard_normal((6, 5, 4)).astype(np.float32)
    ember.manual_seed(0)
    em = ember.nn.LSTM(4, 8, 2)
    tm = torch.nn.LSTM(4, 8, 2)
    tm.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in em.state_dict().items()})

    def run(lib, m):
        xs = lib.tensor(x, requires_grad=True)
        out, (h, c) = m(xs)
        (out.sum() + (h * h).sum() + c.sum()).backward()
        return [out.detach().numpy(), h.detach().numpy(), c.detach().numpy(), xs.grad.numpy()] + \
            [p.grad.numpy() for p in m.parameters()]
    for a, b in zip(run(ember, em), run(torch, tm)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('core', ['SkylakeX', 'Haswell'])
def test_linear_product_with_roles_swapped_is_numpys_to_the_bit(monkeypatch, core):
    """A few-row float32 x @ weight.T runs as (weight @ x.T).T under SkylakeX's kernels (_swapped): C-contiguous, and on
    those kernels NumPy's own product on one OpenBLAS thread bit for bit, gemm's at one thread and two (which runs it
    on one); other kernels, shapes, layouts and dtypes are not taken."""
    real = backend.openblas_core()
    monkeypatch.setattr(backend.BLAS, 'core', core)
    rng = np.random.default_rng(5)
    for m, k, n in ((64, 784, 256), (20, 200, 800), (3, 700, 900), (64, 449, 128), (33, 1500, 70)):
        x = rng.standard_normal((m, k)).astype(np.float32)
        w = rng.standard_normal((n, k)).astype(np.float32)
        swapped, want = _one_blas_thread(lambda: (backend._swapped(x, w.T), x @ w.T))
        assert (swapped is not None) == (core == 'SkylakeX')
        if swapped is None or real != 'SkylakeX':
            continue
        assert swapped.flags.c_contiguous and np.array_equal(swapped, want)
        for threads in (1, 2):
            backend.set_blas_threads(threads)
            try:
                got = backend.gemm(x, w.T)
            finally:
                backend.set_blas_threads(None)
            assert got.flags.c_contiguous and np.array_equal(got, want)
    x = rng.standard_normal((64, 300)).astype(np.float32)
    w = rng.standard_normal((120, 300)).astype(np.float32)
    row, wide = rng.standard_normal((1, 2000)).astype(np.float32), rng.standard_normal((800, 2000)).astype(np.float32)
    for a, b in ((x, w.T), (x[:, :100], w[:16, :100].T), (row, wide.T), (x, np.ascontiguousarray(w.T)),
                 (x.astype(np.float64), w.T.astype(np.float64)), (np.tile(x, (2, 1)), np.tile(w, (2, 1)).T),
                 (np.asfortranarray(x), w.T)):
        assert backend._swapped(a, b) is None


def _one_blas_thread(fn):
    """fn() with OpenBLAS at one thread (its threaded sgemm blocks an inner dimension of 449-894 otherwise: other
    values), its count put back after."""
    if not backend.BLAS.ready:
        backend.BLAS.init()
    if backend.BLAS.setter is None:
        return fn()
    n = backend.BLAS.getter()
    backend.BLAS.setter(1)
    try:
        return fn()
    finally:
        backend.BLAS.setter(n)
