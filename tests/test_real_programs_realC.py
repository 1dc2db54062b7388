"""Real PyTorch libraries under the alias against PyTorch (session 41, lane realC): torch-audiomentations 0.12.0,
julius 0.2.8 and others, each reduced to the lines that found a defect in ember."""
import pytest

from helpers import run_both


# -- torch-audiomentations: AddColoredNoise draws normal(tensor(0.), tensor(1.), (n,)) -----------------------------
@pytest.mark.parametrize('mean,std', [('t0', 't1'), ('t0', 1.0), (0.0, 't1'), ('t2d', 't3'), ('ti', 't1'),
                                      ('tg', 't1'), ('t1d', 't1'), ('t0', 'tneg')])
def test_normal_with_size_takes_zero_dim_tensors_as_numbers(mean, std):
    """PyTorch's parser takes a 0-d tensor that needs no grad as the float of normal(mean, std, size): the draw is
    normal(float, float, size), in the default dtype whatever the tensors' dtypes. One that needs grad, or has a
    dimension, matches no overload (TypeError); a negative std is normal's RuntimeError."""
    def arg(L, v):
        return {'t0': lambda: L.tensor(0.0), 't1': lambda: L.tensor(1.0), 't2d': lambda: L.tensor(2.0, dtype=L.float64),
                't3': lambda: L.tensor(3.0), 'ti': lambda: L.tensor(1), 'tg': lambda: L.tensor(0.0, requires_grad=True),
                't1d': lambda: L.tensor([0.0]), 'tneg': lambda: L.tensor(-1.0)}[v]() if isinstance(v, str) else v

    def run(L):
        L.manual_seed(0)
        a = L.normal(arg(L, mean), arg(L, std), (6,))
        b = L.normal(arg(L, mean), arg(L, std), (2, 3), generator=L.Generator().manual_seed(3), dtype=L.float64)
        return a, str(a.dtype), b, str(b.dtype)
    run_both(run, message=mean != 't1d' and mean != 'tg')


# -- SpeechBrain 1.1.2: its import, dataio.batch and LiGRU --------------------------------------------------------
def test_pin_memory_module_rebuilds_batches():
    """SpeechBrain's dataio.batch imports ``pin_memory`` from torch.utils.data._utils.pin_memory. Objects without a
    ``pin_memory()`` pass through, containers are rebuilt in their types; a CPU build's tensor refuses to pin."""
    import collections
    import torch
    import ember
    from ember import aliasing
    Pair = collections.namedtuple('Pair', 'a b')

    def run(L, mod):
        data = {'x': [1, 'a', (2.5, None)], 'p': Pair(3, b'z'), 'r': range(2)}
        out = mod.pin_memory(data)
        pinned = []
        try:
            mod.pin_memory([L.ones(2)])
        except RuntimeError as e:
            pinned.append(str(e))
        return out, type(out['p']).__name__, type(out['r']).__name__, pinned

    from torch.utils.data._utils import pin_memory as tpm
    with aliasing.as_torch():
        import importlib
        epm = importlib.import_module('torch.utils.data._utils.pin_memory')
    assert epm.pin_memory.__module__.startswith('ember')
    assert run(ember, epm) == run(torch, tpm)


def test_jit_profiling_flags_return_the_previous_value():
    """SpeechBrain's quirks call torch._C._jit_set_profiling_executor(False) and _jit_set_profiling_mode(False) at
    import; each returns the flag's previous value (True at start), and a non-bool like a str is a TypeError."""
    def run(L):
        out = []
        for name in ('_jit_set_profiling_executor', '_jit_set_profiling_mode'):
            f = getattr(L._C, name)
            out += [f(False), f(1), f(True)]
            try:
                f('x')
            except TypeError as e:
                out.append(str(e).split('\n')[0])
        return out
    run_both(run)


@pytest.mark.parametrize('args,kw', [((4, 3), {}), (((4, 3),), {}), ((), {'size': (2, 4, 3)}), ((3,), {}),
                                     ((), {}), (((4, 3), 5), {}), ((4.0, 3), {}), ((4,), {'size': (4, 3)}),
                                     ((5, 3), {})])
def test_tensor_broadcast_to_takes_varargs_sizes(args, kw):
    """SpeechBrain's LiGRU calls ``h_init.broadcast_to(batch, hidden)``: the method reads a lone int list as
    varargs, as view and expand do; the errors of no size, of two sequences and of a size that does not fit."""
    def run(L):
        x = L.arange(3.).reshape(1, 3).requires_grad_()
        y = x.broadcast_to(*args, **kw)
        y.sum().backward()
        return y, y.grad_fn.name(), x.grad
    run_both(run, message=True)


# -- kornia 0.9.0: HardNet's weights, printed as p.abs().sum() (a conv weight of 36,864 float32s) --------------------
@pytest.mark.parametrize('threads', [1, 2, 3])
@pytest.mark.parametrize('n', [32768, 32769, 36864, 65537, 200003])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_sum_past_the_grain_size_splits_across_threads(threads, n, dtype):
    """Past 32,768 elements PyTorch sums to one value on its threads (even shares, each thread's partial sum in
    its vectorised order, then the partials in order); a sum to several values keeps each in one thread. ember
    fell back to NumPy's pairwise order there: kornia's HardNet weights summed to other last digits."""
    import torch
    import ember

    def run(L):
        L.manual_seed(0)
        x = L.randn(n, dtype=getattr(L, dtype)) * 10
        w = x[:n // 9 * 9].reshape(-1, 9)
        return [x.sum(), x.abs().sum(), x.mean(), w.t().sum(), w.sum(0), w.t().contiguous().sum(1),
                w.sum(0, keepdim=True), x.reshape(1, -1).sum(1), x.reshape(1, 1, -1).mean((0, 2))]

    old = torch.get_num_threads(), ember.get_num_threads()
    try:
        ember.set_num_threads(threads)
        torch.set_num_threads(ember.get_num_threads())   # ember's count: a BLAS it cannot steer keeps its own
        got, want = run(ember), run(torch)
    finally:
        torch.set_num_threads(old[0])
        ember.set_num_threads(old[1])
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.numpy().tobytes() == w.numpy().tobytes(), (g, w)


# -- asteroid-filterbanks 0.4.0 and geoopt 0.5.1 -----------------------------------------------------------------------
def test_is_tracing_is_false_outside_a_trace():
    """asteroid-filterbanks' scripting.is_tracing() calls torch._C._is_tracing() in every filterbank's forward."""
    def run(L):
        out = [L._C._is_tracing()]
        try:
            L._C._is_tracing(1)
        except TypeError as e:
            out.append(type(e).__name__)
        return out
    run_both(run)


def test_parameter_subclass_new_takes_its_own_keywords():
    """geoopt's ManifoldParameter(data, manifold=...) has a __new__ of its own keywords: PyTorch's Parameter has no
    __init__ (object's takes them when __new__ is overridden), ember's took only (data, requires_grad). A subclass
    whose own __init__ passes arguments up still gets object.__init__'s TypeError, as in PyTorch."""
    def run(L):
        class Manifold(L.nn.Parameter):
            def __new__(cls, data=None, manifold=None, requires_grad=True):
                inst = L.Tensor._make_subclass(cls, data, requires_grad)
                inst.manifold = manifold
                return inst

        class Passing(L.nn.Parameter):
            def __init__(self, data, requires_grad=True):
                super().__init__(data, requires_grad)
        p = Manifold(L.ones(2), manifold='sphere')
        out = [type(p).__name__, p.manifold, p.requires_grad, isinstance(p, L.nn.Parameter),
               L.nn.Parameter(data=L.ones(1), requires_grad=False).requires_grad]
        try:
            Passing(L.ones(2))
        except TypeError as e:
            out.append(str(e))
        return out
    run_both(run)


# -- SpeechBrain's Warping (bicubic aside) and kornia/torchvision resizes: linear-family interpolate in float32 --------
_RESAMPLE = [((3, 2, 23), 'linear', 31, None), ((3, 2, 23), 'linear', None, 1.7), ((2, 3, 23, 17), 'bilinear', (31, 40), None),
             ((2, 3, 23, 17), 'bilinear', (200, 150), None), ((2, 3, 23, 17), 'bilinear', None, 1.7),
             ((1, 5, 23, 17), 'bilinear', (90, 70), None), ((1, 4, 23, 40), 'bilinear', (31, 40), None),
             ((1, 3, 23, 40), 'bilinear', (23, 120), None), ((1, 2, 5, 7, 6), 'trilinear', (10, 14, 12), None),
             ((1, 2, 5, 7, 6), 'trilinear', None, 1.7)]


@pytest.mark.parametrize('shape,mode,size,scale,channels_last',
                         [c + (False,) for c in _RESAMPLE] + [c + (True,) for c in _RESAMPLE if len(c[0]) == 4])
@pytest.mark.parametrize('align_corners', [True, False])
@pytest.mark.parametrize('threads', [1, 2])
def test_linear_interpolate_rounds_as_pytorchs_fused_kernels(shape, mode, size, scale, align_corners, channels_last,
                                                             threads):
    """PyTorch's compiled kernels fuse t0 * w0 + t1 * w1 into one FMA per axis (its generic kernel, nested last axis
    first) and scale * (i + 0.5) - 0.5 into another; float bilinear takes its channels-last kernel (corner weights
    h * w, then a chain of FMAs) for a channels-last input of over 3 channels, an output of height + width <= 128,
    or 3 channels on one thread. ember's plain products differed from PyTorch's in 5-40% of the float32 values."""
    import torch
    import ember

    def run(L):
        x = L.rand(*shape, generator=L.Generator().manual_seed(1))
        if channels_last:
            x = x.contiguous(memory_format=L.channels_last)
        return L.nn.functional.interpolate(x, size=size, scale_factor=scale, mode=mode, align_corners=align_corners)

    old = torch.get_num_threads(), ember.get_num_threads()
    try:
        ember.set_num_threads(threads)
        torch.set_num_threads(ember.get_num_threads())
        got, want = run(ember), run(torch)
    finally:
        torch.set_num_threads(old[0])
        ember.set_num_threads(old[1])
    assert got.shape == want.shape and got.numpy().tobytes() == want.numpy().tobytes()


# -- kornia's warp_affine / elastic_transform2d / thin plate splines: grid_sample bilinear in float32 ----------------
@pytest.mark.parametrize('padding_mode', ['zeros', 'border', 'reflection'])
@pytest.mark.parametrize('align_corners', [True, False])
@pytest.mark.parametrize('shape', [(2, 3, 16, 16), (1, 5, 40, 33)])
def test_grid_sample_bilinear_adds_corners_as_pytorchs_fused_kernel(padding_mode, align_corners, shape):
    """PyTorch's vectorised grid sampler adds the four corners as fma(se_v, se, fma(sw_v, sw, fma(ne_v, ne, nw_v * nw)));
    ember's plain products and sums differed in about a fifth of the float32 values (kornia's warps)."""
    def run(L):
        g = L.Generator().manual_seed(1)
        x = L.rand(*shape, generator=g)
        grid = L.rand(shape[0], 10, 12, 2, generator=g) * 2.2 - 1.1
        y = L.nn.functional.grid_sample(x, grid, mode='bilinear', padding_mode=padding_mode, align_corners=align_corners)
        return y.numpy().tobytes()
    run_both(run)
