"""Helpers several architectures share."""

__all__ = ['_make_divisible']


def _make_divisible(v, divisor, min_value=None):
    """``v`` rounded to a multiple of ``divisor``, never more than 10% below ``v``."""
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v
