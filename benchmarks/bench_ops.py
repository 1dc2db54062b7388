"""Figure 1: per-op overhead on tiny tensors: add, mul, exp, sum on inputs that require grad,
forward only and forward + backward, in microseconds per op; then forward + backward of longer chains
(16 and 256 ops: add, mul, tanh repeated, then sum), where the engine's per-node cost dominates."""
import torch

import _harness

OPS_PER_CHAIN = 4


def chain(a, b):
    """The four-op chain: add, mul, exp, sum."""
    return (a + b).mul(b).exp().sum()


def long_chain(a, b, ops):
    """``ops`` ops: (add, mul, tanh) repeated, then sum."""
    x = a
    for _ in range((ops - 1) // 3):
        x = (x + b).mul(b).tanh()
    return x.sum()


def _label(shape):
    return "(" + ",".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def measure(shape):
    """Report the per-op forward and forward + backward times on tensors of ``shape``."""
    a = torch.randn(shape, requires_grad=True)
    b = torch.randn(shape)

    def forward_backward():
        a.grad = None
        chain(a, b).backward()

    for name, fn in (("forward", lambda: chain(a, b)), ("forward+backward", forward_backward)):
        seconds = _harness.seconds_per_call(fn)
        _harness.report(f"per-op {name} {_label(shape)}", seconds / OPS_PER_CHAIN * 1e6, "us/op")


def measure_chain(ops, shape=(4, 4)):
    """Report the per-op forward + backward time of an ``ops``-op chain."""
    a = torch.randn(shape, requires_grad=True)
    b = torch.randn(shape)

    def forward_backward():
        a.grad = None
        long_chain(a, b, ops).backward()

    seconds = _harness.seconds_per_call(forward_backward)
    _harness.report(f"per-op forward+backward {ops}-op chain {_label(shape)}", seconds / ops * 1e6, "us/op")


if __name__ == "__main__":
    _harness.start(torch)
    measure((4,))
    measure((4, 4))
    measure_chain(16)
    measure_chain(256)
