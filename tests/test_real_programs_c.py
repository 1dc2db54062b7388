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
                                  'T.DoubleTensor(T.zeros(2, dtype=T.bfloat16))'])
def test_legacy_constructor_errors_as_pytorch(expr):
    msgs = []
    for T in (torch, ember):
        with pytest.raises(TypeError) as e:
            eval(expr, {'T': T})
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
