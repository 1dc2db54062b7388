"""``torch._utils``' buffer helpers that training code imports directly (guided-diffusion's fp16_util, apex-style
master weights, hand-written gradient bucketing): many tensors as one flat buffer and back."""

__all__ = []


def _flatten_dense_tensors(tensors):
    """One contiguous 1-D tensor holding ``tensors`` in order (a view of a lone contiguous tensor, as PyTorch's);
    dtypes promote as in ``cat``."""
    from . import cat
    tensors = list(tensors)
    if len(tensors) == 1:
        return tensors[0].contiguous().view(-1)
    return cat([t.contiguous().view(-1) for t in tensors])


def _unflatten_dense_tensors(flat, tensors):
    """Views of ``flat`` (a buffer from ``_flatten_dense_tensors``) shaped as each of ``tensors``, as a tuple."""
    out, offset = [], 0
    for t in tensors:
        out.append(flat.narrow(0, offset, t.numel()).view_as(t))
        offset += t.numel()
    return tuple(out)
