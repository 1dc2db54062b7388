"""Random numbers: ``Generator`` (NumPy's PCG64 underneath), the default generator seeded by
``manual_seed``, and sampling ops. Streams differ from PyTorch's; seeding makes runs reproducible."""
import numpy as np

from .._dtype import DEFAULT, to_np
from ..tensor import Tensor, _check_device
from ._util import shape_arg
from .creation import _finish


class Generator:
    """A random-number generator; ``manual_seed`` resets it to a reproducible stream."""

    def __init__(self, device='cpu'):
        _check_device(device)
        self._seed = 67280421310721
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed):
        seed = int(seed)
        self._seed = seed
        self._rng = np.random.Generator(np.random.PCG64(seed & 0xFFFFFFFFFFFFFFFF))
        return self

    def seed(self):
        s = int(np.random.SeedSequence().entropy) & 0xFFFFFFFFFFFFFFFF
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        import pickle
        raw = np.frombuffer(pickle.dumps(self._rng.bit_generator.state), np.uint8)
        return Tensor._make(raw.copy())

    def set_state(self, state):
        import pickle
        self._rng.bit_generator.state = pickle.loads(state._data.tobytes())
        return self

    @property
    def device(self):
        from ..tensor import CPU
        return CPU


default_generator = Generator()


def _rng(generator):
    return (generator or default_generator)._rng


def manual_seed(seed):
    """Seed the default generator (and return it), as ``torch.manual_seed`` does."""
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state):
    default_generator.set_state(state)


def _float_dtype(dtype, kernel='check_uniform_bounds'):
    nd = to_np(dtype) or DEFAULT.np
    if nd.kind != 'f':
        from .inplace import _TYPE_NAMES
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_TYPE_NAMES[nd.name]}\'')
    return nd


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None, layout=None,
         pin_memory=False, **kw):
    """Uniform samples in [0, 1)."""
    _check_device(device)
    nd = _float_dtype(dtype)
    arr = _rng(generator).random(shape_arg(size or (kw.pop('size'),)), dtype=np.float64 if nd != np.float32 else np.float32)
    return _finish(Tensor._make(arr.astype(nd, copy=False)), requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None, layout=None,
          pin_memory=False, **kw):
    """Standard normal samples."""
    _check_device(device)
    nd = _float_dtype(dtype, 'normal_kernel_cpu')
    arr = _rng(generator).standard_normal(shape_arg(size or (kw.pop('size'),)), dtype=np.float64 if nd != np.float32 else np.float32)
    return _finish(Tensor._make(arr.astype(nd, copy=False)), requires_grad)


def randint(*args, size=None, low=None, high=None, generator=None, dtype=None, device=None,
            requires_grad=False, out=None, layout=None):
    """Integers in [low, high) (int64 by default): ``randint(high, size)`` or ``randint(low, high, size)``."""
    _check_device(device)
    args = list(args)
    if size is None and args and isinstance(args[-1], (tuple, list)):
        size = args.pop()
    if len(args) == 2:
        low, high = args
    elif len(args) == 1:
        if high is None:
            high = args[0]
        else:
            low = args[0]
    if high is None or size is None:
        raise TypeError('randint() missing required arguments: high and size')
    low = 0 if low is None else low
    arr = _rng(generator).integers(low, high, size=tuple(size))
    return _finish(Tensor._make(arr.astype(to_np(dtype) or np.int64)), requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False, out=None, layout=None,
             pin_memory=False):
    """A random permutation of 0..n-1 (int64)."""
    _check_device(device)
    return Tensor._make(_rng(generator).permutation(int(n)).astype(to_np(dtype) or np.int64))


def rand_like(input, *, dtype=None, **kw):
    return rand(*input.shape, dtype=dtype or input.dtype)


def randn_like(input, *, dtype=None, **kw):
    return randn(*input.shape, dtype=dtype or input.dtype)


def randint_like(input, low=0, high=None, *, dtype=None, **kw):
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, out=None, **kw):
    """Normal samples with the given mean and std (numbers or tensors)."""
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    if size is None:
        size = np.broadcast_shapes(np.shape(m), np.shape(s))
    arr = _rng(generator).normal(m, s, size=tuple(size))
    nd = mean._data.dtype if isinstance(mean, Tensor) else std._data.dtype if isinstance(std, Tensor) else \
        (to_np(dtype) or DEFAULT.np)
    return Tensor._make(np.asarray(arr).astype(nd))


def bernoulli(input, p=None, *, generator=None):
    """1 with probability ``input`` (or p), else 0, in input's dtype."""
    probs = input._data if p is None else np.full(input._data.shape, p)
    arr = (_rng(generator).random(input._data.shape) < probs).astype(input._data.dtype)
    return Tensor._make(arr)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Indices sampled from the rows of ``input`` (non-negative weights)."""
    w = input._data.astype(np.float64)
    rng = _rng(generator)
    rows = w.reshape(-1, w.shape[-1])
    out = np.empty((rows.shape[0], num_samples), np.int64)
    for i, r in enumerate(rows):
        if not replacement and num_samples > np.count_nonzero(r):
            raise RuntimeError('cannot sample n_sample > prob_dist.size(-1) samples without replacement')
        out[i] = rng.choice(len(r), size=num_samples, replace=replacement, p=r / r.sum())
    return Tensor._make(out if w.ndim == 2 else out[0])


def poisson(input, generator=None):
    return Tensor._make(_rng(generator).poisson(input._data).astype(input._data.dtype))


# -- in-place samplers (Tensor methods) ---------------------------------------------------------------
def _fill(t, arr, name):
    """Write samples into ``t``; autograd records a node ``name`` with zero gradient, as PyTorch does."""
    from .inplace import check_inplace, overwritten
    tracked = check_inplace(t)
    np.copyto(t._data, arr, casting='unsafe')
    t._bump()
    if tracked:
        overwritten(t, name)
    return t


def uniform_(t, a=0.0, b=1.0, *, generator=None):
    """Fill with uniform samples in [a, b)."""
    return _fill(t, _rng(generator).uniform(a, b, t._data.shape), 'UniformBackward0')


def normal_(t, mean=0.0, std=1.0, *, generator=None):
    """Fill with normal samples."""
    return _fill(t, _rng(generator).normal(mean, std, t._data.shape), 'NormalBackward0')


def bernoulli_(t, p=0.5, *, generator=None):
    probs = p._data if isinstance(p, Tensor) else p
    return _fill(t, _rng(generator).random(t._data.shape) < probs, 'BernoulliBackward1')


def exponential_(t, lambd=1.0, *, generator=None):
    return _fill(t, _rng(generator).exponential(1.0 / lambd, t._data.shape), 'ExponentialBackward0')


def random_(t, from_=0, to=None, *, generator=None):
    if to is None:
        from_, to = 0, (from_ if from_ else 2 ** 24 if t._data.dtype.kind == 'f' else np.iinfo(t._data.dtype).max)
    return _fill(t, _rng(generator).integers(from_, to, t._data.shape), 'RandomBackward1')


def cauchy_(t, median=0.0, sigma=1.0, *, generator=None):
    return _fill(t, median + sigma * _rng(generator).standard_cauchy(t._data.shape), 'CauchyBackward0')


def log_normal_(t, mean=1.0, std=2.0, *, generator=None):
    return _fill(t, _rng(generator).lognormal(mean, std, t._data.shape), 'LogNormalBackward0')


def geometric_(t, p, *, generator=None):
    return _fill(t, _rng(generator).geometric(p, t._data.shape), 'GeometricBackward0')
