"""Every layer against PyTorch: torch's initial weights are copied into ember through the state dict, the
same input must give the same output and the same gradients of input and parameters. The functional ops
behind the layers are checked op by op (with float64 gradcheck, and gradgradcheck for fused nodes)."""
import copy
import warnings

import numpy as np
import pytest
import torch

import ember
from ember.nn.functional import _activation
from helpers import check, assert_same

S = (3, 4)


def F(lib):
    return lib.nn.functional


FUNCTIONAL = [
    ('relu', lambda L, x: F(L).relu(x), [S], {}),
    ('relu6', lambda L, x: F(L).relu6(x * 4), [S], {}),
    ('hardtanh', lambda L, x: F(L).hardtanh(x, -0.5, 0.7), [S], {}),
    ('leaky_relu', lambda L, x: F(L).leaky_relu(x, 0.1), [S], {}),
    ('elu', lambda L, x: F(L).elu(x, 0.7), [S], {}),
    ('selu', lambda L, x: F(L).selu(x), [S], {}),
    ('celu', lambda L, x: F(L).celu(x, 0.5), [S], {}),
    ('gelu', lambda L, x: F(L).gelu(x), [S], {}),
    ('gelu_tanh', lambda L, x: F(L).gelu(x, approximate='tanh'), [S], {}),
    ('silu', lambda L, x: F(L).silu(x), [S], {}),
    ('mish', lambda L, x: F(L).mish(x), [S], {}),
    ('softplus', lambda L, x: F(L).softplus(x), [S], {}),
    ('softplus_beta', lambda L, x: F(L).softplus(x, 2, 3), [S], {}),
    ('hardsigmoid', lambda L, x: F(L).hardsigmoid(x * 3), [S], {}),
    ('hardswish', lambda L, x: F(L).hardswish(x * 3), [S], {}),
    ('threshold', lambda L, x: F(L).threshold(x, 0.1, 2.0), [S], {}),
    ('logsigmoid', lambda L, x: F(L).logsigmoid(x), [S], {}),
    ('hardshrink', lambda L, x: F(L).hardshrink(x, 0.5), [S], {}),
    ('softshrink', lambda L, x: F(L).softshrink(x, 0.5), [S], {}),
    ('softsign', lambda L, x: F(L).softsign(x), [S], {}),
    ('tanhshrink', lambda L, x: F(L).tanhshrink(x), [S], {}),
    ('sigmoid', lambda L, x: F(L).sigmoid(x), [S], {}),
    ('tanh', lambda L, x: F(L).tanh(x), [S], {}),
    ('softmax', lambda L, x: F(L).softmax(x, 1), [S], {}),
    ('log_softmax', lambda L, x: F(L).log_softmax(x, 0), [S], {}),
    ('softmin', lambda L, x: F(L).softmin(x, 1), [S], {}),
    ('prelu_shared', lambda L, x, w: F(L).prelu(x, w), [(2, 3, 4), (1,)], {}),
    ('prelu_channels', lambda L, x, w: F(L).prelu(x, w), [(2, 3, 4), (3,)], {}),
    ('glu', lambda L, x: F(L).glu(x, 1), [S], {}),
    ('rrelu_eval', lambda L, x: F(L).rrelu(x), [S], {}),
    ('linear', lambda L, x, w, b: F(L).linear(x, w, b), [S, (5, 4), (5,)], {}),
    ('linear_3d', lambda L, x, w, b: F(L).linear(x, w, b), [(2, 3, 4), (5, 4), (5,)], {}),
    ('linear_nobias', lambda L, x, w: F(L).linear(x, w), [S, (5, 4)], {}),
    ('bilinear', lambda L, x, y, w, b: F(L).bilinear(x, y, w, b), [S, (3, 2), (5, 4, 2), (5,)], {}),
    ('embedding', lambda L, w: F(L).embedding(L.tensor([[0, 2, 2], [1, 0, 3]]), w), [(4, 3)], {}),
    ('embedding_pad', lambda L, w: F(L).embedding(L.tensor([[0, 2, 2], [1, 0, 3]]), w, padding_idx=0), [(4, 3)],
     {'gradcheck': False}),
    ('embedding_freq', lambda L, w: F(L).embedding(L.tensor([0, 2, 2, 1]), w, scale_grad_by_freq=True),
     [(4, 3)], {'gradcheck': False}),
    ('layer_norm', lambda L, x, w, b: F(L).layer_norm(x, (4,), w, b), [S, (4,), (4,)], {}),
    ('layer_norm_2d', lambda L, x, w, b: F(L).layer_norm(x, (3, 4), w, b, eps=1e-3), [(2, 3, 4), (3, 4), (3, 4)],
     {}),
    ('layer_norm_plain', lambda L, x: F(L).layer_norm(x, (3, 4)), [(2, 3, 4)], {}),
    ('group_norm', lambda L, x, w, b: F(L).group_norm(x, 2, w, b), [(2, 4, 3), (4,), (4,)], {}),
    ('group_norm_4d', lambda L, x: F(L).group_norm(x, 3), [(2, 6, 2, 2)], {}),
    ('batch_norm_train', lambda L, x, w, b: F(L).batch_norm(x, None, None, w, b, True), [(3, 4, 2), (4,), (4,)],
     {}),
    ('batch_norm_train_2d', lambda L, x, w, b: F(L).batch_norm(x, None, None, w, b, True), [(5, 3), (3,), (3,)],
     {}),
    ('batch_norm_eval', lambda L, x, w, b: F(L).batch_norm(
        x, L.tensor([0.1, 0.2, 0.3, 0.4], dtype=x.dtype), L.tensor([1., 2., .5, 1.], dtype=x.dtype), w, b, False),
     [(3, 4, 2), (4,), (4,)], {}),
    ('batch_norm_noaffine', lambda L, x: F(L).batch_norm(x, None, None, training=True), [(3, 4, 2, 2)], {}),
    ('instance_norm', lambda L, x, w, b: F(L).instance_norm(x, weight=w, bias=b), [(2, 3, 4), (3,), (3,)],
     {'name': False}),
    ('rms_norm', lambda L, x, w: F(L).rms_norm(x, (4,), w), [S, (4,)], {'name': False}),
    ('local_response_norm', lambda L, x: F(L).local_response_norm(x, 3), [(2, 4, 3)], {'name': False}),
    ('normalize', lambda L, x: F(L).normalize(x), [S], {}),
    ('normalize_p1', lambda L, x: F(L).normalize(x, p=1, dim=0), [S], {}),
    ('cosine_similarity', lambda L, x, y: F(L).cosine_similarity(x, y), [S, S], {}),
    ('pixel_shuffle', lambda L, x: F(L).pixel_shuffle(x, 2), [(2, 8, 3, 3)], {'name': False}),
    ('pixel_unshuffle', lambda L, x: F(L).pixel_unshuffle(x, 2), [(2, 2, 4, 6)], {'name': False}),
    ('channel_shuffle', lambda L, x: F(L).channel_shuffle(x, 3), [(2, 6, 3, 3)], {'name': False}),
    ('pairwise_distance', lambda L, x, y: F(L).pairwise_distance(x, y), [S, S], {'name': False}),
    ('pdist', lambda L, x: F(L).pdist(x), [S], {'name': False}),
]
# second derivatives checked (not hardsigmoid's: PyTorch refuses them, test_activation_double_backward checks that)
FUSED = ('hardtanh', 'leaky_relu', 'elu', 'selu', 'celu', 'gelu', 'silu', 'mish', 'softplus',
         'hardswish', 'logsigmoid', 'prelu', 'glu', 'embedding', 'layer_norm', 'group_norm', 'batch_norm')


@pytest.mark.parametrize('name,fn,shapes,opts', FUNCTIONAL, ids=[c[0] for c in FUNCTIONAL])
def test_functional_matches_torch(name, fn, shapes, opts):
    opts = dict(opts)
    opts.setdefault('gradgrad', name.startswith(FUSED) and opts.get('gradcheck', True))
    check(fn, *shapes, **opts)


def test_inplace_activations_on_non_leaf():
    for name in ('relu', 'leaky_relu', 'elu', 'selu', 'celu', 'hardtanh', 'relu6', 'silu', 'mish', 'hardswish',
                 'hardsigmoid', 'threshold', 'rrelu'):
        res = {}
        for lib in (torch, ember):
            x = lib.tensor(np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4), requires_grad=True)
            y = x * 2
            args = (0.5, 1.0) if name == 'threshold' else ()
            out = getattr(F(lib), name)(y, *args, inplace=True)
            assert out is y
            (out * out).sum().backward()
            res[lib.__name__] = (out, x.grad, y.grad_fn.name() if lib is torch else type(y.grad_fn).__name__)
        assert_same(res['ember'][0], res['torch'][0], what=name)
        assert_same(res['ember'][1], res['torch'][1], what=name)
        assert res['ember'][2] == res['torch'][2]


@pytest.mark.parametrize('shape,ns', [((3, 4), (4,)), ((2, 3, 4), (3, 4)), ((0, 4), (4,))])
def test_layer_norm_without_affine_output_modified_in_place(shape, ns):
    """The output is the graph's own array, not the normalised input its backward reads: changing it in place
    before backward leaves the gradient PyTorch's."""
    x0 = np.random.default_rng(11).standard_normal(shape).astype(np.float32)
    res = {}
    for lib in (torch, ember):
        x = lib.tensor(x0, requires_grad=True)
        y = F(lib).layer_norm(x, ns)
        y.mul_(2)
        (y * lib.arange(float(ns[-1]))).sum().backward()
        res[lib.__name__] = (y, x.grad)
    assert_same(res['ember'][0], res['torch'][0])
    assert_same(res['ember'][1], res['torch'][1], atol=1e-5)


def test_inplace_on_leaf_requiring_grad_raises():
    x = ember.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match='leaf Variable'):
        F(ember).relu(x, inplace=True)


# -- layers: torch's weights copied into ember -------------------------------------------------------------
def copy_state(tm, em):
    """Load torch module tm's state into ember module em (via NumPy arrays) with strict key matching."""
    sd = {k: ember.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()}
    em.load_state_dict(sd)


def twin(make):
    torch.manual_seed(0)
    tm = make(torch.nn)
    em = make(ember.nn)
    copy_state(tm, em)
    return tm, em


def run_both(tm, em, *arrays, grad=True, int_input=False):
    """Same input through both modules; compare output, input grad and every parameter grad."""
    ti = [torch.tensor(a, requires_grad=grad and a.dtype.kind == 'f') for a in arrays]
    ei = [ember.tensor(a, requires_grad=grad and a.dtype.kind == 'f') for a in arrays]
    to, eo = tm(*ti), em(*ei)
    assert_same(eo, to, atol=1e-5, rtol=1e-4, what='output')
    seed = np.random.default_rng(1).standard_normal(tuple(to.shape)).astype(np.float32)
    if to.requires_grad:
        to.backward(torch.tensor(seed))
        eo.backward(ember.tensor(seed))
        for i, (a, b) in enumerate(zip(ei, ti)):
            if b.grad is not None:
                assert_same(a.grad, b.grad, atol=1e-4, rtol=1e-3, what=f'grad of input {i}')
        tp, ep = dict(tm.named_parameters()), dict(em.named_parameters())
        assert list(tp) == list(ep)
        for k in tp:
            if tp[k].grad is None:
                assert ep[k].grad is None, k
            else:
                assert_same(ep[k].grad, tp[k].grad, atol=1e-4, rtol=1e-3, what=f'grad of {k}')
    return to, eo


def rnd(*shape, seed=0, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


LAYERS = [
    ('Linear', lambda nn: nn.Linear(4, 5), [(3, 4)]),
    ('Linear_nobias', lambda nn: nn.Linear(4, 5, bias=False), [(2, 3, 4)]),
    ('Linear_1d', lambda nn: nn.Linear(4, 2), [(4,)]),
    ('Bilinear', lambda nn: nn.Bilinear(4, 3, 2), [(5, 4), (5, 3)]),
    ('Identity', lambda nn: nn.Identity(7, k=1), [(2, 3)]),
    ('Flatten', lambda nn: nn.Flatten(), [(2, 3, 4)]),
    ('Flatten_range', lambda nn: nn.Flatten(0, 1), [(2, 3, 4)]),
    ('Unflatten', lambda nn: nn.Unflatten(1, (2, 3)), [(4, 6)]),
    ('ReLU', lambda nn: nn.ReLU(), [(3, 4)]),
    ('ReLU6', lambda nn: nn.ReLU6(), [(3, 4)]),
    ('LeakyReLU', lambda nn: nn.LeakyReLU(0.2), [(3, 4)]),
    ('ELU', lambda nn: nn.ELU(0.5), [(3, 4)]),
    ('CELU', lambda nn: nn.CELU(0.5), [(3, 4)]),
    ('SELU', lambda nn: nn.SELU(), [(3, 4)]),
    ('GELU', lambda nn: nn.GELU(), [(3, 4)]),
    ('GELU_tanh', lambda nn: nn.GELU('tanh'), [(3, 4)]),
    ('SiLU', lambda nn: nn.SiLU(), [(3, 4)]),
    ('Mish', lambda nn: nn.Mish(), [(3, 4)]),
    ('Sigmoid', lambda nn: nn.Sigmoid(), [(3, 4)]),
    ('Tanh', lambda nn: nn.Tanh(), [(3, 4)]),
    ('Softmax', lambda nn: nn.Softmax(dim=1), [(3, 4)]),
    ('LogSoftmax', lambda nn: nn.LogSoftmax(dim=-1), [(3, 4)]),
    ('Softmin', lambda nn: nn.Softmin(dim=0), [(3, 4)]),
    ('Softmax2d', lambda nn: nn.Softmax2d(), [(2, 3, 2, 2)]),
    ('Softplus', lambda nn: nn.Softplus(beta=2, threshold=5), [(3, 4)]),
    ('Hardtanh', lambda nn: nn.Hardtanh(-0.5, 0.5), [(3, 4)]),
    ('Hardsigmoid', lambda nn: nn.Hardsigmoid(), [(3, 4)]),
    ('Hardswish', lambda nn: nn.Hardswish(), [(3, 4)]),
    ('PReLU', lambda nn: nn.PReLU(), [(3, 4)]),
    ('PReLU_channels', lambda nn: nn.PReLU(3, init=0.1), [(2, 3, 4)]),
    ('Softsign', lambda nn: nn.Softsign(), [(3, 4)]),
    ('Tanhshrink', lambda nn: nn.Tanhshrink(), [(3, 4)]),
    ('Threshold', lambda nn: nn.Threshold(0.2, -1.0), [(3, 4)]),
    ('LogSigmoid', lambda nn: nn.LogSigmoid(), [(3, 4)]),
    ('Hardshrink', lambda nn: nn.Hardshrink(0.3), [(3, 4)]),
    ('Softshrink', lambda nn: nn.Softshrink(0.3), [(3, 4)]),
    ('GLU', lambda nn: nn.GLU(), [(3, 4)]),
    ('LayerNorm', lambda nn: nn.LayerNorm(4), [(3, 4)]),
    ('LayerNorm_2d_nobias', lambda nn: nn.LayerNorm([3, 4], bias=False), [(2, 3, 4)]),
    ('LayerNorm_noaffine', lambda nn: nn.LayerNorm(4, elementwise_affine=False), [(3, 4)]),
    ('GroupNorm', lambda nn: nn.GroupNorm(2, 4), [(2, 4, 3, 3)]),
    ('GroupNorm_noaffine', lambda nn: nn.GroupNorm(1, 4, affine=False), [(2, 4, 3)]),
    ('RMSNorm', lambda nn: nn.RMSNorm(4), [(3, 4)]),
    ('InstanceNorm1d', lambda nn: nn.InstanceNorm1d(3, affine=True), [(2, 3, 5)]),
    ('InstanceNorm2d', lambda nn: nn.InstanceNorm2d(3), [(2, 3, 4, 4)]),
    ('LocalResponseNorm', lambda nn: nn.LocalResponseNorm(2), [(2, 4, 3)]),
    ('CosineSimilarity', lambda nn: nn.CosineSimilarity(dim=1), [(3, 4), (3, 4)]),
    ('PairwiseDistance', lambda nn: nn.PairwiseDistance(p=1.5), [(3, 4), (3, 4)]),
    ('Dropout_eval', lambda nn: nn.Dropout(0.5).eval(), [(3, 4)]),
    ('PixelShuffle', lambda nn: nn.PixelShuffle(2), [(1, 8, 2, 3)]),
    ('PixelUnshuffle', lambda nn: nn.PixelUnshuffle(2), [(1, 2, 4, 4)]),
    ('ChannelShuffle', lambda nn: nn.ChannelShuffle(2), [(1, 4, 2, 2)]),
    ('Sequential', lambda nn: nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.LayerNorm(8), nn.Linear(8, 2)),
     [(5, 4)]),
]


@pytest.mark.parametrize('name,make,shapes', LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_matches_torch(name, make, shapes):
    tm, em = twin(make)
    arrays = [rnd(*s, seed=i) for i, s in enumerate(shapes)]
    run_both(tm, em, *arrays)
    assert repr(em) == repr(tm)


def test_default_init_statistics_match_torch():
    """Linear/Bilinear/Embedding/PReLU/norms start from PyTorch's default distributions."""
    ember.manual_seed(0)
    lin = ember.nn.Linear(400, 300)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    bound = 1 / np.sqrt(400)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.01 * bound
    assert np.abs(b).max() <= bound
    bl = ember.nn.Bilinear(20, 30, 40)
    assert np.abs(bl.weight.detach().numpy()).max() <= 1 / np.sqrt(20)
    emb = ember.nn.Embedding(1000, 50, padding_idx=3).weight.detach().numpy()
    assert abs(emb.std() - 1) < 0.02 and not emb[3].any()
    assert ember.nn.PReLU().weight.item() == pytest.approx(0.25)
    bn = ember.nn.BatchNorm1d(3)
    assert bn.weight.tolist() == [1, 1, 1] and bn.bias.tolist() == [0, 0, 0]
    assert bn.num_batches_tracked.dtype == ember.int64 and bn.num_batches_tracked.item() == 0
    assert lin.weight.dtype == ember.float32 and lin.weight.requires_grad


def test_factory_kwargs():
    lin = ember.nn.Linear(3, 2, dtype=ember.float64, device='cpu')
    assert lin.weight.dtype == ember.float64 and lin.bias.dtype == ember.float64
    with pytest.raises(RuntimeError):
        ember.nn.Linear(3, 2, device='cuda')


@pytest.mark.parametrize('momentum', [0.1, None, 0.5])
@pytest.mark.parametrize('kind', ['1d', '1d_seq', '2d', 'noaffine', 'untracked'])
def test_batchnorm_running_stats_over_steps(kind, momentum):
    def make(nn):
        if kind == '1d':
            return nn.BatchNorm1d(3, momentum=momentum)
        if kind == '1d_seq':
            return nn.BatchNorm1d(3, momentum=momentum, eps=1e-3)
        if kind == 'noaffine':
            return nn.BatchNorm2d(3, momentum=momentum, affine=False)
        if kind == 'untracked':
            return nn.BatchNorm2d(3, momentum=momentum, track_running_stats=False)
        return nn.BatchNorm2d(3, momentum=momentum)
    shape = {'1d': (6, 3), '1d_seq': (4, 3, 5)}.get(kind, (4, 3, 3, 3))
    tm, em = twin(make)
    for step in range(4):
        x = rnd(*shape, seed=step, scale=1 + step) + step
        run_both(tm, em, x)
        for k, v in tm.state_dict().items():
            assert_same(em.state_dict()[k], v, atol=1e-5, rtol=1e-5, what=k)
    tm.eval()
    em.eval()
    run_both(tm, em, rnd(*shape, seed=9))


def test_batchnorm_errors_match_torch():
    for lib in (torch, ember):
        with pytest.raises(ValueError, match='expected 4D input'):
            lib.nn.BatchNorm2d(3)(lib.zeros(2, 3))
        with pytest.raises(ValueError, match='Expected more than 1 value per channel when training'):
            lib.nn.BatchNorm1d(3)(lib.zeros(1, 3))


def test_batchnorm_loads_state_without_num_batches_tracked():
    em = ember.nn.BatchNorm1d(2)
    sd = {'weight': ember.ones(2), 'bias': ember.zeros(2), 'running_mean': ember.zeros(2),
          'running_var': ember.ones(2)}
    assert repr(em.load_state_dict(sd)) == '<All keys matched successfully>'


def test_dropout_statistics():
    ember.manual_seed(0)
    x = ember.ones(200, 100, requires_grad=True)
    d = ember.nn.Dropout(0.3)
    y = d(x)
    frac = (y == 0).float().mean().item()
    assert abs(frac - 0.3) < 0.02
    kept = y.detach().numpy()[y.detach().numpy() != 0]
    np.testing.assert_allclose(kept, 1 / 0.7, rtol=1e-6)
    assert type(y.grad_fn).__name__ == 'MulBackward0'
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.detach().numpy(), rtol=1e-6)
    d.eval()
    assert d(x) is x
    assert (ember.nn.Dropout(1.0)(x) == 0).all()
    with pytest.raises(ValueError, match='dropout probability has to be between 0 and 1, but got 1.5'):
        ember.nn.Dropout(1.5)


@pytest.mark.parametrize('fn', [lambda x: F(ember).dropout(x, 0.3), lambda x: F(ember).dropout2d(x, 0.5),
                                lambda x: F(ember).rrelu(x, training=True),
                                lambda x: F(ember).alpha_dropout(x, 0.2, True),
                                lambda x: F(ember).gumbel_softmax(x, tau=0.7)])
def test_random_ops_gradcheck_with_fixed_seed(fn):
    def seeded(x):
        ember.manual_seed(0)
        return fn(x)
    x = ember.tensor(np.random.default_rng(0).standard_normal((2, 3, 2, 2)), requires_grad=True)
    assert ember.autograd.gradcheck(seeded, (x,))


def test_gumbel_softmax_hard_is_one_hot_with_soft_gradient():
    ember.manual_seed(0)
    x = ember.randn(4, 5, requires_grad=True)
    y = F(ember).gumbel_softmax(x, hard=True)
    assert (y.sum(1) == 1).all() and set(np.unique(y.detach().numpy())) <= {0.0, 1.0}
    (y * ember.arange(5.0)).sum().backward()
    assert x.grad is not None and np.abs(x.grad.numpy()).sum() > 0


def test_dropout2d_zeroes_whole_channels():
    ember.manual_seed(1)
    y = ember.nn.Dropout2d(0.5)(ember.ones(8, 16, 3, 3)).numpy()
    per_channel = y.reshape(8, 16, 9)
    assert ((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all()
    assert 0.3 < (per_channel[..., 0] == 0).mean() < 0.7
    y1 = ember.nn.Dropout1d(0.5)(ember.ones(8, 16, 5)).numpy()
    assert ((y1 == 0).all(-1) | (y1 == 2).all(-1)).all()


def test_alpha_dropout_keeps_moments():
    ember.manual_seed(2)
    x = ember.randn(200, 500)
    y = ember.nn.AlphaDropout(0.2)(x).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    assert ember.nn.AlphaDropout(0.2).eval()(x) is x


def test_dropout_inplace():
    ember.manual_seed(0)
    x = ember.ones(10, 10, requires_grad=True)
    y = x * 1
    out = ember.nn.functional.dropout(y, 0.5, inplace=True)
    assert out is y
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.detach().numpy())


def test_embedding_padding_and_pretrained():
    tm, em = twin(lambda nn: nn.Embedding(6, 3, padding_idx=2))
    idx = np.array([[0, 2, 5], [2, 2, 1]])
    to, eo = tm(torch.tensor(idx)), em(ember.tensor(idx))
    assert_same(eo, to)
    seed = rnd(2, 3, 3)
    to.backward(torch.tensor(seed))
    eo.backward(ember.tensor(seed))
    assert_same(em.weight.grad, tm.weight.grad)
    assert not em.weight.grad.numpy()[2].any()
    assert repr(em) == repr(tm)
    w = ember.tensor(rnd(4, 2))
    pre = ember.nn.Embedding.from_pretrained(w)
    assert not pre.weight.requires_grad and pre.weight.data_ptr() == w.data_ptr()
    assert ember.nn.Embedding.from_pretrained(w, freeze=False).weight.requires_grad
    assert repr(ember.nn.Embedding.from_pretrained(w, padding_idx=-1)) == 'Embedding(4, 2, padding_idx=3)'


@pytest.mark.parametrize('tokens', [200, 3000])   # 3000 tokens of 8 rows: over 64 repeats, np.add.at's path
def test_embedding_grad_sums_repeats_in_torch_order(tokens):
    """Rows hit by many tokens sum their gradients in token order, as PyTorch's index_add: bitwise equal."""
    idx = np.random.default_rng(0).integers(0, 8, tokens)
    seed = rnd(tokens, 16)
    tw, ew = torch.zeros(8, 16, requires_grad=True), ember.zeros(8, 16, requires_grad=True)
    torch.nn.functional.embedding(torch.tensor(idx), tw).backward(torch.tensor(seed))
    ember.nn.functional.embedding(ember.tensor(idx), ew).backward(ember.tensor(seed))
    assert np.array_equal(ew.grad.numpy(), tw.grad.numpy())


def test_embedding_max_norm_matches_torch():
    tm, em = twin(lambda nn: nn.Embedding(5, 3, max_norm=1.0))
    idx = np.array([0, 3, 3, 4])
    to, eo = tm(torch.tensor(idx)), em(ember.tensor(idx))
    assert_same(eo, to)
    assert_same(em.weight.detach(), tm.weight.detach())


def test_embedding_errors():
    emb = ember.nn.Embedding(3, 2)
    with pytest.raises(IndexError, match='index out of range in self'):
        emb(ember.tensor([3]))
    with pytest.raises(RuntimeError):
        emb(ember.tensor([0.0]))


def test_one_hot():
    for args in [((ember.tensor([0, 2, 1]),), (torch.tensor([0, 2, 1]),)),
                 ((ember.tensor([[0], [3]]), 5), (torch.tensor([[0], [3]]), 5))]:
        assert_same(ember.nn.functional.one_hot(*args[0]), torch.nn.functional.one_hot(*args[1]))
    with pytest.raises(RuntimeError, match='Class values must be smaller than num_classes.'):
        ember.nn.functional.one_hot(ember.tensor([3]), 2)


def test_linear_records_addmm_and_module_call():
    lin = ember.nn.Linear(3, 2)
    assert type(lin(ember.randn(4, 3)).grad_fn).__name__ == 'AddmmBackward0'
    assert type(lin(ember.randn(5, 4, 3)).grad_fn).__name__ == 'ViewBackward0'


def test_module_dtype_conversion_runs_forward():
    tm, em = twin(lambda nn: nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.GELU()))
    tm.double()
    em.double()
    x = np.random.default_rng(0).standard_normal((5, 3))
    to, eo = run_both(tm, em, x)
    assert eo.dtype == ember.float64
    assert em[1].running_mean.dtype == ember.float64 and em[1].num_batches_tracked.dtype == ember.int64


def test_deepcopy_layer_is_independent():
    em = ember.nn.Sequential(ember.nn.Linear(2, 2), ember.nn.BatchNorm1d(2))
    cp = copy.deepcopy(em)
    with ember.no_grad():
        cp[0].weight.fill_(1.0)
    assert not (em[0].weight == 1.0).all()
    assert repr(cp) == repr(em)


def test_rrelu_training_slopes_in_range():
    ember.manual_seed(0)
    x = (-ember.ones(1000)).requires_grad_()
    y = ember.nn.RReLU(0.1, 0.3)(x)
    slopes = -y.detach().numpy()
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), slopes, rtol=1e-6)


def test_softmax_without_dim_warns_like_torch():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        ember.nn.Softmax()(ember.randn(2, 3))
    assert any('Implicit dimension choice' in str(m.message) for m in w)


@pytest.mark.parametrize('slope', [0.2, 1.0, 0.0, 1.5, -0.3])
def test_leaky_relu_special_values_bitwise(slope):
    """leaky_relu keeps PyTorch's -0.0, infinities and NaN for every slope (the max(x, x*s) fast path and the
    select fallback), in place too."""
    vals = np.array([-0.0, 0.0, np.nan, -np.inf, np.inf, -2.0, 3.0, 1e-45, -1e-45], np.float32)
    for inplace in (False, True):
        e = ember.nn.functional.leaky_relu(ember.tensor(vals), slope, inplace)._data
        t = torch.nn.functional.leaky_relu(torch.tensor(vals), slope, inplace).numpy()
        assert np.array_equal(np.isnan(e), np.isnan(t))
        ok = ~np.isnan(t)
        assert np.array_equal(e[ok].view(np.int32), t[ok].view(np.int32)), (e, t)


@pytest.mark.parametrize('slope', [0.2, 0.01, 1.0, 0.0, 0.1234567, 1.5, -0.3])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_leaky_relu_backward_bitwise(slope, dtype):
    """leaky_relu's gradient (g, or g * slope where x <= 0 or NaN) equals PyTorch's bit for bit, out of place and
    in place, with infinite, NaN and signed-zero gradients (the factor fast path and the select fallback)."""
    vals = [-0.0, 0.0, np.nan, -np.inf, np.inf, -2.0, 3.0, 1e-45, -1e-45]
    rng = np.random.default_rng(3)
    x = np.concatenate([vals, rng.standard_normal(40)]).astype(dtype)
    g = np.concatenate([vals[::-1], rng.standard_normal(40)]).astype(dtype)
    for inplace in (False, True):
        grads = []
        for lib in (ember, torch):
            t = lib.tensor(x, requires_grad=True)
            y = lib.nn.functional.leaky_relu(t * 1, slope, inplace)
            if inplace and slope < 0:     # PyTorch derives it from the result, which a negative slope forbids
                with pytest.raises(RuntimeError, match='negative slope which is not supported'):
                    y.backward(lib.tensor(g))
                continue
            y.backward(lib.tensor(g))
            grads.append(t.grad.numpy())
        if not grads:
            continue
        bits = np.int32 if dtype == 'float32' else np.int64
        assert np.array_equal(grads[0].view(bits), grads[1].view(bits)), (inplace, grads)


def test_relu_backward_masked_gradient_is_plus_zero():
    """ReLU's masked gradient is +0 where PyTorch's is (a negative or infinite upstream gradient at a dead
    unit gave -0. and nan), and a NaN activation passes its gradient, as PyTorch's threshold_backward."""
    x = np.array([-1.0, 2.0, -3.0, 0.0, np.nan, -0.0], np.float32)
    g = np.array([-5.0, -1.0, np.inf, -2.0, 7.0, -np.inf], np.float32)
    grads = []
    for lib in (ember, torch):
        t = lib.tensor(x, requires_grad=True)
        lib.relu(t).backward(lib.tensor(g))
        grads.append(t.grad.numpy() if lib is torch else t.grad._data)
    assert np.array_equal(grads[0].view(np.int32), grads[1].view(np.int32)), grads


@pytest.mark.parametrize('shape', [(4, 3, 6, 7), (16, 4, 3), (3, 2, 5, 5), (8, 5)])
@pytest.mark.parametrize('momentum', [0.1, 0.3])
def test_batch_norm_running_stats_bit_for_bit(shape, momentum):
    """Training-mode running_mean/running_var equal PyTorch's to the bit for float32 (its kernel's sums in
    float64, unbiased variance in float32, the variance's update a fused multiply-add); a 2-D input's too (PyTorch
    sums its squares in float32 fused multiply-adds, per thread: both libraries at one thread here)."""
    rng = np.random.default_rng(sum(shape))
    x = (rng.standard_normal(shape) * 3 + 1.5).astype(np.float32)
    rm0 = rng.standard_normal(shape[1]).astype(np.float32)
    rv0 = rng.uniform(0.5, 2, shape[1]).astype(np.float32)
    got = []
    old = torch.get_num_threads(), ember.get_num_threads()
    torch.set_num_threads(1)
    ember.set_num_threads(1)
    try:
        for lib in (torch, ember):
            rm, rv = lib.tensor(rm0), lib.tensor(rv0)
            lib.nn.functional.batch_norm(lib.tensor(x), rm, rv, training=True, momentum=momentum)
            got.append((rm.numpy(), rv.numpy()))
    finally:
        torch.set_num_threads(old[0])
        ember.set_num_threads(old[1])
    np.testing.assert_array_equal(got[1][0], got[0][0])
    np.testing.assert_array_equal(got[1][1], got[0][1])


@pytest.mark.parametrize('shape', [(4, 6, 5, 5), (1, 3, 4, 4), (6, 5), (3, 4, 1, 1)])
@pytest.mark.parametrize('training', [True, False])
def test_batch_norm_values_and_grads_per_channel_paths(shape, training):
    """Output and all three gradients equal PyTorch's on the per-channel layouts batch_norm picks (rows of
    N x C*HW, one sample, one value per channel), in training and eval; the input it saved, changed in place
    before backward, raises as in PyTorch."""
    rng = np.random.default_rng(len(shape) + shape[0])
    x0 = (rng.standard_normal(shape) * 2 + 0.5).astype(np.float32)
    g0 = rng.standard_normal(shape).astype(np.float32)
    C = shape[1]
    w0, b0 = rng.standard_normal(C).astype(np.float32), rng.standard_normal(C).astype(np.float32)
    out = []
    for lib in (ember, torch):
        x, w, b = (lib.tensor(a, requires_grad=True) for a in (x0, w0, b0))
        rm, rv = lib.tensor(w0 * 0.1), lib.tensor(np.abs(b0) + 0.5)
        y = lib.nn.functional.batch_norm(x, rm, rv, w, b, training)
        y.backward(lib.tensor(g0))
        out.append((y.detach(), x.grad, w.grad, b.grad, rm, rv))
    for e, t in zip(*out):
        assert_same(e, t, atol=1e-5, rtol=1e-5)
    for lib in (ember, torch):
        h = lib.tensor(x0, requires_grad=True) * 1
        y = lib.nn.functional.batch_norm(h, None, None, lib.tensor(w0), None, True)
        h.add_(1)
        with pytest.raises(RuntimeError, match='modified by an inplace operation'):
            y.sum().backward()


@pytest.mark.parametrize('shape', [(8, 16, 4, 4), (5, 7, 3), (3, 4, 8, 8), (2, 3, 9, 9), (4, 5, 2, 2, 3)], ids=str)
@pytest.mark.parametrize('kw', [dict(), dict(affine=False), dict(momentum=None), dict(track_running_stats=False)],
                         ids=['default', 'affine=False', 'momentum=None', 'no-running-stats'])
def test_batch_norm_module_paths_match_torch(shape, kw):
    """BatchNorm1d/2d/3d over short planes (their sums as matrix-vector products) and long ones: two training steps
    then eval, output and gradients as PyTorch's, for a contiguous input, a non-contiguous one and a channels-last
    one; running stats bit for bit (float32) for the contiguous input (within a few ulp for the others, whose
    kernels in PyTorch sum in float32 or in another order); NativeBatchNormBackward0 is the grad_fn."""
    rng = np.random.default_rng(sum(shape))
    xs = [(rng.standard_normal(shape) * 3 + 1.5).astype(np.float32) for _ in range(3)]
    g0 = rng.standard_normal(shape).astype(np.float32)
    w0, b0 = rng.standard_normal(shape[1]).astype(np.float32), rng.standard_normal(shape[1]).astype(np.float32)
    cls = {3: 'BatchNorm1d', 4: 'BatchNorm2d', 5: 'BatchNorm3d'}[len(shape)]
    layouts = ['contiguous', 'strided'] + (['channels_last'] if len(shape) == 4 else [])
    for layout in layouts:
        got = []
        for lib in (ember, torch):
            lib.manual_seed(0)
            bn = getattr(lib.nn, cls)(shape[1], **kw)
            if bn.weight is not None:
                with lib.no_grad():
                    bn.weight.copy_(lib.tensor(w0))
                    bn.bias.copy_(lib.tensor(b0))
            res = []
            for i, x0 in enumerate(xs):
                bn.train(i < 2)
                if layout == 'strided':     # every other sample of a batch twice the size
                    x = lib.tensor(np.repeat(x0, 2, axis=0), requires_grad=True)
                    h = x[::2]
                else:
                    x = lib.tensor(x0, requires_grad=True)
                    h = x.to(memory_format=lib.channels_last) if layout == 'channels_last' else x
                y = bn(h)
                name = type(y.grad_fn).__name__ if lib is ember else y.grad_fn.name()
                assert name == 'NativeBatchNormBackward0'
                y.backward(lib.tensor(g0))
                res += [y.detach().numpy(), x.grad.numpy()]
                res += [p.grad.numpy().copy() for p in (bn.weight, bn.bias) if p is not None]
                if bn.weight is not None:
                    bn.weight.grad = bn.bias.grad = None
            stats = [bn.running_mean, bn.running_var] if bn.running_mean is not None else []
            got.append((res, [s.numpy() for s in stats]))
        (re, se), (rt, st) = got
        assert len(re) == len(rt) and len(se) == len(st)
        for a, b in zip(re, rt):
            np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-5, err_msg=f'{layout} {kw}')
        for a, b in zip(se, st):
            if layout != 'contiguous':     # PyTorch's kernels for these layouts sum otherwise (a few ulp apart)
                np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7, err_msg=f'{layout} {kw}')
            else:
                np.testing.assert_array_equal(a, b, err_msg=f'{layout} {kw}')


@pytest.mark.parametrize('shape', [(6, 5, 4, 4), (4, 3, 2), (3, 2, 9, 9)], ids=str)
@pytest.mark.parametrize('training', [True, False])
def test_batch_norm_float64_gradcheck_short_and_long_planes(shape, training):
    """float64 finite differences of batch_norm's three gradients over short planes (sums as matrix-vector
    products) and long ones, training and eval."""
    rng = np.random.default_rng(len(shape))
    C = shape[1]
    x = ember.tensor(rng.standard_normal(shape) * 2 + 0.5, requires_grad=True)
    w = ember.tensor(rng.standard_normal(C), requires_grad=True)
    b = ember.tensor(rng.standard_normal(C), requires_grad=True)
    rm, rv = ember.tensor(rng.standard_normal(C)), ember.tensor(rng.uniform(0.5, 2, C))
    fn = (lambda x, w, b: ember.nn.functional.batch_norm(x, rm.clone(), rv.clone(), w, b, training))
    assert ember.autograd.gradcheck(fn, (x, w, b))


@pytest.mark.parametrize('shape,groups', [((4, 6, 5, 5), 3), ((2, 4, 32, 40), 2), ((3, 8, 7), 8), ((2, 6, 9), 1)],
                         ids=str)
@pytest.mark.parametrize('strided', [False, True])
def test_group_and_layer_norm_rows_match_torch(shape, groups, strided):
    """group_norm (a sample's group a row of layer norm's row helpers) and layer_norm over short rows (sums as
    matrix-vector products) and long ones (einsum's): output and the three gradients as PyTorch's, for a
    contiguous input and a non-contiguous one."""
    rng = np.random.default_rng(sum(shape))
    x0 = (rng.standard_normal(shape) * 2 + 0.7).astype(np.float32)
    g0 = rng.standard_normal(shape).astype(np.float32)
    C, last = shape[1], shape[-1]
    w0, b0 = rng.standard_normal(C).astype(np.float32), rng.standard_normal(C).astype(np.float32)
    lw0, lb0 = rng.standard_normal(last).astype(np.float32), rng.standard_normal(last).astype(np.float32)
    out = []
    for lib in (ember, torch):
        x = lib.tensor(np.repeat(x0, 2, axis=0) if strided else x0, requires_grad=True)
        h = x[::2] if strided else x
        w, b, lw, lb = (lib.tensor(a, requires_grad=True) for a in (w0, b0, lw0, lb0))
        y = lib.nn.functional.group_norm(h, groups, w, b)
        z = lib.nn.functional.layer_norm(h, (last,), lw, lb)
        names = [type(t.grad_fn).__name__ if lib is ember else t.grad_fn.name() for t in (y, z)]
        assert names == ['NativeGroupNormBackward0', 'NativeLayerNormBackward0']
        (y * lib.tensor(g0)).sum().backward()
        gy = [t.grad.numpy().copy() for t in (x, w, b)]
        x.grad = None
        z.backward(lib.tensor(g0))
        out.append([y.detach().numpy(), z.detach().numpy()] + gy + [t.grad.numpy() for t in (x, lw, lb)])
    for a, c in zip(*out):
        np.testing.assert_allclose(a, c, rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize('chunk', [1, 400, 1 << 20])
def test_group_norm_input_grad_chunks_match_torch(monkeypatch, chunk):
    """group_norm's input gradient goes a chunk of whole groups at a time (_norm._GN_CHUNK bytes of g): one group a
    chunk, two (the last chunk partial: 9 groups of 200 bytes) and all at once give PyTorch's gradients, and
    float64 finite differences hold with one group a chunk."""
    from ember.nn.functional import _norm
    monkeypatch.setattr(_norm, '_GN_CHUNK', chunk)
    rng = np.random.default_rng(7)
    x0, g0 = (rng.standard_normal((3, 6, 5, 5)) * 2 + 0.3).astype(np.float32), rng.standard_normal((3, 6, 5, 5))
    w0, b0 = rng.standard_normal(6).astype(np.float32), rng.standard_normal(6).astype(np.float32)
    out = []
    for lib in (ember, torch):
        x, w, b = (lib.tensor(a, requires_grad=True) for a in (x0, w0, b0))
        lib.nn.functional.group_norm(x, 3, w, b).backward(lib.tensor(g0.astype(np.float32)))
        out.append([t.grad.numpy() for t in (x, w, b)])
    for a, c in zip(*out):
        np.testing.assert_allclose(a, c, rtol=2e-5, atol=2e-5)
    if chunk == 1:
        x, w, b = (ember.tensor(rng.standard_normal(n), requires_grad=True) for n in ((2, 4, 3, 3), 4, 4))
        assert ember.autograd.gradcheck(lambda x, w, b: ember.nn.functional.group_norm(x, 2, w, b), (x, w, b))


@pytest.mark.parametrize('einsum_rows', [False, True])
def test_group_and_layer_norm_float64_gradcheck(monkeypatch, einsum_rows):
    """float64 finite differences of group_norm and layer_norm, their row sums as products and (with the long-row
    threshold lowered) as einsum's."""
    from ember.nn.functional import _norm
    if einsum_rows:
        monkeypatch.setattr(_norm, '_LONG_ROW', 1)
    rng = np.random.default_rng(3)
    x = ember.tensor(rng.standard_normal((3, 4, 5)), requires_grad=True)
    w, b, lw, lb = (ember.tensor(rng.standard_normal(n), requires_grad=True) for n in (4, 4, 5, 5))
    assert ember.autograd.gradcheck(lambda x, w, b: ember.nn.functional.group_norm(x, 2, w, b), (x, w, b))
    assert ember.autograd.gradcheck(lambda x, w, b: ember.nn.functional.layer_norm(x, (5,), w, b), (x, lw, lb))


def test_leaky_relu_inplace_saves_its_result():
    """leaky_relu_ with a slope in (0, 1] writes over its input in one pass and keeps the result for backward,
    as PyTorch's LeakyReluBackward1: gradients and second derivatives as PyTorch's (and float64 gradgradcheck),
    and changing the result in place before backward raises as in PyTorch."""
    x0 = np.linspace(-2, 2, 12).reshape(3, 4)
    for dtype in ('float32', 'float64'):
        res = []
        for lib in (ember, torch):
            x = lib.tensor(x0.astype(dtype), requires_grad=True)
            y = lib.nn.functional.leaky_relu(x * 3, 0.2, inplace=True)
            assert (type(y.grad_fn).__name__ if lib is ember else y.grad_fn.name()) == 'LeakyReluBackward1'
            assert lib is torch or type(y.grad_fn) is _activation._LeakyResultBackward     # the one-pass path
            (gx,) = lib.autograd.grad((y * x).sum(), x, create_graph=True)
            (ggx,) = lib.autograd.grad((gx * gx).sum(), x)
            res.append((y.detach(), gx.detach(), ggx))
        assert_same(res[0], res[1], what=dtype)
    x = ember.tensor(x0, requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda t: ember.nn.functional.leaky_relu(t * 1, 0.3, inplace=True) * t, (x,))
    for lib in (ember, torch):
        x = lib.tensor(x0, requires_grad=True)
        y = lib.nn.functional.leaky_relu(x * 1, 0.2, inplace=True)
        y.mul_(2)
        with pytest.raises(RuntimeError, match='modified by an inplace operation'):
            y.sum().backward()


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('shape', [(2, 5, 32, 32), (4, 1024), (3, 5)])     # rows of _ZERO_ROW and a tail, tails
def test_relu_inplace_saves_its_result(dtype, shape):
    """relu_ (nn.ReLU(inplace=True)) writes max(0, x) over its input and keeps the result for backward as
    PyTorch's ReluBackward0: the same values bit for bit (-0., NaN, infinities), the same gradients (+0 where
    masked) and second derivatives, float64 gradgradcheck, and a change to the result in place before backward
    raises as in PyTorch; a leaf that requires grad is refused, and a view goes the generic way."""
    vals = np.array([-0.0, 0.0, np.nan, -np.inf, np.inf, -2.0, 3.0, 1e-45, -1e-45], dtype)
    x0 = np.resize(np.concatenate([vals, np.random.default_rng(5).standard_normal(300)]), shape).astype(dtype)
    g0 = np.concatenate([vals[::-1] * -1, np.random.default_rng(6).standard_normal(300)])
    g0 = np.resize(g0, shape).astype(dtype)
    bits = np.int32 if dtype == 'float32' else np.int64
    res = []
    for lib in (ember, torch):
        x = lib.tensor(x0, requires_grad=True)
        h = x * 1
        y = lib.nn.ReLU(inplace=True)(h)
        assert y is h and (type(y.grad_fn).__name__ if lib is ember else y.grad_fn.name()) == 'ReluBackward0'
        assert h._version == 1
        y.backward(lib.tensor(g0))
        res.append((y.detach().numpy(), x.grad.numpy()))
    for e, t in zip(*res):
        assert np.array_equal(e.view(bits), t.view(bits))
    x1 = np.linspace(-2, 2, 12).reshape(3, 4).astype(dtype)
    res = []
    for lib in (ember, torch):
        x = lib.tensor(x1, requires_grad=True)
        y = (x * 3).relu_()
        (gx,) = lib.autograd.grad((y * x).sum(), x, create_graph=True)
        (ggx,) = lib.autograd.grad((gx * gx).sum(), x)
        res.append((y.detach(), gx.detach(), ggx))
    assert_same(res[0], res[1])
    x = ember.tensor(np.resize(x1.astype('float64') + 0.05, (1, 1024)), requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda t: (t * 1).relu_() * t, (x,))
    for lib in (ember, torch):
        y = (lib.tensor(x0, requires_grad=True) * 1).relu_()
        y.mul_(2)
        with pytest.raises(RuntimeError, match='modified by an inplace operation'):
            y.sum().backward()
        with pytest.raises(RuntimeError, match='a leaf Variable that requires grad'):
            lib.tensor(x0, requires_grad=True).relu_()
        base = lib.tensor(x0).clone()
        base[0].relu_()
        assert np.array_equal(base.numpy(), np.concatenate([np.maximum(0, x0[:1]), x0[1:]]), equal_nan=True)


BAG_CASES = [([1, 1, 2, 1, 3, 3], [0, 3]), ([1, 2, 2, 4], [0, 2]), ([5, 4, 4, 0, 5], [0, 1, 3]),
             ([0, 2, 2, 4], [0, 0, 2])]


@pytest.mark.parametrize('mode', ['sum', 'mean'])
@pytest.mark.parametrize('pad', [None, 2])
@pytest.mark.parametrize('idx,offs', BAG_CASES)
def test_embedding_bag_scale_grad_by_freq(idx, offs, mode, pad):
    """Each lookup's weight gradient divided by its index's count in the whole input: PyTorch's documented rule,
    computed by PyTorch as embedding(scale_grad_by_freq=True) then per-bag sums/means (its 2.13 CPU embedding_bag
    kernel divides by a wrong count when an index repeats, pytorch/pytorch#190063; ember does not copy that)."""
    w0 = torch.randn(6, 3, dtype=torch.float64)
    g = torch.randn(len(offs), 3, dtype=torch.float64)
    w = w0.clone().requires_grad_()
    rows = torch.nn.functional.embedding(torch.tensor(idx), w, padding_idx=pad, scale_grad_by_freq=True)
    ends = offs[1:] + [len(idx)]
    bags = []
    for a, b in zip(offs, ends):
        keep = [k for k in range(a, b) if idx[k] != pad]
        part = rows[keep].sum(0)
        bags.append(part / max(len(keep), 1) if mode == 'mean' else part)
    (torch.stack(bags) * g).sum().backward()
    we = ember.tensor(w0.numpy(), requires_grad=True)
    out = ember.nn.functional.embedding_bag(ember.tensor(idx), we, ember.tensor(offs), mode=mode, padding_idx=pad,
                                            scale_grad_by_freq=True)
    (out * ember.tensor(g.numpy())).sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), torch.stack(bags).detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(we.grad.numpy(), w.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_embedding_bag_scale_grad_by_freq_module_matches_pytorch_where_its_counts_are_right():
    """nn.EmbeddingBag(scale_grad_by_freq=True) against PyTorch's own kernel on input whose counts it reads right
    (every repeated index sorts last), float32."""
    t = torch.nn.EmbeddingBag(7, 4, mode='sum', scale_grad_by_freq=True)
    e = ember.nn.EmbeddingBag(7, 4, mode='sum', scale_grad_by_freq=True)
    e.load_state_dict({'weight': ember.tensor(t.weight.detach().numpy())})
    idx, offs = [0, 6, 2, 6, 6, 3], [0, 2]
    t(torch.tensor(idx), torch.tensor(offs)).pow(2).sum().backward()
    e(ember.tensor(idx), ember.tensor(offs)).pow(2).sum().backward()
    assert_same(e.weight.grad, t.weight.grad)


@pytest.mark.parametrize('mode', ['sum', 'mean', 'max'])
@pytest.mark.parametrize('offs', [[0, 2, 4], [0, 3, 3], [0, 0, 1]])
def test_embedding_bag_include_last_offset_skips_indices_after_the_last_offset(mode, offs):
    """With include_last_offset=True the bags end at offsets[-1]; indices after it belong to no bag. PyTorch 2.13's
    CPU kernel is inconsistent there (sum skips them, mean counts them, max pools them, and the gradient of those
    rows is uninitialised memory), so the oracle is PyTorch on the indices up to offsets[-1]."""
    idx, w0 = [1, 2, 3, 4, 5, 6, 7], torch.randn(10, 3, dtype=torch.float64)
    g = torch.randn(len(offs) - 1, 3, dtype=torch.float64)
    w = w0.clone().requires_grad_()
    want = torch.nn.functional.embedding_bag(torch.tensor(idx[:offs[-1]]), w, torch.tensor(offs), mode=mode,
                                             include_last_offset=True)
    (want * g).sum().backward()
    we = ember.tensor(w0.numpy(), requires_grad=True)
    got = ember.nn.functional.embedding_bag(ember.tensor(idx), we, ember.tensor(offs), mode=mode,
                                            include_last_offset=True)
    (got * ember.tensor(g.numpy())).sum().backward()
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(we.grad.numpy(), w.grad.numpy(), rtol=1e-12)


def _bag_cases():
    rng, cases = np.random.default_rng(11), []
    for trial in range(90):
        n, d = int(rng.integers(1, 8)), int(rng.integers(1, 5))
        mode = ['sum', 'mean', 'max'][trial % 3]
        if trial % 4 == 0:      # 2-D input: a bag per row
            idx, offs, last = rng.integers(0, n, (int(rng.integers(1, 4)), int(rng.integers(1, 5)))), None, False
        else:                   # 1-D input with offsets (empty bags included), or with the last offset
            k = int(rng.integers(0, 10))
            idx = rng.integers(0, n, k)
            offs = np.sort(rng.integers(0, k + 1, int(rng.integers(1, 5))))
            offs[0], last = 0, bool(trial % 2)
            offs = np.r_[offs, k] if last else offs
        pad = int(rng.integers(-n, n)) if trial % 5 < 2 else None
        psw = rng.standard_normal(idx.shape) if mode == 'sum' and trial % 2 else None
        cases.append((mode, idx, offs, last, pad, psw, rng.standard_normal((n, d))))
    return cases


@pytest.mark.parametrize('case', _bag_cases(), ids=lambda c: f'{c[0]}-{np.shape(c[1])}')
def test_embedding_bag_matches_torch_on_fuzzed_bags(case):
    """embedding_bag's array path (every bag gathered at once, summed by reduceat, maxima by column with the first
    of ties, gradients scattered back by rows) against PyTorch in float64: empty bags, padding (negative too),
    per_sample_weights, 2-D input, include_last_offset; values, weight and per_sample_weights gradients."""
    mode, idx, offs, last, pad, psw, w = case
    res = []
    for L in (torch, ember):
        wt = L.tensor(w, requires_grad=True)
        pt = None if psw is None else L.tensor(psw, requires_grad=True)
        y = L.nn.functional.embedding_bag(L.tensor(idx), wt, None if offs is None else L.tensor(offs), mode=mode,
                                          padding_idx=pad, per_sample_weights=pt, include_last_offset=last)
        y.backward(L.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape))))
        res.append([y.detach().numpy(), wt.grad.numpy()] + ([] if pt is None else [pt.grad.numpy()]))
    for got, want in zip(res[1], res[0]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_embedding_bag_of_empty_rows_refused_as_pytorch():
    for L in (torch, ember):
        with pytest.raises(RuntimeError, match='step must be nonzero'):
            L.nn.functional.embedding_bag(L.zeros(3, 0, dtype=L.long), L.randn(5, 4))
