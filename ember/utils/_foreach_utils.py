"""``torch.utils._foreach_utils``: the helpers optimizers written in PyTorch's style import to run their foreach
paths (timm's ADOPT groups its state lists with ``Optimizer._group_tensors_by_device_and_dtype``)."""
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor


def _get_foreach_kernels_supported_devices():
    """The device types with foreach kernels besides the CPU (ember runs its foreach ops on the CPU)."""
    return ['cuda', 'xpu', 'mtia', 'privateuseone']


def _get_fused_kernels_supported_devices():
    return ['mps', 'cuda', 'xpu', 'hpu', 'cpu', 'mtia', 'privateuseone']


def _device_has_foreach_support(device):
    return device.type in _get_foreach_kernels_supported_devices() + ['cpu']


def _has_foreach_support(tensors, device):
    return _device_has_foreach_support(device) and all(t is None or type(t) is Tensor for t in tensors)


@no_grad()
def _group_tensors_by_device_and_dtype(tensorlistlist, with_indices=False):
    """{(device, dtype): (the lists restricted to the tensors of the first list with that device and dtype, their
    indices in it, or [] unless ``with_indices``)}; groups in the order their first tensor appears (PyTorch's come
    from a hash map, in no documented order)."""
    groups = {}
    for i, t in enumerate(tensorlistlist[0]):
        key = (t.device, t.dtype)
        if key not in groups:
            groups[key] = ([[] for _ in tensorlistlist], [])
        lists, indices = groups[key]
        for out, src in zip(lists, tensorlistlist):
            out.append(src[i])
        if with_indices:
            indices.append(i)
    return groups
