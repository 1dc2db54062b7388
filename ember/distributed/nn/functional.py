"""``torch.distributed.nn.functional``: collectives that autograd differentiates (contrastive losses gather
features from every rank, lucidrains' LFQ averages its entropy statistics): each returns new tensors instead of
writing in place, and its backward is the adjoint collective (all_reduce's is all_reduce, all_gather's sums every
rank's gradient for this rank's slot, broadcast's reduces onto the source)."""
import warnings

from ...autograd.function import Function
from .. import _collectives as C
from ..distributed_c10d import get_rank, get_world_size
from .._reduce_op import ReduceOp

__all__ = ['all_reduce', 'all_gather', 'broadcast']


def _deprecated(name, suggestion):
    warnings.warn(f'torch.distributed.nn.functional.{name} is deprecated, use {suggestion} instead.',
                  FutureWarning, stacklevel=3)


class _AllReduce(Function):
    @staticmethod
    def forward(ctx, op, group, tensor):
        ctx.op, ctx.group = op, group
        out = tensor.clone()
        C.all_reduce(out, op=op, group=group)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        return None, None, _AllReduce.apply(ctx.op, ctx.group, grad_output)


class _AllGather(Function):
    @staticmethod
    def forward(ctx, group, tensor):
        ctx.group = group
        tensor = tensor.contiguous()
        out = [tensor.new_empty(tensor.shape) for _ in range(get_world_size(group=group))]
        C.all_gather(out, tensor, group=group)
        return tuple(out)

    @staticmethod
    def backward(ctx, *grad_outputs):
        from ... import stack
        summed = _AllReduce.apply(ReduceOp.SUM, ctx.group, stack(grad_outputs))
        return None, summed[get_rank(group=ctx.group)]


class _Broadcast(Function):
    @staticmethod
    def forward(ctx, src, group, tensor):
        ctx.src, ctx.group, ctx.rank = src, group, get_rank(group=group)
        out = tensor.clone()
        C.broadcast(out, src, group=group)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        gx = _Reduce.apply(ctx.src, ReduceOp.SUM, ctx.group, grad_output)
        if ctx.src != ctx.rank:
            gx.zero_()
        return None, None, gx


class _Reduce(Function):
    @staticmethod
    def forward(ctx, src, op, group, tensor):
        ctx.src, ctx.group = src, group
        out = tensor.clone()
        C.reduce(out, src, op=op, group=group)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        return None, None, None, _Broadcast.apply(ctx.src, ctx.group, grad_output)


def all_reduce(tensor, op=ReduceOp.SUM, group=None):
    """``tensor`` reduced across the group with ``op``, as a new tensor (the same on every rank)."""
    _deprecated('all_reduce', 'torch.distributed._functional_collectives.all_reduce')
    return _AllReduce.apply(op, group, tensor)


def all_gather(tensor, group=None):
    """A tuple of every rank's ``tensor``, in rank order."""
    _deprecated('all_gather', 'torch.distributed._functional_collectives.all_gather_single')
    return _AllGather.apply(group, tensor)


def broadcast(tensor, src, group=None):
    """Rank ``src``'s ``tensor``, as a new tensor on every rank."""
    _deprecated('broadcast', 'torch.distributed._functional_collectives.broadcast')
    return _Broadcast.apply(src, group, tensor)
