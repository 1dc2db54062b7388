"""``torch.utils.flop_counter``: ``FlopCounterMode`` is made and read as PyTorch's (Lightning's model summary
makes one for every fit), but counting needs PyTorch's dispatcher: entering it raises NotImplementedError."""
import collections

from ..aliasing import unsupported

__all__ = ['FlopCounterMode']


class FlopCounterMode:
    """The FLOPs counted per module and op while entered; ember cannot count, so it counts none and refuses
    ``with``."""

    def __init__(self, mods=None, depth=2, display=True, custom_mapping=None):
        self.depth, self.display = depth, display
        self.custom_mapping = dict(custom_mapping or {})
        self.flop_counts = collections.defaultdict(lambda: collections.defaultdict(int))
        self.flop_counts['Global']

    def get_total_flops(self):
        """The FLOPs counted outside any module: 0, as nothing ran under the mode."""
        return sum(self.flop_counts['Global'].values())

    def get_flop_counts(self):
        """{module path: {op: FLOPs}} with 'Global' for the whole run."""
        return {k: dict(v) for k, v in self.flop_counts.items()}

    def __enter__(self):
        raise NotImplementedError(unsupported('torch.utils.flop_counter.FlopCounterMode',
                                              'counting FLOPs needs PyTorch\'s dispatcher'))

    def __exit__(self, *exc):
        return False
