"""DropBlock (Ghiasi et al.): zero random square (cubic) blocks of a feature map in training and rescale the
rest, ``torchvision.ops.drop_block2d``/``drop_block3d``; the block seeds are one ``bernoulli_`` draw, as
torchvision draws them, so seeded runs drop the same blocks."""
import ember
from ember import nn
from ember.nn import functional as F

__all__ = ['drop_block2d', 'drop_block3d', 'DropBlock2d', 'DropBlock3d']


def _drop_block(input, p, block_size, inplace, eps, training, dims):
    """The shared body: seeds drawn with probability gamma over the positions a whole block fits, grown into
    blocks by a stride-1 max pool, then the kept share scaled back up to the input's total."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f'drop probability has to be between 0 and 1, but got {p}.')
    if input.ndim != dims + 2:
        raise ValueError(f'input should be {dims + 2} dimensional. Got {input.ndim} dimensions.')
    if not training or p == 0.0:
        return input
    sizes = list(input.shape[2:])
    block_size = min([block_size] + sizes)
    if block_size % 2 == 0:
        raise ValueError(f'block size should be odd. Got {block_size} which is even.')
    fits, total = 1, 1
    for s in sizes:
        fits *= s - block_size + 1
        total *= s
    gamma = (p * total) / ((block_size ** dims) * fits)
    noise = ember.empty(list(input.shape[:2]) + [s - block_size + 1 for s in sizes], dtype=input.dtype)
    noise.bernoulli_(gamma)
    noise = F.pad(noise, [block_size // 2] * (2 * dims), value=0)
    pool = F.max_pool2d if dims == 2 else F.max_pool3d
    noise = 1 - pool(noise, stride=(1,) * dims, kernel_size=(block_size,) * dims, padding=block_size // 2)
    normalize_scale = noise.numel() / (eps + noise.sum())
    if inplace:
        return input.mul_(noise).mul_(normalize_scale)
    return input * noise * normalize_scale


def drop_block2d(input, p, block_size, inplace=False, eps=1e-06, training=True):
    """DropBlock on an (N, C, H, W) input."""
    return _drop_block(input, p, block_size, inplace, eps, training, 2)


def drop_block3d(input, p, block_size, inplace=False, eps=1e-06, training=True):
    """DropBlock on an (N, C, D, H, W) input."""
    return _drop_block(input, p, block_size, inplace, eps, training, 3)


class DropBlock2d(nn.Module):
    """Module form of :func:`drop_block2d` (active in training mode only)."""

    def __init__(self, p, block_size, inplace=False, eps=1e-06):
        super().__init__()
        self.p = p
        self.block_size = block_size
        self.inplace = inplace
        self.eps = eps

    def forward(self, input):
        return drop_block2d(input, self.p, self.block_size, self.inplace, self.eps, self.training)

    def __repr__(self):
        return f'{self.__class__.__name__}(p={self.p}, block_size={self.block_size}, inplace={self.inplace})'


class DropBlock3d(DropBlock2d):
    """Module form of :func:`drop_block3d`."""

    def forward(self, input):
        return drop_block3d(input, self.p, self.block_size, self.inplace, self.eps, self.training)
