"""``torch.nn.parallel.parallel_apply`` as a PyTorch built without GPUs runs it: the arguments are checked as
PyTorch checks them, then the missing accelerator is reported as there."""
from ...tensor import Tensor
from ._devices import device_index

__all__ = ['get_a_var', 'parallel_apply']


def get_a_var(obj):
    """The first tensor found in ``obj`` (a tensor, or lists, tuples and dicts of them), else None."""
    if isinstance(obj, Tensor):
        return obj
    if isinstance(obj, (list, tuple)):
        for result in map(get_a_var, obj):
            if isinstance(result, Tensor):
                return result
    if isinstance(obj, dict):
        for result in map(get_a_var, obj.items()):
            if isinstance(result, Tensor):
                return result
    return None


def parallel_apply(modules, inputs, kwargs_tup=None, devices=None):
    """Would run ``modules[i](inputs[i])`` on device i: with no GPU, PyTorch refuses after its argument checks."""
    if len(modules) != len(inputs):
        raise AssertionError(f'The number of modules {len(modules)} is not equal to the number of inputs {len(inputs)}')
    if kwargs_tup is not None and len(modules) != len(kwargs_tup):
        raise AssertionError(f'The number of modules {len(modules)} is not equal to the number of kwargs_tup '
                             f'{len(kwargs_tup)}')
    if devices is not None and len(modules) != len(devices):
        raise AssertionError(f'The number of modules {len(modules)} is not equal to the number of devices '
                             f'{len(devices)}')
    indices = [device_index(d, cpu_error='Expected a cuda device, but got: {}')
               for d in (devices if devices is not None else [None] * len(modules))]
    if indices:     # PyTorch asks each device for its current stream
        raise RuntimeError('Cannot access accelerator device when none is available.')
    raise AssertionError('No available accelerator found.')
