"""Defects found by running real programs (nanoGPT, pytorch/examples, pytorch-cifar, makemore) on ember,
each checked against PyTorch."""
import numpy as np
import pytest
import torch

import ember
from helpers import check

E = Ellipsis

# several ``...`` in one index: NumPy refuses, PyTorch reads each as the dims the other indices leave
_SEVERAL = [(E, E), (E, None, E), (0, E, 1, E), (E, 0, E), (E, slice(1, None), E),
            (E, E, E), (0, 0, 0, E, E), (E, E, slice(None)), (E, [1, 0], E, slice(0, 3)), (E, True, E)]


@pytest.mark.parametrize('idx', _SEVERAL, ids=str)
def test_getitem_several_ellipses(idx):
    check(lambda T, x: x[idx], (2, 3, 4))


@pytest.mark.parametrize('idx', [(E, E, E, 0), (None, E, None, E, None), (E, E, None), (None, E, E, None)], ids=str)
def test_getitem_several_ellipses_past_the_end(idx):
    with pytest.raises(IndexError) as t:
        torch.zeros(2, 3, 4)[idx]
    with pytest.raises(IndexError) as e:
        ember.zeros(2, 3, 4)[idx]
    assert str(e.value) == str(t.value)


@pytest.mark.parametrize('idx, shape', [((E, E), ()), ((E, None, E), (2, 3, 4, 1)), ((0, E, 1, E), (3,))],
                         ids=str)
def test_setitem_several_ellipses(idx, shape):
    def f(T, x, v):
        y = x * 1
        y[idx] = v
        return y
    check(f, (2, 3, 4), shape, name=False)     # check compares class names; CopySlices is torch::autograd::...


# (..., n, k) @ (k, m): b's gradient is one folded product (makemore part 5's x @ W on 3-D x)
@pytest.mark.parametrize('shapes', [[(2, 3, 4, 5), (5, 2)], [(3, 2, 4), (4,)], [(4, 3, 2), (2, 3)]], ids=str)
def test_matmul_stack_by_matrix_grads(shapes):
    check(lambda T, x, w: x @ w, *shapes, gradgrad=True)


def test_matmul_stack_by_matrix_noncontiguous():
    check(lambda T, x, w: x.transpose(0, 1) @ w, (3, 4, 5), (5, 2))


# a float size is refused, as PyTorch refuses it (pytorch-cifar's ShuffleNet passes out_planes / 4 to Conv2d)
@pytest.mark.parametrize('make', [lambda T: T.empty((4.0, 3)), lambda T: T.zeros(2, 3.5), lambda T: T.ones(2.0),
                                  lambda T: T.full((2.0,), 1.0), lambda T: T.zeros(3).reshape(3.0),
                                  lambda T: T.nn.Conv2d(3, 4.0, 1), lambda T: T.nn.Linear(3, 4.0)])
def test_float_size_refused(make):
    with pytest.raises(TypeError, match='must be tuple of ints'):
        make(torch)
    with pytest.raises(TypeError, match='must be tuple of ints'):
        make(ember)


def test_integer_like_sizes_accepted():
    for T in (torch, ember):
        assert tuple(T.zeros(np.int64(2), True).shape) == (2, 1)
        assert tuple(T.zeros(T.tensor(3)).shape) == (3,)


def _fn_name(t):
    return t.grad_fn.name()


# a write to the whole tensor (only ``...`` and full slices) is PyTorch's fill_/copy_ of the tensor itself
@pytest.mark.parametrize('idx', [E, slice(None), (E, E), slice(0, 100), (slice(None), E, slice(0, 3)), slice(1, None),
                                 0, (slice(None), None)], ids=str)
@pytest.mark.parametrize('value', ['scalar', 'zero-d', 'row'])
def test_setitem_whole_tensor_grad_fn(idx, value):
    names = []
    for T in (torch, ember):
        y = T.zeros(2, 3, requires_grad=True) * 1
        v = {'scalar': 2.0, 'zero-d': T.tensor(3.0, requires_grad=True), 'row': T.ones(3, requires_grad=True)}[value]
        y[idx] = v
        y.sum().backward()
        names.append((_fn_name(y), v.grad.tolist() if value != 'scalar' else None))
    assert names[0] == names[1]


def test_setitem_shape_mismatch_on_graph_is_runtime_error():
    for T in (torch, ember):
        y = T.zeros(2, 3, requires_grad=True) * 1
        with pytest.raises(RuntimeError):
            y[0] = T.ones(2, 3)


# a non-integer size: PyTorch's argument parser matches the first element, then unpacks the rest, so the message
# depends on where the bad element stands (pytorch-cifar's ShuffleNetG2 hits the first form through nn.Conv2d)
_BAD_SIZES = ['T.empty((4.0, 3))', 'T.empty(4.0, 3)', 'T.zeros(2, 3.5)', 'T.ones(2.0)', 'T.full((2.0,), 1.0)',
              'T.full((2, 2.0), 1.)', 'T.zeros(3).reshape(3.0)', 'T.zeros(3).reshape((3, 1.0))', 'T.nn.Linear(3, 4.0)',
              'T.randn(2.0)', 'T.rand((2, 2.5))', 'T.zeros(2, 3, 1.5)', 'T.zeros(3).expand(2.0)',
              'T.zeros(3).expand((2.0,))', 'T.zeros(3).new_zeros(2, 2.0)', 'T.zeros(3).new_ones((2.0,))',
              'T.zeros((2, np.float32(2)))', 'T.zeros([2, None])', 'T.zeros("a")', 'T.randint(5, (2.0,))',
              'T.zeros(3).view(2, 1.5)', 'T.zeros(3).repeat(2.0)', 'T.zeros(3).repeat(2, 1.0)', 'T.zeros(3).resize_(2.0)']


@pytest.mark.parametrize('expr', _BAD_SIZES)
def test_non_integer_size_error_as_pytorch(expr):
    msgs = []
    for T in (torch, ember):
        with pytest.raises(TypeError) as e:
            eval(expr, {'T': T, 'np': np})
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


def test_mnist_download_failure_as_torchvision(tmp_path, monkeypatch, capsys):
    """Offline, torchvision 0.28 prints nothing and raises 'Error downloading ...' listing each mirror's error
    (yunjey/pytorch-tutorial's MNIST scripts); ember gives the same text, then where to put the files."""
    import urllib.error
    import urllib.request
    from helpers import import_torchvision
    tv = import_torchvision()
    import ember.vision

    def offline(*a, **k):
        raise urllib.error.URLError('offline')
    monkeypatch.setattr(urllib.request, 'urlopen', offline)
    msgs = []
    for lib in (tv, ember.vision):
        with pytest.raises(RuntimeError) as e:
            lib.datasets.MNIST(str(tmp_path / lib.__name__), download=True)
        msgs.append(str(e.value))
    assert msgs[1].startswith(msgs[0]) and 'Without network access' in msgs[1]
    assert capsys.readouterr().out == ''


def _style_net(T, c=4):
    """fast_neural_style's TransformerNet in small: reflection-padded convs, affine InstanceNorm2d, a residual
    block, and an upsample-then-conv layer (nearest interpolate)."""
    nn = T.nn

    class ConvLayer(nn.Module):
        def __init__(self, cin, cout, k, stride, upsample=None):
            super().__init__()
            self.upsample = upsample
            self.pad, self.conv = nn.ReflectionPad2d(k // 2), nn.Conv2d(cin, cout, k, stride)

        def forward(self, x):
            if self.upsample:
                x = nn.functional.interpolate(x, mode='nearest', scale_factor=self.upsample)
            return self.conv(self.pad(x))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.in1 = ConvLayer(3, c, 9, 1), nn.InstanceNorm2d(c, affine=True)
            self.conv2, self.in2 = ConvLayer(c, 2 * c, 3, 2), nn.InstanceNorm2d(2 * c, affine=True)
            self.res, self.in3 = ConvLayer(2 * c, 2 * c, 3, 1), nn.InstanceNorm2d(2 * c, affine=True)
            self.up, self.in4 = ConvLayer(2 * c, c, 3, 1, upsample=2), nn.InstanceNorm2d(c, affine=True)
            self.out = ConvLayer(c, 3, 9, 1)

        def forward(self, x):
            y = T.relu(self.in1(self.conv1(x)))
            y = T.relu(self.in2(self.conv2(y)))
            y = self.in3(self.res(y)) + y
            y = T.relu(self.in4(self.up(y)))
            return self.out(y)
    return Net()


def _copy_params(src, dst):
    dst.load_state_dict({k: ember.tensor(v.detach().numpy().copy()) for k, v in src.state_dict().items()})


def test_fast_neural_style_net_step():
    """pytorch/examples fast_neural_style: the transformer net's output and every parameter gradient (float64),
    under its gram-matrix style loss."""
    torch.manual_seed(0)
    tnet = _style_net(torch).double()
    enet = _style_net(ember).double()
    _copy_params(tnet, enet)
    x = np.random.RandomState(0).rand(2, 3, 16, 16) * 255
    res = []
    for T, net in ((torch, tnet), (ember, enet)):
        y = net(T.tensor(x))
        f = y.view(2, 3, -1)
        gram = f.bmm(f.transpose(1, 2)) / (3 * 16 * 16)
        loss = T.nn.MSELoss()(gram, T.zeros_like(gram)) + T.nn.MSELoss()(y, T.tensor(x))
        loss.backward()
        res.append((y.detach().numpy(), [p.grad.numpy() for p in net.parameters()]))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-10, atol=1e-9)
    scale = max(np.abs(g).max() for g in res[0][1])     # a conv bias before InstanceNorm has a zero gradient
    for gt, ge in zip(res[0][1], res[1][1]):
        np.testing.assert_allclose(ge, gt, rtol=1e-8, atol=1e-10 * scale)


def test_word_language_model_transformer_mask():
    """pytorch/examples word_language_model: nn.TransformerEncoder (seq-first) under its float causal mask
    log(tril(ones)) (0 and -inf), in training (dropout 0) and eval, output and gradients (float64)."""
    res = []
    for T in (torch, ember):
        T.manual_seed(0)
        layer = T.nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0)
        enc = T.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False).double()
        res.append(enc)
    _copy_params(res[0], res[1])
    x = np.random.RandomState(1).randn(7, 3, 16)
    outs = []
    for T, enc in zip((torch, ember), res):
        mask = T.log(T.tril(T.ones(7, 7, dtype=T.float64)))
        xt = T.tensor(x, requires_grad=True)
        y = enc(xt, mask=mask)
        (y * T.tensor(np.cos(np.arange(y.numel())).reshape(y.shape))).sum().backward()
        enc.eval()
        with T.no_grad():
            ye = enc(T.tensor(x), mask=mask)
        outs.append((y.detach().numpy(), xt.grad.numpy(), ye.numpy(), [p.grad.numpy() for p in enc.parameters()]))
    for a, b in zip(outs[0][:3], outs[1][:3]):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-10)
    for gt, ge in zip(outs[0][3], outs[1][3]):
        np.testing.assert_allclose(ge, gt, rtol=1e-8, atol=1e-10 * np.abs(gt).max())


def _graph(t):
    """grad_fn names down the first edges, with each node's edge count (the graph's shape, roughly)."""
    out, fn = [], t.grad_fn
    while fn is not None:
        out.append((fn.name(), len(fn.next_functions)))
        fn = next((f for f, _ in fn.next_functions if f is not None), None)
    return out


@pytest.mark.parametrize('case', ['same', 'broadcast', 'cast', 'fresh'])
def test_copy_records_copy_backwards(case):
    """``t.copy_(src)`` under autograd is PyTorch's CopyBackwards (ember recorded t * 0 + src: AddBackward0),
    broadcasting and casting inside the node; the gradient all goes to src."""
    res = []
    for T in (torch, ember):
        x = T.tensor(np.arange(6.0).reshape(2, 3), dtype=T.float32, requires_grad=True)
        src = {'same': x * 3, 'broadcast': x[0] * 3, 'cast': x, 'fresh': x}[case]
        dst = T.empty(2, 3) if case == 'fresh' else T.zeros(2, 3, dtype=T.float64 if case == 'cast' else T.float32,
                                                               requires_grad=True) * 2
        y = dst.copy_(src)
        (y * T.arange(6.0).view(2, 3)).sum().backward()
        res.append((_graph(y), x.grad.tolist(), str(y.dtype)))
    assert res[0] == res[1]


@pytest.mark.parametrize('shapes', [((2, 3), (2,)), ((2, 3), (2, 2, 3))], ids=str)
def test_copy_shape_errors_under_autograd(shapes):
    msgs = []
    for T in (torch, ember):
        y = T.zeros(shapes[0], requires_grad=True) * 1
        with pytest.raises(RuntimeError) as e:
            y.copy_(T.ones(shapes[1]))
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


def test_unsafe_split_pieces_share_memory_but_are_not_views():
    """PyTorch's unsafe_split: the pieces alias the input's memory but autograd does not track them as views,
    so an in-place change to a piece keeps the input's grad_fn and each piece's own."""
    res = []
    for T in (torch, ember):
        x = T.arange(6.0, requires_grad=True)
        y = x * 1
        a, b = T.unsafe_split(y, 3)
        a.mul_(2)
        res.append((y.tolist(), y.grad_fn.name(), a.grad_fn.name(), b.grad_fn.name(), a._base is None))
    assert res[0] == res[1]


def test_meshgrid_without_indexing_warns():
    ember._warn._WARNED_ONCE.discard('torch.meshgrid: in an upcoming release, it will be required to pass the '
                                     'indexing argument.')   # TORCH_WARN_ONCE: once a process
    for T in (torch, ember):
        with pytest.warns(UserWarning, match='it will be required to pass the indexing argument'):
            a, b = T.meshgrid(T.arange(3), T.arange(2))
        assert a.tolist() == [[0, 0], [1, 1], [2, 2]] and b.tolist() == [[0, 1], [0, 1], [0, 1]]


_WARNING_CASES = {
    'std of one element': lambda T: T.ones(1).std(),
    'var correction': lambda T: T.ones(3).var(correction=5),
    'range': lambda T: T.range(0, 3),
    'out resized': lambda T: T.add(T.ones(2), 1, out=T.empty(5)),
    'softmax without dim': lambda T: T.nn.functional.softmax(T.ones(2, 3)),
    'mse target size': lambda T: T.nn.functional.mse_loss(T.ones(2, 3), T.ones(3)),
    'copy construct': lambda T: T.tensor(T.ones(2)),
    'random_ out of bounds': lambda T: T.zeros(2).random_(0, 2 ** 25),
}


@pytest.mark.parametrize('case', list(_WARNING_CASES))
def test_warnings_point_at_the_calling_line(case):
    """A warning PyTorch raises from C++ (or with a stacklevel reaching the caller) is reported at the line
    that called torch, as in a REINFORCE script's ``returns.std()`` on one reward; ember reported one of its
    own frames (ops/_util.py, ops/_out.py, cli.py) at a fixed stacklevel."""
    import warnings
    got = []
    for T in (torch, ember):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            _WARNING_CASES[case](T)
        got.append([(x.category.__name__, x.filename, str(x.message).split(' (Triggered internally')[0]) for x in w])
    assert got[0] == got[1] and got[0]


@pytest.mark.parametrize('expr', ['q * 2', '2 * q', 'q / 2', 'q + 2', 'q - 2', '2 - q', 'torch.mul(q, 3)', 'q.div(4)',
                                  'q.mul(2.5).add(1)'])
def test_second_backward_through_a_number_operand(expr):
    """PyTorch saves a number operand that the gradient needs (mul, div: the wrapped 0-d tensor), so a second
    backward without retain_graph raises; add and sub save nothing and do not. ember kept numbers outside
    its saved tensors and let the second backward through."""
    raised = []
    for T in (torch, ember):
        q = T.ones(2, requires_grad=True)
        r = eval(expr, {'q': q, 'torch': T}).sum()
        r.backward()
        try:
            r.backward()
            raised.append(None)
        except RuntimeError as e:
            raised.append(str(e))
    assert raised[0] == raised[1]


def test_transpose_deprecations_warn_once_per_process():
    """x.T on a tensor that is not 2-d (and .T/.mT/.mH/.H on 0-d) warns once per process in PyTorch
    (TORCH_WARN_ONCE), whatever the warning filters; run in fresh interpreters, as the first call decides."""
    import subprocess
    import sys
    code = ('import warnings, {lib} as T\nwarnings.simplefilter("always")\n'
            'with warnings.catch_warnings(record=True) as w:\n'
            '    warnings.simplefilter("always")\n'
            '    for i in range(3):\n'
            '        T.ones(2, 3, 4).T; T.tensor(1.).mT; T.tensor(1.).H\n'
            'print([str(x.message).split(" (Triggered")[0] for x in w])')
    out = [subprocess.run([sys.executable, '-c', code.format(lib=lib)], capture_output=True, text=True).stdout
           for lib in ('torch', 'ember')]
    assert out[0] == out[1] and out[0].count("'") >= 6


def _mdn(T, seed=0):
    """A mixture density network's head in the style of the MDN tutorials: a mixture of K 2-d Gaussians per
    input through MixtureSameFamily(Categorical(logits), Independent(Normal(mu, sigma), 1))."""
    T.manual_seed(seed)
    net = T.nn.Sequential(T.nn.Linear(3, 16), T.nn.Tanh(), T.nn.Linear(16, 3 * 5)).double()
    return net


def test_mixture_density_network_step():
    """MixtureSameFamily over Independent Normals: the negative log-likelihood, every parameter's gradient
    (float64) and, under one seed, the samples, as PyTorch's."""
    D = {torch: torch.distributions, ember: ember.distributions}
    nets = {T: _mdn(T) for T in (torch, ember)}
    _copy_params(nets[torch], nets[ember])
    rng = np.random.RandomState(3)
    x, y = rng.randn(6, 3), rng.randn(6, 2)
    res = []
    for T in (torch, ember):
        out = nets[T](T.tensor(x))
        logits, mu, log_sigma = out[:, :3], out[:, 3:9].reshape(6, 3, 2), out[:, 9:].reshape(6, 3, 2)
        mix = D[T].MixtureSameFamily(D[T].Categorical(logits=logits),
                                     D[T].Independent(D[T].Normal(mu, log_sigma.exp()), 1))
        nll = -mix.log_prob(T.tensor(y)).mean()
        nll.backward()
        T.manual_seed(7)
        res.append((nll.item(), [p.grad.numpy() for p in nets[T].parameters()], mix.sample((2,)).numpy(),
                    mix.mean.detach().numpy(), repr(mix)))
    assert abs(res[0][0] - res[1][0]) < 1e-12 and res[0][4] == res[1][4]
    for a, b in zip(res[0][1], res[1][1]):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res[1][2], res[0][2], rtol=1e-12)
    np.testing.assert_allclose(res[1][3], res[0][3], rtol=1e-12)


def _gat_layer(T, x, adj, W, a, n_heads, n_hidden):
    """pytorch/examples gat's GraphAttentionLayer forward (eval: dropout off), heads averaged."""
    F = T.nn.functional
    h = T.mm(x, W).view(x.shape[0], n_heads, n_hidden).permute(1, 0, 2)
    e = F.leaky_relu(T.matmul(h, a[:, :n_hidden, :]) + T.matmul(h, a[:, n_hidden:, :]).mT, 0.2)
    e = T.where(adj > 0, e, -9e16 * T.ones_like(e))
    return T.matmul(F.softmax(e, dim=-1), h).mean(dim=0)


def test_gat_layer_dense_attention():
    """pytorch/examples gat: attention scores from a broadcast sum with .mT, masked by the adjacency through
    torch.where, softmax rows, heads averaged, ELU then log_softmax: output and gradients (float64)."""
    rng = np.random.RandomState(5)
    n = 7
    adj = (rng.rand(n, n) < 0.4) | np.eye(n, dtype=bool)
    arrays = [rng.randn(n, 5), rng.randn(5, 3 * 4), rng.randn(3, 8, 1), rng.randn(4, 2), rng.randn(1, 4, 1)]
    target = rng.randint(0, 2, n)
    res = []
    for T in (torch, ember):
        x, W1, a1, W2, a2 = [T.tensor(v, requires_grad=True) for v in arrays]
        A = T.tensor(adj.astype(np.int64))
        h = T.nn.functional.elu(_gat_layer(T, x, A, W1, a1, 3, 4))
        out = T.nn.functional.log_softmax(_gat_layer(T, h, A, W2, a2, 1, 2), dim=1)
        T.nn.functional.nll_loss(out, T.tensor(target)).backward()
        res.append((out.detach().numpy(), [t.grad.numpy() for t in (x, W1, a1, W2, a2)]))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-10, atol=1e-12)
    for a, b in zip(res[0][1], res[1][1]):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)


def _load_error(T, data):
    import io
    import traceback
    try:
        T.load(io.BytesIO(data))
    except Exception as e:
        return traceback.format_exception_only(type(e), e)[-1]
    return None


def test_load_refusals_print_as_pytorch():
    """A corrupt checkpoint's traceback ends as PyTorch's: RuntimeError with PyTorch's reader's words for a bad
    legacy magic number, a file too short to be a zip archive or one without its central directory, and
    _pickle.UnpicklingError for what the unpickler refuses (ember printed ember.serialization.UnpicklingError)."""
    import io
    buf = io.BytesIO()
    torch.save({'w': torch.ones(3)}, buf)
    full = buf.getvalue()
    for data in (b'\x80\x02}q\x00.garbage', b'PK\x03\x04garbage', full[:len(full) // 2]):
        assert _load_error(ember, data) == _load_error(torch, data)
    for data in (b'not a pickle at all', b'\x80\x02]q\x00(cos\nsystem\nq\x01e.'):
        assert _load_error(ember, data).split(':')[0] == _load_error(torch, data).split(':')[0] == \
            '_pickle.UnpicklingError'
