"""ATen's native entry points that some code calls from ``torch.`` directly (``torch.convolution``,
``native_layer_norm``, ``native_batch_norm``, ``native_group_norm``, ``native_dropout``, ``embedding_bag``,
``ctc_loss``, ``grid_sampler``, ``affine_grid_generator``, ...): each runs ember's functional op, takes PyTorch's
integer codes for its modes, and adds what PyTorch's kernel returns beside it (statistics, masks, bag indices)."""
import math

import numpy as np

from .autograd.dual import const, is_array
from .autograd.grad_mode import GRAD
from .autograd.graph import Node
from .ops._composite import composite, node_class
from .ops._util import arg_error, combination_error, undifferentiable
from .tensor import Tensor


def _input(name, input, *others, first='input'):
    """PyTorch's argument-parser TypeError where ``input`` (the parameter named ``first``) or one of ``others``
    ((arg, position, value, optional)) is not a Tensor."""
    if not isinstance(input, Tensor):
        raise arg_error(name, first, 1, input)
    for arg, pos, value, optional in others:
        if not isinstance(value, Tensor) and not (optional and value is None):
            raise arg_error(name, arg, pos, value)


def _F():
    from .nn import functional
    return functional


def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
    """A 1-3-D convolution (or transposed convolution) by weight's rank, as ``aten::convolution``."""
    _input('convolution', input, ('weight', 2, weight, False), ('bias', 3, bias, True))
    F, dims = _F(), weight.dim() - 2
    if dims not in (1, 2, 3):
        raise RuntimeError(f'convolution: expected a 3-D, 4-D or 5-D weight (1-3 spatial dims), got {weight.dim()}-D')
    if transposed:
        conv = getattr(F, f'conv_transpose{dims}d')
        return conv(input, weight, bias, tuple(stride), tuple(padding), tuple(output_padding), groups, tuple(dilation))
    return getattr(F, f'conv{dims}d')(input, weight, bias, tuple(stride), tuple(padding), tuple(dilation), groups)


def _stats(x, axes, eps, shape):
    """Mean and 1/sqrt(biased variance + eps) of x over ``axes``, in x's dtype, reshaped to ``shape``."""
    a = x._data.astype(np.float64)
    mean = a.mean(axis=axes)
    rstd = 1.0 / np.sqrt(a.var(axis=axes) + eps)
    return tuple(Tensor._make(np.asarray(v, x._data.dtype).reshape(shape)) for v in (mean, rstd))


def native_layer_norm(input, normalized_shape, weight, bias, eps):
    """(layer_norm's output, mean, rstd), the statistics of shape input.shape[:axis] + (1,) * len(normalized_shape)."""
    _input('native_layer_norm', input)
    out = _F().layer_norm(input, list(normalized_shape), weight, bias, eps)
    k = len(normalized_shape)
    axes = tuple(range(input.dim() - k, input.dim()))
    return (out,) + _stats(input.detach(), axes, eps, tuple(input.shape[:input.dim() - k]) + (1,) * k)


def native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps):
    """(batch_norm's output, save_mean, save_invstd): the batch's per-channel statistics in training, empty
    tensors in evaluation (PyTorch's CPU kernel saves none then)."""
    _input('native_batch_norm', input)
    out = _F().batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)
    if not training:
        empty = lambda: Tensor._make(np.empty(0, input._data.dtype))  # noqa: E731
        return out, empty(), empty()
    axes = (0,) + tuple(range(2, input.dim()))
    return (out,) + _stats(input.detach(), axes, eps, (input.shape[1],))


def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """(max_pool1d's output, the flat indices of the maxima)."""
    return tuple(_F().max_pool1d(input, kernel_size, stride or None, padding, dilation, ceil_mode,
                                 return_indices=True))


def conj_physical_(input):
    """``input.conj_physical_()`` (torch's function form)."""
    _input('conj_physical_', input)
    return input.conj_physical_()


def as_strided_(input, size, stride, storage_offset=None):
    """``input.as_strided_(size, stride, storage_offset)`` (torch's function form)."""
    _input('as_strided_', input)
    return input.as_strided_(size, stride, storage_offset)


def resize_as_(input, the_template, *, memory_format=None):
    """``input.resize_as_(the_template)`` (torch's function form)."""
    _input('resize_as_', input, ('the_template', 2, the_template, False))
    return input.resize_as_(the_template, memory_format=memory_format)


# -- group norm and dropout ----------------------------------------------------------------------------------------
NativeGroupNormBackward0 = node_class('NativeGroupNormBackward0')


def _group_norm_of(x, w, b, N, C, HxW, group, eps):
    """group_norm of ``x`` viewed as (N, C, HxW), in x's shape."""
    return _F().group_norm(x.reshape(N, C, HxW), group, w, b, eps).reshape(x.shape)


def _group_stats(x, N, group, eps):
    """(mean, rstd) of each sample's groups, (N, group): the biased variance, as the kernel's."""
    g = x.reshape(N, group, -1)
    mean = g.mean(-1)
    return mean, ((g - mean.unsqueeze(-1)).pow(2).mean(-1) + eps).rsqrt()


def native_group_norm(input, weight, bias, N, C, HxW, group, eps):
    """(group_norm's output, mean, rstd) of ``input`` viewed as (N, C, HxW); all three differentiable, each recorded
    by a node of PyTorch's name NativeGroupNormBackward0 (PyTorch's one node has three outputs)."""
    _input('native_group_norm', input, ('weight', 2, weight, True), ('bias', 3, bias, True))
    if input.numel() != N * C * HxW:
        raise RuntimeError('Expected X.numel() == N * C * HxW to be true, but got false.  (Could this error message be '
                           'improved?  If so, please report an enhancement request to PyTorch.)')
    out = composite(NativeGroupNormBackward0, _group_norm_of, (input, weight, bias), N=N, C=C, HxW=HxW, group=group,
                    eps=eps)
    stats = [composite(NativeGroupNormBackward0, lambda x, k=k: _group_stats(x, N, group, eps)[k], (input,))
             for k in (0, 1)]
    return (out, *stats)


class NativeDropoutBackward0(Node):
    """g * mask * scale: PyTorch's formula scales by 1/(1-p) only where train was given as True (train=None scales
    the forward, not the gradient)."""
    __slots__ = ('mask',)

    def backward(self, g):
        return g * self.mask if is_array(g) else g * const(self.mask, g)   # a Tensor under create_graph


def native_dropout(input, p, train):
    """(output, bool mask): in training (train True or None) the mask is drawn as dropout's (the generator's words
    in PyTorch's order) and the kept values scaled by 1/(1-p); otherwise a copy and a mask of ones."""
    _input('native_dropout', input)
    from .nn.functional._dropout import _memory_order, _noise
    x = input._data
    if train is None or train:
        if not 0.0 <= 1.0 - p <= 1.0:
            raise RuntimeError(f'bernoulli_ expects p to be in [0, 1], but got p={1.0 - p}')
        keep = _noise(x.shape, p, np.dtype(np.bool_), _memory_order(x))
        scale = x.dtype.type(0.0 if p == 1 else 1.0 / (1.0 - p))
        out, grad_scale = x * keep * scale, scale if train else x.dtype.type(1)
    else:
        keep, out, grad_scale = np.ones(x.shape, bool), x.copy(), x.dtype.type(1)
    node = None
    if GRAD.enabled and input.requires_grad:
        node = NativeDropoutBackward0((input,))
        node.mask = keep * grad_scale
    return Tensor._make(out, node), Tensor._make(keep)


def _cpu_missing(op):
    """PyTorch's NotImplementedError for an op its CPU build has no kernel for."""
    return NotImplementedError(f"Could not run 'aten::{op}' with arguments from the 'CPU' backend. This could be "
                               "because the operator doesn't exist for this backend (PyTorch has it for CUDA only; "
                               'ember runs on the CPU).')


NativeNormNotImplemented = undifferentiable('NotImplemented', 'derivative for aten::native_norm is not implemented',
                                            'torch::autograd::NotImplemented')


def native_norm(input, p=2, dim=None, keepdim=False, dtype=None):
    """The p-norm of a sparse COO tensor's values, over all its dims (PyTorch's only kernel: sparse, full
    reductions, no keepdim or dtype)."""
    _input('native_norm', input)
    if not input.is_sparse:
        raise _cpu_missing('native_norm')
    if dim is not None and sorted(d % input.dim() for d in dim) != list(range(input.dim())) and len(dim):
        raise RuntimeError("norm_sparse currently only supports full reductions, so 'dim' must either be empty or "
                           'contain all dimensions of the input')
    if keepdim:
        raise RuntimeError('norm_sparse currently does not support keepdim=True')
    if dtype is not None:
        raise RuntimeError("norm_sparse currently does not support 'dtype' argument")
    v = input.coalesce()._values().detach()
    out = v.norm(2 if p is None else p)._data
    if GRAD.enabled and input.requires_grad:
        return Tensor._make(out, NativeNormNotImplemented((input,)))
    return Tensor._make(out)


# -- SyncBatchNorm's kernels (CUDA-only in PyTorch) ----------------------------------------------------------------
def _cuda_only(name, params):
    """torch.``name``: PyTorch's argument checks on ``params`` ((name, optional) of its parameters in order, None
    for one that is not a Tensor), then the refusal of its CPU build."""
    def op(*args):
        for pos, (param, value) in enumerate(zip(params, args), 1):
            if param and not isinstance(value, Tensor) and not (param[1] and value is None):
                raise arg_error(name, param[0], pos, value)
        raise _cpu_missing(name)
    op.__name__ = name
    op.__doc__ = f'``torch.{name}``: SyncBatchNorm\'s kernel, which PyTorch builds for CUDA only (refused here).'
    return op


_REQ, _OPT = False, True
batch_norm_stats = _cuda_only('batch_norm_stats', [('input', _REQ)])
batch_norm_elemt = _cuda_only('batch_norm_elemt', [('input', _REQ), ('weight', _OPT), ('bias', _OPT), ('mean', _REQ),
                                                   ('invstd', _REQ)])
batch_norm_gather_stats = _cuda_only('batch_norm_gather_stats', [
    ('input', _REQ), ('mean', _REQ), ('invstd', _REQ), ('running_mean', _OPT), ('running_var', _OPT)])
batch_norm_gather_stats_with_counts = _cuda_only('batch_norm_gather_stats_with_counts', [
    ('input', _REQ), ('mean', _REQ), ('invstd', _REQ), ('running_mean', _OPT), ('running_var', _OPT), None, None,
    ('counts', _REQ)])
batch_norm_backward_reduce = _cuda_only('batch_norm_backward_reduce', [
    ('grad_out', _REQ), ('input', _REQ), ('mean', _REQ), ('invstd', _REQ), ('weight', _OPT)])
batch_norm_backward_elemt = _cuda_only('batch_norm_backward_elemt', [
    ('grad_out', _REQ), ('input', _REQ), ('mean', _REQ), ('invstd', _REQ), ('weight', _OPT), ('sum_dy', _REQ),
    ('sum_dy_xmu', _REQ), ('count', _REQ)])
UpdateStatsNotImplemented = undifferentiable('NotImplemented', 'derivative for aten::batch_norm_update_stats is not '
                                             'implemented', 'torch::autograd::NotImplemented')


def batch_norm_update_stats(input, running_mean, running_var, momentum):
    """(per-channel mean, biased variance) of ``input`` (N, C, ...); the running statistics given are blended with
    the mean and the unbiased variance (in place, weight ``momentum``), as PyTorch's CPU kernel."""
    _input('batch_norm_update_stats', input, ('running_mean', 2, running_mean, True),
           ('running_var', 3, running_var, True))
    x = input._data
    axes = (0,) + tuple(range(2, x.ndim))
    n = x.size // x.shape[1] if x.shape[1] else 0
    a = x.astype(np.float64)
    mean = a.mean(axis=axes)
    var = a.var(axis=axes)
    with_grad = GRAD.enabled and input.requires_grad
    from .autograd.grad_mode import no_grad
    with no_grad():
        if running_mean is not None:
            running_mean.mul_(1 - momentum).add_(Tensor._make(mean.astype(running_mean._data.dtype)), alpha=momentum)
        if running_var is not None:
            unbiased = var * (n / (n - 1) if n > 1 else math.nan)
            running_var.mul_(1 - momentum).add_(Tensor._make(unbiased.astype(running_var._data.dtype)), alpha=momentum)
    node = UpdateStatsNotImplemented((input,)) if with_grad else None
    outs = [Tensor._make(v.astype(x.dtype), node) for v in (mean, var)]
    if node is not None:
        outs[1]._output_nr = 1
    return tuple(outs)


# -- embedding bags and CTC ----------------------------------------------------------------------------------------
_BAG_MODES = ('sum', 'mean', 'max')


def embedding_bag(weight, indices, offsets, scale_grad_by_freq=False, mode=0, sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None):
    """(bags, offset2bag, bag_size, max_indices): F.embedding_bag's bags of the 1-D ``indices`` and the bookkeeping
    PyTorch's CPU kernel returns with them (offset2bag empty on its float32 sum fast path; bag_size zeros for sum;
    max_indices the weight row of each maximum in max mode, else bag_size)."""
    _input('embedding_bag', weight, ('indices', 2, indices, False), ('offsets', 3, offsets, False),
           ('per_sample_weights', 7, per_sample_weights, True), first='weight')
    if mode not in (0, 1, 2):
        raise RuntimeError('`mode` must be sum, mean, or max.')
    if per_sample_weights is not None and mode != 0:
        raise RuntimeError("embedding_bag: per_sample_weights only supported with mode='sum'")
    if offsets.dim() != 1:
        raise RuntimeError(f'offsets has to be a 1D Tensor, but got Tensor of dimension {offsets.dim()}')
    flat = indices.reshape(-1)
    if per_sample_weights is not None and per_sample_weights.numel() != flat.numel():
        raise RuntimeError('Expected per_sample_weights.value().numel() == indices.numel() to be true, but got false.  '
                           '(Could this error message be improved?  If so, please report an enhancement request to '
                           'PyTorch.)')
    out = _F().embedding_bag(flat, weight, offsets, None, 2, scale_grad_by_freq and mode != 2, _BAG_MODES[mode],
                             sparse, per_sample_weights, include_last_offset, padding_idx)
    return (out,) + _bag_bookkeeping(weight, flat._data, offsets._data, mode, include_last_offset, padding_idx)


def _bag_bookkeeping(weight, idx, offs, mode, include_last_offset, padding_idx):
    """offset2bag, bag_size and max_indices as PyTorch's CPU kernel fills them."""
    itype = np.result_type(idx.dtype, offs.dtype)
    starts = offs[:-1] if include_last_offset else offs
    n, bags = idx.shape[0], starts.shape[0]
    pad = None if padding_idx is None else padding_idx % weight.shape[0]
    fast = mode == 0 and weight._data.dtype == np.float32 and weight.stride(1) == 1 and pad is None
    offset2bag = np.empty(0, itype) if fast else np.searchsorted(starts, np.arange(n), 'right').astype(itype) - 1
    if mode == 0:
        zeros = np.zeros(bags, itype)
        return tuple(Tensor._make(a) for a in (offset2bag, zeros, zeros.copy()))
    ends = np.append(np.minimum(starts[1:], n), n) if bags else starts
    rows = [idx[a:b] if pad is None else idx[a:b][idx[a:b] != pad] for a, b in zip(np.minimum(starts, n), ends)]
    bag_size = np.array([len(r) for r in rows], itype)
    if mode == 1:
        return tuple(Tensor._make(a) for a in (offset2bag, bag_size, bag_size.copy()))
    w = weight._data
    arg = np.zeros((bags, w.shape[1]), itype)
    for b, r in enumerate(rows):
        if len(r):
            arg[b] = r[np.argmax(w[r], axis=0)]     # the first of equal maxima, as the kernel's strict >
    return tuple(Tensor._make(a) for a in (offset2bag, bag_size, arg))


def ctc_loss(log_probs, targets, input_lengths, target_lengths, *options, **kw):
    """F.ctc_loss with PyTorch's reduction codes (1 mean, 2 sum, else none: PyTorch's binding passes none when the
    argument is left out); options are (blank=0, reduction, zero_infinity=False); the lengths are both int lists or
    both tensors."""
    given = (log_probs, targets, input_lengths, target_lengths) + options
    lengths = [isinstance(v, Tensor) for v in (input_lengths, target_lengths)]
    names = ('blank', 'reduction', 'zero_infinity')
    if not (isinstance(log_probs, Tensor) and isinstance(targets, Tensor)) or lengths[0] != lengths[1] or \
            len(options) > 3 or set(kw) - set(names[len(options):]):
        raise combination_error('ctc_loss', given, kw)
    opts = dict(zip(names, (0, 0, False)), **dict(zip(names, options)), **kw)
    return _F().ctc_loss(log_probs, targets, input_lengths, target_lengths, opts['blank'],
                         {1: 'mean', 2: 'sum'}.get(opts['reduction'], 'none'), opts['zero_infinity'])


# -- grid sampling -------------------------------------------------------------------------------------------------
def _names(codes):
    return tuple(sorted(codes, key=codes.get))


def _sampler(name, dims):
    """torch.``name``: F.grid_sample with PyTorch's integer codes for the interpolation and padding modes; ``dims``
    the input ranks it takes (grid_sampler: 4-D or 5-D)."""
    def op(input, grid, interpolation_mode, padding_mode, align_corners):
        _input(name, input, ('grid', 2, grid, False))
        if input.dim() not in dims or grid.dim() != input.dim():
            rank = dims[0] if len(dims) == 1 else input.dim()
            raise RuntimeError(f'grid_sampler(): expected {rank}D input and grid with same number of dimensions, but '
                               f'got input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}')
        if interpolation_mode not in (0, 1, 2) or padding_mode not in (0, 1, 2):
            raise RuntimeError(f'{name}: interpolation_mode {interpolation_mode} or padding_mode {padding_mode} is not '
                               'one of PyTorch\'s codes (interpolation 0 bilinear, 1 nearest, 2 bicubic; padding 0 '
                               'zeros, 1 border, 2 reflection)')
        F = _F()
        return F.grid_sample(input, grid, _names(F.GRID_SAMPLE_INTERPOLATION_MODES)[interpolation_mode],
                             _names(F.GRID_SAMPLE_PADDING_MODES)[padding_mode], bool(align_corners))
    op.__name__ = name
    op.__doc__ = f'``torch.{name}``: F.grid_sample with PyTorch\'s integer mode codes.'
    return op


grid_sampler = _sampler('grid_sampler', (4, 5))
grid_sampler_2d = _sampler('grid_sampler_2d', (4,))
grid_sampler_3d = _sampler('grid_sampler_3d', (5,))


def affine_grid_generator(theta, size, align_corners):
    """F.affine_grid's grid (theta (N, 2, 3) for a 4-D size, (N, 3, 4) for 5-D), with the errors of PyTorch's
    composition (a base grid times theta's transpose by bmm, then a view)."""
    _input('affine_grid_generator', theta, first='theta')
    size = [int(v) for v in size]
    if len(size) not in (4, 5):
        raise RuntimeError('AffineGridGenerator needs 4d (spatial) or 5d (volumetric) inputs.')
    k = len(size) - 2
    if theta.dim() != 3:
        raise RuntimeError('batch2 must be a 3D tensor')
    if (theta.shape[0], theta.shape[2]) != (size[0], k + 1):
        raise RuntimeError(f'Expected size for first two dimensions of batch2 tensor to be: [{size[0]}, {k + 1}] but '
                           f'got: [{theta.shape[0]}, {theta.shape[2]}].')
    if theta.shape[1] != k:
        raise RuntimeError(f"shape '{[size[0]] + size[2:] + [k]}' is invalid for input of size "
                           f'{size[0] * math.prod(size[2:]) * theta.shape[1]}')
    return _F().affine_grid(theta, size, bool(align_corners))


# -- the inverse of a slice view -----------------------------------------------------------------------------------
SliceInverseBackward0 = node_class('SliceInverseBackward0', unchecked=(0, 1))


def slice_inverse(input, src, dim=0, start=None, end=None, step=1):
    """``src``'s geometry over ``input``'s storage (input a slice of src's base, as functionalization calls it): a
    view of input without grad; with grad, its values from slice_scatter(src, input) (equal in that use), and
    PyTorch's gradients (input: the slice of the gradient; src: the gradient with the slice zeroed)."""
    _input('slice_inverse', input, ('src', 2, src, False))
    return _slice_inverse(input, src, dim, start, end, step)


def slice_inverse_method(self, src, dim=0, start=None, end=None, step=1):
    """``Tensor.slice_inverse`` (its argument errors count from src)."""
    _input('slice_inverse', self, ('src', 1, src, False))
    return _slice_inverse(self, src, dim, start, end, step)


slice_inverse_method.__name__ = slice_inverse_method.__qualname__ = 'slice_inverse'


def _slice_inverse(input, src, dim, start, end, step):
    view = input.detach().as_strided(src.shape, src.stride(), src.storage_offset())
    if not (GRAD.enabled and (input.requires_grad or src.requires_grad)):
        return input.as_strided(src.shape, src.stride(), src.storage_offset())
    out = composite(SliceInverseBackward0, lambda s, b: b.slice_scatter(s, dim, start, end, step), (input, src))
    out._data[...] = view._data
    return out



# -- embedding rows renormalised in place --------------------------------------------------------------------------
EmbeddingRenormBackward0 = undifferentiable('EmbeddingRenormBackward0',
                                            "the derivative for 'embedding_renorm' is not implemented.")


def embedding_renorm_(input, indices, max_norm, norm_type):
    """Rows of ``input`` (2-D) named in ``indices`` whose ``norm_type``-norm exceeds ``max_norm``, rescaled in place
    to it (what F.embedding's max_norm does to its table); PyTorch records it without a derivative."""
    from .nn.functional._embedding import _renorm
    from .ops.inplace import check_inplace, commit
    _input('embedding_renorm_', input, ('indices', 2, indices, False))
    if indices._data.dtype not in (np.int64, np.int32):
        raise RuntimeError("Expected tensor for argument #2 'indices' to have one of the following scalar types: Long, "
                           f"Int; but got {indices.type()} instead (while checking arguments for embedding_renorm_)")
    if input.dim() != 2:
        raise RuntimeError(f'Expected 2-dimensional tensor, but got {input.dim()}-dimensional tensor for argument #1 '
                           "'self' (while checking arguments for embedding_renorm_)")
    if input._data.dtype.kind not in 'fc':
        from ._dtype import scalar_name
        raise RuntimeError('norm(): input dtype should be either floating point or complex. Got '
                           f'{scalar_name(input._data.dtype)} instead.')
    idx = indices._data.reshape(-1)
    bad = idx[(idx < -input.shape[0]) | (idx >= input.shape[0])]
    if bad.size:
        raise IndexError(f'select(): index {bad[0]} out of range for tensor of size {list(input.shape)} at dimension 0')
    if check_inplace(input):
        renormed = Tensor._make(input._data.copy())
        _renorm(renormed, idx % input.shape[0], max_norm, norm_type)
        return commit(input, Tensor._make(renormed._data, EmbeddingRenormBackward0((input,))))
    _renorm(input, idx % input.shape[0], max_norm, norm_type)
    return input
