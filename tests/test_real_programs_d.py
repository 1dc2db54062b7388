"""Real public programs run on ember against PyTorch (session 26): harvardnlp's Annotated Transformer (label
smoothing, masks, greedy decoding), the conv/batch-norm fusion tutorial (custom Functions under gradcheck), a
physics-informed network in the style of the Burgers PINN ports (second derivatives through autograd.grad),
pytorch/examples gcn and pygcn (sparse COO adjacency and features). Each reduced to its essential lines and
checked against PyTorch."""
import warnings

import numpy as np
import pytest
import torch

import ember


def _label_smoothing(T, x, target, size, padding_idx, smoothing):
    """The Annotated Transformer's LabelSmoothing.forward: a smoothed target built with fill_, scatter_, a padding
    column and index_fill_ over torch.nonzero(...).squeeze() rows, then KLDivLoss(reduction='sum')."""
    true_dist = x.data.clone()
    true_dist.fill_(smoothing / (size - 2))
    true_dist.scatter_(1, target.data.unsqueeze(1), 1.0 - smoothing)
    true_dist[:, padding_idx] = 0
    mask = T.nonzero(target.data == padding_idx)
    if mask.dim() > 0:
        true_dist.index_fill_(0, mask.squeeze(), 0.0)
    return T.nn.KLDivLoss(reduction='sum')(x, true_dist.clone().detach()), true_dist


@pytest.mark.parametrize('target', [[2, 1, 0, 3, 3], [1, 2, 3, 4, 1], [0, 0, 2, 1, 4]])
def test_annotated_transformer_label_smoothing(target):
    """Target rows with no, one and two padding labels: the smoothed distribution, the loss and its gradient."""
    p = np.array([[0, 0.2, 0.7, 0.1, 0]] * 5, np.float32) + (np.arange(5, dtype=np.float32)[:, None] + 1) * 0.01
    res = []
    for T in (torch, ember):
        x = T.tensor(p).log().requires_grad_()
        loss, dist = _label_smoothing(T, x, T.LongTensor(target), 5, 0, 0.4)
        loss.backward()
        res.append((loss.item(), dist.numpy(), x.grad.numpy()))
    assert res[1][0] == pytest.approx(res[0][0], rel=1e-6)
    np.testing.assert_allclose(res[1][1], res[0][1], rtol=1e-7)
    np.testing.assert_allclose(res[1][2], res[0][2], rtol=1e-6)


def _greedy_decode(T, V=11, n=8):
    """The notebook's masks (subsequent_mask through triu(..., diagonal=1).type(torch.uint8) == 0, Batch's
    padding mask &-ed with it, type_as) around a tiny attention decoder, decoded greedily with torch.max and
    cat of zeros(1, 1).type_as(src).fill_(next_word)."""
    T.manual_seed(0)
    emb = T.nn.Embedding(V, 8)
    proj = T.nn.Linear(8, V)

    def subsequent_mask(size):
        return T.triu(T.ones((1, size, size)), diagonal=1).type(T.uint8) == 0

    src = T.LongTensor([[1, 2, 3, 4, 5, 6, 7, 8]])
    memory = emb(src)
    ys = T.zeros(1, 1).fill_(1).type_as(src.data)
    masks = []
    for _ in range(n - 1):
        tgt_mask = (ys != 0).unsqueeze(-2) & subsequent_mask(ys.size(1)).type_as((ys != 0).data)
        q = emb(ys)
        scores = (q @ memory.transpose(-2, -1)) / 8 ** 0.5
        att = scores.softmax(-1) @ memory
        self_scores = (att @ att.transpose(-2, -1)).masked_fill(tgt_mask == 0, -1e9)
        out = self_scores.softmax(-1) @ att
        prob = T.nn.functional.log_softmax(proj(out[:, -1]), dim=-1)
        _, next_word = T.max(prob, dim=1)
        next_word = next_word.data[0]
        ys = T.cat([ys, T.zeros(1, 1).type_as(src.data).fill_(next_word)], dim=1)
        masks.append(tgt_mask.numpy())
    return ys, masks


def test_annotated_transformer_greedy_decode():
    (ty, tm), (ey, em) = _greedy_decode(torch), _greedy_decode(ember)
    assert repr(ey) == repr(ty)
    assert all(a.dtype == b.dtype and np.array_equal(a, b) for a, b in zip(tm, em))


def _conv_bn_fused(T):
    """intermediate/custom_function_conv_bn_tutorial: conv and batch norm fused in one custom Function that
    saves only the conv input and recomputes the conv in backward (conv2d of transposed tensors for the weight
    gradient, conv_transpose2d for the input's), in-place arithmetic on its buffers."""
    F = T.nn.functional

    def unsqueeze_all(t):
        return t[None, :, None, None]

    def batch_norm_backward(grad_out, X, sum, sqrt_var, N, eps):
        tmp = -((X - unsqueeze_all(sum) / N) * grad_out).sum(dim=(0, 2, 3))
        d_var = tmp / (sqrt_var + eps) ** 2 / (2 * sqrt_var)
        d_mean_dx = unsqueeze_all(-(grad_out / unsqueeze_all(sqrt_var + eps)).sum(dim=(0, 2, 3)) / N)
        grad_input = X * unsqueeze_all(d_var * N)
        grad_input += unsqueeze_all(-d_var * sum)
        grad_input *= 2 / ((N - 1) * N)
        grad_input += d_mean_dx
        grad_input *= unsqueeze_all(sqrt_var + eps)
        grad_input += grad_out
        grad_input /= unsqueeze_all(sqrt_var + eps)
        return grad_input

    class FusedConvBN2DFunction(T.autograd.Function):
        @staticmethod
        def forward(ctx, X, conv_weight, eps=1e-3):
            ctx.save_for_backward(X, conv_weight)
            X = F.conv2d(X, conv_weight)
            sum = X.sum(dim=(0, 2, 3))
            var = X.var(unbiased=True, dim=(0, 2, 3))
            N = X.numel() / X.size(1)
            sqrt_var = T.sqrt(var)
            ctx.eps, ctx.sum, ctx.N, ctx.sqrt_var = eps, sum, N, sqrt_var
            out = X - unsqueeze_all(sum / N)
            out /= unsqueeze_all(sqrt_var + eps)
            return out

        @staticmethod
        def backward(ctx, grad_out):
            X, conv_weight, = ctx.saved_tensors
            grad_out = batch_norm_backward(grad_out, F.conv2d(X, conv_weight), ctx.sum, ctx.sqrt_var, ctx.N,
                                           ctx.eps)
            grad_w = F.conv2d(X.transpose(0, 1), grad_out.transpose(0, 1)).transpose(0, 1)
            return F.conv_transpose2d(grad_out, conv_weight), grad_w, None

    return FusedConvBN2DFunction


def test_conv_bn_fusion_tutorial_gradcheck_and_grads():
    rng = np.random.RandomState(0)
    x0, w0, g0 = rng.rand(2, 3, 5, 5), rng.rand(4, 3, 3, 3), rng.randn(2, 4, 3, 3)
    res = []
    for T in (torch, ember):
        fn = _conv_bn_fused(T)
        X = T.tensor(x0, requires_grad=True)
        W = T.tensor(w0, requires_grad=True)
        assert T.autograd.gradcheck(fn.apply, (X, W))
        out = fn.apply(X, W)
        out.backward(T.tensor(g0))
        res.append((out.detach().numpy(), X.grad.numpy(), W.grad.numpy(), out.grad_fn.name()))
    for a, b in zip(res[0][:3], res[1][:3]):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)
    assert res[1][3] == res[0][3]


def _burgers_residual(T, xt, params):
    """A Burgers PINN's net_f: u_t + l1 u u_x - exp(l2) u_xx from autograd.grad with grad_outputs=ones_like and
    create_graph, on an OrderedDict Sequential of Linear/Tanh; the loss's gradient reaches every weight through
    the second derivative."""
    from collections import OrderedDict
    layers = OrderedDict()
    for i, (w, b) in enumerate(params):
        lin = T.nn.Linear(w.shape[1], w.shape[0]).double()
        with T.no_grad():
            lin.weight.copy_(T.tensor(w))
            lin.bias.copy_(T.tensor(b))
        layers['layer_%d' % i] = lin
        if i < len(params) - 1:
            layers['activation_%d' % i] = T.nn.Tanh()
    dnn = T.nn.Sequential(layers)
    lambda_1 = T.nn.Parameter(T.tensor([0.3], dtype=T.float64))
    lambda_2 = T.nn.Parameter(T.tensor([-3.0], dtype=T.float64))
    x = T.tensor(xt[:, 0:1], requires_grad=True)
    t = T.tensor(xt[:, 1:2], requires_grad=True)
    u = dnn(T.cat([x, t], dim=1))
    u_t = T.autograd.grad(u, t, grad_outputs=T.ones_like(u), retain_graph=True, create_graph=True)[0]
    u_x = T.autograd.grad(u, x, grad_outputs=T.ones_like(u), retain_graph=True, create_graph=True)[0]
    u_xx = T.autograd.grad(u_x, x, grad_outputs=T.ones_like(u_x), retain_graph=True, create_graph=True)[0]
    f = u_t + lambda_1 * u * u_x - T.exp(lambda_2) * u_xx
    loss = T.mean(u ** 2) + T.mean(f ** 2)
    loss.backward()
    grads = [p.grad.numpy() for p in dnn.parameters()] + [lambda_1.grad.numpy(), lambda_2.grad.numpy()]
    return loss.item(), f.detach().numpy(), grads, list(dnn.state_dict())


def test_burgers_pinn_residual_and_grads():
    rng = np.random.RandomState(3)
    sizes = [2, 6, 6, 1]
    params = [(rng.randn(o, i) / np.sqrt(i), rng.randn(o) * 0.1) for i, o in zip(sizes, sizes[1:])]
    xt = np.stack([rng.uniform(-1, 1, 12), rng.uniform(0, 1, 12)], 1)
    (tl, tf, tg, tk), (el, ef, eg, ek) = _burgers_residual(torch, xt, params), _burgers_residual(ember, xt, params)
    assert el == pytest.approx(tl, rel=1e-12)
    np.testing.assert_allclose(ef, tf, rtol=1e-11, atol=1e-13)
    for a, b in zip(tg, eg):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-13)
    assert ek == tk


def test_conv_transpose3d_at_top_level():
    """torch.conv_transpose3d is the functional form under the torch namespace (it was missing)."""
    rng = np.random.RandomState(1)
    x, w, b = rng.randn(1, 2, 3, 3, 3), rng.randn(2, 3, 2, 2, 2), rng.randn(3)
    got = [T.conv_transpose3d(T.tensor(x), T.tensor(w), T.tensor(b), stride=2, padding=1).numpy()
           for T in (torch, ember)]
    np.testing.assert_allclose(got[1], got[0], rtol=1e-12)


def _gcn_example(T, content, cites, steps=3):
    """pytorch/examples gcn: load_cora's sparse pipeline (torch.diag(...).to_sparse() scaling the features,
    sparse_coo_tensor of the citations in int64, eye + sparse, degree normalisation with sparse @ dense @
    sparse, to_sparse() of features and adjacency) and GraphConv's torch.mm / torch.spmm under Adam with
    weight decay and dropout."""
    features = T.FloatTensor(content[:, 1:-1].astype(np.int32))
    scale_vector = 1 / T.sum(features, dim=1)
    scale_vector[scale_vector == float('inf')] = 0
    features = T.diag(scale_vector).to_sparse() @ features
    labels = T.LongTensor(content[:, -1])
    idx_map = {id: pos for pos, id in enumerate(content[:, 0])}
    edges = np.array([[idx_map[a], idx_map[b]] for a, b in cites], dtype=np.int32)
    V, E = len(content), edges.shape[0]
    adj_mat = T.sparse_coo_tensor(edges.T, T.ones(E), (V, V), dtype=T.int64)
    adj_mat = T.eye(V) + adj_mat
    degree_mat = T.sqrt(1 / T.sum(adj_mat, dim=1))
    degree_mat[degree_mat == float('inf')] = 0
    degree_mat = T.diag(degree_mat).to_sparse()
    adj_mat = degree_mat @ adj_mat @ degree_mat
    features, adj_mat = features.to_sparse(), adj_mat.to_sparse()
    T.manual_seed(42)
    kernels = [T.nn.Parameter(T.Tensor(a, b)) for a, b in ((features.shape[1], 8), (8, 3))]
    for k in kernels:
        T.nn.init.xavier_normal_(k)
    opt = T.optim.Adam(kernels, lr=0.01, weight_decay=5e-4)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        x = T.spmm(adj_mat, T.mm(features, kernels[0]))
        x = T.nn.functional.dropout(T.relu(x), 0.5, training=True)
        out = T.nn.functional.log_softmax(T.spmm(adj_mat, T.mm(x, kernels[1])), dim=1)
        loss = T.nn.functional.nll_loss(out[:20], labels[:20])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, [k.detach().numpy().copy() for k in kernels], repr(adj_mat)[:400]


def test_pytorch_examples_gcn():
    """The example stopped at torch.sparse_coo_tensor; it now trains as under PyTorch, step for step."""
    rng = np.random.RandomState(0)
    V = 40
    content = np.concatenate([np.arange(100, 100 + V)[:, None], (rng.rand(V, 12) < 0.2).astype(int),
                              rng.randint(3, size=(V, 1))], 1)
    cites = [(100 + a, 100 + b) for a, b in rng.randint(V, size=(90, 2)) if a != b]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        (tl, tk, tr), (el, ek, er) = _gcn_example(torch, content, cites), _gcn_example(ember, content, cites)
    np.testing.assert_allclose(el, tl, rtol=1e-6)
    for a, b in zip(tk, ek):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-7)
    assert er == tr


def test_pygcn_legacy_sparse_adjacency():
    """pygcn's sparse_mx_to_torch_sparse_tensor (torch.sparse.FloatTensor(indices, values, shape) from a scipy
    COO matrix's row/col/data) and GraphConvolution.forward (torch.spmm(adj, input @ weight) + bias)."""
    rng = np.random.RandomState(2)
    row, col = rng.randint(6, size=14), rng.randint(6, size=14)
    data = rng.rand(14).astype(np.float32)
    x0, w0 = rng.randn(6, 4).astype(np.float32), rng.randn(4, 3).astype(np.float32)
    res = []
    for T in (torch, ember):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            indices = T.from_numpy(np.vstack((row, col)).astype(np.int64))
            adj = T.sparse.FloatTensor(indices, T.from_numpy(data), T.Size((6, 6)))
        weight = T.tensor(w0, requires_grad=True)
        out = T.spmm(adj, T.mm(T.tensor(x0), weight)) + 0.5
        out.sum().backward()
        res.append((out.detach().numpy(), weight.grad.numpy(), repr(adj),
                    [str(m.message).split(' (Triggered')[0] for m in w]))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-6, atol=1e-7)     # the dense mm: to rounding
    np.testing.assert_allclose(res[1][1], res[0][1], rtol=1e-6, atol=1e-7)
    assert res[1][2:] == res[0][2:]


def _answer(T, expr):
    """``expr``'s repr under library ``T``, or the type and message of what it raised."""
    x = T.arange(6).view(2, 3)
    try:
        return repr(eval(expr, {'T': T, 'x': x}))
    except Exception as e:  # noqa: BLE001 (the error is the answer)
        return type(e).__name__, str(e)


# karpathy/pytorch-normalizing-flows' AffineHalfFlow: z.flip(dims=(1,)) stopped with a TypeError; the other
# methods whose sizes are varargs take their keyword too
@pytest.mark.parametrize('expr', [
    'x.flip(dims=(1,))', 'x.flip(dims=[0, 1])', 'x.flip()', 'x.flip(1, dims=(0,))', 'x.flip(0, 1)', 'x.flip((0,))',
    'x.permute(dims=(1, 0))', 'x.permute(1, 0)', 'x.permute([1, 0])', 'x.repeat(repeats=(2, 1))', 'x.repeat(2, 1)',
    'x.view(size=(3, 2))', 'x.view(3, 2)', 'x.reshape(shape=(3, 2))', 'T.reshape(x, shape=(6,))',
    'x.reshape(3, shape=(2,))', 'x.expand(size=(2, 2, 3))', 'x.expand(2, -1, -1)', 'x.tile(dims=(2,))',
    'x.tile((2,))', 'x.split(split_size=1, dim=0)', 'x.split(2, 1)', 'T.split(x, 1)'])
def test_varargs_methods_take_their_keyword_forms(expr):
    assert _answer(ember, expr) == _answer(torch, expr)


# x.view(dtype) reinterprets the bytes (it cast the values): PyTorch's shapes, memory sharing and refusals
@pytest.mark.parametrize('expr', [
    'x.view(T.int32)', 'x.view(dtype=T.int32)', 'x.float().view(T.int32)', 'x.float().view(T.uint8).shape',
    'T.ones(2, 3)[:, :2].view(T.float16).shape', 'T.ones(2, 3).t().view(T.float16)', 'T.ones(3).view(T.float64)',
    'T.ones(()).view(T.float16)', 'T.ones(()).view(T.int32)', 'T.tensor([1.5, -2.0]).view(T.int32)',
    'T.tensor([True, False]).view(T.uint8)', 'T.tensor([1.0], dtype=T.float16).view(T.int16)',
    'T.ones(2, 4)[:, 1:].view(T.float64)', 'T.ones(2, 3, requires_grad=True).view(T.float32).requires_grad',
    'T.ones(2, 3, dtype=T.int16).view(T.int64)', 'T.arange(8, dtype=T.uint8).view(T.int32)',
    'T.ones(2, 1).view(T.float64)', 'T.ones(4, 2)[::2].view(T.float64)'])
def test_view_dtype_reinterprets_as_pytorch(expr):
    assert _answer(ember, expr) == _answer(torch, expr)


def test_view_dtype_shares_memory_and_version():
    for T in (torch, ember):
        a = T.zeros(4)
        b = a.view(T.int32)
        b[0] = 1065353216
        assert a.tolist() == [1.0, 0.0, 0.0, 0.0] and a._version == b._version == 1


def _adaptive_softmax(T, cfg, batched):
    """nn.AdaptiveLogSoftmaxWithLoss as large-vocabulary language models use it: forward (output, loss), the
    gradients, log_prob and predict, its printed form and state_dict, and the warnings construction gives."""
    in_features, n_classes, cutoffs, kw = cfg
    T.manual_seed(0)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        m = T.nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, cutoffs, **kw)
    x = T.randn(7, in_features, requires_grad=True)
    y = T.arange(7) * (n_classes - 1) // 6
    out = m(x, y) if batched else m(x[2], y[3])
    out.loss.backward()
    grads = [x.grad.numpy().copy()] + [None if p.grad is None else p.grad.numpy().copy() for p in m.parameters()]
    with T.no_grad():
        extra = m.log_prob(x).numpy(), m.predict(x).numpy(), m.predict(x[:1] * 0).numpy()
    return (repr(m), repr(out), [str(a.message) for a in w], list(m.state_dict())), grads, extra


@pytest.mark.parametrize('cfg', [(8, 10, [4, 8], {}), (8, 10, [4, 8], {'div_value': 2.0, 'head_bias': True}),
                                 (6, 20, [2, 9, 15], {'div_value': 1.5}), (4, 5, (1,), {})])
@pytest.mark.parametrize('batched', [True, False])
def test_adaptive_log_softmax_with_loss(cfg, batched):
    """nn.AdaptiveLogSoftmaxWithLoss was missing."""
    (tp, tg, te), (ep, eg, ee) = _adaptive_softmax(torch, cfg, batched), _adaptive_softmax(ember, cfg, batched)
    assert ep == tp
    for a, b in zip(tg + list(te), eg + list(ee)):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('expr', [
    'A(4, 5, [])', 'A(4, 5, [3, 2])', 'A(4, 5, [0, 2])', 'A(4, 5, [2, 5])', 'A(4, 5, [2, 2])', 'A(4, 5, [1.5])',
    'A(4, 5, [2])(T.zeros(3, 4), T.tensor([0, 1, 5]))', 'A(4, 5, [2])(T.zeros(3, 4), T.tensor([0, 1]))',
    'A(4, 5, [2])(T.zeros(3, 4, 1), T.tensor([0, 1, 2]))', 'A(4, 5, [2])(T.zeros(2, 4), T.tensor(1))',
    'A(4, 5, [2])(T.zeros(2, 4), T.zeros(2, 2, dtype=T.long))'])
def test_adaptive_log_softmax_refusals(expr):
    got = []
    for T in (torch, ember):
        with pytest.raises(Exception) as e:
            eval(expr, {'T': T, 'A': T.nn.AdaptiveLogSoftmaxWithLoss})
        got.append((type(e.value).__name__, str(e.value)))
    assert got[1] == got[0]


_OLD_FORMS = ['t.clone().add_(2, o)', 't.add(2, o)', 't.clone().sub_(2, o)', 't.sub(2, o)', 't.clone().addcmul_(2, o, o)',
              't.addcmul(2, o, o)', 't.clone().addcdiv_(2, o, o)', 't.addcdiv(2, o, o)', 't.clone().add_(2, other=o)',
              't.clone().add_(2, 3)', 't.clone().mul_(2).add_(1 - 0.9, o)', 't.clone().addcmul_(0.5, tensor1=o, tensor2=o)',
              't.clone().add_(o, alpha=2)', 't.clone().addcmul_(o, o, value=2)', 't.clone().sub_(o, 2)',
              't.clone().add_(2, o, alpha=3)', 'torch.add(t, 2, o)', 'w.grad_fn.name() if (w := x.add(2, o)) is not None else 0']
_OLD_PROGRAM = """
import warnings
import {lib} as torch
t, o = torch.ones(2), torch.full((2,), 3.)
x = torch.ones(2, requires_grad=True)
for e in {forms!r}:
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter('always')
        try:
            r = eval(e)
        except Exception as ex:
            r = f'{{type(ex).__name__}}: {{ex}}'
    print(e, repr(r), [str(m.message).split(' (Triggered')[0] for m in ws])
"""


@pytest.mark.parametrize('first', [0, 2, 4])
def test_deprecated_scalar_first_overloads(first):
    """Old optimizers' p.data.add_(-lr, grad), exp_avg_sq.addcmul_(1 - beta2, grad, grad), addcdiv_(-step, m,
    v): PyTorch runs them with one deprecation warning a process (naming the first such call), ember stopped.
    Each case list starts at a different form, in a fresh interpreter (the warning is once a process)."""
    import subprocess
    import sys
    forms = _OLD_FORMS[first:] + _OLD_FORMS[:first]
    out = [subprocess.run([sys.executable, '-c', _OLD_PROGRAM.format(lib=lib, forms=forms)], capture_output=True,
                          text=True, check=True).stdout for lib in ('torch', 'ember')]
    assert out[1] == out[0]


def _indexing_answer(T, expr):
    """``expr``'s repr (or error) and the warnings it gives, under library ``T``."""
    x, m = T.arange(4), T.tensor([1, 0, 1, 0], dtype=T.uint8)
    i32 = T.tensor([[0], [1]], dtype=T.int32)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        try:
            r = repr(eval(expr, {'T': T, 'x': x, 'm': m, 'i32': i32, 's': T.tensor(1.5)}))
        except Exception as e:  # noqa: BLE001 (the error is the answer)
            r = (type(e).__name__, str(e))
    return r, [str(a.message).split(' (Triggered internally')[0] for a in w]


@pytest.mark.parametrize('expr', [
    # old code's loss.data[0] (a 0-d tensor)
    's.data[0]', 's[0]', 's[-1]', 's[..., 0]', 's[None, 0]', 's[T.tensor(0)]', 's[True]', 'T.ones(2)[0][0]',
    # byte masks of old code: a mask (deprecated), not integer indices
    'x[m]', 'x.view(2, 2)[m.view(2, 2)]', 'x.view(2, 2)[m[:2]]', 'x.view(2, 2)[:, m[:2]]', 'T.zeros(4, 2)[m].shape',
    'x.clone().__setitem__(m, 9)', 'T.zeros(3).masked_fill_(m[:3], 1.0)', 'T.zeros(3).masked_fill(T.tensor([1., 0, 1]), 1.)',
    # int32 indices, which PyTorch 2.13's gather/scatter family take
    'T.gather(x.view(2, 2), 1, i32)', 'x.view(2, 2).gather(1, i32.flip(0))', 'T.zeros(2, 2).scatter_(1, i32, 1.)',
    'T.zeros(2, 2).scatter(1, i32, T.ones(2, 1))', 'T.zeros(2, 2).scatter_add_(1, i32, T.ones(2, 1))',
    'T.zeros(2, 2).scatter_reduce(1, i32, T.ones(2, 1), "sum")', 'T.gather(x.view(2, 2), 1, i32.short())',
    'T.take_along_dim(x.view(2, 2), i32, 1)', 'T.zeros(3).index_fill_(0, i32[0], 2.)',
    'T.zeros(3).index_copy_(0, i32[0], T.ones(1))', 'T.take(x, i32[0])', 'T.take(x, i32[0].short())'])
def test_old_indexing_forms_as_pytorch(expr):
    assert _indexing_answer(ember, expr) == _indexing_answer(torch, expr)


def test_byte_mask_and_int32_index_gradients():
    got = []
    for T in (torch, ember):
        z = T.tensor([1., 2., 3., 4.], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            (z * 2)[T.tensor([1, 0, 1, 0], dtype=T.uint8)].sum().backward()
        w = T.arange(4.).view(2, 2).requires_grad_()
        (T.gather(w, 1, T.tensor([[0], [1]], dtype=T.int32)) * T.tensor([[3.], [5.]])).sum().backward()
        got.append((z.grad.tolist(), w.grad.tolist()))
    assert got[1] == got[0]


_ONCE_PROGRAM = """
import warnings
import {lib} as torch
warnings.simplefilter('always')
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter('always')
    for _ in range(2):
        torch.qr(torch.eye(2))
        torch.cholesky(torch.eye(2))
        torch.cross(torch.ones(3), torch.ones(3))
        torch.chain_matmul(torch.eye(2), torch.eye(2))
# chain_matmul's Python-level warning points into torch/functional.py under PyTorch: its line is not compared
print([(str(m.message).split(' (Triggered internally')[0], m.lineno if 'chain_matmul' not in str(m.message) else 0)
       for m in w])
"""


def test_deprecated_linalg_forms_warn_once_at_the_callers_line():
    """torch.qr/cholesky/cross without dim/chain_matmul warn once a process (TORCH_WARN_ONCE), at the user's
    line (torch.qr's pointed into ember/_complex.py, and each call warned)."""
    import subprocess
    import sys
    out = [subprocess.run([sys.executable, '-c', _ONCE_PROGRAM.format(lib=lib)], capture_output=True, text=True,
                          check=True).stdout for lib in ('torch', 'ember')]
    assert out[1] == out[0]


def _frombuffer(T):
    """torch.frombuffer (it was missing; code reading binary files and torchvision's MNIST reader use it):
    memory shared both ways, dtype/count/offset, a read-only buffer's warning, PyTorch's ValueErrors."""
    import array
    b = bytearray(b'\x01\x02\x03\x04\x05\x06\x07\x08')
    t = T.frombuffer(b, dtype=T.uint8)
    t2 = T.frombuffer(b, dtype=T.int16, count=2, offset=2)
    b[2] = 9
    t[0] = 7
    out = [repr(t), repr(t2), b[0], repr(T.frombuffer(array.array('f', [1., 2.]), dtype=T.float32)),
           repr(T.frombuffer(memoryview(b)[2:], dtype=T.uint8)),
           repr(T.frombuffer(b, dtype=T.float32, requires_grad=True))]
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        out.append(repr(T.frombuffer(b'\x01\x02', dtype=T.uint8)))
    out.append([str(m.message).split(' (Triggered internally')[0] for m in w])
    for kw in [dict(dtype=T.int32, count=3), dict(dtype=T.int32, offset=9), dict(dtype=T.int16, offset=1),
               dict(dtype=T.int64, count=0)]:
        with pytest.raises(ValueError) as e:
            T.frombuffer(b, **kw)
        out.append(str(e.value))
    with pytest.raises(ValueError) as e:
        T.frombuffer(bytearray(), dtype=T.uint8)
    return out + [str(e.value)]


def test_frombuffer_as_pytorch():
    ember._warn._WARNED_ONCE.discard(ember.ops.creation._READ_ONLY)
    got, want = _frombuffer(ember), _frombuffer(torch)
    assert got[:7] == want[:7] and got[8:] == want[8:]
    assert len(got[7]) == 1 and got[7] == (want[7] or got[7])     # PyTorch's warning: once a process, maybe given
