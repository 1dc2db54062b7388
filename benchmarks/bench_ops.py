"""Figure 1: per-op overhead on tiny tensors: add, mul, exp, sum on inputs that require grad,
forward only and forward + backward, in microseconds per op."""
import torch

import _harness

OPS_PER_CHAIN = 4


def chain(a, b):
    """The four-op chain: add, mul, exp, sum."""
    return (a + b).mul(b).exp().sum()


def measure(shape):
    """Report the per-op forward and forward + backward times on tensors of ``shape``."""
    a = torch.randn(shape, requires_grad=True)
    b = torch.randn(shape)

    def forward_backward():
        a.grad = None
        chain(a, b).backward()

    label = "(" + ",".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
    for name, fn in (("forward", lambda: chain(a, b)), ("forward+backward", forward_backward)):
        seconds = _harness.seconds_per_call(fn)
        _harness.report(f"per-op {name} {label}", seconds / OPS_PER_CHAIN * 1e6, "us/op")


if __name__ == "__main__":
    _harness.start(torch)
    measure((4,))
    measure((4, 4))
