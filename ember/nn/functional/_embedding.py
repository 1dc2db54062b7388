"""Embedding lookup (one fused node with a scatter-add backward that skips ``padding_idx``) and one_hot."""
import numpy as np

from ... import _quiet, _sparse, ops
from ...autograd import forward_refusal, graph
from ...autograd.grad_mode import no_grad
from ...autograd.graph import MODE
from ...ops import _composite
from ...ops._scatter import index_add_rows
from ...ops.indexing import rows_at
from ...ops._util import all_below, arg_error, check_tensor_args
from ...tensor import Tensor
from ._fused import fused, record

__all__ = ['embedding', 'one_hot', 'embedding_bag']


def _embedding_backward(self, g):
    idx, n, pad, by_freq, sparse = self.ctx
    flat = idx.reshape(-1)
    g2 = np.asarray(g).reshape(flat.size, np.shape(g)[-1])     # -1 cannot be inferred for no index
    if sparse:
        if by_freq:
            raise RuntimeError('embedding_backward: scale_grad_by_freq not supported with sparse gradients')
        return None, sparse_rows(flat, g2, n, pad)
    if by_freq is not False:    # True: this lookup's own counts; an array: embedding_bag's whole-input counts
        counts = by_freq if isinstance(by_freq, np.ndarray) else np.bincount(flat, minlength=n)
        g2 = g2 / counts[flat][:, None].astype(g2.dtype)
    out = index_add_rows(np.zeros((n, g2.shape[1]), g2.dtype), flat, g2)
    if pad is not None:
        out[pad] = 0
    return None, out


def _embedding_ref(ctx, idx, w):
    i, n, pad, by_freq, _ = ctx
    rows = ops.index_select(w, 0, Tensor._make(i.reshape(-1)))
    if pad is not None:
        keep = Tensor._make((i.reshape(-1) != pad).astype(w._data.dtype)[:, None])
        rows = rows * keep + (rows * (1 - keep)).detach()
    return rows.reshape(tuple(i.shape) + (w.shape[1],))


EmbeddingBackward0 = fused('EmbeddingBackward0', _embedding_backward, _embedding_ref)
# PyTorch's saved attributes: the indices (the saved input), the weight's row count, the arguments (no padding_idx
# is -1, shown as PyTorch's unsigned int64)
for _name, _prop in graph.saved_properties('indices').items():
    setattr(EmbeddingBackward0, _name, _prop)
graph.saved_attributes(EmbeddingBackward0, weight_sym_argsize_0=lambda node: node.ctx[1],
                       padding_idx=lambda node: (-1 if node.ctx[2] is None else node.ctx[2]) % (1 << 64),
                       scale_grad_by_freq=lambda node: node.ctx[3] is not False, sparse=lambda node: node.ctx[4])


def _renorm(weight, idx, max_norm, norm_type):
    """Rescale in place the rows referenced by idx whose norm exceeds max_norm (PyTorch's embedding_renorm_)."""
    with no_grad():
        w = weight._data
        rows = np.unique(idx)
        norms = np.linalg.norm(w[rows].astype(np.float64), ord=norm_type, axis=1)
        big = norms > max_norm
        if big.any():
            scale = (max_norm / (norms[big] + 1e-7)).astype(w.dtype)
            w[rows[big]] *= scale[:, None]
            weight._bump()


def sparse_rows(flat, rows, n, pad):
    """The sparse gradient of an embedding table of ``n`` rows (PyTorch's embedding_sparse_backward): one entry
    per looked-up index in lookup order, uncoalesced, its value the gradient of that lookup's row; the lookups of
    ``pad`` left out. Nothing of the table's size is made."""
    if pad is not None:
        keep = flat != pad
        flat, rows = flat[keep], rows[keep]
    # values kept as laid out (a view of a sum's expanded gradient stays non-contiguous): PyTorch's sparse add
    # concatenates such values where it merges contiguous ones (_sparse._merge_add)
    vals = rows.copy() if rows.flags.c_contiguous else rows
    return _sparse._make(flat.astype(np.int64).reshape(1, -1), vals, (n, rows.shape[1]), False, check=False)


@_quiet.quietly
def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Rows of ``weight`` at the integer indices ``input`` (the row ``padding_idx`` gets no gradient)."""
    try:
        return _lookup(input, weight, padding_idx, max_norm, norm_type, bool(scale_grad_by_freq), sparse)
    except Exception:   # PyTorch's F calls torch.embedding(weight, input): its parser checks in that order
        for value, arg, pos in ((weight, 'weight', 1), (input, 'indices', 2)):
            if not isinstance(value, Tensor):
                raise arg_error('embedding', arg, pos, value) from None
        raise


def _checked_lookup(idx, n, padding_idx):
    """PyTorch's checks of a lookup into a table of ``n`` rows (padding_idx within it, every index below n); the
    padding index counted from the start."""
    if padding_idx is not None:
        if padding_idx > 0:
            assert padding_idx < n, 'Padding_idx must be within num_embeddings'
        elif padding_idx < 0:
            assert padding_idx >= -n, 'Padding_idx must be within num_embeddings'
            padding_idx = n + padding_idx
    if not all_below(idx, n):
        raise IndexError('index out of range in self')
    return padding_idx


def _lookup(input, weight, padding_idx, max_norm, norm_type, by_freq, sparse):
    """embedding, its gradient divided by each index's count when ``by_freq``: True counts this lookup's
    indices, an array gives the counts (embedding_bag's, over all its bags)."""
    idx = input._data
    if idx.dtype not in (np.int64, np.int32):   # PyTorch: Long or Int (uint8, int16 and int8 refused too)
        raise RuntimeError(f'Expected tensor for argument #1 \'indices\' to have one of the following scalar types: '
                           f'Long, Int; but got torch.{input.type().split(".")[-1]} instead (while checking '
                           'arguments for embedding)')
    w = weight._data
    n = w.shape[0]
    padding_idx = _checked_lookup(idx, n, padding_idx)
    if max_norm is not None:
        _renorm(weight, idx, max_norm, norm_type)
    out = rows_at(w, idx)
    r = record(EmbeddingBackward0, (input, weight), out, ctx=(idx, n, padding_idx, by_freq, bool(sparse)))
    if r.grad_fn is not None:
        r.grad_fn.guard(input)   # PyTorch's node saves the indices; the backward reads ctx's array
    return r


@_quiet.quietly
def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode='mean',
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Sums, means or maxes of bags of embeddings (2-D input: one bag per row; 1-D input: bags by offsets)."""
    _check_bag_dtypes(input, weight)
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(f'embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, then '
                         f'it must have the same shape as the input ({input.shape})')
    if input.dim() == 2:   # PyTorch's: a bag per row, as 1-D input with offsets (per_sample_weights viewed so too)
        if offsets is not None:
            raise ValueError('if input is 2D, then offsets has to be None, as input is treated is a mini-batch of fixed '
                             f'length sequences. However, found offsets of type {type(offsets).__name__}')
        if input.shape[1] == 0:     # PyTorch's arange(0, numel, step) of the row length
            raise RuntimeError('step must be nonzero')
        offsets = Tensor._make(np.arange(0, input.numel(), input.shape[1], dtype=input._data.dtype))
        include_last_offset = False   # PyTorch's kernel ends the last row's bag at the end of the input then too
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.dim() == 1:
        if offsets is None or offsets.dim() != 1:
            raise ValueError(f'offsets has to be a 1D Tensor{" but got None" if offsets is None else ""}')
    else:
        raise ValueError(f'input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}')
    if mode not in ('sum', 'mean', 'max'):
        raise ValueError(f'mode has to be one of sum, mean or max (embedding_bag got mode={mode!r})')
    if mode == 'max' and scale_grad_by_freq:
        raise ValueError('max mode does not support scaling the gradient by the frequency')
    if mode == 'max' and sparse:
        raise ValueError('max mode does not support sparse weights')
    if per_sample_weights is not None and mode != 'sum':
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                                  'GitHub.')
    if forward_refusal.SOURCES:   # no forward-mode formula; without one on weight, the kernel's other name
        forward_refusal.refuse('_embedding_bag', weight)
        forward_refusal.refuse('_embedding_bag_forward_only', per_sample_weights)
    state = dict(input=input, offsets=offsets, max_norm=max_norm, norm_type=norm_type, mode=mode,
                 include_last_offset=include_last_offset, padding_idx=padding_idx,
                 scale_grad_by_freq=bool(scale_grad_by_freq))
    if max_norm is None and not sparse and type(weight._data) is np.ndarray:    # (bfloat16: the composition)
        return _FastBag.run(weight, per_sample_weights, state)
    node = _SparseBagBackward if sparse else EmbeddingBagBackward0
    return _composite.composite(node, _bags, (weight, per_sample_weights), input=input,
                                offsets=offsets, max_norm=max_norm, norm_type=norm_type, mode=mode,
                                include_last_offset=include_last_offset, padding_idx=padding_idx,
                                scale_grad_by_freq=bool(scale_grad_by_freq))


EmbeddingBagBackward0 = _composite.node_class('EmbeddingBagBackward0')


class _FastBag(_composite.CompositeNode):
    """EmbeddingBagBackward0 computed on arrays: every bag's lookups gathered at once and summed by np.add.reduceat
    (in lookup order, as _bags' per-bag sums), the gradients scattered back by rows; under create_graph the
    composition _bags is re-derived, as for any composite node. A Python loop of ops per bag cost ~20 us a bag:
    32 bags of 50 lookups of 64 wide, CPU ms on one thread, fwd+bwd: sum 1.9 -> 0.30, mean 2.3 -> 0.32, max 2.6
    -> 0.4-0.8 (PyTorch 0.12-0.25)."""
    __slots__ = ('plan',)

    @classmethod
    def run(cls, weight, psw, state):
        plan = _bag_plan(weight, psw, state)
        out = _bag_forward(weight._data, None if psw is None else psw._data, plan)
        need = (weight._requires_grad, psw is not None and psw._requires_grad)
        if not (_composite.GRAD.enabled and any(need)):
            return Tensor._make(out)
        node = cls((weight, psw))
        node.compose, node.state, node.need, node.inner, node.plan = _bags, state, need, None, plan
        node.save(weight, psw)
        if not need[1]:     # PyTorch's node saves the weight for per_sample_weights' gradient alone
            node._unchecked = (0,)
        node.guard(state['input'], state['offsets'])     # saved by PyTorch's node; the backward reads plan's arrays
        return Tensor._make(out, node)

    def backward(self, g):
        if MODE.graph:
            return _composite.CompositeNode.backward(self, g)
        w, p = (getattr(t, '_data', t) for t in self.saved())    # arrays (or the Tensors saved)
        return (_bag_weight_grad(g, w, p, self.plan) if self.need[0] else None,
                _bag_psw_grad(g, w, self.plan, p.shape) if self.need[1] else None)


_FastBag.__name__ = _FastBag.__qualname__ = 'EmbeddingBagBackward0'


def _bag_plan(weight, psw, st):
    """The lookups of every bag as arrays: (rows looked up, their bag, their place in the input, bag starts among
    the lookups, non-padding counts, padding mask, mode, whole-input index counts or None); max mode's forward adds
    'first', the lookup each bag's column maximum came from, which its backward reads."""
    flat, n = st['input']._data, weight.shape[0]
    pad = _checked_lookup(flat, n, st['padding_idx'])
    offs = st['offsets']._data.astype(np.int64).tolist() + ([] if st['include_last_offset'] else [flat.shape[0]])
    starts = np.asarray(offs[:-1], np.int64)
    sizes = np.maximum(np.minimum(np.asarray(offs[1:], np.int64), flat.shape[0]) - starts, 0)
    bag_of = np.repeat(np.arange(len(starts)), sizes)
    firsts = np.cumsum(sizes) - sizes
    at = np.arange(bag_of.size) - firsts[bag_of] + starts[bag_of]
    rows = flat[at].astype(np.int64)
    valid = None if pad is None else rows != pad
    counts = sizes if valid is None else np.bincount(bag_of[valid], minlength=len(starts))
    by_freq = np.bincount(flat.reshape(-1), minlength=n) if st['scale_grad_by_freq'] else None
    return dict(rows=rows, bag_of=bag_of, at=at, firsts=firsts[sizes > 0], full=sizes > 0, counts=counts,
                valid=valid, mode=st['mode'], by_freq=by_freq, bags=len(starts))


def _bag_forward(w, psw, plan):
    e = w[plan['rows']]
    if plan['valid'] is not None and plan['mode'] != 'max':
        e = e * plan['valid'][:, None].astype(e.dtype)
    if psw is not None:
        e = e * psw[plan['at']][:, None]
    out = np.zeros((plan['bags'], w.shape[1]), w.dtype)
    if not e.shape[0]:
        return out
    if plan['mode'] == 'max':
        out[plan['full']], plan['first'] = _bag_max_arrays(e, plan)
        return out
    out[plan['full']] = _bag_sums(e, plan['firsts'])
    if plan['mode'] == 'mean':
        out /= np.maximum(plan['counts'], 1)[:, None].astype(w.dtype)
    return out


def _bag_sums(e, firsts):
    """Each bag's rows (e[first:next first]) added in order from 0, as PyTorch's kernel adds a bag's lookups
    (np.add.reduceat's order put 3787 of 20k float32 sums of bags up to 19 lookups a step off); unequal bags of
    more than _SEQUENTIAL_MAX lookups by reduceat. Equal bags, min of 200 (us), reduceat -> in order: (32 bags, 50
    lookups, 64 wide) 80.6 -> 31.2, (64, 13, 16) 16.5 -> 22.8, (256, 20, 128) 763 -> 145."""
    lens = np.diff(np.r_[firsts, e.shape[0]])
    if (lens == lens[0]).all():     # equal bags (a 2-D input): one reduction
        return _in_order(e.reshape(len(lens), lens[0], -1))
    if lens.max() > _SEQUENTIAL_MAX:
        return np.add.reduceat(e, firsts, axis=0)
    acc = np.zeros((len(lens), e.shape[1]), e.dtype)
    for j in range(int(lens.max())):
        sel = np.flatnonzero(lens > j)
        acc[sel] += e[firsts[sel] + j]
    return acc


def _in_order(e3):
    """(bags, lookups, width) summed over the lookups one after another from 0: NumPy's reduction over a middle
    axis adds its slices in order (width 1 makes it the inner axis, which NumPy sums pairwise: a loop there)."""
    if e3.shape[2] > 1:
        return e3.sum(1, initial=0)
    acc = e3[:, 0] + e3.dtype.type(0)
    for j in range(1, e3.shape[1]):
        acc += e3[:, j]
    return acc


# longest bag of unequal bags summed in order by _bag_sums (a pass per lookup position)
_SEQUENTIAL_MAX = 64


def _bag_max_arrays(e, plan):
    """Each non-empty bag's column maxima (padding lookups skipped, zeros for a bag of padding alone) and the
    lookup giving each, the first of ties (its gradient is not split)."""
    valid = plan['valid']
    if valid is not None:
        e = np.where(valid[:, None], e, -np.inf)
    top = np.maximum.reduceat(e, plan['firsts'], axis=0)
    rank = (np.cumsum(plan['full']) - 1)[plan['bag_of']]    # each lookup's bag among the non-empty ones
    pos = np.where(e == top[rank], np.arange(e.shape[0])[:, None], e.shape[0])
    first = np.minimum.reduceat(pos, plan['firsts'], axis=0)
    empty = np.broadcast_to((plan['counts'][plan['full']] == 0)[:, None], top.shape)   # only padding in the bag
    return np.where(empty, 0, top).astype(e.dtype), np.where(empty, -1, first)


def _bag_weight_grad(g, w, psw, plan):
    g = np.asarray(g)
    if plan['mode'] == 'max':
        first = plan.get('first')
        out = np.zeros(w.size, np.float64)
        if first is not None:
            cols = np.broadcast_to(np.arange(w.shape[1]), first.shape)
            hit = first >= 0
            out += np.bincount((plan['rows'][first[hit]] * w.shape[1] + cols[hit]), weights=g[plan['full']][hit],
                               minlength=w.size)
        return out.astype(w.dtype).reshape(w.shape)
    r = g[plan['bag_of']]
    if plan['mode'] == 'mean':
        r = r / np.maximum(plan['counts'], 1)[plan['bag_of']][:, None].astype(r.dtype)
    if psw is not None:
        r = r * psw[plan['at']][:, None]
    if plan['by_freq'] is not None:
        r = r / plan['by_freq'][plan['rows']][:, None].astype(r.dtype)
    if plan['valid'] is not None:
        r = r * plan['valid'][:, None].astype(r.dtype)
    return index_add_rows(np.zeros(w.shape, r.dtype), plan['rows'], np.ascontiguousarray(r))


def _bag_psw_grad(g, w, plan, shape):
    """d/d per_sample_weights (mode 'sum'): each lookup's row dotted with its bag's gradient."""
    e = w[plan['rows']]
    if plan['valid'] is not None:
        e = e * plan['valid'][:, None].astype(e.dtype)
    out = np.zeros(shape, w.dtype)
    out[plan['at']] = (np.asarray(g)[plan['bag_of']] * e).sum(1)
    return out


class _SparseBagBackward(_composite.CompositeNode):
    """EmbeddingBagBackward0 of ``sparse=True``: the weight's gradient sparse, as PyTorch's
    _embedding_bag_sparse_backward makes it (each lookup's bag gradient, divided by the bag's size for 'mean',
    times its per-sample weight, then as embedding's sparse gradient), without the table's dense gradient that
    the composition's graph would give; per_sample_weights' gradient from that graph (which then leaves the
    weight out). Under create_graph the composition is re-derived (dense gradients)."""
    __slots__ = ()

    def backward(self, g):
        if MODE.graph:
            return _composite.CompositeNode.backward(self, g)
        weight, psw = self.saved()
        st = self.state
        wgrad = _sparse_bag_grad(g, weight, psw, st) if self.need[0] else None
        pgrad = None
        if self.need[1]:
            out, leaves = self.inner
            from ...autograd import grad
            pgrad = grad(out, leaves[-1], Tensor._make(g), retain_graph=True, allow_unused=True)[0]
            pgrad = None if pgrad is None else pgrad._data
        return wgrad, pgrad


_SparseBagBackward.__name__ = _SparseBagBackward.__qualname__ = 'EmbeddingBagBackward0'


def _sparse_bag_grad(g, weight, psw, st):
    """The sparse weight gradient of embedding_bag: rows of ``g`` (one a bag) at each lookup's bag."""
    flat, offs = st['input']._data, st['offsets']._data.tolist()
    offs = offs + ([] if st['include_last_offset'] else [flat.shape[0]])
    ends = np.minimum(np.asarray(offs[1:], np.int64), flat.shape[0])
    starts = np.asarray(offs[:-1], np.int64)
    bag_of = np.repeat(np.arange(len(starts)), np.maximum(ends - starts, 0))
    at = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends)] or [np.zeros(0, np.int64)])
    flat = flat[at]
    rows = np.asarray(g)[bag_of]
    pad = st['padding_idx']
    if st['mode'] == 'mean':
        counts = np.bincount(bag_of[flat != pad] if pad is not None else bag_of, minlength=len(starts))
        rows = rows / counts[bag_of][:, None].astype(rows.dtype)
    if psw is not None:
        rows = rows * np.asarray(getattr(psw, '_data', psw))[at][:, None]
    return sparse_rows(flat, rows, np.shape(getattr(weight, '_data', weight))[0], pad)


def _check_bag_dtypes(input, weight):
    """PyTorch's checks of embedding_bag's argument dtypes: Long or Int indices, a floating weight."""
    if input._data.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got torch.{input.type().split('.')[-1]} instead (while checking "
                           'arguments for embedding_bag)')
    if weight._data.dtype.kind != 'f':
        raise RuntimeError(f"Expected tensor for argument #1 'weight' to have one of the following scalar types: "
                           f"Half, BFloat16, Float, Double; but got torch.{weight.type().split('.')[-1]} instead "
                           '(while checking arguments for embedding_bag)')


def _bags(weight, per_sample_weights, input, offsets, max_norm, norm_type, mode, include_last_offset, padding_idx,
          scale_grad_by_freq):
    """embedding_bag of 1-D input composed of embedding, sum/mean/amax and stack; scale_grad_by_freq divides each
    lookup's gradient by its index's count in the whole input, as documented and as PyTorch's CUDA kernel does
    (2.13's CPU kernel reads the count at a wrong position when an index repeats, pytorch/pytorch#190063, fixed
    upstream: not copied)."""
    offs = offsets.tolist() + ([] if include_last_offset else [input.shape[0]])
    by_freq = np.bincount(input._data.reshape(-1), minlength=weight.shape[0]) if scale_grad_by_freq else False
    bags = [input[offs[i]:offs[i + 1]] for i in range(len(offs) - 1)]
    psw = None if per_sample_weights is None else \
        [per_sample_weights[offs[i]:offs[i + 1]] for i in range(len(offs) - 1)]
    outs = []
    for k, b in enumerate(bags):
        e = _lookup(b, weight, padding_idx, max_norm, norm_type, by_freq, False)
        if padding_idx is not None:
            e = e * Tensor._make((b._data != padding_idx).astype(weight._data.dtype)[:, None])
        if psw is not None:
            e = e * ops.unsqueeze(psw[k], 1)
        if mode == 'sum':
            outs.append(ops.sum(e, 0))
        elif mode == 'mean':
            cnt = b.numel() if padding_idx is None else int((b._data != padding_idx).sum())
            outs.append(ops.sum(e, 0) / max(cnt, 1))
        else:
            outs.append(_bag_max(b, weight, padding_idx, max_norm, norm_type))
    return ops.stack(outs, 0)


def _bag_max(b, weight, padding_idx, max_norm, norm_type):
    """max mode as PyTorch's kernel: padding entries skipped (not zeros in the max), the first maximum of each
    column taken whole (its gradient is not split among ties), zeros for an empty bag."""
    if padding_idx is not None:
        b = b[Tensor._make(b._data != padding_idx)]
    if not b.numel():
        return ops.zeros(weight.shape[1], dtype=weight.dtype)
    e = embedding(b, weight, None, max_norm, norm_type)
    first = Tensor._make(np.argmax(e._data, axis=0)[None, :])
    return ops.gather(e, 0, first)[0]


def one_hot(tensor, num_classes=-1):
    """int64 tensor with a trailing class dim holding 1 at each index."""
    try:
        a = tensor._data
        if a.dtype != np.int64:
            raise RuntimeError('one_hot is only applicable to index tensor of type LongTensor.')
        if a.size and a.min() < 0:
            raise RuntimeError('Class values must be non-negative.')
        if num_classes == -1:
            if a.size == 0:
                raise RuntimeError('Can not infer total number of classes from empty tensor.')
            num_classes = int(a.max()) + 1
        elif a.size and a.max() >= num_classes:
            raise RuntimeError('Class values must be smaller than num_classes.')
        out = np.zeros(a.shape + (num_classes,), np.int64)
        np.put_along_axis(out, a[..., None], 1, axis=-1)
        return Tensor._make(out)
    except (AttributeError, TypeError):
        check_tensor_args('one_hot', 'tensor:input')
        raise
