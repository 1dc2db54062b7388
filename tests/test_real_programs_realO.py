"""The official PyTorch tutorials and recipes (pytorch/tutorials: beginner_source, intermediate_source,
recipes_source) under the alias against PyTorch (session 47, lane realO), on tiny stand-in data; each defect found
is reduced here to the lines that found it (the tutorials themselves are not needed)."""
import re

import pytest
import torch

import ember


def _summary(t):
    """What a meta tensor shows: its repr (addresses masked), shape, dtype and device."""
    return re.sub(r'0x[0-9a-f]+', '0x?', repr(t)), tuple(t.shape), str(t.dtype), str(t.device)


# -- recipes/reasoning_about_shapes: a conv on a (1024, 3, 65536, 65536) meta input. ember ran its im2col on the
# meta array's zeros (192 TiB of columns: MemoryError); elementwise ops, products and reductions of such a tensor
# allocated their whole result (or walked all 10**13 elements). Each now costs no memory, as PyTorch's meta kernels.
_HUGE = (2 ** 10, 3, 2 ** 16, 2 ** 16)
_HUGE_OPS = {
    'conv2d': lambda L, t: L.nn.Conv2d(3, 5, 2, device='meta')(t),
    'conv2d_stride_pad': lambda L, t: L.nn.Conv2d(3, 4, 3, stride=2, padding=1, bias=False, device='meta')(t),
    'conv1d': lambda L, t: L.nn.Conv1d(3, 2, 5, device='meta')(t.flatten(2)),
    'conv3d': lambda L, t: L.nn.Conv3d(3, 2, 2, device='meta')(t.unsqueeze(2).expand(-1, -1, 3, -1, -1)),
    'mul': lambda L, t: t * 2,
    'relu': lambda L, t: L.relu(t),
    'sigmoid': lambda L, t: L.sigmoid(t),
    'sum': lambda L, t: t.sum(),
    'mean_dims': lambda L, t: t.mean((2, 3)),
    'amax_keepdim': lambda L, t: t.amax(1, keepdim=True),
    'linear': lambda L, t: L.nn.Linear(2 ** 16, 4, device='meta')(t),
    'matmul': lambda L, t: t.flatten(1) @ L.randn(3 * 2 ** 32, 10, device='meta'),
    'half': lambda L, t: t.half(),
}


@pytest.mark.parametrize('name', sorted(_HUGE_OPS))
def test_reasoning_about_shapes_huge_meta_ops(name):
    got, want = (_summary(_HUGE_OPS[name](L, L.rand(*_HUGE, device='meta'))) for L in (ember, torch))
    assert got == want


def test_reasoning_about_shapes_huge_meta_conv_backward():
    """The recipe's conv, backward: meta gradients of the weight's and bias's shapes."""
    def grads(L):
        conv = L.nn.Conv2d(3, 5, 2, device='meta')
        t = L.rand(*_HUGE, device='meta', requires_grad=True)
        conv(t).sum().backward()
        return [_summary(g) for g in (t.grad, conv.weight.grad, conv.bias.grad)]
    assert grads(ember) == grads(torch)


# -- intermediate/optimizer_step_in_backward_tutorial: ``p.register_post_accumulate_grad_hook(optimizer_hook)``
# returned a handle whose class printed as ember's private ``_Handle``; PyTorch's tensor and node hooks return a
# torch.utils.hooks.RemovableHandle, as module hooks do.
_HOOKS = {
    'post_accumulate_grad': lambda L, x: x.register_post_accumulate_grad_hook(lambda p: None),
    'tensor': lambda L, x: x.register_hook(lambda g: g),
    'node': lambda L, x: (x * 2).grad_fn.register_hook(lambda *a: None),
    'node_prehook': lambda L, x: (x * 2).grad_fn.register_prehook(lambda *a: None),
    'module_forward': lambda L, x: L.nn.Linear(2, 2).register_forward_hook(lambda *a: None),
}


@pytest.mark.parametrize('name', sorted(_HOOKS))
def test_hook_handles_are_removable_handles(name):
    def handle(L):
        h = _HOOKS[name](L, L.ones(2, requires_grad=True))
        return repr(type(h)), type(h).__name__, type(h).__qualname__, isinstance(h, L.utils.hooks.RemovableHandle)
    assert handle(ember) == handle(torch)
