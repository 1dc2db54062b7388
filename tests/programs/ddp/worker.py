"""DDP checks run in every process of a group (PyTorch code: ``ember run --nproc-per-node N worker.py OUT``).
Each rank trains DDP replicas on its shard of each batch and, in the same process, a plain reference model
on the whole batch, and writes what it measured to OUT/rank<r>.json for the test to judge."""
import json
import os
import sys

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group(backend='gloo')
rank, world = dist.get_rank(), dist.get_world_size()
out_dir = sys.argv[1]
checks = sys.argv[2].split(',') if len(sys.argv) > 2 else ['mlp', 'lenet', 'no_sync', 'unused', 'misc']
results = {'rank': rank, 'world': world}


def mlp():
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))


def lenet():
    return nn.Sequential(nn.Conv2d(1, 4, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 8, 3), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 2 * 2, 16), nn.ReLU(), nn.Linear(16, 10))


def replicas(make):
    """This rank's model (initialised differently on each rank: DDP must broadcast rank 0's) and the
    reference, initialised as rank 0's."""
    torch.manual_seed(100 + rank)
    local = make()
    torch.manual_seed(100)
    return local, make()


def max_diff(a, b):
    return max(float((p - q).abs().max()) for p, q in zip(a.parameters(), b.parameters()))


def train(make, shape, classes, steps=3, comm_hook=None, **ddp_kwargs):
    """Largest parameter difference from the reference after ``steps`` SGD steps (batch of 12 split over ranks),
    the buckets reduced by ``comm_hook`` if given."""
    local, ref = replicas(make)
    model = DDP(local, **ddp_kwargs)
    if comm_hook is not None:
        model.register_comm_hook(None, comm_hook)
    results.setdefault('init_diff', []).append(max_diff(local, ref))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.05, momentum=0.9)
    g = torch.Generator().manual_seed(7)
    for _ in range(steps):
        x, y = torch.randn((12,) + shape, generator=g), torch.randint(classes, (12,), generator=g)
        opt.zero_grad()
        F.cross_entropy(model(x[rank::world]), y[rank::world]).backward()
        opt.step()
        ref_opt.zero_grad()
        F.cross_entropy(ref(x), y).backward()
        ref_opt.step()
    return max_diff(local, ref)


def check_no_sync():
    """Two micro-batches, the first under no_sync: local gradients, then the average of the sum."""
    local, ref = replicas(mlp)
    model = DDP(local)
    x, y = torch.randn(2, 12, 6, generator=torch.Generator().manual_seed(3)), torch.tensor([0, 1, 2] * 4)
    with model.no_sync():
        F.cross_entropy(model(x[0][rank::world]), y[rank::world]).backward()
    solo = nn.Sequential(*[m for m in ref])          # the reference's own weights, on this rank's shard only
    F.cross_entropy(solo(x[0][rank::world]), y[rank::world]).backward()
    results['no_sync_local'] = max(float((p.grad - q.grad).abs().max())
                                   for p, q in zip(local.parameters(), ref.parameters()))
    ref.zero_grad()
    model.require_backward_grad_sync = True
    F.cross_entropy(model(x[1][rank::world]), y[rank::world]).backward()
    (F.cross_entropy(ref(x[0]), y) + F.cross_entropy(ref(x[1]), y)).backward()
    results['no_sync_sum'] = max(float((p.grad - q.grad).abs().max())
                                 for p, q in zip(local.parameters(), ref.parameters()))
    model.require_backward_grad_sync = False           # nanoGPT's way of skipping a sync: local accumulation
    before = [p.grad.clone() for p in local.parameters()]
    ref.zero_grad()
    F.cross_entropy(model(x[0][rank::world]), y[rank::world]).backward()
    F.cross_entropy(ref(x[0][rank::world]), y[rank::world]).backward()
    results['flag_skips_sync'] = max(float((p.grad - b - q.grad).abs().max())
                                     for p, b, q in zip(local.parameters(), before, ref.parameters()))


class Branches(nn.Module):
    """``b`` is used only on rank 0; ``c`` is never used."""

    def __init__(self):
        super().__init__()
        self.a, self.b, self.c = nn.Linear(4, 4), nn.Linear(4, 4), nn.Linear(4, 4)

    def forward(self, x):
        h = self.a(x)
        return self.b(h) if dist.get_rank() == 0 else h


def check_unused():
    torch.manual_seed(0)
    net = Branches()
    model = DDP(net, find_unused_parameters=True)
    x = torch.ones(2, 4) * (rank + 1)
    model(x).sum().backward()
    results['unused_never_grad_none'] = net.c.weight.grad is None and net.c.bias.grad is None
    torch.manual_seed(0)
    solo = Branches().b                                  # rank 0's gradient of b, divided by the world size
    solo(net.a(torch.ones(2, 4))).sum().backward()
    results['unused_partly_grad'] = float((net.b.weight.grad - solo.weight.grad / world).abs().max())
    model(x).sum().backward()                           # a second iteration works
    torch.manual_seed(0)
    plain = DDP(Branches())
    plain(torch.ones(2, 4)).sum().backward()
    try:
        plain(torch.ones(2, 4)).sum().backward()
        results['unused_error'] = None
    except RuntimeError as e:
        results['unused_error'] = str(e)


def check_misc():
    torch.manual_seed(rank)
    bn = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    bn[1].running_mean.fill_(float(rank))
    model = DDP(bn)
    results['buffers_from_rank0'] = float(bn[1].running_mean.abs().max())
    results['state_dict_keys'] = list(model.state_dict())
    results['module_keys'] = list(bn.state_dict())
    results['module_is_wrapped'] = model.module is bn
    results['sampler'] = list(torch.utils.data.DistributedSampler(range(11)))


for name in checks:
    if name == 'mlp':
        results['mlp'] = train(mlp, (6,), 3)
        results['mlp_small_buckets'] = train(mlp, (6,), 3, bucket_cap_mb=0.0005)
        results['mlp_bucket_view'] = train(mlp, (6,), 3, gradient_as_bucket_view=True)
        from torch.distributed.algorithms.ddp_comm_hooks import default_hooks
        results['mlp_comm_hook'] = train(mlp, (6,), 3, comm_hook=default_hooks.allreduce_hook, bucket_cap_mb=0.0005)
    elif name == 'lenet':
        results['lenet'] = train(lenet, (1, 16, 16), 10)
    elif name == 'no_sync':
        check_no_sync()
    elif name == 'unused':
        check_unused()
    elif name == 'misc':
        check_misc()
    elif name == 'raise':
        model = DDP(mlp())
        if rank == 1:
            raise RuntimeError('rank 1 fails on purpose')
        model(torch.randn(4, 6)).sum().backward()        # waits for rank 1's gradients, which never come

with open(os.path.join(out_dir, f'rank{rank}.json'), 'w') as f:
    json.dump(results, f)
dist.destroy_process_group()
