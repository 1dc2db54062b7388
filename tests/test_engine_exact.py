"""Exactness of the autograd engine against PyTorch: two passes through the same graph at once (autograd.grad's
per-edge pruning must not leak from one into the other), ``is_grads_batched`` and the names of the nodes a
create_graph gradient records. Each case runs on ember and on PyTorch (or, where PyTorch cannot run it the same way,
against PyTorch's results of the same passes run one after the other), with finite differences for gradients."""
import threading

import numpy as np
import pytest
import torch

import ember


def _arr(t):
    return np.asarray(t.detach().tolist(), dtype=np.float64)


def _close(a, b):
    if a is None or b is None:
        assert a is None and b is None
        return
    np.testing.assert_allclose(_arr(a), _arr(b), rtol=1e-12, atol=1e-12)


# -- (1) two passes through one graph at once --------------------------------------------------------------------------
def _graph(T, kind, hooks=None):
    """A float64 graph through one pruned node of ``kind`` (x and w both differentiable, so autograd.grad with one
    of them prunes the node's other edge); saved tensors go through ``hooks`` (pack, unpack) when given."""
    T.manual_seed(0)
    x = T.randn(3, 4, dtype=T.float64, requires_grad=True)
    w = T.randn(5, 4, dtype=T.float64, requires_grad=True)
    b = T.randn(5, dtype=T.float64, requires_grad=True)
    ctx = T.autograd.graph.saved_tensors_hooks(*hooks) if hooks else _Null()
    with ctx:
        if kind == 'mm':
            y = x.mm(w.t())
        elif kind == 'linear':
            y = T.nn.functional.linear(x, w, b)
        elif kind == 'addmm':
            y = T.addmm(b, x, w.t())
        elif kind == 'einsum':
            y = T.einsum('ij,kj->ik', x, w)
        else:   # conv2d
            y = T.nn.functional.conv2d(x.reshape(1, 1, 3, 4), w.reshape(5, 1, 2, 2)[:, :, :2, :2], b).flatten()
    return x, w, b, (y * y).sum()


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def _sequential_torch(kind, first, second, allow_unused=False):
    """PyTorch's gradients of the two passes run one after the other: autograd.grad of the loss with respect to
    ``first`` (names among x, w, b), then ``second`` (a list of names, or 'backward' for a plain backward: the
    leaves' .grad)."""
    x, w, b, loss = _graph(torch, kind)
    env = {'x': x, 'w': w, 'b': b}
    g1 = torch.autograd.grad(loss, [env[n] for n in first], retain_graph=True)
    if second == 'backward':
        loss.backward(retain_graph=True)
        return g1, (x.grad, w.grad, b.grad)
    return g1, torch.autograd.grad(loss, [env[n] for n in second], retain_graph=True, allow_unused=allow_unused)


def _nested_ember(kind, first, second):
    """ember's two passes with the second started from inside the first's masked node (from the saved-tensor
    unpack hook its backward calls): both passes run that node at once."""
    state = {'inner': None, 'busy': False}
    env = {}

    def unpack(t):
        if state['inner'] is None and not state['busy']:
            state['busy'] = True
            if second == 'backward':
                env['loss'].backward(retain_graph=True)
                state['inner'] = (env['x'].grad, env['w'].grad, env['b'].grad)
            else:
                state['inner'] = ember.autograd.grad(env['loss'], [env[n] for n in second], retain_graph=True)
            state['busy'] = False
        return t
    x, w, b, loss = _graph(ember, kind, (lambda t: t, unpack))
    env.update(x=x, w=w, b=b, loss=loss)
    g1 = ember.autograd.grad(loss, [env[n] for n in first], retain_graph=True)
    assert state['inner'] is not None      # the second pass did run inside the first
    return g1, state['inner']


CASES = [('x', ['w']), ('w', ['x']), ('x', 'backward'), ('w', 'backward')]


@pytest.mark.parametrize('kind', ['mm', 'linear', 'addmm', 'einsum', 'conv2d'])
@pytest.mark.parametrize('first,second', CASES)
def test_pass_started_inside_a_masked_node_keeps_its_gradients(kind, first, second):
    """PyTorch runs the same node of two passes one at a time (a node's mutex; started from its unpack hook the
    second pass would wait forever), so the oracle is its two passes run in turn."""
    first = list(first)
    e1, e2 = _nested_ember(kind, first, second)
    t1, t2 = _sequential_torch(kind, first, second)
    for a, b in zip(list(e1) + list(e2), list(t1) + list(t2)):
        _close(a, b)


@pytest.mark.parametrize('kind', ['mm', 'linear', 'conv2d'])
def test_two_threads_in_one_masked_node(kind):
    """Thread A's autograd.grad(loss, x) waits inside the node (in its unpack hook) until thread B's
    autograd.grad(loss, w) through the same node is done; both match PyTorch's."""
    inside, done = threading.Event(), threading.Event()
    main = threading.get_ident()
    out = {}

    def unpack(t):
        if threading.get_ident() == main and not inside.is_set():
            inside.set()
            assert done.wait(30)
        return t
    x, w, b, loss = _graph(ember, kind, (lambda t: t, unpack))

    def other():
        assert inside.wait(30)
        try:
            out['w'] = ember.autograd.grad(loss, [w, b], retain_graph=True, allow_unused=True)
        finally:
            done.set()
    th = threading.Thread(target=other)
    th.start()
    gx, = ember.autograd.grad(loss, [x], retain_graph=True)
    th.join(30)
    t1, t2 = _sequential_torch(kind, ['x'], ['w', 'b'], allow_unused=True)
    _close(gx, t1[0])
    _close(out['w'][0], t2[0])
    _close(out['w'][1], t2[1])


def test_masked_node_writes_reach_the_node():
    """What a masked backward frees on its node when the graph is not retained (a convolution's saved columns) is
    freed on the node itself, as a plain backward leaves it; the node's own ``need`` is untouched."""
    x, w, b, loss = _graph(ember, 'conv2d')
    node = loss.grad_fn.next_functions[0][0]
    while type(node).__name__ != 'ConvolutionBackward0':
        node = node.next_functions[0][0]
    need = node.need
    gx, = ember.autograd.grad(loss, [x])
    assert node.need == need == (True, True, True)
    assert node.cols is None
    x2, _, _, loss2 = _graph(torch, 'conv2d')
    _close(gx, torch.autograd.grad(loss2, [x2])[0])


# -- (2) is_grads_batched --------------------------------------------------------------------------------------------
def _batched_log(T, rows):
    """autograd.grad(is_grads_batched=True) of a graph with a tensor hook, a node pre- and post-hook, a leaf's hook
    and a custom Function: (the gradient, what each hook saw: (name, shapes) per call)."""
    log = []

    class Triple(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 3

        @staticmethod
        def backward(ctx, g):
            log.append(('function', tuple(g.shape)))
            return g * 3
    x = T.tensor([1., 2., 3.], dtype=T.float64, requires_grad=True)
    a = Triple.apply(x)
    a.register_hook(lambda g: log.append(('tensor', tuple(g.shape))))
    b = a * a
    b.grad_fn.register_prehook(lambda go: log.append(('pre', tuple(go[0].shape))))
    b.grad_fn.register_hook(lambda gi, go: log.append(('post', tuple(gi[0].shape))))
    x.register_hook(lambda g: log.append(('leaf', tuple(g.shape))))
    go = T.tensor(rows, dtype=T.float64)
    return T.autograd.grad(b, x, go, is_grads_batched=True)[0], log


def test_is_grads_batched_hooks_run_once_per_row():
    """Documented difference: PyTorch vmaps one backward pass, so each hook and a custom Function's backward run once,
    seeing a batched tensor whose shape is a row's; ember runs one pass per row, so they run once per row, seeing
    that row (the same shape). The gradients are PyTorch's."""
    rows = [[1., 2., 3.], [0., 1., 0.], [2., 0., -1.]]
    ge, le = _batched_log(ember, rows)
    gt, lt = _batched_log(torch, rows)
    _close(ge, gt)
    assert lt == [('pre', (3,)), ('post', (3,)), ('tensor', (3,)), ('function', (3,)), ('leaf', (3,))]
    assert le == lt * len(rows)


# -- (3) the graph a create_graph gradient records -----------------------------------------------------------------
def _names(fn):
    """The node names below ``fn``, depth first, each with its depth."""
    out, stack = [], [(fn, 0)]
    while stack:
        node, d = stack.pop()
        if node is None:
            continue
        out.append((d, node.name()))
        stack.extend((c, d + 1) for c, _ in reversed(node.next_functions))
    return out


def _product_cases(T):
    """name -> (fn of the inputs, the inputs) for the products whose gradients' graphs are compared; operands
    stored transposed (``.t()`` views, ``.mT``) too, where PyTorch takes the transposed product."""
    F = T.nn.functional
    return {
        'linear': (lambda x, w, b: F.linear(x, w, b), [(3, 4), (5, 4), (5,)]),
        'linear3d': (lambda x, w, b: F.linear(x, w, b), [(2, 3, 4), (5, 4), (5,)]),
        'linear_nobias': (lambda x, w: F.linear(x, w), [(3, 4), (5, 4)]),
        'matmul': (lambda x, w: x @ w, [(3, 4), (4, 5)]),
        'matmul_3d_2d': (lambda x, w: T.matmul(x, w), [(2, 3, 4), (4, 5)]),
        'mm': (lambda x, w: x.mm(w), [(3, 4), (4, 5)]),
        'mm_transposed': (lambda x, w: x.t().mm(w.t()), [(4, 3), (5, 4)]),
        'bmm': (lambda x, w: x.bmm(w), [(2, 3, 4), (2, 4, 5)]),
        'addmm': (lambda b, x, w: T.addmm(b, x, w), [(5,), (3, 4), (4, 5)]),
        'addmm_scaled': (lambda b, x, w: T.addmm(b, x, w, beta=0.5, alpha=2.0), [(5,), (3, 4), (4, 5)]),
        'addmm_transposed': (lambda b, x, w: T.addmm(b, x.t(), w.t()), [(3, 5), (4, 3), (5, 4)]),
    }


def _second_grads(T, name):
    T.manual_seed(1)
    fn, shapes = _product_cases(T)[name]
    ins = [T.randn(*s, dtype=T.float64, requires_grad=True) for s in shapes]
    y = fn(*ins)
    return ins, T.autograd.grad((y * y).sum(), ins, create_graph=True)


# not yet PyTorch's: matmul of a batch and a matrix records one node in ember's forward graph where PyTorch's has
# View, Mm and UnsafeView (the gradients' own nodes agree); addmm's alpha and beta multiply as MulBackward0 where
# PyTorch's Scalar overload records MulBackward1
_NAMES_DIFFER = ('matmul_3d_2d', 'addmm_scaled')


@pytest.mark.parametrize('name', [n for n in _product_cases(torch) if n not in _NAMES_DIFFER])
def test_create_graph_gradient_records_pytorchs_nodes(name):
    """The nodes of each create_graph gradient (TBackward0 where PyTorch transposes with .t(), no ViewBackward0
    around a plain mm, no multiplication by an alpha or beta of 1), as PyTorch's."""
    _, ge = _second_grads(ember, name)
    _, gt = _second_grads(torch, name)
    for a, b in zip(ge, gt):
        assert _names(a.grad_fn) == _names(b.grad_fn)


@pytest.mark.parametrize('name', list(_product_cases(torch)))
def test_create_graph_gradient_values(name):
    """The create_graph gradients and their own gradients (a second backward through them) as PyTorch's."""
    res = []
    for T in (ember, torch):
        ins, gs = _second_grads(T, name)
        res.append(list(gs) + list(T.autograd.grad(sum((g * g).sum() for g in gs), ins)))
    for a, b in zip(*res):
        _close(a, b)


@pytest.mark.parametrize('name', list(_product_cases(torch)))
def test_create_graph_gradients_by_finite_differences(name):
    """Second derivatives through the changed formulas, by finite differences in float64."""
    fn, shapes = _product_cases(ember)[name]
    ember.manual_seed(2)
    ins = tuple(ember.randn(*s, dtype=ember.float64, requires_grad=True) for s in shapes)
    assert ember.autograd.gradgradcheck(lambda *a: fn(*a), ins)


@pytest.mark.parametrize('name', ['linear', 'mm_transposed', 'addmm_transposed', 'bmm'])
@pytest.mark.parametrize('free', [0, 1])
def test_create_graph_gradient_with_one_operand_fixed(name, free):
    """Only one operand differentiable (ember then saves only the other): the gradient and its own gradient as
    PyTorch's, and its nodes where the unsaved operand's layout does not matter (not yet PyTorch's: an operand
    stored transposed that ember did not save gets the plain product, PyTorch reads its layout and transposes)."""
    res = []
    for T in (ember, torch):
        T.manual_seed(3)
        fn, shapes = _product_cases(T)[name]
        ins = [T.randn(*s, dtype=T.float64, requires_grad=True) for s in shapes]
        k = len(ins) - 2 + free     # the first matrix operand, or the second
        ins[k].requires_grad_(False)
        wrt = [t for t in ins if t.requires_grad]
        y = fn(*ins)
        gs = T.autograd.grad((y * y).sum(), wrt, create_graph=True)
        res.append((gs, T.autograd.grad(sum((g * g).sum() for g in gs), wrt)))
    for a, b in zip(res[0][0], res[1][0]):
        if name in ('linear', 'bmm'):
            assert _names(a.grad_fn) == _names(b.grad_fn)
        _close(a, b)
    for a, b in zip(res[0][1], res[1][1]):
        _close(a, b)
