"""Real public programs run on ember against PyTorch (session 31): the torchvision classification reference
(references/classification: utils.py's SmoothedValue/MetricLogger/accuracy/ExponentialMovingAverage,
set_weight_decay, transforms.py's RandomMixup/RandomCutmix and transforms.v2's MixUp/CutMix feeding
CrossEntropyLoss(label_smoothing) with soft targets, warmup LinearLR chained to CosineAnnealingLR by SequentialLR)
pytorch/examples' mnist_forward_forward (its device probe ``torch.xpu.is_available()``), siamese_network and
time_sequence_prediction, the names their newer distributed scripts and lucidrains' x-transformers import
(``torch.distributed.get_default_backend_for_device``, ``torch.accelerator.device_index``,
``torch.utils._pytree.tree_map``, ``torch.utils.model_zoo.load_url``), and the Fourier Neural Operator (zongyi-li/fourier_neural_operator fourier_1d/2d.py: complex
``nn.Parameter`` weights, rfft/irfft, Adam on complex params). Each is reduced to its essential lines, runs with the same seed on both libraries and
is compared value for value."""
import collections
import importlib

import numpy as np
import pytest
import torch

import ember
from ember import aliasing
from helpers import assert_same, import_torchvision


def _np(x):
    return x.detach().numpy()


# -- torchvision references/classification: soft targets of another dtype -------------------------------------
@pytest.mark.parametrize('xdt,tdt', [('float64', 'float32'), ('float32', 'float64'), ('float32', 'float32')])
@pytest.mark.parametrize('smoothing', [0.0, 0.1])
@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
@pytest.mark.parametrize('weighted', [False, True])
def test_cross_entropy_soft_target_of_another_dtype(xdt, tdt, smoothing, reduction, weighted):
    """transforms.v2.MixUp/CutMix make float32 one-hot mixtures; a model in float64 (or the reverse) gives
    cross_entropy a target of another dtype. PyTorch smooths the target in its own dtype and multiplies it with
    the log-probabilities: the loss has the promoted dtype, each gradient its input's dtype."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 5, 3))
    p = rng.random((4, 5, 3))
    t = p / p.sum(1, keepdims=True)
    w = rng.random(5) + 0.5
    res = []
    for lib in (torch, ember):
        xi = lib.tensor(x, dtype=getattr(lib, xdt), requires_grad=True)
        ti = lib.tensor(t, dtype=getattr(lib, tdt), requires_grad=True)
        wi = lib.tensor(w, dtype=getattr(lib, tdt)) if weighted else None
        loss = lib.nn.functional.cross_entropy(xi, ti, weight=wi, label_smoothing=smoothing, reduction=reduction)
        (loss * lib.arange(1.0, loss.numel() + 1).reshape(loss.shape)).sum().backward()
        res.append((loss, xi.grad, ti.grad))
    for name, e, t_ in zip(('loss', 'input grad', 'target grad'), res[1], res[0]):
        assert str(e.dtype) == str(t_.dtype), (name, e.dtype, t_.dtype)
        np.testing.assert_allclose(_np(e), _np(t_), rtol=1e-5, atol=1e-6, err_msg=name)


def test_cross_entropy_soft_target_gradients_against_finite_differences():
    rng = np.random.default_rng(1)
    x = ember.tensor(rng.normal(size=(3, 4)), requires_grad=True)
    t = ember.tensor(rng.dirichlet(np.ones(4), 3), dtype=ember.float32)
    fn = ember.nn.functional.cross_entropy
    assert ember.autograd.gradcheck(lambda x: fn(x, t, label_smoothing=0.1), (x,))
    t64 = ember.tensor(rng.dirichlet(np.ones(4), 3), requires_grad=True)
    assert ember.autograd.gradcheck(lambda x, t: fn(x, t, label_smoothing=0.2, reduction='none'), (x, t64))


def _mixup_training(T, v2, steps=4):
    """references/classification/train.py's inner loop on a float64 model: v2.RandomChoice of CutMix and MixUp,
    CrossEntropyLoss(label_smoothing=0.1), SGD nesterov with clip_grad_norm_, the EMA model and the warmup
    schedule chained by SequentialLR."""
    T.manual_seed(0)
    T.set_default_dtype(T.float64)
    try:
        model = T.nn.Sequential(T.nn.Conv2d(3, 4, 3), T.nn.BatchNorm2d(4), T.nn.ReLU(),
                                T.nn.AdaptiveAvgPool2d(1), T.nn.Flatten(), T.nn.Linear(4, 10))
        opt = T.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4, nesterov=True)
        warm = T.optim.lr_scheduler.LinearLR(opt, start_factor=0.01, total_iters=2)
        main = T.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps - 2)
        sched = T.optim.lr_scheduler.SequentialLR(opt, schedulers=[warm, main], milestones=[2])
        ema = T.optim.swa_utils.AveragedModel(
            model, 'cpu', lambda a, m, n: 0.01 * a + 0.99 * m, use_buffers=True)
        mix = v2.RandomChoice([v2.CutMix(alpha=1.0, num_classes=10), v2.MixUp(alpha=0.2, num_classes=10)])
        crit = T.nn.CrossEntropyLoss(label_smoothing=0.1)
        X, Y = T.randn(8, 3, 8, 8), T.randint(0, 10, (8,))
        out = []
        for _ in range(steps):
            image, target = mix(X, Y)
            loss = crit(model(image), target)
            opt.zero_grad()
            loss.backward()
            T.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            ema.update_parameters(model)
            sched.step()
            out.append((str(target.dtype), loss.item(), sched.get_last_lr()[0]))
        ema.eval()
        return out, ema(X).sum().item()
    finally:
        T.set_default_dtype(T.float32)


def test_classification_reference_mixup_training():
    import_torchvision()
    want = _mixup_training(torch, importlib.import_module('torchvision.transforms.v2'))
    with aliasing.as_torch():
        got = _mixup_training(ember, importlib.import_module('torchvision.transforms.v2'))
    for (gd, gl, glr), (wd, wl, wlr) in zip(got[0], want[0]):
        assert gd == wd and glr == pytest.approx(wlr, rel=1e-12) and gl == pytest.approx(wl, rel=1e-10)
    assert got[1] == pytest.approx(want[1], rel=1e-10)


# -- pytorch/examples mnist_forward_forward: the device probe --------------------------------------------------
_XPU = ['is_available', 'device_count', 'is_initialized', 'is_bf16_supported', 'memory_allocated',
        'max_memory_allocated', 'memory_reserved', 'empty_cache', 'manual_seed_all', 'seed', 'synchronize',
        'current_device', 'get_device_name', 'set_device']


@pytest.mark.parametrize('name', _XPU)
def test_xpu_answers_as_pytorch_without_xpu(name):
    """``use_xpu = not args.no_xpu and torch.xpu.is_available()`` (mnist_forward_forward, and the other
    pytorch/examples that pick cuda, xpu, mps or cpu): ember has no XPU, as a PyTorch built without it."""
    def call(lib):
        fn = getattr(lib.xpu, name)
        args = (0,) if name in ('set_device', 'manual_seed_all') else ()
        try:
            return fn(*args)
        except Exception as exc:  # noqa: BLE001 (the error type is the answer)
            return type(exc).__name__
    assert call(ember) == call(torch)


def test_forward_forward_layer_training():
    """mnist_forward_forward's Layer (an nn.Linear subclass whose ``train`` is its own training loop) and
    overlay_y_on_x (``x_[range(n), y] = x.max()``), trained a few Adam steps on both libraries."""
    def run(T):
        T.manual_seed(1)
        device = T.device('cuda' if T.cuda.is_available() else 'xpu' if T.xpu.is_available() else 'cpu')

        def overlay_y_on_x(x, y, classes=10):
            x_ = x.clone()
            x_[:, :classes] *= 0.0
            x_[range(x.shape[0]), y] = x.max()
            return x_

        class Layer(T.nn.Linear):
            def __init__(self, d_in, d_out):
                super().__init__(d_in, d_out)
                self.relu = T.nn.ReLU()
                self.opt = T.optim.Adam(self.parameters(), lr=0.03)

            def forward(self, x):
                x_direction = x / (x.norm(2, 1, keepdim=True) + 1e-4)
                return self.relu(T.mm(x_direction, self.weight.T) + self.bias.unsqueeze(0))

            def train(self, x_pos, x_neg):
                losses = []
                for _ in range(5):
                    g_pos = self.forward(x_pos).pow(2).mean(1)
                    g_neg = self.forward(x_neg).pow(2).mean(1)
                    loss = T.log1p(T.exp(T.cat([-g_pos + 2.0, g_neg - 2.0]))).mean()
                    self.opt.zero_grad()
                    loss.backward()
                    self.opt.step()
                    losses.append(loss.item())
                return losses, self.forward(x_pos).detach()

        x = T.randn(16, 30, dtype=T.float64)
        y = T.randint(0, 10, (16,))
        layer = Layer(30, 8).to(device).double()
        losses, h = layer.train(overlay_y_on_x(x, y), overlay_y_on_x(x, (y + 1) % 10))
        return str(device), losses, h
    want, got = run(torch), run(ember)
    assert got[0] == want[0]
    np.testing.assert_allclose(got[1], want[1], rtol=1e-10)
    assert_same(got[2], want[2], atol=1e-10, rtol=1e-9)


# -- zongyi-li/fourier_neural_operator: complex parameters ------------------------------------------------------
def _spectral_conv_1d(T, modes=3, width=4, n=16):
    """fourier_1d.py's SpectralConv1d with its complex weights, under a few Adam steps on an LpLoss."""
    class SpectralConv1d(T.nn.Module):
        def __init__(self, in_channels, out_channels, modes1):
            super().__init__()
            self.scale = (1 / (in_channels * out_channels))
            self.out_channels, self.modes1 = out_channels, modes1
            self.weights1 = T.nn.Parameter(self.scale * T.rand(in_channels, out_channels, modes1, dtype=T.cfloat))

        def forward(self, x):
            x_ft = T.fft.rfft(x)
            out_ft = T.zeros(x.shape[0], self.out_channels, x.size(-1) // 2 + 1, dtype=T.cfloat)
            out_ft[:, :, :self.modes1] = T.einsum("bix,iox->box", x_ft[:, :, :self.modes1], self.weights1)
            return T.fft.irfft(out_ft, n=x.size(-1))

    T.manual_seed(0)
    conv = SpectralConv1d(width, width, modes)
    opt = T.optim.Adam(conv.parameters(), lr=0.01, weight_decay=1e-4)
    x = T.randn(2, width, n)
    y = T.cumsum(x, -1) / n
    losses = []
    for _ in range(3):
        opt.zero_grad()
        out = conv(x)
        loss = T.mean(T.norm((out - y).reshape(2, -1), 2, 1) / T.norm(y.reshape(2, -1), 2, 1))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    w = conv.weights1
    return losses, w, opt.state[w]['exp_avg_sq'], repr(w)[:22]


def test_fourier_neural_operator_complex_parameters():
    """``nn.Parameter(scale * torch.rand(..., dtype=torch.cfloat))`` was refused (only real dtypes passed), and
    Adam's second moment of a complex param was the complex square of its gradient; PyTorch updates a complex
    param through view_as_real (real and imaginary parts as separate entries)."""
    want, got = _spectral_conv_1d(torch), _spectral_conv_1d(ember)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5)
    for e, t in zip(got[1:3], want[1:3]):
        assert str(e.dtype) == str(t.dtype) == 'torch.complex64'
        np.testing.assert_allclose(_np(e), _np(t), rtol=1e-4, atol=1e-9)
    assert got[3] == want[3] == 'Parameter containing:\n'


_OPTIMIZERS = [('SGD', dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
               ('Adam', dict(amsgrad=True, weight_decay=0.1)), ('AdamW', {}), ('Adamax', {}), ('NAdam', {}),
               ('RAdam', {}), ('RMSprop', dict(momentum=0.5, centered=True)), ('Adagrad', {}), ('Adadelta', {}),
               ('ASGD', {}), ('Rprop', {})]


@pytest.mark.parametrize('name,kw', _OPTIMIZERS, ids=[n for n, _ in _OPTIMIZERS])
def test_optimizers_step_complex_params_as_pairs_of_reals(name, kw):
    """Every torch.optim optimizer treats a complex param as its view_as_real (Rprop's step sizes start at lr
    for both parts)."""
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(3, 4)) + 1j * rng.normal(size=(3, 4))
    x = rng.normal(size=(5, 3)) + 1j * rng.normal(size=(5, 3))
    res = []
    for lib in (torch, ember):
        w = lib.nn.Parameter(lib.tensor(w0, dtype=lib.complex64))
        opt = getattr(lib.optim, name)([w], **kw)
        for _ in range(4):
            opt.zero_grad()
            (lib.tensor(x, dtype=lib.complex64) @ w).abs().pow(2).sum().backward()
            opt.step()
        res.append(w.detach().numpy().copy())
    np.testing.assert_allclose(res[1], res[0], rtol=1e-5, atol=1e-6)


# -- names real programs import: pytorch/examples' distributed scripts, x-transformers, older model code ---------
@pytest.mark.parametrize('device', ['cpu', 'cuda', 'xpu', 'mps', 'cuda:1', 'meta', 'bogus'])
def test_default_backend_for_device(device):
    """distributed/FSDP2/example.py and rpc/ddp_rpc: ``backend = torch.distributed.get_default_backend_for_device(
    device)`` before ``init_process_group(backend)``."""
    def call(lib):
        try:
            return lib.distributed.get_default_backend_for_device(device)
        except Exception as exc:  # noqa: BLE001 (the error type is the answer)
            return type(exc).__name__
    assert call(ember) == call(torch)
    assert ember.distributed.get_default_backend_for_device(ember.device('cpu')) == 'gloo'


@pytest.mark.parametrize('index', [None, 0])
def test_accelerator_device_index(index):
    """``with torch.accelerator.device_index(rank):`` (rpc/ddp_rpc): a no-op for None; with no accelerator an
    index raises PyTorch's RuntimeError on entering."""
    def call(lib):
        try:
            with lib.accelerator.device_index(index):
                return 'entered'
        except RuntimeError as exc:
            return str(exc)
    assert call(ember) == call(torch)


_P = collections.namedtuple('_P', 'x y')
_TREES = [
    ('nested', lambda p: p.tree_map(lambda x: x * 10, (1, [2, {'k': 3}], _P(4, 5), 6))),
    ('several', lambda p: p.tree_map(lambda x, y: x + y, (1, [2]), (10, [20]))),
    ('dict keys', lambda p: p.tree_map(lambda x, y: x + y, {'a': 1, 'b': 2}, {'b': 20, 'a': 10})),
    ('OrderedDict', lambda p: p.tree_map(lambda x: x + 1, collections.OrderedDict(b=1, a=2))),
    ('defaultdict', lambda p: p.tree_map(lambda x: x + 1, collections.defaultdict(int, b=1))),
    ('deque', lambda p: p.tree_map(lambda x: x + 1, collections.deque([1, 2], maxlen=3))),
    ('leaves', lambda p: p.tree_leaves({'b': [1, (2, None)], 'a': 3})),
    ('is_leaf', lambda p: p.tree_map(len, [[1], [2, 3]], is_leaf=lambda t: isinstance(t, list) and (
        not t or not isinstance(t[0], list)))),
    ('all/any', lambda p: (p.tree_all(lambda x: x > 0, [1, (2, 3)]), p.tree_any(lambda x: x > 2, [1, (2, 3)]))),
    ('in place', lambda p: (lambda seen: (p.tree_map_(seen.append, [1, (2, 3)]), seen))([])),
    ('structure', lambda p: p.tree_unflatten([5, 6, 7], p.tree_structure([1, {'q': 2, 'p': (3,)}]))),
    ('arity', lambda p: p.tree_map(lambda x, y: x, (1, 2), (1,))),
    ('node type', lambda p: p.tree_map(lambda x, y: x, (1, 2), [1, 2])),
    ('keys', lambda p: p.tree_map(lambda x, y: x, {'a': 1}, {'b': 1})),
]


@pytest.mark.parametrize('name,fn', _TREES, ids=[n for n, _ in _TREES])
def test_pytree_tree_map(name, fn):
    """x-transformers imports ``tree_flatten, tree_unflatten, tree_map`` from torch.utils._pytree (ember had the
    first two only, so its import failed): results and mismatch errors as PyTorch's."""
    def call(p):
        try:
            return repr(fn(p))
        except ValueError as exc:
            return str(exc)
    import torch.utils._pytree as tp
    ep = importlib.import_module('ember.utils._pytree')
    assert call(ep) == call(tp)


def test_model_zoo_load_url():
    """``from torch.utils import model_zoo; model_zoo.load_url(url)`` (older model code): hub's loader."""
    with aliasing.as_torch():
        from torch.utils import model_zoo
    import torch.utils.model_zoo as torch_model_zoo
    assert model_zoo.load_url is ember.hub.load_state_dict_from_url
    assert torch_model_zoo.load_url is torch.hub.load_state_dict_from_url


def test_check_forgets_an_alias_the_module_rebinds(tmp_path):
    """lucidrains' x-transformers training scripts: ``import torch.optim as optim`` then ``optim =
    torch.optim.Adam(...)`` and ``optim.step()``; ``ember run --check`` listed torch.optim.step and
    torch.optim.zero_grad as missing. A module-level assignment (not one in a class body) ends the alias after its
    value is read."""
    from ember import _usage_check as _check
    script = tmp_path / 'train.py'
    script.write_text('import torch.optim as optim\nimport torch.nn.functional as F\nimport torch\n'
                      'optim = optim.Adam([torch.zeros(1)])\noptim.step()\nF.no_such_fn()\n'
                      'for F in [1]:\n    F.bit_length()\nclass A:\n    torch = 3\ntorch.bogus_name\n')
    missing, checked, errors = _check.check_sources(_check.sources_of(str(script)))
    assert [name for name, _ in missing] == ['torch.nn.functional.no_such_fn', 'torch.bogus_name'] and not errors
