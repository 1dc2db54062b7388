"""Views kept across an in-place change of their base (or of another view of it): PyTorch regenerates their
grad_fn (AsStridedBackward0 of the base) and records the change on the base as CopySlices; values, gradients
(against PyTorch and float64 finite differences), grad_fn names and refusals as PyTorch's."""
import random

import numpy as np
import pytest
import torch

import ember
from helpers import check


def base_changed(lib, x):
    y = x * 1
    h = y[0]
    y.mul_(2)
    return h


def overlapping_view_changed(lib, x):
    y = x * 1
    a, b = y[:, :2], y[:, 1:]
    a.mul_(x[:, :2])
    return b


def view_changed(lib, x):
    y = x * 1
    h = y[0]
    h.mul_(3)
    return y, h


def view_of_view(lib, x):
    y = x * 1
    h = y[1]
    hh = h[1:]
    h.add_(x[0])
    return hh


def expanded_view(lib, x):
    y = x * 1
    h = y.unsqueeze(0).expand(2, *x.shape)
    y.mul_(x)
    return h


def reshaped_and_transposed(lib, x):
    y = x * 1
    t, r = y.t(), y.reshape(-1)
    t.add_(1).mul_(x.t())
    return r, t


def setitem_in_a_view(lib, x):
    y = x * 1
    h = y[1]
    h[0] = x[0, 0] * 5
    return y, h


def setitem_in_the_base(lib, x):
    y = x * 1
    h = y[1]
    y[1, 0] = 7.0
    return h


def narrowed_diagonal(lib, x):
    y = x[:, :2] * 1
    d = y.diagonal()
    y.sub_(x[:2, 1:])
    return d


SCENARIOS = [base_changed, overlapping_view_changed, view_changed, view_of_view, expanded_view,
             reshaped_and_transposed, setitem_in_a_view, setitem_in_the_base, narrowed_diagonal]


@pytest.mark.parametrize('fn', SCENARIOS, ids=[f.__name__ for f in SCENARIOS])
def test_gradients_through_the_change(fn):
    check(fn, (2, 3), gradgrad=fn in (overlapping_view_changed, view_changed))


def test_copy_slices_records_the_base_history_and_the_ops_other_inputs():
    def run(lib):
        x = lib.ones(2, 3, requires_grad=True)
        w = lib.ones(3, requires_grad=True)
        y = x * 1
        h = y[0]
        h.add_(w)
        names = [f.name() for f, _ in y.grad_fn.next_functions]
        return y.grad_fn.name(), names, h.grad_fn.name(), [f is y.grad_fn for f, _ in h.grad_fn.next_functions]
    assert run(ember) == run(torch)
    assert run(torch)[1] == ['MulBackward0', 'torch::autograd::AccumulateGrad']


def test_retained_gradients_follow_the_new_history():
    def run(lib):
        a = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        x = a * 1
        x.retain_grad()
        x.mul_(2)
        y = a * 1
        h = y[1:]
        h.retain_grad()
        y.mul_(3)
        (x.sum() + (h * h).sum()).backward()
        return [t.numpy() for t in (x.grad, h.grad, a.grad)]
    for e, t in zip(run(ember), run(torch)):
        np.testing.assert_allclose(e, t)


def _raised(fn, error=RuntimeError):
    """The text of the ``error`` that ``fn()`` raises."""
    try:
        fn()
    except error as e:
        return str(e)
    raise AssertionError('no error')


@pytest.mark.parametrize('split', ['split', 'chunk', 'unbind', 'sizes'])
def test_outputs_of_split_and_unbind_refuse_in_place_changes(split):
    def outputs(lib, y):
        return {'split': lambda: y.split(2), 'chunk': lambda: y.chunk(2), 'unbind': lambda: y.unbind(),
                'sizes': lambda: y.split([1, 3])}[split]()

    def changed(lib):
        x = lib.ones(4, 2, requires_grad=True)
        return _raised(lambda: outputs(lib, x * 1)[0].mul_(2))
    assert changed(ember) == changed(torch)

    def base_changed_after(lib):
        x = lib.ones(4, 2, requires_grad=True)
        y = x * 1
        a = outputs(lib, y)[0]
        y.add_(1)
        if lib is torch:    # PyTorch refuses on reading grad_fn, ember when a gradient reaches the view
            return _raised(lambda: a.grad_fn)
        return _raised(lambda: (a * 2).sum().backward())
    assert base_changed_after(ember) == base_changed_after(torch)


def test_split_of_a_tensor_without_grad_and_views_made_under_no_grad():
    def split_changed(lib):
        p, _ = lib.zeros(4).split(2)
        return _raised(lambda: p.add_(lib.ones(2, requires_grad=True)))
    assert split_changed(ember) == split_changed(torch)

    def no_grad_view(lib):
        x = lib.ones(3, requires_grad=True)
        y = x * 1
        with lib.no_grad():
            h = y[:2]
        y.mul_(2)
        if lib is torch:
            return _raised(lambda: h.grad_fn)
        return _raised(lambda: h.sum().backward())
    assert no_grad_view(ember) == no_grad_view(torch)


def test_a_second_backward_through_copy_slices_is_refused():
    def run(lib):
        x = lib.ones(2, 3, requires_grad=True)
        w = lib.ones(3, requires_grad=True)
        y = x * 1
        y[0].mul_(w)
        y.sum().backward()
        return _raised(lambda: y.sum().backward())
    assert run(ember) == run(torch)


def test_views_regenerate_after_changes_under_no_grad():
    """An untracked change to the base (under no_grad) moves the version: PyTorch regenerates the view's grad_fn as
    AsStridedBackward0 of the base (whose history is unchanged), and the gradient is the same."""
    def run(lib):
        x = lib.ones(3, requires_grad=True)
        y = x * 1
        h = y[1:]
        fn = h.grad_fn
        with lib.no_grad():
            y.mul_(2)
        names = (h.grad_fn is fn, type(h.grad_fn).__name__, type(h.grad_fn.next_functions[0][0]).__name__)
        h.sum().backward()
        return names, x.grad.tolist()
    assert run(ember) == run(torch)


def test_changing_the_saved_output_of_an_in_place_op_is_caught():
    def run(lib):
        x = lib.ones(3, 4, requires_grad=True)
        y = x * 1
        v = y[1:, ::2]
        y.sigmoid_()    # saves its output, y
        v.mul_(2)       # changes y through a view
        return _raised(lambda: y.sum().backward()).split(' is at version')[0]
    assert run(ember) == run(torch)


def test_writing_out_of_bounds_with_autograd_names_the_dimension():
    def run(lib):
        x = lib.ones(3, requires_grad=True)
        y = lib.zeros(2, 3)
        return (_raised(lambda: y.__setitem__((0, 5), x.sum()), IndexError),
                _raised(lambda: (x * 1)[3:].__setitem__(0, 1.0), IndexError))
    assert run(ember) == run(torch)


def empty_view(lib, x):
    y = x * 1
    e = y[1:, :0]
    y.mul_(2)
    return e


def test_an_empty_view_takes_a_zero_gradient():
    check(empty_view, (2, 3), gradcheck=False)


_VIEWS = [lambda t: t[0], lambda t: t[:, 1:], lambda t: t.t(),
          lambda t: t.reshape(-1) if t.is_contiguous() else t[..., :1], lambda t: t.unsqueeze(0),
          lambda t: t[1:, ::2], lambda t: t.diagonal() if t.dim() == 2 else t[:1]]
_OPS = [lambda t, w: t.mul_(2), lambda t, w: t.add_(w.sum()), lambda t, w: t.sigmoid_(), lambda t, w: t.zero_(),
        lambda t, w: t.__setitem__(0, w.sum() * 3) if t.dim() else t.add_(1), lambda t, w: t.exp_(),
        lambda t, w: t.clamp_(-0.5, 0.5), lambda t, w: t.div_(w.abs().sum() + 1), lambda t, w: t.pow_(2),
        lambda t, w: t.copy_(w.sum().expand_as(t))]


def _random_program(lib, seed):
    """Views of views and in-place ops on any of them, in an order drawn from ``seed``; the loss, the
    gradients, or the error's text."""
    rng = random.Random(seed)
    data = np.random.default_rng(seed)
    x = lib.tensor(data.uniform(-1, 1, (3, 4)), requires_grad=True)
    w = lib.tensor(data.uniform(-1, 1, 4), requires_grad=True)
    ts = [x * 1]
    try:
        for _ in range(rng.randint(2, 7)):
            if rng.random() < 0.5 or len(ts) == 1:
                b = rng.choice(ts)
                if b.dim() >= 2:
                    ts.append(rng.choice(_VIEWS)(b))
            else:
                rng.choice(_OPS)(rng.choice(ts), w)
        loss = sum(((t * (i + 1)) ** 2).sum() for i, t in enumerate(ts))
        loss.backward()
    except (RuntimeError, IndexError) as e:
        return type(e).__name__ + ': ' + str(e).split(' is at version')[0]
    return [loss.item()] + [None if t.grad is None else t.grad.numpy() for t in (x, w)]


@pytest.mark.parametrize('start', range(0, 240, 40))
def test_random_programs_of_views_and_in_place_ops(start):
    for seed in range(start, start + 40):
        e, t = _random_program(ember, seed), _random_program(torch, seed)
        if isinstance(t, str) or isinstance(e, str):
            assert e == t, f'seed {seed}'
            continue
        for a, b in zip(e, t):
            assert (a is None) == (b is None), f'seed {seed}'
            if a is not None:
                np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=f'seed {seed}')
