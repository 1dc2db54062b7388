"""``torch.nn.parallel.scatter_gather`` as a PyTorch built without GPUs runs it: containers are split and
rebuilt as PyTorch's are, and a tensor, which would be copied to a GPU, is refused with PyTorch's error."""
from ...tensor import Tensor
from ._devices import device_index

__all__ = ['scatter', 'scatter_kwargs', 'gather']


def _is_namedtuple(obj):
    return isinstance(obj, tuple) and hasattr(obj, '_asdict') and hasattr(obj, '_fields')


def _scatter_tensor(target_gpus):
    """PyTorch's Scatter with no GPU: a CPU target is refused first, any other reaches the missing kernel."""
    for d in target_gpus:
        device_index(d, cpu_error='Expected a non cpu device, but got: {}')
    raise AttributeError("module 'torch._C' has no attribute '_scatter'")


def scatter(inputs, target_gpus, dim=0):
    """Slices tensors into chunks, one per device of ``target_gpus``; other objects are repeated per device."""
    def scatter_map(obj):
        if isinstance(obj, Tensor):
            _scatter_tensor(target_gpus)
        if _is_namedtuple(obj):
            return [type(obj)(*args) for args in zip(*map(scatter_map, obj))]
        if isinstance(obj, tuple) and len(obj) > 0:
            return list(zip(*map(scatter_map, obj)))
        if isinstance(obj, list) and len(obj) > 0:
            return [list(i) for i in zip(*map(scatter_map, obj))]
        if isinstance(obj, dict) and len(obj) > 0:
            return [type(obj)(i) for i in zip(*map(scatter_map, obj.items()))]
        return [obj for _ in target_gpus]
    return scatter_map(inputs)


def scatter_kwargs(inputs, kwargs, target_gpus, dim=0):
    """``scatter`` of the positional and the keyword arguments, padded to the same number of devices."""
    scattered_inputs = scatter(inputs, target_gpus, dim) if inputs else []
    scattered_kwargs = scatter(kwargs, target_gpus, dim) if kwargs else []
    if len(scattered_inputs) < len(scattered_kwargs):
        scattered_inputs.extend(() for _ in range(len(scattered_kwargs) - len(scattered_inputs)))
    elif len(scattered_kwargs) < len(inputs):
        scattered_kwargs.extend({} for _ in range(len(scattered_inputs) - len(scattered_kwargs)))
    return tuple(scattered_inputs), tuple(scattered_kwargs)


def gather(outputs, target_device, dim=0):
    """Joins one object per device into one, as PyTorch's gather walks them; CPU tensors are refused as there."""
    def gather_map(outputs):
        out = outputs[0]
        if isinstance(out, Tensor):
            raise AssertionError('Gather function not implemented for CPU tensors')
        if out is None:
            return None
        if isinstance(out, dict):
            if not all(len(out) == len(d) for d in outputs):
                raise ValueError('All dicts must have the same number of keys')
            return type(out)((k, gather_map([d[k] for d in outputs])) for k in out)
        if _is_namedtuple(out):
            return type(out)._make(map(gather_map, zip(*outputs, strict=True)))
        return type(out)(map(gather_map, zip(*outputs, strict=True)))
    return gather_map(outputs)
