"""Normal draws against PyTorch bit for bit, size by size and on chosen uniforms: the float32 Box-Muller kernel's
passes (``ember/ops/_boxmuller.py``) are rewritten for speed, and any changed rounding shows here. A generator
state built by hand makes both libraries draw the same chosen words, so the kernel's edge inputs (u = 0, the
largest u, the sqrt(1/2) split of 1 - u in every binade, the octant boundaries of 2 pi u) are compared too."""
import struct

import numpy as np
import pytest
import torch

import ember


def bits(x):
    """The raw bytes of a tensor's values (-0.0 != 0.0)."""
    a = x.detach().numpy() if hasattr(x, 'detach') else np.asarray(x)
    return a.dtype.str, a.shape, np.ascontiguousarray(a).tobytes()


def both(fn, seed):
    torch.manual_seed(seed)
    ember.manual_seed(seed)
    t, e = fn(torch), fn(ember)
    assert bits(ember.get_rng_state()) == bits(torch.get_rng_state()), 'generator states differ after the draw'
    return t, e


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_randn_sizes_1_to_40(dtype):
    """Every size from the scalar path (below 16) through the redone last block of 16."""
    for n in range(1, 41):
        t, e = both(lambda T: T.randn(n, dtype=getattr(T, dtype)), 1000 + n)
        assert bits(e) == bits(t), f'randn({n}, {dtype})'


@pytest.mark.parametrize('n', [10 ** 5 + 3, 10 ** 6])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_randn_large(n, dtype):
    t, e = both(lambda T: T.randn(n, dtype=getattr(T, dtype)), 77)
    assert bits(e) == bits(t)


@pytest.mark.parametrize('mean,std', [(0.0, 1.0), (0.5, 2.0), (0.0, 0.02), (-1.5, 1.0), (-0.0, 3.0), (3.0, 0.5)])
@pytest.mark.parametrize('n', [7, 16, 33, 65536 + 5])
def test_normal_inplace_mean_std(mean, std, n):
    for dtype in ('float32', 'float64'):
        t, e = both(lambda T: T.empty(n, dtype=getattr(T, dtype)).normal_(mean, std), n)
        assert bits(e) == bits(t), f'normal_({mean}, {std}) on {n} {dtype}'


def test_torch_normal_forms():
    forms = [
        lambda T: T.normal(0.5, 2.0, size=(3, 50)),
        lambda T: T.normal(0.0, 1.0, (40,), dtype=T.float64),
        lambda T: T.normal(T.arange(40.0), 0.5),
        lambda T: T.normal(1.0, T.linspace(0.1, 2.0, 40)),
        lambda T: T.normal(T.zeros(4, 20), T.ones(4, 20) * 3),
    ]
    for i, form in enumerate(forms):
        t, e = both(form, 5 + i)
        assert bits(e) == bits(t), f'torch.normal form {i}'


def test_generators_keep_their_own_streams():
    """Draws on two generators interleaved with the default one's, each stream as PyTorch's."""
    def draw(T):
        g1, g2 = T.Generator().manual_seed(3), T.Generator().manual_seed(2 ** 40 + 9)
        return T.cat([T.randn(100, generator=g1), T.randn(17, generator=g2), T.randn(33),
                      T.empty(20).normal_(1.0, 0.1, generator=g1), T.randn(5, generator=g2),
                      T.randn(16, dtype=T.float64, generator=g1).float()])
    t, e = both(draw, 8)
    assert bits(e) == bits(t)


def _untemper(y):
    """The mt19937 state word whose tempered output is ``y`` (each tempering step inverted, last first)."""
    y = np.asarray(y, np.uint32).copy()
    y ^= y >> np.uint32(18)
    y ^= (y << np.uint32(15)) & np.uint32(0xEFC60000)
    t = y.copy()
    for _ in range(4):
        t = y ^ ((t << np.uint32(7)) & np.uint32(0x9D2C5680))
    y = t
    t = y.copy()
    for _ in range(2):
        t = y ^ (t >> np.uint32(11))
    return t


def _state_drawing(words):
    """A generator state (PyTorch's 5056-byte layout) whose next len(words) <= 623 draws are ``words``."""
    words = np.asarray(words, np.uint32)
    key = np.zeros(624, np.uint64)
    key[1:1 + words.size] = _untemper(words)
    raw = bytearray(torch.get_rng_state().numpy().tobytes())
    struct.pack_into('<QiiQ', raw, 0, 1, 624, 1, 1)       # seed, left, seeded, next: state words 1.. come next
    raw[24:24 + 8 * 624] = key.tobytes()
    return raw


def _edge_uniforms():
    """24-bit uniforms k (u = k / 2**24) at the kernel's edges, for 1 - u (radius) and for 2 pi u (angle)."""
    radius = [0, 1, 2, 3, 2 ** 24 - 1, 2 ** 24 - 2, 2 ** 24 - 3, 2 ** 23 - 1, 2 ** 23, 2 ** 23 + 1]
    for b in range(0, 22):      # 1 - u = n / 2**24 with n near float(sqrt(1/2)) * 2**(24 - b) in each binade
        n = 0xB504F3 >> b       # 0xB504F3 / 2**24: float(sqrt(1/2))'s mantissa, the kernel's split point
        radius += [2 ** 24 - (n + d) for d in (-1, 0, 1, 2) if 0 < n + d <= 2 ** 24]
    angle = [0, 1, 2 ** 24 - 1, 2 ** 24 - 2]
    for q in range(1, 8):       # octant boundaries: 2 pi u near q pi / 4, u near q / 8
        angle += [q * 2 ** 21 + d for d in range(-3, 4)]
    return radius, angle


def test_box_muller_edge_uniforms_against_pytorch():
    """Chosen words drawn by both libraries through a hand-made state: every edge radius uniform with every
    angle one in turn, high bytes random (the kernel keeps the low 24 bits); mean/std forms too, a mean of -0
    keeping the sign of the zeros u = 0 gives (sqrt(-2 * +0) is -0)."""
    radius, angle = _edge_uniforms()
    rng = np.random.default_rng(0)
    rows = 38                                             # 608 words of the 623 a state gives
    r_k = np.resize(np.array(radius, np.uint32), 8 * rows)
    a_k = np.resize(np.array(angle, np.uint32), 8 * rows)
    for shift in range(3):
        a_k = np.roll(a_k, 5 * shift + 1)
        w = np.empty((rows, 16), np.uint32)
        w[:, :8] = r_k.reshape(rows, 8)
        w[:, 8:] = a_k.reshape(rows, 8)
        w |= rng.integers(0, 256, w.shape, dtype=np.uint32) << np.uint32(24)
        raw = _state_drawing(w.ravel())
        for draw in (lambda T: T.randn(rows * 16), lambda T: T.empty(rows * 16).normal_(0.5, 2.0),
                     lambda T: T.empty(rows * 16).normal_(0.0, 0.02), lambda T: T.empty(rows * 16).normal_(-0.0, 3.0),
                     lambda T: T.empty(rows * 16).normal_(-0.0, 1.0)):      # u = 0: the radius is -0
            torch.set_rng_state(torch.tensor(list(raw), dtype=torch.uint8))
            ember.set_rng_state(ember.tensor(list(raw), dtype=ember.uint8))
            t, e = draw(torch), draw(ember)
            assert bits(e) == bits(t)
            assert np.isfinite(t.numpy()).all()


@pytest.mark.parametrize('shape,n', [((1000,), 100), ((3, 500), 50), ((64, 100), 5), ((2, 7), 4000)])
def test_multinomial_with_replacement_search_paths(shape, n):
    """The inverse-CDF search by one broadcast comparison (few comparisons a row) and by searchsorted row by
    row (many) pick the same buckets as PyTorch, zero-weight buckets included."""
    t, e = both(lambda T: T.multinomial(T.rand(*shape) * (T.rand(*shape) > 0.2), n, True), 21)
    assert bits(e) == bits(t)
