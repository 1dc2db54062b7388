"""``torch.random``: the CPU generator, bit for bit PyTorch's. A 32-bit Mersenne Twister (mt19937, seeded by
``init_genrand`` with the seed's low 32 bits), the cached second sample of the scalar Box-Muller path, and
``get_state`` in PyTorch's own 5056-byte layout, so a state saved by PyTorch restores here and the reverse.
The raw words come in bulk from NumPy's MT19937 (the same engine, in C), never one Python call per word."""
import contextlib
import functools
import os
import struct
import sys

import numpy as np

from ._torch_names import TorchNamedType, object_repr
from .backend import prepare_heap

__all__ = ['Generator', 'default_generator', 'manual_seed', 'seed', 'initial_seed', 'get_rng_state', 'set_rng_state',
           'fork_rng', 'thread_safe_generator']

_N = 624                    # mt19937 state words
_DEFAULT_SEED = 67280421310721
# PyTorch's CPUGeneratorImplState: the legacy POD (seed, left, seeded, next, 624 state words as uint64,
# normal_x, normal_y, normal_rho, normal_is_valid) then the cached float normal and its flag.
_HEAD = struct.Struct('<QiiQ')
_TAIL = struct.Struct('<dddi4xf?3x')
_STATE_SIZE = _HEAD.size + 8 * _N + _TAIL.size      # 5056
_U64 = (1 << 64) - 1
_BIG_DRAW = 1 << 15         # words from which a draw's arrays are mmapped by glibc's default threshold
_SMALL_DRAW = 4096          # words below which _words32 casts random_raw's uint64 words
_LITTLE = sys.byteorder == 'little'
_HALF_BITS = np.array(32, np.uint64)


def _unpack_seed(seed, who):
    """A seed as PyTorch reads it: an integer in [-2**63, 2**64), negatives wrapped to 64 bits."""
    if isinstance(seed, (bool, np.bool_)):
        seed = int(seed)
    if not isinstance(seed, (int, np.integer)):
        raise RuntimeError(f'{who} expected a long, but got {type(seed).__name__}')
    seed = int(seed)
    if seed < -(1 << 63) or seed > _U64:
        raise ValueError('Overflow when unpacking long long')
    return seed & _U64


def _engine():
    """A NumPy MT19937 whose state ``_reseed`` replaces at once, built from zeros: the default seeding (OS entropy
    hashed by SeedSequence) took 60 of the 70 us of a ``Generator()``, one per shuffled epoch."""
    return np.random.MT19937(_unseeded())


@functools.cache
def _unseeded():
    """The zeros for ``_engine`` (made on first use: ``np.random`` takes ~8 ms to import)."""
    class _Unseeded(np.random.bit_generator.ISeedSequence):
        def generate_state(self, n_words, dtype=np.uint32):
            return np.zeros(n_words, dtype)
    return _Unseeded()


class Generator(metaclass=TorchNamedType):
    """A CPU random-number generator with PyTorch's stream: ``Generator().manual_seed(s)`` draws what
    ``torch.Generator().manual_seed(s)`` draws. It prints as PyTorch's ``torch._C.Generator`` (a notebook cell
    ending in ``torch.manual_seed(42)`` shows its repr)."""

    _draws = 0      # calls that drew words, and reseeds: how vmap's randomness='error' tells a draw from a
    _reseeds = 0    # manual_seed inside the mapped function (which changes the state but draws nothing)

    def __init__(self, device='cpu'):
        from .tensor import _check_device
        _check_device(device)
        self._draw = None           # a NumPy Generator over the same engine (for _words32), made on first use
        self._reseed(_DEFAULT_SEED)

    def __getattr__(self, name):
        """The NumPy engine ``_bits``, made and seeded on first use: NumPy's random package takes ~8 ms to
        import, which ``import ember`` (seeding its default generator) then does not pay."""
        if name != '_bits':
            raise AttributeError(f"'Generator' object has no attribute '{name}'")
        bits = self._bits = _engine()
        bits._legacy_seeding(self._seed & 0xFFFFFFFF)
        return bits

    def __repr__(self):
        return object_repr(self)

    def _reseed(self, seed):
        """Seed the engine as ``at::mt19937(seed)`` does and drop the cached normal samples."""
        self._seed = seed
        self._reseeds += 1
        if '_bits' in self.__dict__:
            self._bits._legacy_seeding(seed & 0xFFFFFFFF)
        self._pending_next = 0      # PyTorch's ``next`` while a twist is pending (pos == 624)
        self._normal_double = None  # the cached second sample of the double Box-Muller path
        self._normal_float = None

    def manual_seed(self, seed):
        """Reset to the stream of ``seed``; returns the generator."""
        self._reseed(_unpack_seed(seed, 'manual_seed'))
        return self

    def seed(self):
        """Seed from the operating system's entropy; returns the seed."""
        s = int.from_bytes(os.urandom(8), 'little')
        self._reseed(s)
        return s

    def initial_seed(self):
        return self._seed

    # -- raw words ------------------------------------------------------------------------------------
    def _words(self, n):
        """``n`` raw 32-bit outputs (as uint64), in order: PyTorch's ``random()`` called n times."""
        if n <= 0:
            return np.empty(0, np.uint64)
        if n >= _BIG_DRAW:
            prepare_heap()
        self._pending_next = None
        self._draws += 1
        return self._bits.random_raw(n)

    def _words32(self, n):
        """``_words(n)`` as uint32, half the memory: NumPy's full-range uint32 draw is one raw word each, unchanged
        (``integers(0, 2**32)`` returns ``next_uint32``), as fast as ``random_raw``. Below _SMALL_DRAW words
        ``random_raw`` and a cast serve: ``integers``' argument handling costs ~5 us a call (16 words: 5.8 -> 1.2
        us, 528: 7.3 -> 2.3)."""
        if n <= 0:
            return np.empty(0, np.uint32)
        self._pending_next = None
        self._draws += 1
        if n < _SMALL_DRAW:
            return self._bits.random_raw(n).astype(np.uint32)
        if n >= _BIG_DRAW:
            prepare_heap()
        if self._draw is None:
            self._draw = np.random.Generator(self._bits)
        return self._draw.integers(0, 1 << 32, n, dtype=np.uint32)

    def _words64(self, n):
        """``n`` outputs of PyTorch's ``random64()``: two words each, the first one high. From _BIG_DRAW words, the
        uint32 draw (half the memory of random_raw's) viewed as uint64, the first word low on a little-endian
        machine, its halves swapped in three passes (10^6, min of 15 x 3: 6.8 -> 6.15 ms; rand(10^6, float64) min
        of 15 interleaved 7.77 -> 6.74 ms; from _SMALL_DRAW words it lost: rand(4096, float64) 34 -> 37 us)."""
        if 2 * n < _BIG_DRAW or not _LITTLE:
            w = self._words(2 * n)
            return (w[0::2] << np.uint64(32)) | w[1::2]
        v = self._words32(2 * n).view(np.uint64)
        high = np.left_shift(v, _HALF_BITS)
        np.right_shift(v, _HALF_BITS, out=v)
        return np.bitwise_or(high, v, out=high)

    # -- state ----------------------------------------------------------------------------------------
    def get_state(self):
        """The state as a uint8 tensor in PyTorch's layout (``torch.Generator.get_state``)."""
        from .tensor import Tensor
        st = self._bits.state['state']
        pos = int(st['pos'])
        nxt = self._pending_next if (pos == _N and self._pending_next is not None) else pos
        buf = bytearray(_STATE_SIZE)
        _HEAD.pack_into(buf, 0, self._seed, _N + 1 - pos, 1, nxt)
        buf[_HEAD.size:_HEAD.size + 8 * _N] = np.asarray(st['key'], np.uint64).tobytes()
        nd = self._normal_double
        nf = self._normal_float
        _TAIL.pack_into(buf, _HEAD.size + 8 * _N, 0.0, 0.0 if nd is None else nd, 0.0, nd is not None,
                        0.0 if nf is None else nf, nf is not None)
        return Tensor._make(np.frombuffer(bytes(buf), np.uint8).copy())

    def set_state(self, new_state):
        """Restore a state from ``get_state`` (ember's or PyTorch's); a bad state leaves this one unchanged."""
        from .tensor import Tensor
        if not isinstance(new_state, Tensor) or new_state._data.dtype != np.uint8:
            raise TypeError('RNG state must be a torch.ByteTensor')
        raw = np.ascontiguousarray(new_state._data).tobytes()
        if len(raw) != _STATE_SIZE:
            raise RuntimeError(f'Expected a CPUGeneratorImplState of size {_STATE_SIZE} but found the input RNG '
                               f'state size to be {len(raw)}')
        seed, left, seeded, nxt = _HEAD.unpack_from(raw, 0)
        key = np.frombuffer(raw, np.uint64, _N, _HEAD.size)
        _, normal_y, _, normal_valid, nf, nf_valid = _TAIL.unpack_from(raw, _HEAD.size + 8 * _N)
        if not seeded or not 0 < left <= _N or nxt > _N or (left > 1 and left + nxt != _N + 1):
            raise RuntimeError('Invalid mt19937 state')
        self._bits.state = {'bit_generator': 'MT19937',
                            'state': {'key': key.astype(np.uint32), 'pos': _N + 1 - left}}
        self._seed = seed
        self._pending_next = nxt if left == 1 else None
        self._normal_double = normal_y if normal_valid else None
        self._normal_float = np.float32(nf) if nf_valid else None
        return self

    def graphsafe_get_state(self):
        return self.get_state()

    def graphsafe_set_state(self, state):
        return self.set_state(state)

    def clone_state(self):
        g = Generator()
        g.set_state(self.get_state())
        return g

    def __getstate__(self):
        return {'state': self.get_state()._data.tobytes()}

    def __setstate__(self, d):
        from .tensor import Tensor
        self._draw = None
        self._reseed(_DEFAULT_SEED)
        self.set_state(Tensor._make(np.frombuffer(d['state'], np.uint8).copy()))

    @property
    def device(self):
        from .tensor import CPU
        return CPU


default_generator = Generator()
default_generator.seed()


def manual_seed(seed):
    """Seed the default generator and return it (``torch.manual_seed``)."""
    seed = int(seed)
    return default_generator.manual_seed(seed)


def seed():
    """Seed the default generator from the operating system's entropy; returns the seed."""
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller='fork_rng', _devices_kw='devices', device_type='cuda'):
    """Run the body with the default generator's state saved and restored afterwards."""
    if not enabled:
        yield
        return
    if devices:
        raise RuntimeError('ember runs on the CPU only: fork_rng(devices=...) names CUDA devices')
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


def thread_safe_generator():
    """The generator of a DataLoader thread worker; ``None`` elsewhere, where the global generator serves (ember's
    DataLoader runs its workers as processes, as PyTorch's does by default, so this is always ``None``)."""
    return None
