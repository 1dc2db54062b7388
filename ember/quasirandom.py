"""``torch.quasirandom``: ``SobolEngine``, the (scrambled) Sobol sequence as PyTorch draws it: the direction numbers
of Joe and Kuo (ember/data/sobol_directions.txt, the first 1111 of PyTorch's 21201 dimensions), 30-bit Gray-code
steps, and scrambling by random lower-triangular binary matrices and a random shift drawn with PyTorch's
generator in its order, so seeded engines print PyTorch's numbers."""
import functools
import os

import numpy as np

__all__ = ['SobolEngine']

_TABLE = os.path.join(os.path.dirname(__file__), 'data', 'sobol_directions.txt')


@functools.lru_cache(maxsize=1)
def _directions():
    """[(polynomial, [m_1..m_deg])] per dimension, read once."""
    rows = []
    with open(_TABLE) as f:
        for line in f:
            if not line.startswith('#'):
                nums = [int(x) for x in line.split()]
                rows.append((nums[0], nums[1:]))
    return rows


def _initial_state(dimension, maxbit):
    """The (dimension, maxbit) int64 direction integers: dimension 0 all ones, the others from their polynomial's
    recurrence, then column j scaled by 2^(maxbit - 1 - j)."""
    rows = _directions()
    state = np.zeros((dimension, maxbit), np.int64)
    state[0] = 1
    for d in range(1, dimension):
        poly, init = rows[d]
        deg = poly.bit_length() - 1
        v = state[d]
        v[:deg] = init[:deg]
        for j in range(deg, maxbit):
            new = int(v[j - deg])
            for k in range(deg):
                if (poly >> (deg - 1 - k)) & 1:
                    new ^= int(v[j - k - 1]) << (k + 1)
            v[j] = new
    state *= (np.int64(1) << np.arange(maxbit - 1, -1, -1, dtype=np.int64))
    return state


def _lowest_zero_bit(n):
    return (~n & (n + 1)).bit_length() - 1


def _steps(quasi, state, count, start):
    """``count`` Gray-code steps from point index ``start``: the points after each step (count, dimension), and
    the last one. ``quasi`` (int64) is left as it was."""
    out = np.empty((count, quasi.size), np.int64)
    q = quasi.copy()
    for i in range(count):
        q ^= state[:, _lowest_zero_bit(start + i)]
        out[i] = q
    return out, q


class SobolEngine:
    """An engine drawing a (scrambled) Sobol sequence of ``dimension`` (1 to 1111 here; PyTorch goes to 21201)."""

    MAXBIT = 30
    MAXDIM = 21201
    _TABLE_DIMS = 1111

    def __init__(self, dimension, scramble=False, seed=None):
        from .ops.creation import tensor
        if dimension > self.MAXDIM or dimension < 1:
            raise ValueError(f'Supported range of dimensionality for SobolEngine is [1, {self.MAXDIM}]')
        if dimension > self._TABLE_DIMS:
            raise ValueError(f'SobolEngine: ember carries the direction numbers of the first {self._TABLE_DIMS} '
                             f'dimensions (PyTorch has {self.MAXDIM}); dimension={dimension} is not supported')
        self.seed, self.scramble, self.dimension = seed, scramble, dimension
        self._state = _initial_state(dimension, self.MAXBIT)
        if scramble:
            self._scramble()
        else:
            self._shift = np.zeros(dimension, np.int64)
        self.sobolstate = tensor(self._state)
        self.shift = tensor(self._shift)
        self._quasi = self._shift.copy()
        self.quasi = tensor(self._quasi)
        self._first_point = (self.shift / 2 ** self.MAXBIT).reshape(1, -1)
        self.num_generated = 0

    def _scramble(self):
        """PyTorch's draws, in its order: the shift's bits (dimension, MAXBIT), then the lower-triangular
        matrices (dimension, MAXBIT, MAXBIT), from a generator seeded with ``seed`` (the global one without)."""
        from . import random as _random
        from .ops.random import randint
        g = None
        if self.seed is not None:
            g = _random.Generator()
            g.manual_seed(self.seed)
        bits = self.MAXBIT
        shift_bits = randint(2, (self.dimension, bits), generator=g)._data
        self._shift = shift_bits @ (np.int64(1) << np.arange(bits, dtype=np.int64))
        ltm = np.tril(randint(2, (self.dimension, bits, bits), generator=g)._data)
        ltm[:, np.arange(bits), np.arange(bits)] = 1
        rows = ltm @ (np.int64(1) << np.arange(bits - 1, -1, -1, dtype=np.int64))    # (dimension, bits)
        # bit p (from the top) of the new direction integer: parity of (row p of the matrix) & (old integer)
        old = self._state
        new = np.zeros_like(old)
        for p in range(bits):
            parity = _parity(rows[:, bits - 1 - p][:, None] & old)
            new |= parity << p
        self._state = new

    def _result(self, points, dtype):
        """Points as fractions of 2^30 in ``dtype`` (computed in float64 and rounded once, as PyTorch's kernel)."""
        from .tensor import Tensor
        return Tensor._make(points.astype(np.float64) * (1.0 / (1 << self.MAXBIT))).to(dtype)

    def draw(self, n=1, out=None, dtype=None):
        """The next ``n`` points, (n, dimension), in ``dtype`` (the default dtype)."""
        from . import _dtype
        from .ops.shape import cat
        dt = _dtype.get_default_dtype() if dtype is None else dtype
        if self.num_generated == 0:
            if n == 1:
                result = self._first_point.to(dt)
            else:
                points, self._quasi = _steps(self._quasi, self._state, n - 1, 0)
                result = cat((self._first_point.to(dt), self._result(points, dt)), dim=-2)
        else:
            points, self._quasi = _steps(self._quasi, self._state, n, self.num_generated - 1)
            result = self._result(points, dt)
        self._sync_quasi()
        self.num_generated += n
        if out is not None:
            out.resize_as_(result).copy_(result)
            return out
        return result

    def draw_base2(self, m, out=None, dtype=None):
        """The next 2**m points; the total drawn must stay a power of 2 (the sequence's balance)."""
        n = 2 ** m
        total_n = self.num_generated + n
        if not (total_n & (total_n - 1) == 0):
            raise ValueError("The balance properties of Sobol' points require n to be a power of 2. "
                             f"{self.num_generated} points have been previously generated, then: "
                             f"n={self.num_generated}+2**{m}={total_n}. If you still want to do this, please use "
                             "'SobolEngine.draw()' instead.")
        return self.draw(n=n, out=out, dtype=dtype)

    def reset(self):
        """Back to the first point."""
        self._quasi = self._shift.copy()
        self._sync_quasi()
        self.num_generated = 0
        return self

    def fast_forward(self, n):
        """Skip ``n`` points (as drawing them would)."""
        if self.num_generated == 0:
            _, self._quasi = _steps(self._quasi, self._state, n - 1, 0)
        else:
            _, self._quasi = _steps(self._quasi, self._state, n, self.num_generated - 1)
        self._sync_quasi()
        self.num_generated += n
        return self

    def _sync_quasi(self):
        self.quasi._data[...] = self._quasi

    def __repr__(self):
        parts = [f'dimension={self.dimension}']
        if self.scramble:
            parts.append('scramble=True')
        if self.seed is not None:
            parts.append(f'seed={self.seed}')
        return f'{type(self).__name__}({", ".join(parts)})'


def _parity(a):
    """The parity (0 or 1) of each int64's set bits."""
    a = a ^ (a >> 32)
    a ^= a >> 16
    a ^= a >> 8
    a ^= a >> 4
    a ^= a >> 2
    a ^= a >> 1
    return a & 1
