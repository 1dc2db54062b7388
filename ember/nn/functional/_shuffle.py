"""Pixel and channel shuffles: pure reshapes and permutations (differentiable through the core's view ops)."""
from ...ops import shape as _shape

__all__ = ['pixel_shuffle', 'pixel_unshuffle', 'channel_shuffle', 'native_channel_shuffle']


def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r)."""
    r = upscale_factor
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f'pixel_shuffle expects its input\'s \'channel\' dimension to be divisible by the square '
                           f'of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}')
    n = len(lead)
    x = _shape.reshape(input, (*lead, c // (r * r), r, r, h, w))
    x = _shape.permute(x, *range(n), n, n + 3, n + 1, n + 4, n + 2)
    return _shape.reshape(x, (*lead, c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) -> (*, C r^2, H, W)."""
    r = downscale_factor
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise RuntimeError(f'pixel_unshuffle expects height and width to be divisible by downscale_factor, but '
                           f'input.size(-2)={h} and input.size(-1)={w} are not divisible by {r}')
    n = len(lead)
    x = _shape.reshape(input, (*lead, c, h // r, r, w // r, r))
    x = _shape.permute(x, *range(n), n, n + 2, n + 4, n + 1, n + 3)
    return _shape.reshape(x, (*lead, c * r * r, h // r, w // r))


def channel_shuffle(input, groups):
    """Interleave the channels (dim 1) of ``groups`` groups."""
    n, c = input.shape[0], input.shape[1]
    rest = tuple(input.shape[2:])
    x = _shape.reshape(input, (n, groups, c // groups) + rest)
    x = _shape.transpose(x, 1, 2)
    return _shape.reshape(x, (n, c) + rest)


native_channel_shuffle = channel_shuffle
