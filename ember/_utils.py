"""``torch._utils``' buffer helpers that training code imports directly (guided-diffusion's fp16_util, apex-style
master weights, hand-written gradient bucketing): many tensors as one flat buffer and back; and the rebuild
functions a plain ``pickle`` of PyTorch tensors names (skorch pickles a fitted net's module that way)."""

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


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None):
    """A tensor over ``storage`` (from ``torch.storage._load_from_bytes``) as ``pickle.loads`` of a PyTorch
    tensor rebuilds it; backward hooks are not restored, so a pickle carrying some is refused."""
    from . import empty
    if backward_hooks:
        raise RuntimeError('torch._utils._rebuild_tensor_v2: ember cannot unpickle a tensor with backward hooks '
                           f'({len(backward_hooks)} pickled); remove them before pickling')
    t = empty(0, dtype=storage.dtype).set_(storage, storage_offset, tuple(size), tuple(stride))
    t.requires_grad_(requires_grad)
    return t


def _rebuild_parameter(data, requires_grad, backward_hooks):
    """A Parameter of the unpickled tensor ``data`` (as ``pickle.loads`` of a PyTorch Parameter)."""
    return _rebuild_parameter_with_state(data, requires_grad, backward_hooks, None)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    """``_rebuild_parameter`` for a Parameter with Python attributes (``state``), set on it."""
    from .nn import Parameter
    if backward_hooks:
        raise RuntimeError('torch._utils._rebuild_parameter: ember cannot unpickle a Parameter with backward hooks '
                           f'({len(backward_hooks)} pickled); remove them before pickling')
    p = Parameter(data, requires_grad)
    if state:
        p.__dict__.update(state)
    return p


def _get_available_device_type():
    """The accelerator type PyTorch would pick ('cuda', 'mps', ...), None without one: ember runs on the CPU."""
    return None


def _get_device_module(device_type):
    """``torch.<device_type>`` (``torch.cpu``, ``torch.cuda``), refused for a name with no such module."""
    import ember
    module = getattr(ember, device_type, None)
    if module is None:
        raise RuntimeError(f"Device '{device_type}' does not have a corresponding module registered as "
                           f"'torch.{device_type}'.")
    return module
