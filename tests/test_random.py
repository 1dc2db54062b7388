"""Random streams against PyTorch, bit for bit: the same seed gives the same numbers, the same generator
state afterwards (so the next draw agrees too), for every sampler, dtype, size path and layout."""
import warnings

import numpy as np
import pytest
import torch

import ember


def bits(x):
    """The raw bytes of a tensor's values (so -0.0 != 0.0 and NaNs compare by payload)."""
    a = x.detach().numpy() if hasattr(x, 'detach') else np.asarray(x)
    return a.dtype.str, a.shape, np.ascontiguousarray(a).tobytes()


def state_equal():
    return bits(ember.get_rng_state()) == bits(torch.get_rng_state())


def run_both(fn, seed):
    torch.manual_seed(seed)
    ember.manual_seed(seed)
    return fn(torch), fn(ember)


SIZES = (0, 1, 15, 16, 17, 1000)
FLOATS = ('float16', 'float32', 'float64')

CASES = [
    *[(f'rand_{n}_{d}', lambda T, n=n, d=d: T.rand(n, dtype=getattr(T, d))) for n in SIZES for d in FLOATS],
    *[(f'randn_{n}_{d}', lambda T, n=n, d=d: T.randn(n, dtype=getattr(T, d))) for n in SIZES for d in FLOATS],
    ('randn_2d', lambda T: T.randn(3, 7)),
    ('normal_ms_17', lambda T: T.empty(17).normal_(0.5, 2.5)),
    ('normal_ms_5', lambda T: T.empty(5).normal_(0.5, 2.5)),
    ('normal_ms_f64', lambda T: T.empty(40, dtype=T.float64).normal_(-1.5, 0.3)),
    ('normal_strided', lambda T: T.empty(6, 5).t().normal_()),
    ('normal_std_only', lambda T: T.empty(40).normal_(0.0, 3.0)),             # float32 epilogue: v * std + 0
    ('normal_neg_zero_mean', lambda T: T.empty(40).normal_(-0.0, 2.0)),
    ('normal_mean_only', lambda T: T.empty(40).normal_(-1.5, 1.0)),
    ('normal_into_view', lambda T: (lambda b: (b[1:3].normal_(0.2, 0.7), b)[1])(T.zeros(4, 40))),
    ('normal_into_view_f64', lambda T: (lambda b: (b[1:3].normal_(), b)[1])(T.zeros(4, 24, dtype=T.float64))),
    ('randn_tail_fused', lambda T: T.randn(1, 8, 65)),                      # whole blocks and the redone one in one pass
    ('normal_tail_fused_ms', lambda T: T.empty(33).normal_(0.3, 2.5)),
    ('randn_tail_fused_f64', lambda T: T.randn(37, dtype=T.float64)),
    ('randn_tail_fused_largest', lambda T: T.randn(2 ** 15 - 1)),
    ('randn_tail_unfused', lambda T: T.randn(2 ** 15 + 1)),
    ('randn_chunks', lambda T: T.randn(2 * 2048 * 16 + 37)),                 # crosses 2048-row chunks, tail redone
    ('normal_chunks_std', lambda T: T.empty(2 * 2048 * 16 + 5).normal_(0.0, 0.02)),
    ('uniform_strided', lambda T: T.empty(6, 5).t().uniform_(-2, 3)),
    ('uniform_range', lambda T: T.empty(300).uniform_(-0.3, 0.9)),
    ('uniform_range_f64', lambda T: T.empty(300, dtype=T.float64).uniform_(-0.3, 0.9)),
    ('uniform_range_f16', lambda T: T.empty(300, dtype=T.float16).uniform_(-0.3, 0.7)),
    ('uniform_symmetric', lambda T: T.empty(300).uniform_(-0.25, 0.25)),      # (2u - 1) * b
    ('uniform_symmetric_f64', lambda T: T.empty(300, dtype=T.float64).uniform_(-0.3, 0.3)),
    ('uniform_symmetric_f16', lambda T: T.empty(300, dtype=T.float16).uniform_(-0.3, 0.3)),
    ('uniform_empty_range', lambda T: T.empty(30).uniform_(0.0, 0.0)),
    ('uniform_blocks', lambda T: T.empty(70000).uniform_(-0.3, 0.9)),         # crosses a float64 block
    ('normal_cache', lambda T: T.cat([T.randn(3), T.randn(1), T.randn(5, dtype=T.float64).float(), T.randn(20)])),
    ('randint_small', lambda T: T.randint(0, 10, (50,))),
    ('randint_high_only', lambda T: T.randint(7, (3, 4))),
    ('randint_64bit_range', lambda T: T.randint(-5, 2 ** 40, (50,))),
    ('randint_int32', lambda T: T.randint(3, 200, (20,), dtype=T.int32)),
    ('randint_float', lambda T: T.randint(3, 200, (20,), dtype=T.float32)),
    ('randint_0d', lambda T: T.randint(10, ())),
    ('randint_2pow28', lambda T: T.randint(0, 2 ** 28, (20,))),           # two words a sample from 2**28 on
    ('randint_below_2pow28', lambda T: T.randint(5, 5 + 2 ** 28 - 1, (20,))),
    ('randint_int32_full', lambda T: T.randint(-2 ** 31, 2 ** 31 - 1, (20,), dtype=T.int32)),
    ('randint_float_update_to', lambda T: T.randint(0, 2 ** 28 + 1, (20,), dtype=T.float32)),
    ('random_float_update_from', lambda T: T.empty(20).random_(-2 ** 29 - 7, 2 ** 29)),
    ('randint_bf16', lambda T: T.randint(0, 2000, (20,), dtype=T.bfloat16).float()),  # update_to with bf16's 8 digits
    ('random_bf16', lambda T: T.empty(20, dtype=T.bfloat16).random_().float()),
    ('random_bf16_from_to', lambda T: T.empty(20, dtype=T.bfloat16).random_(-300, 300).float()),
    ('randint_double_2pow53', lambda T: T.randint(-2 ** 53 - 7, 2 ** 53 + 9, (20,), dtype=T.float64)),
    *[(f'randperm_{n}', lambda T, n=n: T.randperm(n)) for n in (0, 1, 2, 5, 17, 1000, 60000)],
    ('randperm_float', lambda T: T.randperm(100, dtype=T.float32)),
    ('bernoulli_scalar', lambda T: T.empty(40).bernoulli_(0.3)),
    ('bernoulli_tensor_f32', lambda T: T.bernoulli(T.full((40,), 0.3))),
    ('bernoulli_tensor_f64', lambda T: T.bernoulli(T.linspace(0, 1, 40, dtype=T.float64))),
    ('bernoulli_p_kw', lambda T: T.bernoulli(T.zeros(9), p=0.6)),
    ('bernoulli_expanded', lambda T: T.bernoulli(T.tensor([0.1, 0.5, 0.9]).expand(6, 3))),
    ('bernoulli_transposed', lambda T: T.bernoulli(T.linspace(0, 1, 20).reshape(4, 5).t())),
    ('standard_gamma_f32', lambda T: T._standard_gamma(T.tensor([0.05, 0.5, 1.0, 2.5, 10., 100., 0.0]))),
    ('gamma_distribution', lambda T: T.distributions.Gamma(T.tensor([0.5, 2.0]), T.tensor([1.0, 3.0])).sample((3,))),
    ('standard_gamma_f64', lambda T: T._standard_gamma(T.linspace(0.01, 6, 40, dtype=T.float64))),
    ('multinomial_norep', lambda T: T.multinomial(T.tensor([0.1, 0.5, 0.2, 0.2]), 3)),
    ('multinomial_one', lambda T: T.multinomial(T.tensor([[0.1, 0.5, 0.2, 0.2], [1., 2., 3., 4.]]), 1)),
    ('multinomial_one_1d', lambda T: T.multinomial(T.tensor([0.0, 0.5, 0.5, 0.0]), 1)),   # argmax for one sample
    ('multinomial_rep', lambda T: T.multinomial(T.tensor([[0.1, 0.5, 0.2, 0.2], [1., 2., 3., 4.]]), 7, True)),
    ('multinomial_f64', lambda T: T.multinomial(T.tensor([0.3, 0.0, 0.7], dtype=T.float64), 9, True)),
    ('multinomial_rep_rows', lambda T: T.multinomial(T.rand(6, 30) * (T.rand(6, 30) > 0.3), 9, True)),
    ('multinomial_rep_f16', lambda T: T.multinomial(T.rand(3, 7, dtype=T.float16), 5, True)),
    ('multinomial_rep_by_row', lambda T: T.multinomial(T.rand(2, 1100), 2000, True)),  # past one comparison
    ('exponential', lambda T: T.empty(30).exponential_(2.5)),
    ('exponential_many', lambda T: T.empty(3000).exponential_(0.7)),
    ('exponential_f16', lambda T: T.empty(300, dtype=T.float16).exponential_(0.7)),
    ('exponential_f64', lambda T: T.empty(30, dtype=T.float64).exponential_()),
    ('geometric_f64', lambda T: T.empty(300, dtype=T.float64).geometric_(0.02)),
    ('multinomial_vocab', lambda T: T.multinomial(T.softmax(T.randn(2, 1000), -1), 1)),
    ('multinomial_vocab_norep', lambda T: T.multinomial(T.rand(1000), 10)),
    ('cauchy', lambda T: T.empty(30).cauchy_(0.5, 2.0)),
    ('log_normal', lambda T: T.empty(30).log_normal_(0.5, 0.7)),
    ('geometric', lambda T: T.empty(30).geometric_(0.3)),
    ('random_int64', lambda T: T.empty(30, dtype=T.int64).random_()),
    ('random_int32', lambda T: T.empty(30, dtype=T.int32).random_()),
    ('random_uint8', lambda T: T.empty(30, dtype=T.uint8).random_()),
    ('random_float', lambda T: T.empty(30).random_()),
    ('random_double', lambda T: T.empty(30, dtype=T.float64).random_()),
    ('random_bool', lambda T: T.empty(30, dtype=T.bool).random_()),
    ('random_to', lambda T: T.empty(30).random_(10)),
    ('random_from_to', lambda T: T.empty(30, dtype=T.int64).random_(-3, 10)),
    ('poisson', lambda T: T.poisson(T.tensor([0.5, 3., 12., 100., 0.]))),
    ('normal_tensor_tensor', lambda T: T.normal(T.arange(20.), T.linspace(0.1, 2, 20))),
    ('normal_tensor_float', lambda T: T.normal(T.arange(20.), 2.5)),
    ('normal_float_tensor', lambda T: T.normal(1.5, T.linspace(0.1, 2, 20))),
    ('normal_size', lambda T: T.normal(1.5, 2.0, (4, 5))),
    ('rand_like', lambda T: T.rand_like(T.zeros(3, 4, dtype=T.float64))),
    ('randn_like', lambda T: T.randn_like(T.zeros(30))),
    ('randint_like', lambda T: T.randint_like(T.zeros(3, 4), 5, 9)),
    ('generator', lambda T: T.rand(20, generator=T.Generator().manual_seed(11))),
    ('interleaved', lambda T: T.stack([T.rand(4), T.randn(4), T.randint(0, 9, (4,)).float(), T.randperm(4).float(),
                                       T.empty(4).bernoulli_(0.5), T.randn(4, dtype=T.float64).float()])),
]


@pytest.mark.parametrize('name,fn', CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize('seed', [0, 2147483647 + 5])
def test_stream_matches_pytorch(name, fn, seed):
    t, e = run_both(fn, seed)
    assert bits(e) == bits(t), f'{name}: ember {e} != torch {t}'
    assert state_equal(), f'{name}: generator state differs after the call'
    assert bits(ember.rand(3)) == bits(torch.rand(3))


@pytest.mark.parametrize('weights', [
    [[1., 2.], [3., float('nan')]], [[1., 2., 3.], [1., float('inf'), -1.]],
    [[1., 1.], [float('nan'), -1.]], [[2., 1.], [0., 0.]], [[1., 1.], [1., -1.]],
])
def test_multinomial_bad_later_row_like_pytorch(weights):
    """A bad row raises after the rows before it drew (the generator moves as PyTorch's does), naming its first
    bad entry as PyTorch does (NaN fails the ``>= 0`` check)."""
    for T in (torch, ember):
        T.manual_seed(3)
    with pytest.raises(RuntimeError) as te:
        torch.multinomial(torch.tensor(weights), 3, True)
    with pytest.raises(RuntimeError) as ee:
        ember.multinomial(ember.tensor(weights), 3, True)
    assert str(ee.value) == str(te.value)
    assert state_equal()


def test_million_normals_and_uniforms_bit_exact():
    """The vectorised normal path (Cephes log/sincos with FMA contraction, emulated) over 10^6 samples."""
    t, e = run_both(lambda T: (T.randn(1_000_000), T.empty(1_000_000).uniform_(-0.3, 0.9)), 123)
    assert bits(e[0]) == bits(t[0])
    assert bits(e[1]) == bits(t[1])


@pytest.mark.parametrize('n', [70_003, 4096 * 16 + 16])
def test_normals_drawn_beside_the_box_muller_passes_at_two_threads(monkeypatch, n):
    """At two threads a large float32 draw takes its words in pieces, the next piece's on a second thread while
    this one turns the last into normals: the same numbers, and the same generator state after, as PyTorch's."""
    from ember.ops import _distributions
    monkeypatch.setattr(_distributions, '_OVERLAP_ROWS', 16)
    pieces = []
    spans = _distributions._parallel.spans
    monkeypatch.setattr(_distributions._parallel, 'spans', lambda rows, t: pieces.append(t) or spans(rows, t))
    before = ember.get_num_threads()
    ember.set_num_threads(2)
    try:
        t, e = run_both(lambda T: (T.randn(n), T.empty(n).normal_(0.5, 2.5), T.randn(5)), 9)
    finally:
        ember.set_num_threads(before)
    assert pieces == [_distributions._PIECES] * 2
    assert [bits(a) for a in e] == [bits(a) for a in t]
    assert state_equal()


def test_libm_then_matches_glibc_element_by_element():
    """NumPy's log and log1p, kept where a float32/float16 rounding or a ceil maps their whole error band to one
    value, give what math.log and math.log1p (glibc's, PyTorch's) give, over 2 * 10^5 double uniforms."""
    import math
    from ember.ops import _distributions as D
    u = np.random.default_rng(3).integers(0, 2 ** 53, 100_000, dtype=np.uint64).astype(np.float64) * 2.0 ** -53
    for fn, x in ((math.log, np.concatenate([1.0 - u, u[u > 0]])), (math.log1p, -u)):
        ref = D.libm(fn, x)
        for finish in (lambda v: (-0.4 * v).astype(np.float32), lambda v: (-1.0 * v).astype(np.float16),
                       lambda v: np.ceil(v / math.log(1 - 0.05))):
            assert finish(ref).tobytes() == D.libm_then(fn, x, finish).tobytes()


def test_randn_keeps_no_scratch_after_the_call():
    """A float32 draw larger than a chunk holds nothing after it returns but its result (a kept per-thread
    scratch of 1.6 MB counted in LeNet's peak memory), and still draws PyTorch's numbers."""
    import tracemalloc
    tracemalloc.start()
    try:
        t, e = run_both(lambda lib: lib.randn(3, 50000), 5)
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held < e.numpy().nbytes + (256 << 10), held
    assert bits(t) == bits(e)


def test_randperm_without_lapack_matches_pytorch(monkeypatch):
    """randperm's swaps run in LAPACK's dlaswp where NumPy brings OpenBLAS; the vectorised replay serves elsewhere."""
    from ember.ops import _distributions
    if not _distributions._LASWP.ready:
        _distributions._LASWP.init()
    monkeypatch.setattr(_distributions._LASWP, 'fn', None)
    for n in (2, 17, 5000):
        t, e = run_both(lambda T: T.randperm(n), n)
        assert bits(e) == bits(t), n
        assert state_equal()


def test_state_round_trips_between_libraries():
    torch.manual_seed(5)
    torch.randn(3, dtype=torch.float64)        # leaves a cached normal sample in the state
    torch.rand(7)
    ember.set_rng_state(ember.tensor(torch.get_rng_state().numpy()))
    assert state_equal()
    assert bits(ember.randn(5)) == bits(torch.randn(5))
    ember.manual_seed(9)
    ember.rand(700)
    torch.set_rng_state(torch.tensor(ember.get_rng_state().numpy()))
    assert bits(ember.randn(40)) == bits(torch.randn(40))


def test_generator_object():
    g, tg = ember.Generator(), torch.Generator()
    assert g.initial_seed() == tg.initial_seed() == 67280421310721
    assert bits(g.get_state()) == bits(tg.get_state())
    assert g.manual_seed(-1).initial_seed() == tg.manual_seed(-1).initial_seed()
    assert bits(ember.randn(20, generator=g)) == bits(torch.randn(20, generator=tg))
    clone = ember.Generator().set_state(g.get_state())
    assert bits(ember.rand(4, generator=clone)) == bits(torch.rand(4, generator=tg))
    s = ember.seed()
    assert ember.initial_seed() == s


def test_fork_rng_restores_the_state():
    ember.manual_seed(3)
    with ember.random.fork_rng():
        ember.rand(10)
    torch.manual_seed(3)
    assert bits(ember.rand(5)) == bits(torch.rand(5))


@pytest.mark.parametrize('call', [
    lambda T: T.manual_seed(2 ** 64),
    lambda T: T.manual_seed('a'),
    lambda T: T.Generator().manual_seed(1.5),
    lambda T: T.set_rng_state(T.zeros(10, dtype=T.uint8)),
    lambda T: T.set_rng_state(T.zeros(5056)),
    lambda T: T.set_rng_state(T.zeros(5056, dtype=T.uint8)),
    lambda T: T.randint(5, 3, (2,)),
    lambda T: T.randint(0, 300, (2,), dtype=T.uint8),
    lambda T: T.randint(0, 70000, (2,), dtype=T.float16),
    lambda T: T.empty(2, dtype=T.float16).random_(-70000, 0),
    lambda T: T.rand(2, dtype=T.int64),
    lambda T: T.randn(2, dtype=T.int64),
    lambda T: T.empty(3).bernoulli_(1.5),
    lambda T: T.bernoulli(T.tensor([0.5, 1.5])),
    lambda T: T.multinomial(T.tensor([-1., 2.]), 1),
    lambda T: T.multinomial(T.tensor([0., 0.]), 1),
    lambda T: T.multinomial(T.tensor([1., 1.]), 3),
    lambda T: T.multinomial(T.tensor([1., 1.]), 0),
    lambda T: T.multinomial(T.tensor([1, 1]), 1),
    lambda T: T.normal(0., -1., (2,)),
    lambda T: T.normal(T.zeros(2), T.tensor([1., -1.])),
    lambda T: T.randperm(-1),
    lambda T: T.rand(-1),
    lambda T: T.randn(2, -3),
    lambda T: T.randint(0, 5, (-2,)),
    lambda T: T.normal(0., 1., (-1,)),
    lambda T: T.empty(2).uniform_(1, 0),
    lambda T: T.empty(2).exponential_(0),
    lambda T: T.empty(2).geometric_(1),
    lambda T: T.empty(2).log_normal_(0, 0),
    lambda T: T.empty(2).cauchy_(0, -1),
    lambda T: T.poisson(T.tensor([-1.])),
])
def test_bad_input_raises_like_pytorch_and_keeps_the_state(call):
    ember.manual_seed(1)
    before = bits(ember.get_rng_state())
    with pytest.raises(Exception) as te:
        call(torch)
    with pytest.raises(Exception) as ee:
        call(ember)
    assert type(ee.value) is type(te.value)
    assert str(ee.value).split('\n')[0] == str(te.value).split('\n')[0]
    assert bits(ember.get_rng_state()) == before


@pytest.mark.parametrize('dtype,low,high', [
    ('float32', 0, 2 ** 24 + 1), ('float32', 0, 2 ** 24 + 2), ('float32', -2 ** 24 - 1, 0), ('float16', 0, 2 ** 11 + 2),
    ('bfloat16', 0, 2 ** 8 + 2), ('float64', 0, 2 ** 53 + 2), ('float64', -2 ** 60, 2 ** 62), ('int64', 0, 2 ** 40),
])
def test_float_range_past_exact_integers_warns_like_pytorch(dtype, low, high):
    """random_ and randint into a floating dtype warn, as PyTorch does, for bounds past 2**digits."""
    def warned(T, draw):
        T.manual_seed(0)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            out = draw(T)
        return bits(out.float()), [(x.category, str(x.message).split(' (Triggered internally')[0]) for x in w]
    for draw in (lambda T: T.empty(5, dtype=getattr(T, dtype)).random_(low, high),
                 lambda T: T.randint(low, high, (5,), dtype=getattr(T, dtype))):
        assert warned(ember, draw) == warned(torch, draw)


MODULES = {
    'Linear': lambda nn: nn.Linear(5, 3), 'Conv2d': lambda nn: nn.Conv2d(3, 4, 3),
    'ConvTranspose2d': lambda nn: nn.ConvTranspose2d(3, 4, 3), 'Embedding': lambda nn: nn.Embedding(10, 4, padding_idx=2),
    'LSTM': lambda nn: nn.LSTM(4, 5, bidirectional=True), 'GRU': lambda nn: nn.GRU(4, 5, 2),
    'Bilinear': lambda nn: nn.Bilinear(3, 4, 2),
    'MultiheadAttention': lambda nn: nn.MultiheadAttention(8, 2, kdim=4, vdim=6, add_bias_kv=True),
    'TransformerEncoderLayer': lambda nn: nn.TransformerEncoderLayer(8, 2, 16),
}


@pytest.mark.parametrize('name', MODULES)
def test_default_initialisation_matches_pytorch(name):
    t, e = run_both(lambda T: MODULES[name](T.nn), 0)
    ts, es = t.state_dict(), e.state_dict()
    assert list(ts) == list(es)
    for k in ts:
        assert bits(es[k]) == bits(ts[k]), k
    assert state_equal()


INITS = {
    'xavier_uniform_': lambda T, w: T.nn.init.xavier_uniform_(w, gain=1.3),
    'xavier_normal_': lambda T, w: T.nn.init.xavier_normal_(w),
    'kaiming_uniform_': lambda T, w: T.nn.init.kaiming_uniform_(w, mode='fan_out', nonlinearity='relu'),
    'kaiming_normal_': lambda T, w: T.nn.init.kaiming_normal_(w),
    'sparse_': lambda T, w: T.nn.init.sparse_(w, 0.5),
    'normal_': lambda T, w: T.nn.init.normal_(w, 0.3, 2.0),
    'uniform_': lambda T, w: T.nn.init.uniform_(w, -1, 2),
    'trunc_normal_': lambda T, w: T.nn.init.trunc_normal_(w),
    'trunc_normal_narrow': lambda T, w: T.nn.init.trunc_normal_(w, 0.0, 1.0, -0.1, 0.1),
}


@pytest.mark.parametrize('name', INITS)
def test_init_matches_pytorch(name):
    t, e = run_both(lambda T: INITS[name](T, T.empty(6, 5)), 1)
    assert bits(e) == bits(t)
    assert state_equal()


def test_orthogonal_init_draws_like_pytorch():
    """Same draws; the QR factorisation is LAPACK's on both sides but may round differently (1 ulp)."""
    t, e = run_both(lambda T: T.nn.init.orthogonal_(T.empty(6, 5)), 1)
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=0, atol=1e-6)
    assert state_equal()


@pytest.mark.parametrize('fn', ['dropout', 'dropout1d', 'dropout2d', 'alpha_dropout', 'feature_alpha_dropout', 'rrelu'])
@pytest.mark.parametrize('p', [0.2, 0.5])
def test_dropout_family_matches_pytorch(fn, p):
    x = np.linspace(-1, 1, 60).astype(np.float32).reshape(3, 4, 5)
    kw = {'training': True} if fn == 'rrelu' else {'p': p, 'training': True}
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        t, e = run_both(lambda T: getattr(T.nn.functional, fn)(T.tensor(x), **kw), 2)
    assert bits(e) == bits(t)
    assert state_equal()


def test_dropout_module_and_grad_fn():
    t, e = run_both(lambda T: T.nn.Dropout(0.3)(T.ones(4, 5, requires_grad=True)), 4)
    assert bits(e) == bits(t)
    assert type(e.grad_fn).__name__ == t.grad_fn.name()


def test_data_pipeline_draws_like_pytorch():
    """DataLoader shuffle (base seed drawn first, sampler seed on first next), random_split, samplers."""
    def pipeline(T):
        ds = T.utils.data.TensorDataset(T.arange(20))
        dl = T.utils.data.DataLoader(ds, batch_size=6, shuffle=True)
        out = [b[0].tolist() for b in dl] + [b[0].tolist() for b in dl]
        out.append(T.utils.data.random_split(range(10), [0.3, 0.7])[0].indices)
        out.append(list(T.utils.data.SubsetRandomSampler([5, 6, 7, 8])))
        out.append(list(T.utils.data.WeightedRandomSampler([0.1, 0.5, 0.4], 6)))
        out.append(list(T.utils.data.RandomSampler(range(5), replacement=True, num_samples=40)))
        return out
    t, e = run_both(pipeline, 7)
    assert e == t
    assert state_equal()


def test_worker_numpy_seed_is_pytorchs():
    from torch.utils.data._utils.worker import _generate_state
    from ember.utils.data._worker import numpy_seed
    for base in (0, 12345678901234, 2 ** 63 - 1):
        for worker in (0, 3):
            assert [int(v) for v in numpy_seed(base, worker)] == _generate_state(base, worker)


def test_random_resized_crop_params():
    import math
    from ember.vision.transforms import RandomHorizontalFlip, RandomResizedCrop

    def torchvision_params(height, width, scale, ratio):
        """torchvision's RandomResizedCrop.get_params, written against torch."""
        area = height * width
        log_ratio = torch.log(torch.tensor(ratio))
        for _ in range(10):
            target_area = area * torch.empty(1).uniform_(scale[0], scale[1]).item()
            aspect_ratio = torch.exp(torch.empty(1).uniform_(log_ratio[0], log_ratio[1])).item()
            w = int(round(math.sqrt(target_area * aspect_ratio)))
            h = int(round(math.sqrt(target_area / aspect_ratio)))
            if 0 < w <= width and 0 < h <= height:
                return (torch.randint(0, height - h + 1, size=(1,)).item(),
                        torch.randint(0, width - w + 1, size=(1,)).item(), h, w)
        return None
    torch.manual_seed(3)
    ember.manual_seed(3)
    ref = [torchvision_params(32, 28, (0.08, 1.0), (3 / 4, 4 / 3)) for _ in range(6)]
    got = [RandomResizedCrop.get_params(ember.zeros(3, 32, 28), (0.08, 1.0), (3 / 4, 4 / 3)) for _ in range(6)]
    assert got == ref
    flips = [bool(torch.rand(1) < 0.5) for _ in range(8)]
    img = ember.arange(4.).reshape(1, 1, 4)
    got = [bool(RandomHorizontalFlip(0.5)(img)[0, 0, 0] == 3) for _ in range(8)]
    assert got == flips


def test_normal_with_tensor_mean_gradient():
    for T in (torch, ember):
        T.manual_seed(0)
    m = [T.zeros(4, requires_grad=True) for T in (torch, ember)]
    outs = [T.normal(mi, 1.0) for T, mi in zip((torch, ember), m)]
    assert type(outs[1].grad_fn).__name__ == outs[0].grad_fn.name()
    for o in outs:
        o.sum().backward()
    assert bits(m[1].grad) == bits(m[0].grad)


def test_seed002_lenet_pipeline_prints_pytorchs_losses():
    """seed002's LeNet, default init, shuffling DataLoader, SGD with momentum: from one seed, the first
    iterations' losses are PyTorch's (to BLAS rounding); initial weights and batch order exactly."""
    def run(T):
        nn, F = T.nn, T.nn.functional

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(3, 6, 5)
                self.pool = nn.MaxPool2d(2, 2)
                self.conv2 = nn.Conv2d(6, 16, 5)
                self.fc1 = nn.Linear(16 * 5 * 5, 120)
                self.fc2 = nn.Linear(120, 84)
                self.fc3 = nn.Linear(84, 10)

            def forward(self, x):
                x = self.pool(F.relu(self.conv1(x)))
                x = self.pool(F.relu(self.conv2(x)))
                x = x.view(-1, 16 * 5 * 5)
                return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))
        T.manual_seed(0)
        images, labels = T.rand(24, 3, 32, 32) * 2 - 1, T.randint(0, 10, (24,))
        net = Net()
        first = [p.detach().clone() for p in net.parameters()]
        loader = T.utils.data.DataLoader(T.utils.data.TensorDataset(images, labels), batch_size=4, shuffle=True)
        opt = T.optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
        losses, order = [], []
        for x, y in loader:
            opt.zero_grad()
            loss = nn.CrossEntropyLoss()(net(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
            order.append(y.tolist())
        return first, order, losses
    (tw, to, tl), (ew, eo, el) = run(torch), run(ember)
    assert all(bits(e) == bits(t) for e, t in zip(ew, tw))
    assert eo == to
    np.testing.assert_allclose(el, tl, rtol=1e-5)


class _SeedProbe:
    """A dataset whose items show the worker's generator: its initial seed and one draw."""

    def __init__(self, lib):
        self.lib = lib

    def __len__(self):
        return 6

    def __getitem__(self, i):
        return self.lib.tensor([float(self.lib.initial_seed() % 1000), i]), self.lib.rand(2)


def test_worker_generators_are_pytorchs():
    """Workers are seeded base_seed + worker_id: initial_seed() and draws inside them match PyTorch's."""
    def run(T):
        T.manual_seed(11)
        loader = T.utils.data.DataLoader(_SeedProbe(T), batch_size=2, num_workers=2, shuffle=True)
        return [(a.tolist(), b.numpy().tobytes()) for a, b in loader]
    assert run(ember) == run(torch)


@pytest.mark.parametrize('make', [
    lambda L: L.randn(3, dtype=L.complex64), lambda L: L.randn(20, 3, dtype=L.complex128),
    lambda L: L.randn(2, 9, dtype=L.cfloat), lambda L: L.empty(5, dtype=L.complex64).normal_(1, 2),
    lambda L: L.empty(40, dtype=L.complex128).normal_(), lambda L: L.randn_like(L.zeros(4, 5, dtype=L.complex64)),
    lambda L: L.randn_like(L.zeros(5, 4, dtype=L.complex64).t()),
    lambda L: (lambda z: (z.normal_(), z)[1])(L.zeros(6, 5, dtype=L.complex64)[:, ::2]),
    lambda L: L.randn(3, 2, dtype=L.complex64, out=L.empty(0, dtype=L.complex64)),
    lambda L: L.rand(3, dtype=L.complex64), lambda L: L.rand(20, dtype=L.complex128),
    lambda L: L.empty(3, dtype=L.complex64).uniform_(-1, 2), lambda L: L.rand_like(L.zeros(5, 4, dtype=L.cfloat).t())])
def test_complex_random_draws_are_pytorchs(make):
    """A complex draw fills the real view (a normal one with standard deviation std/sqrt(2)): PyTorch's values, bit
    for bit, contiguous or not (then its serial path), through randn, randn_like, normal_, rand, rand_like, uniform_
    and out=."""
    got = []
    for lib in (ember, torch):
        lib.manual_seed(5)
        got.append(make(lib).numpy())
    assert got[0].dtype == got[1].dtype
    np.testing.assert_array_equal(got[0], got[1])


@pytest.mark.parametrize('dtype', ['int64', 'int32', 'uint8', 'bool'])
def test_poisson_of_integer_rates_is_refused_like_torch(dtype):
    """PyTorch's poisson sampler has floating loops only: the torch.distributions.Poisson docstring's
    Poisson(torch.tensor([4])).sample() raises its NotImplementedError (ember drew a count)."""
    msgs = []
    for lib in (ember, torch):
        rate = lib.tensor([4, 1]).to(getattr(lib, dtype))
        with pytest.raises(NotImplementedError) as info:
            lib.poisson(rate)
        with pytest.raises(NotImplementedError):
            lib.distributions.Poisson(lib.tensor([4])).sample()
        msgs.append(str(info.value))
    assert msgs[0] == msgs[1]


@pytest.mark.parametrize('p', [0.5, 0.3, 1 / 3, 3 * 2.0 ** -53, 1 - 2.0 ** -53, 0.9999999])
def test_below_compares_a_words_two_draws_as_its_53_bit_word(monkeypatch, p):
    """D.below reads each 64-bit word as its two 32-bit draws (high first): the high draw's low 21 bits against the
    bound's, the low draw where they tie. Words whose high bits tie the bound's (one in 2^21 of random draws), with
    low draws on both sides of its low word and high bits past the 53 set, compare as the whole words do."""
    from ember.ops import _distributions
    bound = int(np.ceil(p * 2.0 ** 53))
    hi, lo = bound >> 32, bound & 0xFFFFFFFF
    highs = [hi, hi | 0xFFE00000, max(hi - 1, 0), min(hi + 1, (1 << 21) - 1)]
    lows = [0, max(lo - 1, 0), lo, min(lo + 1, 0xFFFFFFFF), 0xFFFFFFFF]
    pairs = np.array([(h, l) for h in highs for l in lows], np.uint32)
    gen = ember.default_generator
    monkeypatch.setattr(gen, '_words32', lambda n: pairs.reshape(-1)[:n])
    words = (pairs[:, 0].astype(np.uint64) << np.uint64(32) | pairs[:, 1]) & np.uint64((1 << 53) - 1)
    np.testing.assert_array_equal(_distributions.below(gen, len(pairs), p), words < np.uint64(bound))


@pytest.mark.parametrize('p', [0.0, 1.0, 0.5, 0.3, 1 / 3, 2.0 ** -53, 3 * 2.0 ** -53, 1 - 2.0 ** -53, 0.9999999])
def test_bernoulli_and_dropout_compare_the_words_as_the_uniforms(p):
    """bernoulli_(p) and dropout's mask compare each draw's 53-bit word with ceil(p * 2^53) instead of its double
    uniform with p: the same draws as u < p, words on both sides of the threshold included, and PyTorch's values."""
    from ember.ops import _distributions
    gen = ember.default_generator
    threshold = int(np.ceil(p * 2.0 ** 53))
    words = np.array([max(threshold - 1, 0), threshold, min(threshold + 1, 2 ** 53 - 1)], np.uint64)
    assert list(words.astype(np.float64) * 2.0 ** -53 < p) == list(words < np.uint64(threshold))
    ember.manual_seed(9)
    want = _distributions.unit_uniform(gen, 5000, np.float64) < p
    ember.manual_seed(9)
    np.testing.assert_array_equal(_distributions.below(gen, 5000, p), want)
    for lib in (ember, torch):
        lib.manual_seed(9)
        got = [lib.empty(3000).bernoulli_(p).numpy(), lib.nn.functional.dropout(lib.ones(7, 300), min(p, 0.99)).numpy()]
        if lib is ember:
            mine = got
    for a, b in zip(mine, got):
        np.testing.assert_array_equal(a, b)
