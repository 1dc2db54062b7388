"""The tools PyTorch users bolt onto their models (session 35), run under ``ember.aliasing.as_torch()`` on a small
CNN and a small MLP with PyTorch's seed: captum 0.9 (IntegratedGradients, Saliency, DeepLift, GradientShap,
NoiseTunnel, LayerGradCam...), grad-cam 1.5.7, torchviz 0.0.3, fvcore, thop, ptflops, tensorboard's SummaryWriter,
torch.utils.flop_counter and the profiler. Each test is the lines of the library that stopped on ember or printed
something else, reduced; the libraries are not needed here."""
import collections
import importlib

import numpy as np
import pytest
import torch

import ember


def _flop_counter(lib):
    return importlib.import_module(f'{lib.__name__}.utils.flop_counter').FlopCounterMode


def test_future_is_torch_future():
    """captum/attr/_core/feature_ablation.py: ``isinstance(initial_eval, torch.Future)`` on the model's output."""
    for lib in (torch, ember):
        fut = lib.futures.Future()
        assert isinstance(fut, lib.Future) and not isinstance(lib.ones(1), lib.Future)
        fut.set_result(3)
        assert fut.wait() == 3


def _models(lib):
    """The lane's small MLP and CNN, and an attention block with the products FlopCounterMode counts (PyTorch's
    CPU build counts none for scaled_dot_product_attention)."""
    nn, F = lib.nn, lib.nn.functional

    class Att(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv, self.proj = nn.Linear(8, 24), nn.Linear(8, 8)
            self.w = nn.Parameter(lib.randn(8, 3))

        def forward(self, x):
            q, k, v = self.qkv(x).view(2, 5, 3, 2, 4).permute(2, 0, 3, 1, 4)
            a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            q3, k3 = q.reshape(4, 5, 4), k.reshape(4, 5, 4).transpose(1, 2)
            s = lib.bmm(q3, k3)
            s2 = lib.baddbmm(s, q3, k3) + lib.addmm(lib.zeros(5, 5), s[0], s[1]) + lib.mm(s[0], s[1]) + s[2] @ s[3]
            y = a.transpose(1, 2).reshape(2, 5, 8)
            e = lib.einsum('bij,bkj->bik', y, y) + lib.einsum('bij,jk->bik', y, self.w).sum(-1, keepdim=True)
            return self.proj(y).sum() + s2.sum() + lib.matmul(y, y.transpose(1, 2)).sum() + e.sum()

    mlp = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Sequential(nn.Linear(8, 4), nn.Sigmoid()), nn.Linear(4, 2))
    cnn = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 8, 3, groups=2),
                        nn.ConvTranspose2d(8, 4, 2, stride=2), nn.Flatten(), nn.Linear(64, 3))
    return {'mlp': (mlp, (3, 5)), 'cnn': (cnn, (2, 3, 8, 8)), 'att': (Att(), (2, 5, 8))}


def _flops(lib, name, backward):
    lib.manual_seed(0)
    model, shape = _models(lib)[name]
    x = lib.randn(*shape)
    with _flop_counter(lib)(display=False) as fc:
        out = model(x)
        if backward:
            out.sum().backward()
    counts = {mod: {str(op): n for op, n in ops.items()} for mod, ops in fc.get_flop_counts().items()}
    return fc.get_total_flops(), counts


@pytest.mark.parametrize('backward', [False, True])
@pytest.mark.parametrize('name', ['mlp', 'cnn', 'att'])
def test_flop_counter_counts_as_pytorch(name, backward):
    """lightning/pytorch/utilities/model_summary/model_summary.py: ``with FlopCounterMode(display=False) as mode:
    model(example_input_array)``, then ``get_total_flops()`` and each module's ``get_flop_counts()`` (ember refused
    to enter the mode): the same totals per module and aten op, backward included. (A module's share of the backward
    follows the order the engine runs the nodes in, as PyTorch's module tracker does; where a tensor feeds several
    branches, as in 'att', ember's order differs from PyTorch's and only the totals are compared.)"""
    mine, theirs = _flops(ember, name, backward), _flops(torch, name, backward)
    assert mine[0] == theirs[0] and mine[1]['Global'] == theirs[1]['Global']
    if not (backward and name == 'att'):
        assert mine == theirs


@pytest.mark.parametrize('shapes', [((3, 4), (2, 4, 5)), ((4,), (2, 4, 5)), ((2, 3, 4), (4,)), ((2, 3, 4), (1, 4, 5)),
                                    ((2, 1, 3, 4), (5, 4, 2)), ((4,), (4, 5)), ((3, 4), (4,))])
@pytest.mark.parametrize('grads', [(False, False), (True, False), (False, True), (True, True)])
def test_flop_counter_matmul_folds_as_pytorch(shapes, grads):
    """PyTorch's matmul folds a stack into one mm (or mv, not counted) by the operands' requires_grad."""
    got = []
    for lib in (ember, torch):
        a, b = (lib.randn(*s, requires_grad=g) for s, g in zip(shapes, grads))
        with _flop_counter(lib)(display=False) as fc:
            y = a @ b
            if any(grads):
                y.sum().backward()
        got.append({str(op): n for op, n in fc.get_flop_counts().get('Global', {}).items()})
    assert got[0] == got[1]


def test_flop_counter_table(capsys):
    """FlopCounterMode(display=True) prints its table on exit; PyTorch 2.13 printed this one for the MLP through
    tabulate 0.10 (which drops the indentation PyTorch asks it to keep). ``mods`` warns as PyTorch's does."""
    ember.manual_seed(0)
    mlp, shape = _models(ember)['mlp']
    with pytest.warns(UserWarning, match='mods argument is not needed anymore'):
        mode = _flop_counter(ember)(mlp, depth=3)
    with mode:
        mlp(ember.randn(*shape))
    assert capsys.readouterr().out == (
        'Module            FLOP    % Total\n'
        '--------------  ------  ---------\n'
        'Sequential         480    100.00%\n'
        '- aten.addmm       480    100.00%\n'
        'Sequential.0       240     50.00%\n'
        '- aten.addmm       240     50.00%\n'
        'Sequential.2       192     40.00%\n'
        '- aten.addmm       192     40.00%\n'
        'Sequential.2.0     192     40.00%\n'
        '- aten.addmm       192     40.00%\n'
        'Sequential.3        48     10.00%\n'
        '- aten.addmm        48     10.00%\n')


def test_module_tracker_parents():
    """torch.utils.module_tracker (FlopCounterMode's): the modules running, by path, forward and backward."""
    def run(lib):
        tracker = importlib.import_module(f'{lib.__name__}.utils.module_tracker').ModuleTracker()
        seen = []

        class Probe(lib.nn.Module):
            def forward(self, x):
                seen.append(sorted(tracker.parents))
                return x.exp()
        model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Sequential(Probe()))
        x = lib.ones(1, 2)
        with tracker:
            y = model(x)
            y.register_hook(lambda g: seen.append(sorted(tracker.parents) + [tracker.is_bw]))
            y.sum().backward()
            seen.append(sorted(tracker.parents) + [tracker.is_bw])
        return seen
    assert run(ember) == run(torch)


def test_fvcore_imports_quantization_bases():
    """fvcore/common/checkpoint.py: ``from torch.ao.quantization import FakeQuantizeBase, ObserverBase`` (abstract
    modules its checkpointer tests modules against); fvcore/nn/jit_analysis.py: ``from torch.jit import
    _get_trace_graph, TracerWarning``, which ember names and refuses calling (it has no TorchScript graphs, so
    FlopCountAnalysis stops there with NotImplementedError, and parameter_count_table works)."""
    got = []
    for lib in (torch, ember):
        q = importlib.import_module(f'{lib.__name__}.ao.quantization')

        class Fake(q.FakeQuantizeBase):
            def forward(self, x):
                return x

            def calculate_qparams(self, **kwargs):
                return 1
        fake = Fake()
        fake.disable_fake_quant()
        with pytest.raises(TypeError, match='abstract'):
            q.ObserverBase(lib.float32)
        got.append([issubclass(q.ObserverBase, lib.nn.Module), sorted(q.ObserverBase.__abstractmethods__),
                    {k: v.tolist() for k, v in fake.named_buffers()}, str(fake.observer_enabled.dtype),
                    isinstance(lib.nn.Linear(1, 1), (q.ObserverBase, q.FakeQuantizeBase))])
    assert got[0] == got[1]
    from ember.jit import TracerWarning, _get_trace_graph   # noqa: F401
    with pytest.raises(NotImplementedError, match='torch.jit._get_trace_graph'):
        _get_trace_graph(ember.nn.Linear(1, 1), (ember.ones(1),))
    assert isinstance(ember._C.Graph, type) and isinstance(torch._C.Graph, type)   # jit_analysis.py's annotation
    with pytest.raises(NotImplementedError, match='torch._C.Graph'):
        ember._C.Graph()


def test_ptflops_imports_dispatch_mode_and_copies_ops():
    """ptflops/aten_engine.py: ``class FlopCounterMode(TorchDispatchMode)`` at import, entered by its aten backend
    (ember refuses, naming it: it has no dispatcher below its public functions); ``deepcopy(ATEN_OPS_MAPPING)``,
    a dict keyed by ``torch.ops.aten`` ops, which are their own copies. ptflops/pytorch_ops.py maps
    ``torchvision.ops.DeformConv2d``, which ember names and refuses making."""
    import copy
    from ember.utils._python_dispatch import TorchDispatchMode

    class Counter(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            return func(*args, **(kwargs or {}))
    with pytest.raises(NotImplementedError, match=r'TorchDispatchMode \(Counter\) is not supported by ember'):
        with Counter():
            pass
    for lib in (torch, ember):
        table = {lib.ops.aten.mm: 1, lib.ops.aten.addmm.default: 2}
        assert all(a is b for a, b in zip(copy.deepcopy(table), table))
    import ember.vision.ops as tops
    with pytest.raises(NotImplementedError, match='torchvision.ops.DeformConv2d'):
        tops.DeformConv2d(2, 2, 3)


def test_profiler_keeps_the_public_functions():
    """lightning/pytorch/trainer/connectors/logger_connector/result.py: ``reduce_fx: Callable = torch.mean`` (bound
    when Lightning is imported) and ``self.reduce_fx is torch.mean`` while ``profiler="pytorch"`` records; ember's
    profiler swapped torch.mean for a timing wrapper, so ``self.log`` raised "twice with different arguments". The
    function bound before the profiler started is recorded when called, as PyTorch's, and ember's own calls inside
    an op (F.relu runs torch.relu's function) are not events of their own."""
    def run(lib):
        mean, relu = lib.mean, lib.nn.functional.relu
        x = lib.ones(2, 3, requires_grad=True)
        with lib.profiler.profile() as prof:
            same = [lib.mean is mean, lib.nn.functional.relu is relu, lib.sum is lib.sum]
            mean(relu(x) * 2).backward()
            lib.max(x)
        names = collections.Counter(e.name for e in prof.events() if e.cpu_parent is None)
        return same + [lib.mean is mean], {k: names[k] for k in ('aten::mean', 'aten::relu', 'aten::max', 'aten::mul')}
    assert run(ember) == run(torch) == ([True, True, True, True],
                                        {'aten::mean': 1, 'aten::relu': 1, 'aten::max': 1, 'aten::mul': 1})


def _saved_attrs(lib, root):
    """torchviz/dot.py's walk: from ``root`` down ``next_functions``, each node's name and the value of every
    ``_saved_`` attribute ``dir(fn)`` lists (a tensor by its shape)."""
    out, todo, seen = [], [root], set()
    while todo:
        fn = todo.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        attrs = {}
        for attr in dir(fn):
            if attr.startswith('_saved_'):
                val = getattr(fn, attr)
                attrs[attr] = ('tensor', tuple(val.shape)) if isinstance(val, lib.Tensor) else str(val)
        out.append((fn.name(), attrs))
        todo += [u[0] for u in getattr(fn, 'next_functions', ())]
    return out


@pytest.mark.parametrize('frozen', [False, True])
def test_torchviz_saved_attributes(frozen):
    """torchviz 0.0.3 make_dot(y, show_attrs=True, show_saved=True) lists each grad_fn's ``_saved_`` attributes
    (sizes, strides, scalars, saved tensors) and draws the saved tensors: ember's nodes had none for F.linear's
    AddmmBackward0/MmBackward0, SumBackward0, MeanBackward0, ViewBackward0 and ConvolutionBackward0, and ``dir``
    of an AddBackward0 listed ``_saved_other``, which raised when torchviz read it."""
    def graph(lib):
        lib.manual_seed(0)
        net = lib.nn.Sequential(lib.nn.Conv2d(2, 3, 3, padding=1), lib.nn.ReLU(), lib.nn.Flatten(),
                                lib.nn.Linear(24, 4), lib.nn.Sigmoid(), lib.nn.Linear(4, 3, bias=False))
        if frozen:
            net[0].requires_grad_(False)
        x = lib.randn(2, 2, 4, 2, requires_grad=not frozen)
        y = net(x)
        z = lib.randn(3, 5, requires_grad=True)
        lin3 = lib.nn.functional.linear(lib.randn(2, 3, 5), z)
        return _saved_attrs(lib, (y.sum() + y.mean() + (y + y).sum() + lin3.sum()).grad_fn)
    assert graph(ember) == graph(torch)


@pytest.mark.parametrize('name, layer, shape', [
    ('max_pool2d', lambda nn: nn.MaxPool2d(2), (1, 1, 4, 4)), ('avg_pool1d', lambda nn: nn.AvgPool1d(2), (1, 2, 4)),
    ('adaptive_avg_pool2d', lambda nn: nn.AdaptiveAvgPool2d(1), (1, 2, 3, 3)),
    ('max_pool3d', lambda nn: nn.MaxPool3d(2), (1, 1, 2, 2, 2))])
def test_pooling_layers_call_the_functional_by_name(monkeypatch, name, layer, shape):
    """ptflops/pytorch_engine.py (its pytorch backend) counts a pool by replacing ``F.max_pool2d`` and kin while it
    runs: PyTorch's pooling layers call them through ``F``, ember's called its own module's function, so its
    counts missed them (a CNN's 14.34 KMac against PyTorch's 14.72)."""
    for lib in (torch, ember):
        F, calls = lib.nn.functional, []
        original = getattr(F, name)
        monkeypatch.setattr(F, name, lambda *a, **k: calls.append(name) or original(*a, **k))
        layer(lib.nn)(lib.ones(*shape))
        assert calls == [name]


@pytest.mark.parametrize('name', ['encoder', 'mha', 'lstm', 'gru', 'embedding', 'convs'])
def test_flop_counter_layers_as_pytorch(name):
    """Lightning's model summary of the layers models are made of (train and eval): a transformer encoder layer and
    multi-head attention (linear, bmm), LSTM (PyTorch's fused CPU op counts nothing), GRU (addmm per step), an
    embedding, grouped/dilated/transposed convolutions."""
    def run(lib):
        nn = lib.nn
        lib.manual_seed(0)
        model, x = {
            'encoder': lambda: (nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True), lib.randn(2, 5, 16)),
            'mha': lambda: (nn.MultiheadAttention(16, 2, batch_first=True), lib.randn(2, 5, 16)),
            'lstm': lambda: (nn.LSTM(4, 8, batch_first=True), lib.randn(2, 3, 4)),
            'gru': lambda: (nn.GRU(4, 8), lib.randn(3, 2, 4)),
            'embedding': lambda: (nn.Sequential(nn.Embedding(10, 4), nn.Linear(4, 2)), lib.tensor([[1, 2, 3]])),
            'convs': lambda: (nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ConvTranspose2d(3, 2, 2, stride=2),
                                            nn.Conv2d(2, 4, 3, groups=2, dilation=2)), lib.randn(1, 2, 8, 8))}[name]()
        out = []
        for train in (True, False):
            model.train(train)
            with _flop_counter(lib)(display=False) as fc:
                model(x, x, x) if name == 'mha' else model(x)
            out.append({k: {str(o): n for o, n in v.items()} for k, v in fc.get_flop_counts().items()})
        return out
    assert run(ember) == run(torch)


def test_tensor_hooks_pass_one_gradient_object():
    """captum/_utils/common.py _register_backward_hook and attr/_utils/lrp_rules.py (LRP): one hook on a layer's
    output keeps the gradient it gets, a later hook on the same tensor sets ``grad.replace_out`` on the one it gets,
    and the kept gradient is read for it: PyTorch passes the same tensor to each hook (or what the previous one
    returned); ember wrapped the gradient anew for each, so LRP's relevances came out wrong (0.39 against 6.9)."""
    def run(lib):
        kept, got = [], []
        x = lib.tensor([1.0, -2.0], requires_grad=True)
        y = x * 3
        y.register_hook(kept.append)
        y.register_hook(lambda g: setattr(g, 'replace_out', g * 10))
        y.register_hook(lambda g: g + 1)
        y.register_hook(lambda g: got.append(g))
        (y * lib.tensor([1.0, 2.0])).sum().backward()
        return [hasattr(kept[0], 'replace_out'), kept[0].replace_out.tolist(), got[0].tolist(),
                hasattr(got[0], 'replace_out'), x.grad.tolist()]
    assert run(ember) == run(torch)
