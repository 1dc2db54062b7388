"""``torch.utils.flop_counter``: ``FlopCounterMode`` counts the FLOPs of the ops PyTorch's counter has formulas
for (mm, addmm, bmm, baddbmm, convolution, their backwards) per module, as PyTorch's does on its CPU build
(where scaled_dot_product_attention's CPU kernel counts none). PyTorch counts from a dispatch mode that sees
every aten op; ember has no dispatcher, so those ops report to it themselves (ops/_flop_hook.py): an op
outside them, or a ``custom_mapping`` entry, is not counted."""
import collections
import warnings

from ..ops import _flop_hook
from .module_tracker import ModuleTracker

__all__ = ['FlopCounterMode']

_SUFFIXES = ['', 'K', 'M', 'B', 'T']


def get_suffix_str(number):
    """The unit a table of FLOPs up to ``number`` is shown in: one more digit than a thousand of it."""
    return _SUFFIXES[max(0, min(len(_SUFFIXES) - 1, (len(str(number)) - 2) // 3))]


def convert_num_with_suffix(number, suffix):
    index = _SUFFIXES.index(suffix)
    return f'{number / 1000 ** index:.3f}' + _SUFFIXES[index]


def convert_to_percent_str(num, denom):
    return '0%' if denom == 0 else f'{num / denom:.2%}'


def _table(rows, header, align):
    """The table as PyTorch prints it through ``tabulate`` (0.10, its "simple" layout): cells stripped of the
    indentation PyTorch gives them (tabulate 0.10 ignores the PRESERVE_WHITESPACE PyTorch sets), a column of
    numbers written in ``g`` format ("480.000" as 480), columns two spaces apart, each as wide as its widest cell or
    its header plus two, under a rule of dashes."""
    rows = [[c.strip() for c in r] for r in rows]
    for i in range(len(header)):
        if all(_is_number(r[i]) for r in rows) and not all(_is_int(r[i]) for r in rows):
            for r in rows:
                r[i] = format(float(r[i]), 'g')
    widths = [max([len(h) + 2] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]

    def line(cells):
        return '  '.join(c.ljust(w) if a == 'left' else c.rjust(w) for c, w, a in zip(cells, widths, align))
    return '\n'.join([line(header), '  '.join('-' * w for w in widths)] + [line(r) for r in rows])


def _is_number(s):
    try:
        float(s)
        return True
    except ValueError:
        return False


def _is_int(s):
    try:
        int(s)
        return True
    except ValueError:
        return False


class FlopCounterMode:
    """The FLOPs counted per module and op while entered: ``get_total_flops()``, ``get_flop_counts()``
    ({module path: {op: FLOPs}}, 'Global' for the whole run) and, with ``display``, a table printed on exit."""

    def __init__(self, mods=None, depth=2, display=True, custom_mapping=None):
        self.flop_counts = collections.defaultdict(lambda: collections.defaultdict(int))
        self.depth, self.display = depth, display
        self.mode = None
        if mods is not None:
            warnings.warn('mods argument is not needed anymore, you can stop passing it', stacklevel=2)
        self.custom_mapping = dict(custom_mapping or {})
        self.mod_tracker = ModuleTracker()

    def get_total_flops(self):
        return sum(self.flop_counts['Global'].values())

    def get_flop_counts(self):
        """{module path: {op: FLOPs}} with 'Global' for the whole run."""
        return {k: dict(v) for k, v in self.flop_counts.items()}

    def get_table(self, depth=None):
        """The counts per module (down to ``depth`` levels) and op, as PyTorch prints them."""
        depth = self.depth if depth is None else depth
        depth = 999999 if depth is None else depth
        total = self.get_total_flops()
        suffix = get_suffix_str(total)
        subsumed = False

        def rows_of(name, indent):
            nonlocal subsumed
            flops = sum(self.flop_counts[name].values())
            subsumed |= flops >= total
            pad = ' ' * indent
            rows = [[pad + name, convert_num_with_suffix(flops, suffix), convert_to_percent_str(flops, total)]]
            for op, n in self.flop_counts[name].items():
                rows.append([pad + ' - ' + str(op), convert_num_with_suffix(n, suffix),
                             convert_to_percent_str(n, total)])
            return rows

        rows = []
        for name in sorted(self.flop_counts):
            if name != 'Global' and name.count('.') + 1 <= depth:
                rows += rows_of(name, name.count('.'))
        if 'Global' in self.flop_counts and not subsumed:
            for row in rows:
                row[0] = ' ' + row[0]
            rows = rows_of('Global', 0) + rows
        if not rows:
            rows = [['Global', '0', '0%']]
        return _table(rows, ['Module', 'FLOP', '% Total'], ('left', 'right', 'right'))

    def __enter__(self):
        self.flop_counts.clear()
        self.mod_tracker.__enter__()
        self.mode = self
        _flop_hook.COUNTERS.append(self)
        return self

    def __exit__(self, *args):
        if self.mode is None:
            raise AssertionError('Internal error: FlopCounter.__exit__ called but mode is None')
        if self in _flop_hook.COUNTERS:
            _flop_hook.COUNTERS.remove(self)
        self.mode = None
        self.mod_tracker.__exit__()
        if self.display:
            print(self.get_table(self.depth))
        return False

    def _count(self, op, flops):
        """Add ``flops`` of aten op ``op`` (a name: 'mm') to every module now running."""
        from .. import ops
        packet = getattr(ops.aten, op)
        for parent in set(self.mod_tracker.parents):
            self.flop_counts[parent][packet] += flops
