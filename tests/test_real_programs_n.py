"""Real public model code run on ember against PyTorch (session 32), each reduced to the lines that found a
defect: lucidrains/performer-pytorch's reversible layers (performer_pytorch/reversible.py, RevTorch's pattern:
``torch.cuda._initialized`` and ``torch.utils.checkpoint.get_device_states`` around a custom Function whose
backward reruns each block with the forward's random state). Each runs with the same seed on both libraries and
is compared value for value."""
import pytest
import torch

import ember
from helpers import assert_same


# -- performer-pytorch: reversible blocks ----------------------------------------------------------------------
def _reversible(T):
    """performer_pytorch/reversible.py's Deterministic, ReversibleBlock and _ReversibleFunction, reduced."""
    nn = T.nn
    from_checkpoint = T.utils.checkpoint

    class Deterministic(nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net, self.cpu_state, self.cuda_in_fwd = net, None, None

        def record_rng(self, *args):
            self.cpu_state = T.get_rng_state()
            if T.cuda._initialized:
                self.cuda_in_fwd = True
                self.gpu_devices, self.gpu_states = from_checkpoint.get_device_states(*args)

        def forward(self, *args, record_rng=False, set_rng=False):
            if record_rng:
                self.record_rng(*args)
            if not set_rng:
                return self.net(*args)
            with T.random.fork_rng(devices=[], enabled=True):
                T.set_rng_state(self.cpu_state)
                if self.cuda_in_fwd:
                    from_checkpoint.set_device_states(self.gpu_devices, self.gpu_states)
                return self.net(*args)

    class ReversibleBlock(nn.Module):
        def __init__(self, f, g):
            super().__init__()
            self.f, self.g = Deterministic(f), Deterministic(g)

        def forward(self, x):
            x1, x2 = T.chunk(x, 2, dim=2)
            with T.no_grad():
                y1 = x1 + self.f(x2, record_rng=self.training)
                y2 = x2 + self.g(y1, record_rng=self.training)
            return T.cat([y1, y2], dim=2)

        def backward_pass(self, y, dy):
            y1, y2 = T.chunk(y, 2, dim=2)
            dy1, dy2 = T.chunk(dy, 2, dim=2)
            with T.enable_grad():
                y1.requires_grad = True
                gy1 = self.g(y1, set_rng=True)
                T.autograd.backward(gy1, dy2)
            with T.no_grad():
                x2 = y2 - gy1
                dx1 = dy1 + y1.grad
                y1.grad = None
            with T.enable_grad():
                x2.requires_grad = True
                fx2 = self.f(x2, set_rng=True)
                T.autograd.backward(fx2, dx1, retain_graph=True)
            with T.no_grad():
                x1 = y1 - fx2
                dx2 = dy2 + x2.grad
                x2.grad = None
                return T.cat([x1, x2.detach()], dim=2), T.cat([dx1, dx2], dim=2)

    class ReversibleFunction(T.autograd.Function):
        @staticmethod
        def forward(ctx, x, blocks):
            for block in blocks:
                x = block(x)
            ctx.y, ctx.blocks = x.detach(), blocks
            return x

        @staticmethod
        def backward(ctx, dy):
            y = ctx.y
            for block in ctx.blocks[::-1]:
                y, dy = block.backward_pass(y, dy)
            return dy, None

    class ReversibleSequence(nn.Module):
        def __init__(self, blocks):
            super().__init__()
            self.blocks = nn.ModuleList([ReversibleBlock(f, g) for f, g in blocks])

        def forward(self, x):
            out = ReversibleFunction.apply(T.cat([x, x], dim=-1), self.blocks)
            return T.stack(out.chunk(2, dim=-1)).sum(dim=0)
    return ReversibleSequence


@pytest.mark.parametrize('p', [0.0, 0.3])
def test_performer_reversible_sequence(p):
    """Two reversible blocks (dropout inside, so the rerun must replay the forward's random state): the
    output, the input's gradient and every weight's gradient match PyTorch's."""
    def run(T):
        T.manual_seed(0)
        nn = T.nn
        blocks = [(nn.Sequential(nn.LayerNorm(4), nn.Linear(4, 4), nn.Dropout(p)),
                   nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Dropout(p), nn.Linear(8, 4))) for _ in range(2)]
        net = _reversible(T)(blocks)
        x = T.randn(2, 3, 4, requires_grad=True)
        out = net(x)
        (out * T.arange(24.).reshape(2, 3, 4)).sum().backward()
        return [out, x.grad] + [q.grad for q in net.parameters()]
    want, got = run(torch), run(ember)
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert_same(g, w, 1e-5, 1e-4, f'result {i}')
