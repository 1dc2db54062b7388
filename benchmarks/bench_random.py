"""Figure: random numbers (ember draws PyTorch's streams bit for bit): 10^6 float32 normals and uniforms,
``randperm(60000)``, and one epoch of a shuffled DataLoader's sampler over 60000 items, in ms."""
import torch
from torch.utils.data import RandomSampler

import _harness


def main():
    """Time each draw on the default generator."""
    torch.manual_seed(0)
    n = 1_000_000
    _harness.report("randn 10^6", _harness.seconds_per_call(lambda: torch.randn(n)) * 1e3, "ms")
    _harness.report("rand 10^6", _harness.seconds_per_call(lambda: torch.rand(n)) * 1e3, "ms")
    _harness.report("randperm 60000", _harness.seconds_per_call(lambda: torch.randperm(60000)) * 1e3, "ms")
    sampler = RandomSampler(range(60000))
    _harness.report("shuffled sampler epoch 60000", _harness.seconds_per_call(lambda: list(sampler)) * 1e3, "ms")


if __name__ == "__main__":
    _harness.start(torch)
    main()
