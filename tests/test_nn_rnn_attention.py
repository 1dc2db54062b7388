"""Recurrent layers, packed sequences and attention against PyTorch: torch's parameters copied into ember,
the same inputs and initial states must give the same outputs, final states and gradients (input, initial
state and every parameter) for many configurations; reprs and parameter names match torch's, and the
attention node passes float64 gradcheck and gradgradcheck."""
import itertools

import numpy as np
import pytest
import torch

import ember
from helpers import check, assert_same

torch.set_num_threads(1)  # the oracle's multi-threaded RNN kernels crawl on a busy 2-core machine


def rnd(*shape, seed=0, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def flat(o):
    if isinstance(o, (tuple, list)):
        return [t for x in o for t in flat(x)]
    return [o] if o is not None else []


def twin(make, double=False):
    """A torch module and its ember twin holding torch's initial parameters (same names and shapes)."""
    torch.manual_seed(0)
    tm, em = make(torch.nn), make(ember.nn)
    if double:
        tm, em = tm.double(), em.double()
    assert repr(em) == repr(tm)
    assert [(k, tuple(v.shape)) for k, v in em.named_parameters()] == \
        [(k, tuple(v.shape)) for k, v in tm.named_parameters()]
    em.load_state_dict({k: ember.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()})
    return tm, em


def compare(tm, em, targs, eargs, leaves, kwargs=None, tol=1e-4):
    """Forward both, compare every output, backprop the same seeds, compare leaf and parameter grads."""
    kwargs = kwargs or {}
    tout, eout = flat(tm(*targs, **kwargs.get('torch', {}))), flat(em(*eargs, **kwargs.get('ember', {})))
    assert len(tout) == len(eout)
    for i, (e, t) in enumerate(zip(eout, tout)):
        assert_same(e, t, atol=1e-5, rtol=1e-4, what=f'output {i}')
    seeds = [rnd(*t.shape, seed=10 + i) for i, t in enumerate(tout)]
    torch.autograd.backward(tout, [torch.tensor(s) for s in seeds])
    ember.autograd.backward(eout, [ember.tensor(s) for s in seeds])
    for i, (e, t) in enumerate(leaves):
        assert_same(e.grad, t.grad, atol=tol, rtol=1e-3, what=f'grad of input {i}')
    tp = dict(tm.named_parameters())
    for k, p in em.named_parameters():
        assert_same(p.grad, tp[k].grad, atol=tol, rtol=1e-3, what=f'grad of {k}')


def F(lib):
    return lib.nn.functional


def leaf_pair(a):
    return torch.tensor(a, requires_grad=True), ember.tensor(a, requires_grad=True)


# -- RNN / LSTM / GRU --------------------------------------------------------------------------------------------------
CONFIGS = list(itertools.product(['RNN', 'LSTM', 'GRU'], [1, 2], [False, True], [False, True]))


@pytest.mark.parametrize('cls,layers,bidirectional,batch_first', CONFIGS,
                         ids=[f'{c}-L{n}-{"bi" if b else "uni"}-{"bf" if f else "tf"}' for c, n, b, f in CONFIGS])
@pytest.mark.parametrize('with_state', [False, True], ids=['zero_state', 'given_state'])
def test_recurrent_layer(cls, layers, bidirectional, batch_first, with_state):
    kw = dict(num_layers=layers, bidirectional=bidirectional, batch_first=batch_first)
    if cls == 'RNN' and layers == 2:
        kw['nonlinearity'] = 'relu'
    tm, em = twin(lambda nn: getattr(nn, cls)(4, 5, **kw))
    x = rnd(3, 6, 4) if batch_first else rnd(6, 3, 4)
    leaves = [leaf_pair(x)]
    if with_state:
        n = layers * (2 if bidirectional else 1)
        leaves += [leaf_pair(rnd(n, 3, 5, seed=s)) for s in ((1, 2) if cls == 'LSTM' else (1,))]
    targs, eargs = [leaves[0][0]], [leaves[0][1]]
    if with_state:
        ts, es = [t for t, _ in leaves[1:]], [e for _, e in leaves[1:]]
        targs.append(tuple(ts) if cls == 'LSTM' else ts[0])
        eargs.append(tuple(es) if cls == 'LSTM' else es[0])
    compare(tm, em, targs, eargs, [(e, t) for t, e in leaves])


@pytest.mark.parametrize('cls', ['RNN', 'LSTM', 'GRU'])
@pytest.mark.parametrize('with_state', [False, True])
def test_recurrent_layer_unbatched(cls, with_state):
    tm, em = twin(lambda nn: getattr(nn, cls)(4, 5, num_layers=2, bidirectional=True, bias=False))
    leaves = [leaf_pair(rnd(6, 4))]
    if with_state:
        leaves += [leaf_pair(rnd(4, 5, seed=s)) for s in ((1, 2) if cls == 'LSTM' else (1,))]
    ts, es = [t for t, _ in leaves], [e for _, e in leaves]
    targs = ts[:1] + ([tuple(ts[1:]) if cls == 'LSTM' else ts[1]] if with_state else [])
    eargs = es[:1] + ([tuple(es[1:]) if cls == 'LSTM' else es[1]] if with_state else [])
    compare(tm, em, targs, eargs, [(e, t) for t, e in leaves])


def test_lstm_projection_and_float64():
    tm, em = twin(lambda nn: nn.LSTM(4, 6, num_layers=2, proj_size=3, bidirectional=True), double=True)
    t, e = leaf_pair(rnd(5, 2, 4).astype(np.float64))
    compare(tm, em, [t], [e], [(e, t)], tol=1e-8)


def test_lstm_layer_node_names_match_torch():
    """float32 LSTM layers are one node each, named as PyTorch's CPU kernel records them; float64 ones are
    composed of per-step ops in both."""
    for dtype, kw in ((None, dict(num_layers=2)), (None, dict(bidirectional=True, bias=False)),
                      ('double', dict(num_layers=1))):
        tm, em = twin(lambda nn: nn.LSTM(3, 4, **kw), double=dtype == 'double')
        x = rnd(5, 2, 3)
        if dtype == 'double':
            x = x.astype(np.float64)
        tx, ex = leaf_pair(x)
        (to, (th, tc)), (eo, (eh, ec)) = tm(tx), em(ex)
        for t, e in ((to, eo), (th, eh), (tc, ec)):
            assert type(e.grad_fn).__name__ == t.grad_fn.name()
            assert [None if n is None else n.name() for n, _ in e.grad_fn.next_functions] == \
                [None if n is None else n.name() for n, _ in t.grad_fn.next_functions]
        assert [nr for _, nr in eh.grad_fn.next_functions] == [nr for _, nr in th.grad_fn.next_functions]


def test_lstm_layer_states_own_their_memory():
    """The fused layer writes each step into its saved arrays; h_n and c_n are copies, so changing the
    output (or the states) in place changes nothing else, as in PyTorch."""
    tm, em = twin(lambda nn: nn.LSTM(3, 4))
    tx, ex = leaf_pair(rnd(5, 2, 3))
    with torch.no_grad(), ember.no_grad():
        (to, (th, tc)), (eo, (eh, ec)) = tm(tx), em(ex)
        for t, e in ((to, eo), (th, eh), (tc, ec)):
            t.add_(1)
            e.add_(1)
        for t, e in ((to, eo), (th, eh), (tc, ec)):
            assert_same(e, t)
    (eo, (eh, ec)), (to, (th, tc)) = em(ex), tm(tx)
    ec.detach().zero_()
    eo.sum().backward()
    to.sum().backward()
    assert_same(ex.grad, tx.grad)


@pytest.mark.parametrize('reverse', [False, True])
def test_lstm_layer_node_gradcheck(reverse):
    """The fused layer's hand-written backward (and, through its composed reference, its double backward)
    against float64 finite differences, for every input: sequence, weights, biases and both states."""
    from ember.nn.modules.rnn import _lstm_layer
    rng = np.random.default_rng(0)
    shapes = [(4, 2, 3), (12, 3), (12, 3), (12,), (12,), (2, 3), (2, 3)]
    args = [ember.tensor(rng.standard_normal(s), dtype=ember.float64, requires_grad=True) for s in shapes]

    def f(x, w_ih, w_hh, b_ih, b_hh, h, c):
        return _lstm_layer(x, h, c, (w_ih, w_hh, b_ih, b_hh), reverse)

    assert type(f(*args)[0].grad_fn).__name__ == 'MkldnnRnnLayerBackward0'
    assert ember.autograd.gradcheck(f, args, eps=1e-6, atol=1e-5, rtol=1e-3)
    assert ember.autograd.gradgradcheck(f, args, eps=1e-6, atol=1e-4, rtol=1e-3)

@pytest.mark.parametrize('cls,nstate', [('RNNCell', 1), ('LSTMCell', 2), ('GRUCell', 1)])
@pytest.mark.parametrize('batched,with_state,bias', [(True, False, True), (True, True, False), (False, False, True),
                                                     (False, True, True)])
def test_cells(cls, nstate, batched, with_state, bias):
    tm, em = twin(lambda nn: getattr(nn, cls)(4, 5, bias=bias))
    lead = (3,) if batched else ()
    leaves = [leaf_pair(rnd(*lead, 4))]
    if with_state:
        leaves += [leaf_pair(rnd(*lead, 5, seed=s)) for s in range(1, nstate + 1)]
    ts, es = [t for t, _ in leaves], [e for _, e in leaves]
    targs = ts[:1] + ([tuple(ts[1:]) if nstate == 2 else ts[1]] if with_state else [])
    eargs = es[:1] + ([tuple(es[1:]) if nstate == 2 else es[1]] if with_state else [])
    compare(tm, em, targs, eargs, [(e, t) for t, e in leaves])


def test_rnn_cell_relu_repr_and_init():
    assert repr(ember.nn.RNNCell(3, 4, nonlinearity='relu', bias=False)) == \
        repr(torch.nn.RNNCell(3, 4, nonlinearity='relu', bias=False))
    ember.manual_seed(0)
    m = ember.nn.LSTM(10, 16, num_layers=2, bidirectional=True)
    bound = 1 / np.sqrt(16)
    for name, p in m.named_parameters():
        a = p.detach().numpy()
        assert np.abs(a).max() <= bound and np.abs(a).max() > 0.9 * bound, name
    names = [n for n, _ in m.named_parameters()]
    assert names == [n for n, _ in torch.nn.LSTM(10, 16, num_layers=2, bidirectional=True).named_parameters()]


@pytest.mark.parametrize('make', [
    lambda nn: nn.RNN(3, 4),
    lambda nn: nn.RNN(3, 4, 2, nonlinearity='relu', bias=False, batch_first=True, dropout=0.5, bidirectional=True),
    lambda nn: nn.LSTM(3, 4, proj_size=2),
    lambda nn: nn.GRU(3, 4, num_layers=3),
    lambda nn: nn.LSTMCell(3, 4),
    lambda nn: nn.GRUCell(3, 4, bias=False),
    lambda nn: nn.MultiheadAttention(8, 2),
    lambda nn: nn.MultiheadAttention(8, 4, bias=False, kdim=3, vdim=5, batch_first=True),
])
def test_repr_matches_torch(make):
    torch.manual_seed(0)
    assert repr(make(ember.nn)) == repr(make(torch.nn))


def test_recurrent_errors():
    m = ember.nn.LSTM(4, 5)
    with pytest.raises(RuntimeError, match='input.size\\(-1\\) must be equal to input_size'):
        m(ember.randn(3, 2, 3))
    with pytest.raises(RuntimeError, match='Expected hidden\\[0\\] size'):
        m(ember.randn(3, 2, 4), (ember.randn(1, 3, 5), ember.randn(1, 2, 5)))
    with pytest.raises(ValueError):
        ember.nn.GRU(4, 5, proj_size=2)
    with pytest.raises(ValueError):
        ember.nn.RNN(4, 5, nonlinearity='sigmoid')


def test_dropout_between_layers_only_in_training():
    ember.manual_seed(0)
    m = ember.nn.GRU(4, 5, num_layers=2, dropout=0.5)
    x = ember.randn(6, 2, 4)
    a, b = m(x)[0], m(x)[0]
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())
    m.eval()
    np.testing.assert_array_equal(m(x)[0].detach().numpy(), m(x)[0].detach().numpy())


# -- packed sequences --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('enforce_sorted', [True, False])
@pytest.mark.parametrize('batch_first', [False, True])
def test_pack_pad_roundtrip(enforce_sorted, batch_first):
    lengths = [5, 3, 3, 1] if enforce_sorted else [3, 5, 1, 3]
    x = rnd(4, 5, 3) if batch_first else rnd(5, 4, 3)
    t, e = leaf_pair(x)
    R, ER = torch.nn.utils.rnn, ember.nn.utils.rnn
    tp = R.pack_padded_sequence(t, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    ep = ER.pack_padded_sequence(e, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    for a, b in zip(ep, tp):
        if b is None:
            assert a is None
        else:
            assert_same(a, b)
    (tpad, tl), (epad, el) = R.pad_packed_sequence(tp, batch_first, total_length=6), \
        ER.pad_packed_sequence(ep, batch_first, total_length=6)
    assert_same(epad, tpad)
    assert_same(el, tl)
    g = rnd(*tpad.shape, seed=1)
    tpad.backward(torch.tensor(g))
    epad.backward(ember.tensor(g))
    assert_same(e.grad, t.grad)


@pytest.mark.parametrize('cls', ['RNN', 'LSTM', 'GRU'])
@pytest.mark.parametrize('enforce_sorted', [True, False])
def test_recurrent_layer_on_packed_sequence(cls, enforce_sorted):
    tm, em = twin(lambda nn: getattr(nn, cls)(3, 4, num_layers=2, bidirectional=True, batch_first=True))
    lengths = [5, 3, 3, 1] if enforce_sorted else [3, 5, 1, 3]
    t, e = leaf_pair(rnd(4, 5, 3))
    R, ER = torch.nn.utils.rnn, ember.nn.utils.rnn
    tout = tm(R.pack_padded_sequence(t, lengths, batch_first=True, enforce_sorted=enforce_sorted))
    eout = em(ER.pack_padded_sequence(e, lengths, batch_first=True, enforce_sorted=enforce_sorted))
    assert_same(eout[0].batch_sizes, tout[0].batch_sizes)
    tpad, _ = R.pad_packed_sequence(tout[0], batch_first=True)
    epad, _ = ER.pad_packed_sequence(eout[0], batch_first=True)
    touts, eouts = [tpad] + flat(tout[1]), [epad] + flat(eout[1])
    for i, (a, b) in enumerate(zip(eouts, touts)):
        assert_same(a, b, what=f'output {i}')
    seeds = [rnd(*o.shape, seed=3 + i) for i, o in enumerate(touts)]
    torch.autograd.backward(touts, [torch.tensor(s) for s in seeds])
    ember.autograd.backward(eouts, [ember.tensor(s) for s in seeds])
    assert_same(e.grad, t.grad, atol=1e-4)
    tp = dict(tm.named_parameters())
    for k, p in em.named_parameters():
        assert_same(p.grad, tp[k].grad, atol=1e-4, rtol=1e-3, what=k)


@pytest.mark.parametrize('batch_first', [False, True])
@pytest.mark.parametrize('side', ['right', 'left'])
def test_pad_sequence_and_pack_sequence(batch_first, side):
    seqs = [rnd(n, 3, seed=n) for n in (2, 5, 3)]
    R, ER = torch.nn.utils.rnn, ember.nn.utils.rnn
    check(lambda L, a, b, c: (R if L is torch else ER).pad_sequence([a, b, c], batch_first, 1.5, side),
          inputs=seqs, name=False)
    tp = R.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    ep = ER.pack_sequence([ember.tensor(s) for s in seqs], enforce_sorted=False)
    assert_same(ep.data, tp.data)
    for a, b in zip(ER.unpack_sequence(ep), R.unpack_sequence(tp)):
        assert_same(a, b)


# -- scaled dot-product attention -------------------------------------------------------------------------------------
BOOL_MASK = np.random.default_rng(5).random((5, 7)) > 0.3
BOOL_MASK[2] = False
SDPA = [
    ('plain_4d', [(2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 4)], {}),
    ('2d', [(5, 4), (7, 4), (7, 4)], {}),
    ('3d_value_dim', [(2, 5, 4), (2, 7, 4), (2, 7, 6)], {}),
    ('broadcast_batch', [(2, 1, 5, 4), (3, 7, 4), (1, 3, 7, 4)], {}),
    ('causal_scale', [(2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 4)], dict(is_causal=True, scale=0.3)),
    ('causal_blocks', [(2, 2, 17, 4), (2, 2, 17, 4), (2, 2, 17, 3)], dict(is_causal=True)),
    ('bool_mask_dead_row', [(2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 4)], dict(mask='bool')),
    ('float_mask', [(2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 4)], dict(mask='float')),
    ('float_mask_grad', [(2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 4), (5, 7)], {}),
]


@pytest.mark.parametrize('name,shapes,kw', SDPA, ids=[c[0] for c in SDPA])
def test_scaled_dot_product_attention(name, shapes, kw):
    kw = dict(kw)
    mask = kw.pop('mask', None)

    def fn(L, q, k, v, *m):
        am = None
        if mask == 'bool':
            am = L.tensor(BOOL_MASK)
        elif mask == 'float':
            am = L.tensor(rnd(5, 7, seed=4).astype(q.detach().numpy().dtype))
        elif m:
            am = m[0]
        return F(L).scaled_dot_product_attention(q, k, v, attn_mask=am, **kw)
    check(fn, *shapes, atol=1e-5, gradgrad=name in ('plain_4d', 'causal_scale', 'causal_blocks', 'float_mask_grad'))


def _heads(L, qkv, b, t, h, d):
    """nanoGPT's heads: q, k, v as transposed views of one (b, t, 3 h d) projection."""
    return [z.view(b, t, h, d).transpose(1, 2) for z in qkv.split(h * d, dim=2)]


@pytest.mark.parametrize('kw', [dict(is_causal=True), dict(attn_mask='float'), dict(attn_mask='bool'), dict(),
                                dict(dropout_p=0.5), dict(attn_mask='grad')], ids=str)
def test_sdpa_of_transposed_heads_has_pytorchs_layout_graph_and_values(kw):
    """On heads laid out as (B, L, H, D) in memory PyTorch's flash kernel returns its output in that layout, so
    nanoGPT's ``y.transpose(1, 2).contiguous()`` copies nothing (no CloneBackward0); its math path (dropout, a
    mask that needs grad) returns a contiguous one. Values and gradients are PyTorch's."""
    x = rnd(2, 5, 24, seed=9)
    g = rnd(2, 5, 8, seed=10)
    mask = {'float': rnd(5, 5, seed=11), 'bool': BOOL_MASK[:, :5], 'grad': rnd(5, 5, seed=11)}

    def run(L):
        qkv = L.tensor(x, requires_grad=True)
        q, k, v = _heads(L, qkv, 2, 5, 2, 4)
        args = dict(kw)
        if 'attn_mask' in args:
            args['attn_mask'] = L.tensor(mask[args['attn_mask']], requires_grad=args['attn_mask'] == 'grad')
        if args.get('dropout_p'):
            L.manual_seed(0)
        y = F(L).scaled_dot_product_attention(q, k, v, **args)
        z = y.transpose(1, 2).contiguous().view(2, 5, 8)
        z.backward(L.tensor(g))
        return y.stride(), type(z.grad_fn.next_functions[0][0]).__name__, z.detach().numpy(), qkv.grad.numpy()
    (es, en, ez, eg), (ts, tn, tz, tg) = run(ember), run(torch)
    assert es == ts and en == tn
    if not kw.get('dropout_p'):
        np.testing.assert_allclose(ez, tz, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(eg, tg, rtol=1e-5, atol=1e-6)


def test_sdpa_of_transposed_heads_gradcheck():
    qkv = ember.randn(2, 3, 12, dtype=ember.float64, requires_grad=True)
    f = lambda qkv: ember.nn.functional.scaled_dot_product_attention(*_heads(ember, qkv, 2, 3, 2, 2), is_causal=True)
    assert f(qkv).stride() == (12, 2, 4, 1)
    assert ember.autograd.gradcheck(f, (qkv,))
    assert ember.autograd.gradgradcheck(f, (qkv,))


@pytest.mark.parametrize('t', [16, 33])
def test_sdpa_causal_blocks_of_transposed_heads(t):
    """Causal attention with as many keys as queries (from 16) skips the masked blocks of its products: values and
    gradients are PyTorch's, also for an odd length, and float64 gradients are finite differences'."""
    from ember.nn.functional import _attention
    x, g = rnd(2, t, 24, seed=12), rnd(2, t, 8, seed=13)
    q, k, v = _heads(ember, ember.tensor(x), 2, t, 2, 4)
    assert _attention._half(q._data, k._data, v._data, True) == t // 2

    def run(L):
        qkv = L.tensor(x, requires_grad=True)
        y = F(L).scaled_dot_product_attention(*_heads(L, qkv, 2, t, 2, 4), is_causal=True)
        y.transpose(1, 2).contiguous().view(2, t, 8).backward(L.tensor(g))
        return y.detach().numpy(), qkv.grad.numpy()
    for a, b in zip(run(ember), run(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    qkv = ember.tensor(x[:1].astype(np.float64), requires_grad=True)
    f = lambda qkv: F(ember).scaled_dot_product_attention(*_heads(ember, qkv, 1, t, 2, 4), is_causal=True)
    assert ember.autograd.gradcheck(f, (qkv,))


def test_sdpa_causal_blocks_with_dropout():
    """The block-causal products under dropout (PyTorch's draws): values and gradients are PyTorch's."""
    x = rnd(2, 2, 16, 4, seed=14)

    def run(L):
        L.manual_seed(0)
        q = L.tensor(x, requires_grad=True)
        y = F(L).scaled_dot_product_attention(q, q * 0.5, q * 2, is_causal=True, dropout_p=0.3)
        y.sum().backward()
        return y.detach().numpy(), q.grad.numpy()
    for a, b in zip(run(ember), run(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('threads', [1, 2])
@pytest.mark.parametrize('case', [((3, 5, 17, 8), (3, 5, 17, 8), True, 'float32'),
                                  ((2, 3, 40, 16), (2, 3, 33, 16), False, 'float32'),
                                  ((1, 2, 70, 8), (1, 2, 70, 8), True, 'float64'),
                                  ((12, 4, 64, 32), (12, 4, 64, 32), True, 'float32'),
                                  ((7, 9, 5), (7, 11, 5), False, 'float64'),
                                  ((1, 4, 520, 4), (1, 4, 520, 4), True, 'float32')], ids=str)
def test_sdpa_scores_laid_out_by_keys(case, threads):
    """The unsplit attention keeps its transposed scores and their gradient laid out key by key (_keys_outer) and
    runs the softmax on a 2-D view of them: values and gradients are PyTorch's for odd lengths, more keys than
    queries, float64, GPT's heads, a causal bias too large to keep repeated, at one and two threads; float64 with
    huge scores (columns whose exp underflows but for one key)."""
    qs, ks, causal, dt = case
    big = 30.0 if dt == 'float64' else 3.0
    q, k, v, g = rnd(*qs, seed=20), rnd(*ks, seed=21, scale=big), rnd(*ks, seed=22), rnd(*qs, seed=23)

    def run(L):
        L.set_num_threads(threads)
        try:
            t = [L.tensor(a.astype(dt), requires_grad=True) for a in (q, k, v)]
            y = F(L).scaled_dot_product_attention(*t, is_causal=causal)
            y.backward(L.tensor(g.astype(dt)))
            return [y.detach().numpy()] + [a.grad.numpy() for a in t]
        finally:
            L.set_num_threads(1)
    tol = dict(rtol=1e-5, atol=1e-5) if dt == 'float32' else dict(rtol=1e-12, atol=1e-12)
    for a, b in zip(run(ember), run(torch)):
        np.testing.assert_allclose(a, b, **tol)


def test_sdpa_dropout_and_gqa():
    ember.manual_seed(0)
    q = ember.randn(2, 4, 5, 8, requires_grad=True)
    out = F(ember).scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    out.sum().backward()
    assert out.shape == (2, 4, 5, 8) and q.grad is not None
    check(lambda L, q, k, v: F(L).scaled_dot_product_attention(q, k, v, enable_gqa=True),
          (1, 4, 3, 2), (1, 2, 3, 2), (1, 2, 3, 2), name=False)
    with pytest.raises(RuntimeError):
        F(ember).scaled_dot_product_attention(q, q, q, attn_mask=ember.ones(5, 5, dtype=ember.bool), is_causal=True)


# -- multi-head attention ----------------------------------------------------------------------------------------------
MHA = [c for c in itertools.product([False, True], [True, False], [True, False], [None, 'kv', 'qkv'],
                                    [None, 'key_padding', 'bool_attn', 'both', 'float_attn', 'attn_3d'])
       if c[1] or c[2]]


@pytest.mark.parametrize('batch_first,need_weights,average,same,mask', MHA,
                         ids=['-'.join(str(v) for v in c) for c in MHA])
def test_multihead_attention(batch_first, need_weights, average, same, mask):
    L, S, N, E, H = 5, 7, 3, 8, 2
    if same == 'qkv':
        S = L
    tm, em = twin(lambda nn: nn.MultiheadAttention(E, H, batch_first=batch_first, bias=mask != 'both'))
    rng = np.random.default_rng(7)
    shape = (lambda n: (N, n, E)) if batch_first else (lambda n: (n, N, E))
    q, k, v = leaf_pair(rnd(*shape(L), seed=1)), leaf_pair(rnd(*shape(S), seed=2)), leaf_pair(rnd(*shape(S), seed=3))
    if same == 'kv':
        v = k
    if same == 'qkv':
        k = v = q
    masks = {}
    if mask in ('key_padding', 'both'):
        kp = rng.random((N, S)) > 0.7
        kp[:, 0] = False
        masks['key_padding_mask'] = kp
    if mask in ('bool_attn', 'both'):
        am = rng.random((L, S)) > 0.7
        am[:, 0] = False
        masks['attn_mask'] = am
    if mask == 'float_attn':
        masks['attn_mask'] = rnd(L, S, seed=4)
    if mask == 'attn_3d':
        masks['attn_mask'] = rnd(N * H, L, S, seed=4)
    opts = dict(need_weights=need_weights, average_attn_weights=average)
    kwargs = {'torch': dict(opts, **{k_: torch.tensor(a) for k_, a in masks.items()}),
              'ember': dict(opts, **{k_: ember.tensor(a) for k_, a in masks.items()})}
    leaves = {id(p[0]): p for p in (q, k, v)}
    compare(tm, em, [q[0], k[0], v[0]], [q[1], k[1], v[1]], [(e, t) for t, e in leaves.values()], kwargs)


@pytest.mark.parametrize('case', ['kdim_vdim', 'bias_kv_zero_attn', 'unbatched', 'unbatched_no_weights'])
def test_multihead_attention_variants(case):
    E, H = 8, 2
    make = {'kdim_vdim': lambda nn: nn.MultiheadAttention(E, H, kdim=4, vdim=6),
            'bias_kv_zero_attn': lambda nn: nn.MultiheadAttention(E, H, add_bias_kv=True, add_zero_attn=True)}
    tm, em = twin(make.get(case, lambda nn: nn.MultiheadAttention(E, H)))
    shapes = {'kdim_vdim': [(5, 3, E), (7, 3, 4), (7, 3, 6)], 'bias_kv_zero_attn': [(5, 3, E), (7, 3, E), (7, 3, E)],
              'unbatched': [(5, E), (7, E), (7, E)], 'unbatched_no_weights': [(5, E), (7, E), (7, E)]}[case]
    leaves = [leaf_pair(rnd(*s, seed=i)) for i, s in enumerate(shapes)]
    kwargs = {}
    if case == 'bias_kv_zero_attn':
        kp = np.zeros((3, 7), bool)
        kp[0, 3:] = True
        kwargs = {'torch': {'key_padding_mask': torch.tensor(kp)}, 'ember': {'key_padding_mask': ember.tensor(kp)}}
    if case == 'unbatched_no_weights':
        kwargs = {'torch': {'need_weights': False}, 'ember': {'need_weights': False}}
    compare(tm, em, [t for t, _ in leaves], [e for _, e in leaves], [(e, t) for t, e in leaves], kwargs)


def test_multihead_attention_parameters_and_init():
    ember.manual_seed(0)
    m = ember.nn.MultiheadAttention(16, 4)
    assert [n for n, _ in m.named_parameters()] == ['in_proj_weight', 'in_proj_bias', 'out_proj.weight',
                                                     'out_proj.bias']
    assert type(m.out_proj).__name__ == 'NonDynamicallyQuantizableLinear'
    assert isinstance(m.out_proj, ember.nn.Linear)
    assert not m.in_proj_bias.detach().numpy().any() and not m.out_proj.bias.detach().numpy().any()
    bound = np.sqrt(6 / (16 + 48))
    assert np.abs(m.in_proj_weight.detach().numpy()).max() <= bound
    sep = ember.nn.MultiheadAttention(8, 2, kdim=3, vdim=5, add_bias_kv=True)
    assert [n for n, _ in sep.named_parameters()] == \
        [n for n, _ in torch.nn.MultiheadAttention(8, 2, kdim=3, vdim=5, add_bias_kv=True).named_parameters()]
    assert sep.in_proj_weight is None and tuple(sep.bias_k.shape) == (1, 1, 8)
    with pytest.raises(AssertionError):
        ember.nn.MultiheadAttention(10, 3)


# -- Transformer layers ------------------------------------------------------------------------------------------------
TRANSFORMER_LAYERS = [
    ('encoder', lambda nn: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0), False),
    ('encoder_bf_normfirst_gelu', lambda nn: nn.TransformerEncoderLayer(8, 2, 16, 0.0, 'gelu', batch_first=True,
                                                                       norm_first=True), True),
    ('encoder_nobias', lambda nn: nn.TransformerEncoderLayer(8, 4, 12, 0.0, bias=False, layer_norm_eps=1e-3), False),
    ('decoder', lambda nn: nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0), False),
    ('decoder_bf_normfirst', lambda nn: nn.TransformerDecoderLayer(8, 2, 16, 0.0, batch_first=True, norm_first=True),
     True),
]


@pytest.mark.parametrize('name,make,batch_first', TRANSFORMER_LAYERS, ids=[c[0] for c in TRANSFORMER_LAYERS])
@pytest.mark.parametrize('masks', [False, True])
def test_transformer_layers(name, make, batch_first, masks):
    tm, em = twin(make)
    shape = (lambda n: (3, n, 8)) if batch_first else (lambda n: (n, 3, 8))
    leaves = [leaf_pair(rnd(*shape(5), seed=1))]
    if name.startswith('decoder'):
        leaves.append(leaf_pair(rnd(*shape(6), seed=2)))
    kw_t, kw_e = {}, {}
    if masks:
        causal = np.triu(np.full((5, 5), -np.inf, np.float32), 1)
        kp = np.zeros((3, 5), np.float32)
        kp[1, 3:] = -np.inf
        key = 'src' if name.startswith('encoder') else 'tgt'
        kw_t = {f'{key}_mask': torch.tensor(causal), f'{key}_key_padding_mask': torch.tensor(kp)}
        kw_e = {f'{key}_mask': ember.tensor(causal), f'{key}_key_padding_mask': ember.tensor(kp)}
    compare(tm, em, [t for t, _ in leaves], [e for _, e in leaves], [(e, t) for t, e in leaves],
            {'torch': kw_t, 'ember': kw_e})


def test_transformer_full_model():
    with pytest.warns(UserWarning, match='enable_nested_tensor'):
        tm, em = twin(lambda nn: nn.Transformer(8, 2, 2, 2, 16, dropout=0.0))
    src, tgt = leaf_pair(rnd(6, 2, 8, seed=1)), leaf_pair(rnd(5, 2, 8, seed=2))
    kw = {'torch': {'tgt_mask': torch.nn.Transformer.generate_square_subsequent_mask(5)},
          'ember': {'tgt_mask': ember.nn.Transformer.generate_square_subsequent_mask(5)}}
    assert_same(kw['ember']['tgt_mask'], kw['torch']['tgt_mask'])
    compare(tm, em, [src[0], tgt[0]], [src[1], tgt[1]], [(src[1], src[0]), (tgt[1], tgt[0])], kw)


def test_transformer_encoder_stack():
    with pytest.warns(UserWarning):
        tm, em = twin(lambda nn: nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, 0.0), 2, nn.LayerNorm(8)))
    t, e = leaf_pair(rnd(5, 2, 8))
    kp = np.zeros((2, 5), bool)
    kp[0, 4] = True
    compare(tm, em, [t], [e], [(e, t)], {'torch': {'src_key_padding_mask': torch.tensor(kp)},
                                         'ember': {'src_key_padding_mask': ember.tensor(kp)}})


def test_sdpa_kernel_backends_as_on_pytorchs_cpu():
    """torch.nn.attention.sdpa_kernel: the math and flash kernels run on a CPU; a choice without either
    raises PyTorch's error; SDPBackend prints as PyTorch's."""
    from torch.nn.attention import SDPBackend as TB, sdpa_kernel as tk
    from ember.nn.attention import SDPBackend as EB, sdpa_kernel as ek
    q = np.random.default_rng(0).standard_normal((1, 2, 4, 8)).astype(np.float32)
    for name in ('ERROR', 'MATH', 'FLASH_ATTENTION', 'EFFICIENT_ATTENTION', 'CUDNN_ATTENTION', 'OVERRIDEABLE'):
        results = []
        for L, B, kernel in ((ember, EB, ek), (torch, TB, tk)):
            t = L.tensor(q)
            try:
                with kernel(getattr(B, name)):
                    results.append(L.nn.functional.scaled_dot_product_attention(t, t, t).shape)
            except RuntimeError as e:
                results.append(str(e))
            assert (repr(getattr(B, name)), str(getattr(B, name)), int(getattr(B, name))) == \
                (repr(getattr(TB, name)), str(getattr(TB, name)), int(getattr(TB, name)))
        assert results[0] == results[1], name
    with ek([EB.EFFICIENT_ATTENTION, EB.MATH]):
        ember.nn.functional.scaled_dot_product_attention(ember.tensor(q), ember.tensor(q), ember.tensor(q))
