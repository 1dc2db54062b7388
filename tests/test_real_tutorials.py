"""Defects found by running the official PyTorch tutorials (pytorch/tutorials: beginner_source,
intermediate_source, recipes_source) on ember, each reduced to a few steps on small synthetic data and checked
against PyTorch."""
import re

import numpy as np
import torch

import ember


def _no_address(text):
    return re.sub(r'0x[0-9a-f]+', '0x?', text)


def _legendre(T):
    """beginner/examples_autograd/polynomial_custom_function: P3 as a custom autograd Function."""
    class LegendrePolynomial3(T.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)
    return LegendrePolynomial3


def test_polynomial_custom_function_prints_its_node_as_pytorch():
    """The tutorial's fit of a + b * P3(c + d x) (float64, a few steps): the same coefficients, and
    ``print(y.grad_fn)`` names the node's class as PyTorch does (torch.autograd.function.<Name>Backward)."""
    out = []
    for T in (torch, ember):
        x = T.linspace(-3.14, 3.14, 200, dtype=T.float64)
        y = T.sin(x)
        a, b, c, d = (T.full((), v, dtype=T.float64, requires_grad=True) for v in (0.0, -1.0, 0.0, 0.3))
        P3 = _legendre(T).apply
        for _ in range(5):
            y_pred = a + b * P3(c + d * x)
            loss = (y_pred - y).pow(2).sum()
            loss.backward()
            with T.no_grad():
                for p in (a, b, c, d):
                    p -= 5e-5 * p.grad
                    p.grad = None
        node = P3(c + d * x).grad_fn
        out.append(([p.item() for p in (a, b, c, d)], _no_address(repr(node)), node.name(),
                    _no_address(str(P3(d * x)))[-40:]))
    np.testing.assert_allclose(out[1][0], out[0][0], rtol=1e-12)
    assert out[1][1:] == out[0][1:]
    assert out[0][1] == '<torch.autograd.function.LegendrePolynomial3Backward object at 0x?>'


def _mlp(T):
    class SimpleMLP(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = T.nn.Linear(12, 8)
            self.fc2 = T.nn.Linear(8, 3)

        def forward(self, x):
            return self.fc2(T.nn.functional.relu(self.fc1(x.flatten(1))))
    return SimpleMLP


def test_model_ensembling_with_torch_vmap():
    """intermediate/ensembling: stack_module_state over several models, then ``from torch import vmap`` over
    functional_call, with in_dims (0, 0, 0) (a minibatch per model) and (0, 0, None) (one shared minibatch)."""
    rng = np.random.RandomState(0)
    data = rng.randn(4, 5, 3, 4).astype(np.float32)
    res = []
    for T in (torch, ember):
        T.manual_seed(0)
        cls = _mlp(T)
        models = [cls() for _ in range(4)]
        params, buffers = T.func.stack_module_state(models)

        def fmodel(params, buffers, x):
            return T.func.functional_call(models[0], (params, buffers), (x,))
        minibatches = T.tensor(data)
        per_model = T.vmap(fmodel)(params, buffers, minibatches)
        shared = T.vmap(fmodel, in_dims=(0, 0, None))(params, buffers, minibatches[0])
        loop = T.stack([m(minibatches[0]) for m in models])
        res.append((per_model.detach().numpy(), shared.detach().numpy(), loop.detach().numpy(),
                    [p.shape[0] for p in params.values()]))
    for e, t in zip(res[1][:3], res[0][:3]):
        np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(res[1][1], res[1][2], rtol=1e-6, atol=1e-7)
    assert res[1][3] == res[0][3] == [4, 4, 4, 4]


def _measurements(T):
    """Measurements with fixed times, shaped as the benchmark recipe's (labels, sub_labels, descriptions,
    thread counts; one noisy task, one in another env)."""
    B = T.utils.benchmark
    out = []
    for sub, scale in (('[1, 1]', 1.0), ('[64, 1024]', 37.3)):
        for threads, base in ((1, 5.9e-6), (4, 6.4e-6)):
            for desc, mult in (('mul/sum', 1.0), ('bmm', 1.9)):
                spec = B.TaskSpec(stmt='f(x)', setup='pass', label='Batched dot', sub_label=sub, description=desc,
                                  num_threads=threads)
                spread = 0.2 if (sub, threads, desc) == ('[1, 1]', 4, 'bmm') else 0.01
                out.append(B.Measurement(100, [base * mult * scale * 100 * (1 + spread * k) for k in range(7)],
                                         spec))
    for env in ('A', 'B'):
        out.append(B.Measurement(1, [3e-3, 3.4e-3, 2.9e-3, 4e-3], B.TaskSpec('g()', 'pass', env=env, label='env', description='d')))
    return out


def _benchmark_text(T):
    B = T.utils.benchmark
    ms = _measurements(T)
    lines = [_no_address(repr(m)) for m in (ms[0], ms[6], ms[-1])]
    lines += [(m.median, m.mean, m.iqr, m.significant_figures, m.has_warnings, m.title, m.as_row_name)
              for m in ms[:8]]
    compare = B.Compare(ms)
    lines.append(str(compare))
    compare.trim_significant_figures()
    lines.append(str(compare))
    compare.colorize(rowwise=True)
    lines.append(str(compare))
    compare.colorize()
    compare.highlight_warnings()
    lines.append(str(compare))
    lines.append((B.select_unit(3e-5), B.select_unit(2.0), B.trim_sigfig(3.14159, 2), len(B.Measurement.merge(ms))))
    x = T.ones(8, 4)
    timer = B.Timer(stmt='\n    y = x + 1\n    z = y * 2\n', setup='a = 1\nb = 2', globals={'x': x},
                    label='add', sub_label='small', description='two lines', num_threads=2)
    m = timer.timeit(20)
    lines.append(re.sub(r'\d+\.\d\d (ns|us|ms|s)\n', 'T\n', _no_address(repr(m))))
    m = B.Timer('torch.mul(x, 2)', globals={'x': x}).blocked_autorange(min_run_time=0.01)
    lines.append((m.number_per_run >= 1, len(m.times) >= 1, m.stmt, m.num_threads, m.label, m.env))
    return lines


def test_benchmark_recipe_timer_measurement_compare():
    """recipes/benchmark and jacobians_hessians: torch.utils.benchmark was missing. Timer.timeit and
    blocked_autorange return Measurements whose printed summary, statistics and Compare tables (plain, trimmed
    to significant figures, colorized, with warnings) are PyTorch's, on fixed times; real timings differ only
    in their numbers."""
    import torch.utils.benchmark   # noqa: F401 (PyTorch's is imported lazily)
    import ember.utils.benchmark   # noqa: F401
    got, want = _benchmark_text(ember), _benchmark_text(torch)
    for g, w in zip(got, want):
        assert g == w
    assert len(got) == len(want)


def _swap_recipe(T):
    """recipes/swap_tensors (its plain-tensor part) and torch.__future__'s conversion switches."""
    import weakref
    out = []
    t1, t2 = T.arange(2), T.arange(3)
    T.utils.swap_tensors(t1, t2)
    out.append(f'{t1} {t2}')
    a, b = T.ones(2, requires_grad=True), T.zeros(3)
    (a * 2).sum().backward()
    T.utils.swap_tensors(a, b)
    out.append(f'{a} {b} {a.requires_grad} {b.requires_grad} {a.grad} {b.grad}')
    p, q = T.nn.Parameter(T.ones(2)), T.zeros(2)
    T.utils.swap_tensors(p, q)
    out.append(f'{type(p).__name__} {type(q).__name__} {p} {q}')
    w = T.ones(1)
    ref = weakref.ref(w)    # noqa: F841 (held: swapping a tensor with weak references is refused)
    x = T.ones(2, requires_grad=True)
    y = (x * 3).sum()
    T.utils.swap_tensors(x, T.zeros(2, requires_grad=True))
    for fn in (lambda: T.utils.swap_tensors(w, T.zeros(1)), y.backward):
        try:
            fn()
        except RuntimeError as e:
            out.append(str(e))
    m = T.nn.Linear(2, 3)
    m(T.ones(1, 2)).sum().backward()
    w0 = m.weight
    m.double()
    out.append((m.weight is w0, m.weight.dtype, m.weight.grad.dtype))
    T.__future__.set_overwrite_module_params_on_conversion(True)
    try:
        m.float()
    finally:
        T.__future__.set_overwrite_module_params_on_conversion(False)
    out.append((m.weight is w0, str(m.weight.dtype), str(m.weight.grad.dtype), type(m.weight).__name__,
                m.weight.requires_grad, str(w0.dtype), T.__future__.get_swap_module_params_on_conversion()))
    return [str(o) for o in out]


def test_swap_tensors_recipe_and_future_switches():
    """torch.utils.swap_tensors and torch.__future__ were missing: contents, classes, gradients and
    requires_grad trade places, weak references are refused, a swapped leaf's old graph refuses backward, and
    set_overwrite_module_params_on_conversion gives a module new Parameters (with converted gradients)."""
    assert _swap_recipe(ember) == _swap_recipe(torch)


def _printed_types(T):
    x = T.empty(3, 4)
    ds = T.utils.data.TensorDataset(T.ones(4, 1))
    dl = T.utils.data.DataLoader(ds, batch_size=2)
    sub = T.utils.data.random_split(ds, [2, 2], generator=T.Generator().manual_seed(0))[0]

    class MyData(T.utils.data.Dataset):
        pass
    objects = (ds, dl, sub, dl.sampler, dl.batch_sampler, T.utils.data.RandomSampler(ds), MyData())
    return [str(c) for c in (type(x), type(T.nn.Parameter(T.ones(1))), type(T.float32), type(T.device('cpu')),
                             type(x.shape), T.Tensor)] + [_no_address(repr(o)) for o in objects]


def test_types_and_default_reprs_print_torch_paths():
    """introyt's ``print(type(x))`` and printing a DataLoader or Dataset: PyTorch prints <class 'torch.Tensor'>
    and <torch.utils.data.dataloader.DataLoader object at ...> (ember printed ember.tensor.Tensor and ember's
    module paths); a user's subclass keeps its own path."""
    assert _printed_types(ember) == _printed_types(torch)


def _one_hot_target(T):
    """basics/transforms_tutorial's target transform: a one-hot label from ``scatter_`` with a 0-d index."""
    one_hot = [T.zeros(10, dtype=T.float).scatter_(0, T.tensor(y), value=1) for y in (0, 3, 9)]
    x = T.zeros(5, dtype=T.float64, requires_grad=True)
    s = T.tensor(3., dtype=T.float64, requires_grad=True)
    y = x.scatter(0, T.tensor(2), s)
    (y * T.arange(5.)).sum().backward()
    z = T.tensor(2.).scatter(0, T.tensor(0), 7.)
    added = T.zeros(4).scatter_add(0, T.tensor(1), T.tensor(5.))
    return [o.numpy() for o in one_hot] + [y.detach().numpy(), x.grad.numpy(), s.grad.numpy(), z.numpy(),
                                            added.numpy(), y.grad_fn.name()]


def test_transforms_tutorial_one_hot_scatter_with_a_0d_index():
    """``torch.zeros(10).scatter_(0, torch.tensor(y), value=1)`` stopped with an IndexError: a 0-d index (and
    a 0-d source or input) next to a 1-d tensor is read as one element, as PyTorch reads it; gradients too."""
    got, want = _one_hot_target(ember), _one_hot_target(torch)
    for g, w in zip(got[:-1], want[:-1]):
        np.testing.assert_array_equal(g, w)
    assert got[-1] == want[-1] == 'ScatterBackward0'
    x = ember.zeros(4, dtype=ember.float64, requires_grad=True)
    s = ember.tensor(2., dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda x, s: x.scatter(0, ember.tensor(1), s), (x, s))
    assert ember.autograd.gradgradcheck(lambda x, s: x.scatter_add(0, ember.tensor(1), s), (x, s))


def _memory_format_tutorial(T):
    """intermediate/memory_format_tutorial: strides and contiguity through channels_last conversions, a
    channels-last model and its outputs."""
    out = []
    x = T.empty(2, 3, 8, 8).to(memory_format=T.channels_last)
    out += [x.stride(), x.to(memory_format=T.contiguous_format).stride(), x.to(T.float64).stride(),
            x.to(T.float64, memory_format=T.contiguous_format).stride(),
            x.to(memory_format=T.channels_last) is x, x.to(memory_format=T.contiguous_format) is x,
            T.ones(3, 2).t().to(memory_format=T.contiguous_format).stride()]
    out.append(T.empty(2, 3, 8, 8, memory_format=T.channels_last).stride())
    out.append(T.empty(2, 3, 4, 8, 8, memory_format=T.channels_last_3d).stride())
    for make in (T.zeros, T.ones):
        try:
            make(2, 3, 4, 4, memory_format=T.channels_last)
        except TypeError as e:
            out.append(str(e))
    T.manual_seed(0)
    model = T.nn.Sequential(T.nn.Conv2d(3, 4, 3), T.nn.BatchNorm2d(4), T.nn.ReLU(), T.nn.Linear(6, 5)).double()
    model = model.to(memory_format=T.channels_last)
    out += [p.stride() for p in model.parameters()]
    inp = T.tensor(np.random.RandomState(0).randn(2, 3, 8, 8)).to(memory_format=T.channels_last)
    y = model[0](inp)
    z = model[1](y)
    out += [y.stride(), z.stride(), T.relu(z).stride(), (z + 1).stride(), y.is_contiguous(),
            z.is_contiguous(memory_format=T.channels_last), model[0](inp.contiguous()).stride(),
            T.nn.functional.conv2d(inp.contiguous(), model[0].weight).stride(), y.grad_fn.name()]
    vol = T.nn.Conv3d(2, 3, 2).double().to(memory_format=T.channels_last_3d)
    out.append(vol(T.ones(1, 2, 3, 3, 3, dtype=T.float64).to(memory_format=T.channels_last_3d)).stride())
    return out, [y.detach().numpy(), z.detach().numpy()]


def test_memory_format_tutorial_strides():
    """to(memory_format=contiguous_format) copies a channels-last tensor back to C order (ember kept it),
    empty(memory_format=) lays out as asked (zeros/ones refuse it, as PyTorch), Module.to(memory_format=)
    lays out its 4-d/5-d parameters, and conv/batch_norm return channels-last for a channels-last input or
    weight, as PyTorch; the values are unchanged."""
    (got, gv), (want, wv) = _memory_format_tutorial(ember), _memory_format_tutorial(torch)
    assert got == want
    for g, w in zip(gv, wv):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


def _causal_biases(T):
    """intermediate/scaled_dot_product_attention_tutorial: causal_lower_right / causal_upper_left biases."""
    import warnings
    from importlib import import_module
    bias = import_module(T.__name__ + '.nn.attention.bias')
    rng = np.random.RandomState(0)
    q, k, v = (T.tensor(rng.randn(2, 4, n, 8), requires_grad=True) for n in (3, 5, 5))
    F = T.nn.functional
    outs = [F.scaled_dot_product_attention(q, k, v, bias.causal_lower_right(3, 5)),
            F.scaled_dot_product_attention(q, k, v, bias.causal_upper_left(3, 5)),
            F.scaled_dot_product_attention(q, k, v, attn_mask=bias.causal_lower_right(3, 5), scale=0.3),
            F.scaled_dot_product_attention(q, q, q, bias.causal_lower_right(3, 3))]
    sum(o.sum() for o in outs).backward()
    text = [repr(bias.causal_lower_right(3, 5)), repr(bias.causal_upper_left(2, 4)),
            repr(bias.CausalVariant.LOWER_RIGHT), int(bias.CausalVariant.UPPER_LEFT)]
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        bias.causal_lower_right(4, 2)
    text.append(str(w[0].message))
    for call in (lambda: bias.causal_upper_left(3),
                 lambda: F.scaled_dot_product_attention(q, k, v, bias.causal_upper_left(3, 5), is_causal=True)):
        try:
            call()
        except (AssertionError, ValueError) as e:
            text.append(f'{type(e).__name__}: {e}')
    return text, [o.detach().numpy() for o in outs] + [t.grad.numpy() for t in (q, k, v)]


def test_sdpa_tutorial_causal_biases():
    """torch.nn.attention.bias was missing: the lower-right and upper-left causal biases print as their masks
    and give PyTorch's attention outputs and gradients (float64), with its warning and errors."""
    (gt, gv), (wt, wv) = _causal_biases(ember), _causal_biases(torch)
    assert gt == wt
    for g, w in zip(gv, wv):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


def test_import_torch_functional_as_F():
    """introyt/modelsyt_tutorial does ``import torch.functional as F`` (PyTorch's module of Python-written tensor
    functions), which stopped: ember.functional holds the same functions as the top level."""
    import importlib
    tf, ef = importlib.import_module('torch.functional'), importlib.import_module('ember.functional')
    assert set(ef.__all__) <= set(tf.__all__)
    assert all(getattr(ef, n) is getattr(ember, n) for n in ef.__all__)
    a = np.arange(6.).reshape(2, 3)
    for T, F in ((torch, tf), (ember, ef)):
        x = T.tensor(a)
        np.testing.assert_allclose(F.einsum('ij,kj->ik', x, x).numpy(), a @ a.T)
        assert [p.shape[1] for p in F.split(x, 2, dim=1)] == [2, 1]
    try:
        ef.stft
    except AttributeError as e:
        assert 'torch.functional.stft is not supported by ember' in str(e)
    else:
        raise AssertionError('ember.functional.stft exists')


def _packed_dropout_rnns(T):
    out = []
    for name in ('GRU', 'LSTM', 'RNN'):
        for bidir in (False, True):
            T.manual_seed(0)
            rnn = getattr(T.nn, name)(3, 4, 3, dropout=0.4, bidirectional=bidir).double()
            x = T.tensor(np.random.RandomState(1).randn(5, 3, 3), requires_grad=True)
            packed = T.nn.utils.rnn.pack_padded_sequence(x, T.tensor([5, 2, 4]), enforce_sorted=False)
            y, _ = T.nn.utils.rnn.pad_packed_sequence(rnn(packed)[0])
            y.sum().backward()
            out += [y.detach().numpy(), x.grad.numpy(), T.rand(3, dtype=T.float64).numpy()]
    return out


def test_chatbot_packed_rnn_dropout_draws_as_pytorch():
    """beginner/chatbot_tutorial: a 2-layer bidirectional GRU with dropout over a packed batch. PyTorch drops out
    the packed data between layers (one number per real step); ember drew a mask over the padded steps, so
    its outputs and every later random number differed. Outputs, gradients and the generator after (float64)."""
    for g, w in zip(_packed_dropout_rnns(ember), _packed_dropout_rnns(torch)):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)
