"""DistributedDataParallel's arguments, attributes, warnings and errors in a group of one process, printed
as JSON: the test runs this under PyTorch (``python``) and under ember (``ember run``) and compares."""
import json
import os
import warnings

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP

out = {}


def attempt(name, fn):
    """Record what ``fn`` returns, the warnings it gives, or the error it raises."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        try:
            out[name] = ['ok', fn()]
        except Exception as e:
            out[name] = [type(e).__name__, str(e)]
    out[name].append([f'{w.category.__name__}: {w.message}' for w in caught])


def attributes(**kwargs):
    torch.manual_seed(0)
    d = DDP(nn.Linear(2, 2), **kwargs)
    return [d.device_ids, d.output_device, d.dim, d.broadcast_buffers, d.require_backward_grad_sync,
            d.require_forward_param_sync, d.find_unused_parameters, d.gradient_as_bucket_view, d.static_graph,
            d.bucket_bytes_cap]


class Two(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(2, 2), nn.Linear(2, 2)

    def forward(self, x):
        return self.a(x)


def unused(**kwargs):
    """Two backward passes of a model whose ``b`` is never used; its grads afterwards."""
    torch.manual_seed(0)
    d = DDP(Two(), **kwargs)
    for _ in range(2):
        d(torch.ones(3, 2)).sum().backward()
    return [d.module.b.weight.grad is None, d.module.a.weight.grad.tolist()]


def training_step():
    """One SGD step: with one process DDP's gradients are the module's own."""
    torch.manual_seed(0)
    d = DDP(nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh(), nn.Linear(4, 2)))
    opt = torch.optim.SGD(d.parameters(), lr=0.5)
    d(torch.randn(5, 3)).pow(2).mean().backward()
    opt.step()
    return [repr(d), list(d.state_dict()), [p.tolist() for p in d.parameters()]]


attempt('before_init', lambda: DDP(nn.Linear(2, 2)) and None)
os.environ.setdefault('MASTER_ADDR', '127.0.0.1')
os.environ.setdefault('MASTER_PORT', os.environ.get('DDP_TEST_PORT', '29517'))
os.environ.setdefault('RANK', '0')
os.environ.setdefault('WORLD_SIZE', '1')
dist.init_process_group('gloo')
attempt('defaults', attributes)
for name, kwargs in {'device_ids0': dict(device_ids=[0]), 'device_ids01': dict(device_ids=[0, 1]),
                     'device_ids_empty': dict(device_ids=[]), 'output_device0': dict(output_device=0),
                     'output_device1': dict(output_device=1), 'no_broadcast': dict(broadcast_buffers=False),
                     'both_buffer_flags': dict(broadcast_buffers=True, forward_sync_buffers=False),
                     'forward_sync': dict(forward_sync_buffers=False), 'check_reduction': dict(check_reduction=True),
                     'static_graph': dict(static_graph=True), 'bucket_cap': dict(bucket_cap_mb=0.001),
                     'bucket_list': dict(bucket_cap_mb_list=[1, 2]), 'find_unused': dict(find_unused_parameters=True),
                     'bucket_view': dict(gradient_as_bucket_view=True), 'no_init_sync': dict(init_sync=False),
                     'dim': dict(dim=1), 'batched_copy': dict(batched_grad_copy=True),
                     'delay_half': dict(delay_all_reduce_named_params=[])}.items():
    attempt(name, lambda: attributes(**kwargs))
attempt('no_parameters', lambda: DDP(nn.ReLU()) and None)
attempt('frozen', lambda: DDP(nn.Linear(2, 2).requires_grad_(False)) and None)
attempt('unused_refused', unused)
attempt('unused_found', lambda: unused(find_unused_parameters=True))
attempt('unused_static_graph', lambda: unused(static_graph=True))
attempt('training_step', training_step)


def hooked_step(hook, state=None, **kwargs):
    """Two backward passes of a model whose buckets a comm hook reduces (small buckets: several of them); the
    gradients, and what the hook saw of each bucket."""
    torch.manual_seed(0)
    d = DDP(nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)), bucket_cap_mb=1e-5, **kwargs)
    d.register_comm_hook(state, hook)
    for _ in range(2):
        d.zero_grad()
        d(torch.randn(5, 3)).pow(2).mean().backward()
    return [[p.grad.tolist() for p in d.parameters()], seen]


seen = []


def logging_hook(state, bucket):
    """A hook as PyTorch's docs write one: the bucket averaged by an async all-reduce's future, then scaled."""
    seen.append([bucket.index(), bucket.is_last(), [list(g.shape) for g in bucket.gradients()],
                 [list(p.shape) for p in bucket.parameters()], bucket.buffer().tolist()])
    fut = dist.all_reduce(bucket.buffer(), async_op=True).get_future()
    return fut.then(lambda f: f.value()[0] * state)


from torch.distributed.algorithms.ddp_comm_hooks import default_hooks  # noqa: E402
attempt('comm_hook_logging', lambda: hooked_step(logging_hook, 0.5))
attempt('comm_hook_allreduce', lambda: hooked_step(default_hooks.allreduce_hook))
attempt('comm_hook_fp16', lambda: hooked_step(default_hooks.fp16_compress_hook))
attempt('comm_hook_fp16_wrapper', lambda: hooked_step(default_hooks.fp16_compress_wrapper(default_hooks.allreduce_hook)))
attempt('comm_hook_bf16', lambda: hooked_step(default_hooks.bf16_compress_hook))
attempt('comm_hook_bucket_view', lambda: hooked_step(default_hooks.allreduce_hook, gradient_as_bucket_view=True))
attempt('comm_hook_twice', lambda: DDP(nn.Linear(2, 2)).register_comm_hook(None, default_hooks.allreduce_hook)
        or DDP(nn.Linear(2, 2)).register_comm_hook(None, default_hooks.allreduce_hook))
attempt('comm_hook_twice_same', lambda: (lambda d: [d.register_comm_hook(None, default_hooks.allreduce_hook),
                                                    d.register_comm_hook(None, default_hooks.allreduce_hook)])(
    DDP(nn.Linear(2, 2))))
attempt('comm_hook_not_callable', lambda: DDP(nn.Linear(2, 2)).register_comm_hook(None, 3))
attempt('work_future', lambda: (lambda f: [f.wait()[0].tolist(), f.done(), f.value()[0].tolist()])(   # PyTorch's
    dist.all_reduce(torch.tensor([1.0, 2.0]), async_op=True).get_future()))   # may still be pending before wait()
if torch.__spec__.name == 'ember':      # refused by name (PyTorch runs them)
    attempt('join', lambda: DDP(nn.Linear(2, 2)).join())
dist.destroy_process_group()
print(json.dumps(out))
