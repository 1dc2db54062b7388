"""``torch.distributed.algorithms.ddp_comm_hooks.default_hooks``: DDP comm hooks that average a bucket over the
group, as DDP does without a hook, or do so on a float16 copy of it (half the bytes sent) and cast back."""
from .... import distributed as dist
from ...._dtype import bfloat16, float16

__all__ = ['allreduce_hook', 'fp16_compress_hook', 'bf16_compress_hook', 'fp16_compress_wrapper',
           'bf16_compress_wrapper']


def _group(process_group):
    return process_group if process_group is not None else dist.group.WORLD


def _average(process_group, tensor):
    """A Future of ``tensor`` divided by the group's size and all-reduced in place."""
    group = _group(process_group)
    tensor.div_(dist.get_world_size(group))
    return dist.all_reduce(tensor, group=group, async_op=True).get_future().then(lambda fut: fut.value()[0])


def allreduce_hook(process_group, bucket):
    """The bucket's average over the group (what DDP computes without a hook)."""
    return _average(process_group, bucket.buffer())


def _compressed(process_group, bucket, dtype):
    """The bucket averaged in ``dtype`` and copied back into its buffer in the buffer's dtype."""
    buffer = bucket.buffer()
    compressed = buffer.to(dtype)

    def decompress(fut):
        buffer.copy_(fut.value())
        return buffer
    return _average(process_group, compressed).then(decompress)


def fp16_compress_hook(process_group, bucket):
    """The bucket averaged in float16 (half the bytes sent), copied back in the gradients' dtype."""
    return _compressed(process_group, bucket, float16)


def bf16_compress_hook(process_group, bucket):
    """The bucket averaged in bfloat16 (PyTorch's DDP refuses it without CUDA and NCCL, as ember does)."""
    return _compressed(process_group, bucket, bfloat16)


def _wrapper(hook, dtype):
    """``hook`` run on a ``dtype`` copy of the bucket, its result cast back into the bucket's buffer."""
    from ..._grad_bucket import GradBucket

    def wrapped(state, bucket):
        buffer = bucket.buffer()
        low = GradBucket(bucket.index(), buffer.to(dtype), bucket.gradients(), bucket.parameters(),
                         bucket.is_last())

        def decompress(fut):
            buffer.copy_(fut.value())
            return buffer
        return hook(state, low).then(decompress)
    wrapped.__name__ = f'{"fp16" if dtype is float16 else "bf16"}_compress_wrapper_hook'
    return wrapped


def fp16_compress_wrapper(hook):
    """``hook`` run on the bucket compressed to float16."""
    return _wrapper(hook, float16)


def bf16_compress_wrapper(hook):
    """``hook`` run on the bucket compressed to bfloat16."""
    return _wrapper(hook, bfloat16)
