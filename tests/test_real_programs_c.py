"""Defects found by running more real public programs on ember (pygcn, Karpathy's makemore backprop exercise,
the neural style transfer tutorial with LBFGS, d2l chapters, pytorch/examples reinforcement learning, nanoGPT,
the VAE and seq2seq examples), each reduced to its essential lines and checked against PyTorch."""
import array
import collections
import warnings

import numpy as np
import pytest
import torch

import ember
from helpers import fresh_storage_warning


# pygcn's utils.load_data: idx_train = range(140); idx_train = torch.LongTensor(idx_train). The legacy
# constructors take any Python sequence, as PyTorch's PySequence_Check does
@pytest.mark.parametrize('expr', [
    'T.LongTensor(range(5))', 'T.FloatTensor(range(2, 5))', 'T.Tensor(range(3))', 'T.LongTensor(range(0))',
    'T.LongTensor(collections.deque([1, 2]))', "T.LongTensor(array.array('l', [1, 2]))", 'T.ByteTensor(range(3))',
    'T.BoolTensor(range(3))', 'T.DoubleTensor(Seq())', 'T.FloatTensor([range(2), range(2)])'])
def test_legacy_constructors_take_any_sequence(expr):
    class Seq:
        def __getitem__(self, i):
            if i < 3:
                return i * 1.5
            raise IndexError

        def __len__(self):
            return 3
    got = [eval(expr, {'T': T, 'collections': collections, 'array': array, 'Seq': Seq}) for T in (torch, ember)]
    assert str(got[1].dtype) == str(got[0].dtype)
    np.testing.assert_array_equal(got[1].numpy(), got[0].numpy())
    assert repr(got[1]) == repr(got[0])


@pytest.mark.parametrize('expr', ["T.Tensor('abc')", "T.Tensor(b'ab')", 'T.LongTensor({1: 2})', 'T.FloatTensor(3.5)',
                                  'T.LongTensor(iter([1, 2]))', 'T.LongTensor(T.tensor([1., 2.]))',
                                  'T.FloatTensor(T.zeros(2, dtype=T.float64))',
                                  'T.DoubleTensor(T.zeros(2, dtype=T.bfloat16))', 'T.Tensor(np.float64(2.5))',
                                  'T.FloatTensor(np.float32(2.5))'])
def test_legacy_constructor_errors_as_pytorch(expr):
    msgs = []
    for T in (torch, ember):
        with pytest.raises(TypeError) as e:
            eval(expr, {'T': T, 'np': np})
        msgs.append(str(e.value))
    assert msgs[1] == msgs[0]


def _float_warnings(T, no_grad):
    x = (T.ones(1, requires_grad=True) * 2).sum()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        if no_grad:
            with T.no_grad():
                float(x)
        else:
            complex(x)
    return [str(m.message).split(' (Triggered')[0] for m in w]


def test_float_of_a_grad_tensor_warns_only_in_grad_mode():
    """The style transfer tutorial's LBFGS calls float(loss) inside its no-grad step: PyTorch does not warn there
    (its warning is for grad mode only); complex() warns as float() does."""
    assert _float_warnings(ember, True) == _float_warnings(torch, True) == []
    ember._warn._WARNED_ONCE.discard('Converting a tensor with requires_grad=True to a scalar may lead to '
                                     'unexpected behavior.\nConsider using tensor.detach() first.')
    got = _float_warnings(ember, False)
    assert got == ['Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n'
                   'Consider using tensor.detach() first.']


def test_style_transfer_lbfgs_step_is_silent():
    """The tutorial's closure (clamp_ under no_grad, zero_grad, loss.backward) run by LBFGS: no warning, and the
    image moves as PyTorch's."""
    res = []
    img0 = np.random.RandomState(0).rand(1, 3, 6, 6).astype(np.float32)
    for T in (torch, ember):
        target = T.tensor(img0[:, ::-1].copy())
        img = T.tensor(img0).requires_grad_(True)
        opt = T.optim.LBFGS([img], max_iter=2)

        def closure():
            with T.no_grad():
                img.clamp_(0, 1)
            opt.zero_grad()
            f = img.view(3, 36)
            loss = T.nn.functional.mse_loss(f @ f.t() / 108, (target.view(3, 36) @ target.view(3, 36).t()) / 108)
            loss.backward()
            return loss
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            opt.step(closure)
        res.append(([str(m.message) for m in w], img.detach().numpy().copy()))
    assert res[1][0] == res[0][0] == []
    np.testing.assert_allclose(res[1][1], res[0][1], rtol=1e-6, atol=1e-7)


def test_aminmax_prints_its_return_type():
    x = np.random.RandomState(1).randn(3, 4).astype(np.float32)
    got = [(repr(T.aminmax(T.tensor(x))), repr(T.aminmax(T.tensor(x), dim=1)), T.aminmax(T.tensor(x)).max.item())
           for T in (torch, ember)]
    assert got[1] == got[0]


def _backprop_ninja(T, x, g):
    """makemore part 4: tanh's gradient by hand, (1 - h**2) * dh, against the autograd one; PyTorch's kernel
    rounds (1 - h*h) once (an fma), so the lecture prints `exact: False` for hpreact."""
    hpreact = T.tensor(x, requires_grad=True)
    h = T.tanh(hpreact)
    dh = T.tensor(g)
    h.backward(dh)
    dhpreact = (1.0 - h ** 2) * dh
    return (T.all(dhpreact == hpreact.grad).item(), T.allclose(dhpreact, hpreact.grad), h.detach().numpy(),
            hpreact.grad.numpy())


def test_tanh_backward_rounds_as_pytorch():
    rng = np.random.RandomState(3)
    x, g = (rng.randn(2, 32, 64) * [[[1.5]], [[0.01]]]).astype(np.float32)
    t, e = _backprop_ninja(torch, x, g), _backprop_ninja(ember, x, g)
    same = e[2] == t[2]           # PyTorch's float32 tanh (SLEEF) is not always correctly rounded
    assert same.mean() > 0.99
    np.testing.assert_array_equal(e[3][same], t[3][same])      # tanh's backward rounds as PyTorch's
    assert e[:2] == t[:2] == (False, True)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_tanh_backward_bits_and_gradcheck(dtype):
    rng = np.random.RandomState(2)
    x, g = rng.randn(2, 1000) * 2
    grads = []
    for T in (torch, ember):
        dt = getattr(T, dtype)
        xt = T.tensor(x, dtype=dt, requires_grad=True)
        y = T.tanh(xt)
        y.backward(T.tensor(g, dtype=dt))
        grads.append((y.detach().numpy(), xt.grad.numpy()))
    same_y = grads[1][0] == grads[0][0]        # the comparison needs the same forward values
    assert same_y.mean() > 0.75     # float64 tanh: PyTorch's (SLEEF) and NumPy's differ in the last bit
    np.testing.assert_array_equal(grads[1][1][same_y], grads[0][1][same_y])
    xs = ember.tensor(rng.randn(5), dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(ember.tanh, (xs,))
    assert ember.autograd.gradgradcheck(ember.tanh, (xs,))


# -- CTC loss (speech and OCR recipes: CRNN, DeepSpeech-style models; nn.CTCLoss over log_softmax outputs) -------
_CTC_CASES = [  # T, N, C, S, input lengths, target lengths, blank, reduction, zero_infinity, 1-D targets
    (6, 2, 4, 3, [6, 6], [3, 2], 0, 'mean', False, False),
    (6, 2, 4, 3, [6, 4], [3, 2], 0, 'sum', False, False),
    (6, 2, 4, 3, [6, 4], [3, 2], 0, 'none', False, True),
    (8, 3, 5, 4, [8, 7, 3], [4, 0, 2], 2, 'mean', False, False),
    (6, 2, 4, 3, [2, 6], [3, 2], 0, 'mean', True, False),
    (6, 2, 4, 3, [2, 6], [3, 2], 0, 'none', False, False),
    (30, 4, 10, 8, [30, 25, 30, 12], [8, 5, 1, 6], 0, 'mean', False, False)]


def _grad_fn_names(t):
    names, fn = [], t.grad_fn
    while fn is not None:
        names.append(fn.name())
        fn = fn.next_functions[0][0] if fn.next_functions else None
    return names


@pytest.mark.parametrize('case', _CTC_CASES, ids=str)
def test_ctc_loss_bits_and_graph_as_pytorch(case):
    """Loss bit for bit and gradient to the last bit (the same log_probs on both sides), infeasible targets (inf,
    or 0 with zero_infinity), a repeated label, a blank other than 0, concatenated targets, and PyTorch's graph."""
    T, N, C, S, il, tl, blank, red, zi, flat = case
    rng = np.random.RandomState(T * 10 + N)
    lp = torch.tensor(rng.randn(T, N, C).astype(np.float32)).log_softmax(2).numpy()
    tg = rng.randint(0, C, (N, S))
    tg[tg == blank] = (blank + 1) % C
    if N == 2:
        tg[0, 1] = tg[0, 0]
    out = []
    for M in (torch, ember):
        x = M.tensor(lp, requires_grad=True)
        tgt = M.cat([M.tensor(tg[i, :tl[i]]) for i in range(N)]) if flat else M.tensor(tg)
        loss = M.nn.functional.ctc_loss(x, tgt, M.tensor(il), M.tensor(tl), blank=blank, reduction=red,
                                        zero_infinity=zi)
        (loss.sum() if red == 'none' else loss).backward()
        out.append((loss.detach().numpy(), x.grad.numpy(), _grad_fn_names(loss)[:-1]))
    np.testing.assert_array_equal(out[1][0], out[0][0])
    # the gradient subtracts two exps: a last-bit difference between glibc's expf and a correctly rounded exp
    # shows there, rarely (1 element in these cases)
    same = (out[1][1] == out[0][1]) | (np.isnan(out[1][1]) & np.isnan(out[0][1]))
    assert same.mean() > 0.99
    np.testing.assert_allclose(out[1][1], out[0][1], rtol=1e-5, atol=1e-8)
    assert out[1][2] == out[0][2]


def test_ctc_loss_module_unbatched_and_errors():
    rng = np.random.RandomState(5)
    lp = torch.tensor(rng.randn(6, 4).astype(np.float32)).log_softmax(1).numpy()
    res = []
    for M in (torch, ember):
        x = M.tensor(lp, requires_grad=True)
        crit = M.nn.CTCLoss(blank=0, reduction='none', zero_infinity=True)
        loss = crit(x, M.tensor([1, 2, 2]), M.tensor(6), M.tensor(3))
        loss.backward()
        errs = []
        for kw in (dict(blank=4), dict(reduction='avg'), dict(input_lengths=M.tensor([7])),
                   dict(target_lengths=M.tensor([4])), dict(input_lengths=M.tensor([6.]))):
            args = dict(input_lengths=M.tensor([6]), target_lengths=M.tensor([3]))
            args.update(kw)
            try:
                M.nn.functional.ctc_loss(x[:, None], M.tensor([[1, 2, 2]]), **args)
            except (RuntimeError, ValueError) as e:
                errs.append((type(e).__name__, str(e)))
        g = M.autograd.grad(M.nn.functional.ctc_loss(x, M.tensor([1, 2]), M.tensor(6), M.tensor(2)), x,
                            create_graph=True)[0]
        with pytest.raises(RuntimeError) as e:
            g.sum().backward()
        res.append((repr(crit), loss.item(), _grad_fn_names(loss)[:-1], x.grad.numpy(), errs, str(e.value),
                     g.grad_fn.name()))
    assert res[1][:3] == res[0][:3]
    np.testing.assert_allclose(res[1][3], res[0][3], rtol=1e-6, atol=1e-8)
    assert res[1][4:] == res[0][4:]
    assert len(res[0][4]) == 5


def test_ctc_loss_gradcheck_through_log_softmax():
    """PyTorch's ctc gradient is the logits' gradient of a log_softmax input (it drops the softmax Jacobian's
    sum, which is zero there): float64 finite differences through log_softmax agree."""
    rng = np.random.RandomState(7)
    logits = ember.tensor(rng.randn(5, 2, 4), dtype=ember.float64, requires_grad=True)
    tg, il, tl = ember.tensor([[1, 2], [3, 3]]), ember.tensor([5, 5]), ember.tensor([2, 2])
    for red in ('mean', 'sum', 'none'):
        assert ember.autograd.gradcheck(
            lambda z: ember.nn.functional.ctc_loss(z.log_softmax(2), tg, il, tl, reduction=red), (logits,))


def _mask_warnings(M):
    """The translation tutorial's masks: bool padding masks beside a float causal mask."""
    M.manual_seed(0)
    q = M.randn(3, 2, 4)
    fm, bm = M.zeros(3, 3), M.zeros(2, 3, dtype=M.bool)
    mha = M.nn.MultiheadAttention(4, 2)
    enc = M.nn.TransformerEncoder(M.nn.TransformerEncoderLayer(4, 2, 8), 1, enable_nested_tensor=False)
    dec = M.nn.TransformerDecoderLayer(4, 2, 8)
    calls = [lambda: mha(q, q, q, key_padding_mask=bm, attn_mask=fm), lambda: mha(q, q, q, key_padding_mask=bm),
             lambda: mha(q, q, q, key_padding_mask=bm, attn_mask=M.zeros(3, 3, dtype=M.bool)),
             lambda: enc(q, mask=fm, src_key_padding_mask=bm),
             lambda: enc.layers[0](q, src_mask=fm, src_key_padding_mask=bm),
             lambda: dec(q, q, tgt_mask=fm, tgt_key_padding_mask=bm)]
    out = []
    for f in calls:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            f()
        out.append([str(m.message) for m in w])
    return out


def test_mismatched_mask_dtypes_warn_as_pytorch():
    got = _mask_warnings(ember)
    assert got == _mask_warnings(torch)
    assert got[0] == ['Support for mismatched key_padding_mask and attn_mask is deprecated. Use same type for both '
                      'instead.']


def _storages(M):
    """The Tensor Views tutorial's check (a view shares its base's storage, a clone does not), the printed
    storages, their sizes and element writes, and the one-time deprecation warning of TypedStorage."""
    t = M.arange(6.).view(2, 3)
    b = t[1:]
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        s = t.storage()
        shared = (t.storage().data_ptr() == b.storage().data_ptr(), t.untyped_storage().data_ptr() ==
                  b.untyped_storage().data_ptr(), t.storage().data_ptr() == t.clone().storage().data_ptr())
    x = M.ones(3)
    x.storage()[0] = 5
    u = M.tensor([1, 2], dtype=M.int8).untyped_storage()
    try:
        s[0:1]
    except RuntimeError as e:
        err = str(e)
    return (shared, repr(s), repr(u), repr(M.tensor([True]).storage()), repr(M.zeros(0).storage()), str(type(s)),
            str(type(u)), s.size(), len(b.storage()), s.nbytes(), s.element_size(), s.tolist(), s[-1],
            t.untyped_storage().nbytes(), u.tolist(), x.tolist(), M.is_storage(s), M.is_storage(x), err,
            M.ones(2, 3).t().storage().size()), [str(m.message) for m in w]


def test_storages_as_pytorch():
    fresh_storage_warning()
    got, warned = _storages(ember)
    want, torch_warned = _storages(torch)
    assert got == want
    assert got[0] == (True, True, False) and got[1].startswith(' 0.0\n 1.0\n')
    assert warned == torch_warned == [ember.storage._DEPRECATED]      # once a process, as PyTorch's


@pytest.mark.parametrize('shape', [(2, 1, 10, 4), (3, 4, 5, 6), (5, 3, 7, 2), (2, 7, 7, 7), (3, 1, 0, 2),
                                   (2, 5, 8, 10)], ids=str)
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_small_bmm_sums_as_pytorch(shape, dtype):
    """PyTorch's bmm (and matmul of stacks) sums products below 400 multiply-adds a matrix in its own loop, in
    contraction order: bit for bit there; the rest (BLAS) to rounding."""
    B, I, K, J = shape
    rng = np.random.RandomState(B * 100 + K)
    a, b = rng.randn(B, I, K), rng.randn(B, K, J)
    got = [[f(T.tensor(a, dtype=getattr(T, dtype)), T.tensor(b, dtype=getattr(T, dtype))).numpy()
            for f in (lambda x, y: x.bmm(y), lambda x, y: x[None] @ y[None], lambda x, y: x @ y[:1])]
           for T in (torch, ember)]
    for e, t in zip(*got[::-1]):
        if I * K * J < 400:
            np.testing.assert_array_equal(e, t)
        else:
            np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-5)


def test_d2l_attention_output_prints_as_pytorch():
    """d2l's attention scoring chapter: weights 1/2 and 1/6 over arange values; PyTorch's loop order leaves
    12.000001, so the tensor prints with four decimals."""
    got = []
    for T in (torch, ember):
        values = T.arange(40, dtype=T.float32).reshape(1, 10, 4).repeat(2, 1, 1)
        w = T.zeros(2, 1, 10)
        w[0, 0, :2] = 0.5
        w[1, 0, :6] = 1 / 6
        got.append(repr(T.bmm(w, values)))
    assert got[1] == got[0]
    assert '10.0000, 11.0000, 12.0000, 13.0000' in got[0]
