"""Indexing, views, in-place ops and the autograd API: cases a differential fuzzer (ember against PyTorch) found
answering differently. Each case runs ``fn(lib)`` on both and compares what it returns (tensors by dtype, shape,
strides, values, requires_grad and grad_fn name; anything else by value) or that both raise the same exception
type with the same first line."""
import warnings

import numpy as np
import pytest
import torch

import ember

LIBS = (torch, ember)


def _norm(x, L):
    if isinstance(x, L.Tensor):
        v = x.detach()
        return ('T', str(x.dtype).split('.')[-1], tuple(x.shape), x.stride(), x.requires_grad,
                type(x.grad_fn).__name__ if x.grad_fn is not None else None, _Close(v.numpy()))
    if isinstance(x, (tuple, list)):
        return tuple(_norm(y, L) for y in x)
    return x


class _Close:
    """An array that compares equal to another of its shape and dtype within float64 rounding."""
    def __init__(self, a):
        self.a = a

    def __eq__(self, other):
        a, b = self.a, other.a
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if a.dtype.kind not in 'fc':
            return np.array_equal(a, b)
        return np.allclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True)

    def __repr__(self):
        return repr(self.a)


def _run(L, fn):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return _norm(fn(L), L)
    except Exception as e:     # noqa: BLE001 -- the exception's type and first line are compared
        return ('raises', type(e).__name__, str(e).splitlines()[0])


def _view_nograd(L, leaf_base, op):
    """A view made under no_grad of a tensor that requires grad (a leaf or not), then changed in place."""
    x = L.ones(3, requires_grad=True)
    y = x if leaf_base else x * 2
    with L.no_grad():
        v = y.view(3)
    op(L, v)
    return y


def _mul_no_grad(L, v):
    with L.no_grad():
        v.mul_(2)


def _nograd_split(L):
    y = L.ones(3, requires_grad=True) * 2
    with L.no_grad():
        a = y.split(2)[0]
    a.mul_(2)


def _fill_tensor(L, view):
    x = L.ones(2, 3, requires_grad=True)
    v = L.tensor(2., dtype=L.float64, requires_grad=True)
    y = x * 1
    (y.t() if view else y).fill_(v)
    (y * L.arange(6.).view(2, 3)).sum().backward()
    return y, x.grad, v.grad


def _grad_accumulated_version(L):
    x = L.ones(3, requires_grad=True)
    (x * 2).sum().backward()
    g = x.grad
    (x * 2).sum().backward()
    return g is x.grad, g._version, g


def _seed_grad(L, dtype, out_dtype='float64', create_graph=False):
    x = (L.arange(1., 4., dtype=getattr(L, out_dtype)) / 3).requires_grad_()
    go = L.tensor([1, 0, 2]).to(getattr(L, dtype)).requires_grad_(create_graph)
    g, = L.autograd.grad(x ** 3, x, grad_outputs=go, create_graph=create_graph)
    return g


def _backward_seed(L, dtype):
    x = (L.arange(1., 4.) / 3).requires_grad_()
    (x ** 3).backward(L.tensor([1, 0, 2]).to(getattr(L, dtype)))
    return x.grad


def _hook(L, leaf, fn):
    x = L.ones(3, requires_grad=True)
    y = x if leaf else x * 2
    y.register_hook(fn)
    (y * 3).sum().backward()
    return x.grad


def _dirty_fn(L, returns_input=True, save=None):
    class Double(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            if save is not None:
                ctx.save_for_backward(x, save)
            return x if returns_input else x * 1

        @staticmethod
        def backward(ctx, g):
            return g * 2
    return Double


def _dirty(L, make, **kw):
    """(what apply returned, the changed input's version, the leaf's grad after backward when one is made)"""
    x = L.ones(3, requires_grad=True)
    y = make(L, x)
    z = _dirty_fn(L, **kw).apply(y)
    if z.requires_grad:
        (z * z).sum().backward()
    return z, y._version, x.grad


def _index(L, idx, shape=(4, 2, 4)):
    """x[idx] of an arange x, idx built from ('t', list) for an index tensor, else taken as is."""
    x = L.arange(float(np.prod(shape))).reshape(shape)
    r = x[tuple(L.tensor(i[1]) if type(i) is tuple else i for i in idx)]
    return tuple(r.shape), r.tolist()


def _set_index(L, idx, value, shape=(4, 2, 4), grad=False):
    x = L.arange(float(np.prod(shape)), dtype=L.float64).reshape(shape).requires_grad_(grad)
    y = x * 1
    v = L.tensor(value).requires_grad_(grad)
    y[tuple(L.tensor(i[1]) if type(i) is tuple else i for i in idx)] = v
    if grad:
        (y * y.detach().cos()).sum().backward()
        return y, x.grad, v.grad
    return y


def _changed_after(L, op, which):
    """op(x, w, b) on non-leaf copies of three leaves, then input ``which`` changed in place under no_grad before
    backward: PyTorch refuses it where its node saved that input (ember's fused nodes kept their own state)."""
    R = np.random.RandomState(0)
    leaves = [L.tensor(a).requires_grad_() for a in (R.randn(4, 6), R.randn(6), R.randn(6))]
    args = [t * 1 for t in leaves]
    y = op(L.nn.functional, *args)
    with L.no_grad():
        args[which].add_(1)
    (y * L.arange(y.numel(), dtype=y.dtype).reshape(y.shape).cos()).sum().backward()
    return [t.grad for t in leaves]


def _no_grad(L, fn):
    with L.no_grad():
        return fn()


def _nograd_view_used(L):
    """A view made under no_grad of a leaf that requires grad: it requires grad (no grad_fn, no accumulator), so
    results of ops on it do too, and backward through them reaches no leaf (ember: requires_grad False, so
    backward raised 'does not require grad')."""
    x = L.ones(3, requires_grad=True)
    with L.no_grad():
        v = x[:2]
    y = v * 2
    y.sum().backward()
    return v.requires_grad, v.is_leaf, v.grad_fn, y.requires_grad, y.grad_fn.next_functions[0][0], x.grad, v.grad


def _nograd_view_hooks(L):
    """Hooks on such a view register (PyTorch returns a handle) and never run: no gradient reaches it."""
    calls = []
    x = L.ones(3, requires_grad=True)
    with L.no_grad():
        v = x[:2]
    v.register_hook(lambda g: calls.append('hook')).remove()
    v.register_hook(lambda g: calls.append('hook'))
    v.register_post_accumulate_grad_hook(lambda t: calls.append('post'))
    (v * 2).sum().backward()
    return calls, v.grad


def named_hook(g):
    return g[:1]


CASES = {
    # strides of a size-1 dim NumPy inserts with stride 0 (x[None], unsqueeze): PyTorch's unsqueeze gives the
    # next dim's extent
    'none_index_stride': lambda L: L.arange(4.)[None],
    'none_index_stride_mid': lambda L: L.arange(6.).reshape(2, 3)[None, :, None],
    'none_index_stride_t': lambda L: L.arange(6.).reshape(2, 3).t()[None],
    'unsqueeze_stride': lambda L: L.arange(6.).reshape(2, 3).unsqueeze(0),
    'ellipsis_none_stride': lambda L: L.arange(6.).reshape(2, 3)[..., None],
    'unsqueeze_last_stride_t': lambda L: L.arange(6.).reshape(2, 3).t().unsqueeze(-1),
    'unsqueeze_mid_stride_permuted': lambda L: L.arange(24.).reshape(2, 3, 4).permute(2, 0, 1).unsqueeze(2),
    'unsqueeze_stride_sliced': lambda L: L.arange(24.).reshape(2, 3, 4)[:, ::2].unsqueeze(-1),
    # x[True] = v copies into x.unsqueeze(0) as x[None] does (casting), not an index_put_ (which refuses the dtype)
    'setitem_true_casts': lambda L: (lambda x: (x.__setitem__(True, L.ones(3, dtype=L.float64)), x)[1])(
        L.zeros(2, 3)),
    'setitem_true_tuple_refuses': lambda L: (lambda x: (x.__setitem__((True,), L.ones(3, dtype=L.float64)), x)[1])(
        L.zeros(2, 3)),
    # a view made under no_grad of a tensor that requires grad is refused an in-place change under grad mode
    # (ember changed it untracked: the base's gradient then ignored the change)
    'nograd_view_inplace': lambda L: _view_nograd(L, False, lambda L, v: v.mul_(2)),
    'nograd_view_of_leaf_inplace': lambda L: _view_nograd(L, True, lambda L, v: v.mul_(2)),
    'nograd_view_setitem': lambda L: _view_nograd(L, False, lambda L, v: v.__setitem__(slice(None), 5.)),
    'nograd_split_inplace': lambda L: _nograd_split(L),
    # (changed under no_grad too, the change is allowed and untracked)
    'nograd_view_inplace_under_no_grad': lambda L: _view_nograd(L, False, _mul_no_grad),
    # fill_ with a 0-d tensor that requires grad records FillBackward3 (CopySlices through a view)
    'fill_tensor': lambda L: _fill_tensor(L, False),
    'fill_tensor_view': lambda L: _fill_tensor(L, True),
    # accumulating into an existing .grad is an in-place add: its version counts it
    'grad_accumulated_version': _grad_accumulated_version,
    # a seed gradient (grad_outputs, backward's gradient) is cast to its output's dtype before backward runs
    # (an int64 seed gave [0, 0, 3] for x**3's gradient, a bool one [3, 3, 3], a half one half's rounding)
    'seed_int64': lambda L: _seed_grad(L, 'int64'),
    'seed_bool': lambda L: _seed_grad(L, 'bool'),
    'seed_half': lambda L: _seed_grad(L, 'float16'),
    'seed_float32': lambda L: _seed_grad(L, 'float32'),
    'seed_float64_into_float32_graph': lambda L: _seed_grad(L, 'float64', 'float32', create_graph=True),
    'seed_backward_float64': lambda L: _backward_seed(L, 'float64'),
    'seed_complex_for_real': lambda L: _seed_grad(L, 'complex64'),
    'seed_real_for_complex': lambda L: L.autograd.grad(L.ones(2, requires_grad=True) * (1 + 1j), L.ones(2),
                                                       grad_outputs=L.ones(2)),
    # a tensor hook must return None or a tensor of its gradient's dtype and shape (ember broadcast or
    # failed in NumPy; a leaf's hook returning 5 made .grad all fives)
    'hook_returns_int': lambda L: _hook(L, False, lambda g: 5),
    'hook_returns_int_leaf': lambda L: _hook(L, True, lambda g: 5),
    'hook_returns_tuple': lambda L: _hook(L, False, lambda g: (g,)),
    'hook_changes_size': lambda L: _hook(L, False, named_hook),
    'hook_changes_shape_leaf': lambda L: _hook(L, True, lambda g: g.view(3, 1)),
    'hook_changes_dtype': lambda L: _hook(L, False, lambda g: g.double()),
    'hook_changes_dtype_leaf': lambda L: _hook(L, True, lambda g: g.long()),
    'hook_ok': lambda L: _hook(L, True, lambda g: g * 2),
    # a ``...`` standing for no dim between index tensors does not separate them: PyTorch keeps them one group in
    # place (NumPy, and ember, moved the group first)
    'ellipsis_empty_between': lambda L: _index(L, (slice(None), ('t', [1]), ..., ('t', [[1, 3]]))),
    'ellipsis_empty_slice_first': lambda L: _index(L, (slice(0, 1), ('t', [1]), ..., ('t', [[-3, -3]]))),
    'ellipsis_empty_4d': lambda L: _index(L, (slice(0, 1), ('t', [0, 1]), ..., ('t', [[1], [2]]), slice(None)),
                                          (2, 3, 4, 5)),
    'ellipsis_nonempty_between': lambda L: _index(L, (('t', [0, 1]), ..., ('t', [[1], [2]])), (2, 3, 4, 5)),
    'ellipsis_empty_set_grad': lambda L: _set_index(L, (slice(None), ('t', [1]), ..., ('t', [[1, 3]])),
                                                    np.arange(8.).reshape(4, 1, 2), grad=True),
    'ellipsis_empty_mask_true': lambda L: _index(L, (..., True, ('t', [[False, True]] * 4), ('t', [1, 3]))),
    # a True/False index is an index tensor: beside a mask, a one-element value of another dtype is refused as
    # index_put_ refuses it (ember took the masked_fill path, which casts)
    'bool_and_mask_set_dtype': lambda L: _set_index(L, (True, ('t', [[True, False]] * 4)), np.float32(2)),
    'bool_int_set_dtype': lambda L: _set_index(L, (True, -1), np.float32(2), shape=(2, 2)),
    'mask_set_one_element_casts': lambda L: _set_index(L, (('t', [[True, False]] * 4),), np.float32(2)),
    # PyTorch's not_implemented() formulas raise NotImplementedError (a RuntimeError subclass), not RuntimeError
    'unique_backward_error': lambda L: L.tensor([1., 2., 2.], requires_grad=True).unique().sum().backward(),
    'inplace_asinh_backward_error': lambda L: (L.tensor([.5], requires_grad=True) * 1).asinh_().sum().backward(),
    'bincount_backward_error': lambda L: L.bincount(L.tensor([0, 1]), L.ones(2, requires_grad=True)).sum().backward(),
    # an input changed in place between forward and backward: refused where PyTorch's node saved it
    'changed_layer_norm_input': lambda L: _changed_after(L, lambda F, x, w, b: F.layer_norm(x, (6,), w, b), 0),
    'changed_layer_norm_bias': lambda L: _changed_after(L, lambda F, x, w, b: F.layer_norm(x, (6,), w, b), 2),
    'changed_group_norm_input': lambda L: _changed_after(L, lambda F, x, w, b: F.group_norm(x[..., None], 2, w, b),
                                                         0),
    'changed_group_norm_bias': lambda L: _changed_after(L, lambda F, x, w, b: F.group_norm(x[..., None], 2, w, b), 2),
    'changed_batch_norm_bias': lambda L: _changed_after(L, lambda F, x, w, b: F.batch_norm(x, None, None, w, b, True),
                                                        2),
    'changed_batch_norm_weight': lambda L: _changed_after(L, lambda F, x, w, b: F.batch_norm(x, None, None, w, b,
                                                                                             True), 1),
    'changed_mse_target': lambda L: _changed_after(L, lambda F, x, w, b: F.mse_loss(x, w.expand(4, 6)), 1),
    'changed_smooth_l1_input': lambda L: _changed_after(L, lambda F, x, w, b: F.smooth_l1_loss(x, w.expand(4, 6)), 0),
    'changed_nll_input': lambda L: _changed_after(L, lambda F, x, w, b: F.nll_loss(x, L.tensor([0, 3, 1, 5])), 0),
    'changed_cross_entropy_input': lambda L: _changed_after(L, lambda F, x, w, b: F.cross_entropy(
        x, L.tensor([0, 3, 1, 5])), 0),
    'changed_bce_logits_target': lambda L: _changed_after(L, lambda F, x, w, b: F.binary_cross_entropy_with_logits(
        x, w.sigmoid().expand(4, 6)), 1),
    'changed_rrelu_input': lambda L: _changed_after(L, lambda F, x, w, b: F.rrelu(x), 0),
    # arguments PyTorch's loss kernels have no derivative for are refused when they require grad (grad mode on)
    'nll_weight_requires_grad': lambda L: L.nn.functional.nll_loss(L.zeros(2, 3), L.tensor([0, 2]),
                                                                   weight=L.ones(3, requires_grad=True)),
    'cross_entropy_weight_requires_grad': lambda L: L.nn.functional.cross_entropy(
        L.zeros(2, 3, requires_grad=True), L.tensor([0, 2]), weight=L.ones(3, requires_grad=True), label_smoothing=.1),
    'cross_entropy_probs_weight_requires_grad': lambda L: L.nn.functional.cross_entropy(
        L.zeros(2, 3, requires_grad=True), L.ones(2, 3) / 3, weight=L.ones(3, requires_grad=True)),
    'bce_logits_pos_weight_requires_grad': lambda L: L.nn.functional.binary_cross_entropy_with_logits(
        L.zeros(2, 3), L.ones(2, 3), pos_weight=L.ones(3, requires_grad=True)),
    'soft_margin_target_requires_grad': lambda L: L.nn.functional.soft_margin_loss(L.zeros(3), L.ones(3,
                                                                                                requires_grad=True)),
    'nll_weight_requires_grad_no_grad': lambda L: _no_grad(L, lambda: L.nn.functional.nll_loss(
        L.zeros(2, 3), L.tensor([0, 2]), weight=L.ones(3, requires_grad=True))),
    # multilabel_margin_loss's target must have the input's shape (ember read other shapes silently)
    'multilabel_margin_short_target': lambda L: L.nn.functional.multilabel_margin_loss(L.zeros(4, 6),
                                                                                      L.zeros(4, 4, dtype=L.long)),
    'multilabel_margin_flat_target': lambda L: L.nn.functional.multilabel_margin_loss(L.zeros(4, 6),
                                                                                     L.zeros(24, dtype=L.long)),
    'multilabel_margin_3d': lambda L: L.nn.functional.multilabel_margin_loss(L.zeros(2, 3, 4),
                                                                            L.zeros(2, 3, 4, dtype=L.long)),
    'multilabel_margin_ok': lambda L: L.nn.functional.multilabel_margin_loss(
        L.arange(6.), L.tensor([3, 0, -1, 1, 1, 1])),
    'nograd_view_requires_grad': _nograd_view_used,
    'nograd_view_hooks': _nograd_view_hooks,
    'nograd_view_of_leaf_view': lambda L: (lambda x: _no_grad(L, lambda: x[:2]))(
        L.arange(1., 4.).reshape(3).requires_grad_()).mul_(2),
    'nograd_view_numpy': lambda L: _no_grad(L, lambda: L.ones(3, requires_grad=True)[1:]).numpy(),
    'nograd_view_of_nonleaf': lambda L: (lambda y: _no_grad(L, lambda: y.view(3, 1)))(
        L.ones(3, requires_grad=True) * 2),
    'nograd_split_requires_grad': lambda L: _no_grad(L, lambda: L.ones(3, requires_grad=True).split(2)),
    'nograd_detach_does_not': lambda L: _no_grad(L, lambda: L.ones(3, requires_grad=True).detach()),
    # ctx.mark_dirty: the changed input gets a version bump, must be returned, and may not be a leaf that
    # requires grad (nor a view of one) when the change is recorded (ember allowed both silently)
    'dirty_nonleaf': lambda L: _dirty(L, lambda L, x: x * 1),
    'dirty_no_grad_input': lambda L: _dirty(L, lambda L, x: L.ones(3)),
    'dirty_leaf': lambda L: _dirty(L, lambda L, x: x),
    'dirty_view_of_leaf': lambda L: _dirty(L, lambda L, x: x[:2]),
    'dirty_not_returned': lambda L: _dirty(L, lambda L, x: x * 1, returns_input=False),
    # save_for_backward takes tensors and None only
    'save_int': lambda L: _dirty(L, lambda L, x: x * 1, save=3),
}


def test_kl_div_mean_warning_points_at_the_caller():
    """kl_div's reduction='mean' warning names the caller's line, as PyTorch's (ember's named '<string>')."""
    for lib in LIBS:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            lib.nn.functional.kl_div(lib.zeros(2, 3), lib.ones(2, 3))
        assert [(x.filename, x.category) for x in w] == [(__file__, UserWarning)]


@pytest.mark.parametrize('name', sorted(CASES))
def test_matches_torch(name):
    fn = CASES[name]
    assert _run(ember, fn) == _run(torch, fn)
