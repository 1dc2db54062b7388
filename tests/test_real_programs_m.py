"""Real public programs run on ember against PyTorch (session 32), each reduced to the lines that exercised
ember: Karpathy's nn-zero-to-hero makemore lectures (part 2's MLP over a list of names, and its index whose shapes
do not broadcast), d2l's multiple-GPU helper ``split_batch`` on a machine with no GPU, and pytorch/examples'
mnist_rnn model (which ran unchanged and matched)."""
import importlib
import warnings

import torch

import ember
from helpers import run_both

_NAMES = ['emma', 'olivia', 'ava', 'isabella', 'sophia', 'charlotte', 'mia', 'amelia', 'harper', 'evelyn']


def _makemore_dataset(T, words, block=3):
    """makemore's (context of ``block`` characters -> next character) pairs, '.' (0) padding and ending a name."""
    stoi = {c: i + 1 for i, c in enumerate(sorted(set(''.join(words))))}
    stoi['.'] = 0
    xs, ys = [], []
    for w in words:
        context = [0] * block
        for ch in w + '.':
            xs.append(context)
            ys.append(stoi[ch])
            context = context[1:] + [stoi[ch]]
    return T.tensor(xs), T.tensor(ys), len(stoi)


def _makemore_mlp(T):
    """Part 2's MLP: a 2-D character embedding looked up as C[X], a tanh layer, cross_entropy, minibatches drawn
    with the lecture's generator and plain SGD on .data; then the lecture's slip, the 8 rows' probabilities
    indexed with the labels of every example."""
    X, Y, vocab = _makemore_dataset(T, _NAMES)
    g = T.Generator().manual_seed(2147483647)
    C = T.randn((vocab, 2), generator=g)
    W1, b1 = T.randn((6, 50), generator=g), T.randn(50, generator=g)
    W2, b2 = T.randn((50, vocab), generator=g), T.randn(vocab, generator=g)
    params = [C, W1, b1, W2, b2]
    for p in params:
        p.requires_grad = True
    losses = []
    for _ in range(20):
        ix = T.randint(0, X.shape[0], (8,), generator=g)
        h = T.tanh(C[X[ix]].view(-1, 6) @ W1 + b1)
        loss = T.nn.functional.cross_entropy(h @ W2 + b2, Y[ix])
        for p in params:
            p.grad = None
        loss.backward()
        for p in params:
            p.data += -0.1 * p.grad
        losses.append(loss.item())
    prob = (h @ W2 + b2).softmax(1)
    try:
        prob[T.arange(8), Y]
    except IndexError as e:
        return T.tensor(losses), C.detach(), ix, str(e)
    raise AssertionError('the index broadcast')


def test_makemore_mlp_training_and_index_error():
    run_both(_makemore_mlp, tol=1e-5)


def test_d2l_split_batch_without_gpus():
    """d2l's split_batch scatters X and y over the devices d2l.try_all_gpus() finds: the CPU on a machine with no
    GPU, which PyTorch refuses; objects other than tensors are repeated per device."""
    def split_batch(T):
        X, y = T.arange(24.).reshape(6, 4), T.arange(6)
        return T.nn.parallel.scatter(X, [T.device('cpu')]), T.nn.parallel.scatter(y, [T.device('cpu')])
    run_both(split_batch, message=True)
    run_both(lambda T: T.nn.parallel.scatter({'lr': 0.1, 'ids': [1, 2]}, [0, 1]))


def test_scatter_kwargs_imports():
    """Data-parallel wrappers import scatter_kwargs from its module at import time."""
    for lib in ('torch', 'ember'):
        assert callable(importlib.import_module(f'{lib}.nn.parallel.scatter_gather').scatter_kwargs)
        assert callable(importlib.import_module(f'{lib}.nn.parallel.parallel_apply').get_a_var)
    run_both(lambda T: repr(importlib.import_module(f'{T.__name__}.nn.parallel.scatter_gather').scatter_kwargs(
        (1, 'a'), {'k': None}, ['cpu', 'cpu'])))


def _mnist_rnn_step(T):
    """pytorch/examples mnist_rnn: an LSTM over the 28 rows, BatchNorm1d on the last output, Dropout2d on a 2-D
    input (PyTorch's deprecation warning), two Linear layers, log_softmax, nll_loss; one Adadelta step."""
    T.manual_seed(1)
    nn, F = T.nn, T.nn.functional
    rnn, bn = nn.LSTM(input_size=28, hidden_size=16, batch_first=True), nn.BatchNorm1d(16)
    drop, fc1, fc2 = nn.Dropout2d(0.25), nn.Linear(16, 12), nn.Linear(12, 10)
    params = [*rnn.parameters(), *bn.parameters(), *fc1.parameters(), *fc2.parameters()]
    opt = T.optim.Adadelta(params, lr=1.0)
    data, target = T.rand(4, 1, 28, 28), T.tensor([3, 1, 4, 1])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        out, _ = rnn(data.reshape(-1, 28, 28))
        out = fc2(F.relu(fc1(drop(bn(out[:, -1, :])))))
    loss = F.nll_loss(F.log_softmax(out, dim=1), target)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.detach(), fc2.weight.detach(), rnn.weight_hh_l0.detach(), [str(w.message) for w in caught]


def test_mnist_rnn_example_step():
    run_both(_mnist_rnn_step, tol=1e-5)
    assert _mnist_rnn_step(ember)[3] == _mnist_rnn_step(torch)[3] != []


class _Holder:
    """A user class pickled whole around a module (pytorch/examples super_resolution saves its Net so)."""
    def __init__(self, act):
        self.act, self.scale = act, 2.5


def test_safe_globals_name_ember_classes_by_their_torch_names(tmp_path):
    """super_resolve.py allowlists torch.nn.modules.activation.ReLU (under ember run ember's class) and loads a
    whole pickled model: the PyTorch file records the torch name, which the allowlisted ember class answers to."""
    path = tmp_path / 'holder.pth'
    torch.save(_Holder(torch.nn.ReLU()), path)
    got = {}
    for lib in (torch, ember):
        with lib.serialization.safe_globals([_Holder, lib.nn.modules.activation.ReLU]):
            h = lib.load(path)
        got[lib] = (repr(h.act), h.scale, type(h.act) is lib.nn.ReLU)
        with lib.serialization.safe_globals([_Holder]):
            try:
                lib.load(path)
            except Exception as e:  # noqa: BLE001 - the refusal itself is compared
                got[lib] += (type(e).__name__, 'torch.nn.modules.activation.ReLU' in str(e))
    assert got[ember] == got[torch] == ('ReLU()', 2.5, True, 'UnpicklingError', True)
