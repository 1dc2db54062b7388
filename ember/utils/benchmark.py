"""``torch.utils.benchmark``: ``Timer`` (timeit with a warm-up, a thread count and labels), the ``Measurement``
it returns (times per run, median, IQR, PyTorch's printed summary) and ``Compare``'s table of many measurements.

Statements are Python strings run by ``timeit`` with ``torch`` in their globals, as PyTorch's; ember has no
accelerator to synchronize and no C++ statements or Callgrind counts (those raise)."""
import collections
import contextlib
import dataclasses
import textwrap
import timeit as _timeit

import numpy as np

__all__ = ['Timer', 'Measurement', 'TaskSpec', 'Compare', 'Language', 'select_unit', 'unit_to_english',
           'trim_sigfig', 'ordered_unique', 'set_torch_threads', 'timer']

_MAX_SIGFIGS = 4
_MIN_CONFIDENCE_INTERVAL = 25e-9      # PyTorch's floor on the confidence interval: 25 ns
_IQR_WARN, _IQR_GROSS_WARN = 0.1, 0.25
_UNITS = {'ns': 1e-9, 'us': 1e-6, 'ms': 1e-3, 's': 1.0}
_ENGLISH = {'ns': 'nanosecond', 'us': 'microsecond', 'ms': 'millisecond', 's': 'second'}

timer = _timeit.default_timer


class Language:
    """The statement's language: only PYTHON runs on ember."""
    PYTHON = 0
    CPP = 1


def _f32(x):
    """PyTorch's helpers do their arithmetic on float32 scalar tensors: the same roundings here."""
    return np.float32(x)


def _t(values, dtype=None):
    """An ember tensor: the statistics are computed with the tensor ops PyTorch's helpers use (the same sum
    orders and quantile interpolation, so the same last bits)."""
    import ember
    return ember.tensor(values, dtype=dtype)


def _log10(x):
    with np.errstate(divide='ignore'):
        return np.log10(_f32(x))


def select_unit(t):
    """(unit, scale) that print ``t`` seconds with one to three digits before the point."""
    unit = {-3: 'ns', -2: 'us', -1: 'ms'}.get(int(_log10(t) // 3), 's')
    return unit, _UNITS[unit]


def unit_to_english(u):
    return _ENGLISH[u]


def trim_sigfig(x, n):
    """``x`` rounded to ``n`` significant figures (3.14159, 2 -> 3.1)."""
    if n != int(n):
        raise AssertionError('Number of significant figures must be an integer')
    scale = 10 ** (int(np.ceil(_log10(abs(x)))) - n)
    return float(np.round(_f32(x / scale)) * _f32(scale))


def ordered_unique(elements):
    return list(dict.fromkeys(elements))


@contextlib.contextmanager
def set_torch_threads(n):
    """ember's thread count set to ``n`` for the block, then restored."""
    import ember
    prior = ember.get_num_threads()
    try:
        ember.set_num_threads(n)
        yield
    finally:
        ember.set_num_threads(prior)


def _indented(text):
    return textwrap.indent(text, '  ')


@dataclasses.dataclass(init=True, repr=False, eq=True, frozen=True)
class TaskSpec:
    """What a Timer measures and how it is labelled (everything but its globals)."""
    stmt: str
    setup: str
    global_setup: str = ''
    label: str = None
    sub_label: str = None
    description: str = None
    env: str = None
    num_threads: int = 1

    @property
    def title(self):
        sub = self.sub_label
        if self.label is not None:
            return self.label + (f': {sub}' if sub else '')
        if '\n' not in self.stmt:
            return self.stmt + (f': {sub}' if sub else '')
        return f"stmt:{f' ({sub})' if sub else ''}\n{_indented(self.stmt)}"

    def setup_str(self):
        if self.setup in ('', 'pass'):
            return ''
        return f'setup:\n{_indented(self.setup)}' if '\n' in self.setup else f'setup: {self.setup}'

    def summarize(self):
        parts = [p for p in (self.title, self.description or '', self.setup_str()) if p]
        return '\n'.join(p + '\n' if '\n' in p else p for p in parts)


_SPEC_FIELDS = tuple(f.name for f in dataclasses.fields(TaskSpec))


@dataclasses.dataclass(init=True, repr=False)
class Measurement:
    """One or more timings of a statement: ``raw_times`` are seconds per block of ``number_per_run`` runs."""
    number_per_run: int
    raw_times: list
    task_spec: TaskSpec
    metadata: dict = None

    def __getattr__(self, name):
        if name in _SPEC_FIELDS:
            return getattr(self.task_spec, name)
        raise AttributeError(f"'Measurement' object has no attribute '{name}'")

    @property
    def times(self):
        return [t / self.number_per_run for t in self.raw_times]

    def _stats(self):
        """Sorted times, median, mean, 25th and 75th percentiles (linear interpolation, as torch.quantile)."""
        st = self.__dict__.get('_st')
        if st is None:
            import ember
            ts = tuple(sorted(self.times))
            st = (ts, -1.0, -1.0, -1.0, -1.0)
            if ts:
                t = _t(ts, ember.float64)
                st = (ts, t.quantile(.5).item(), t.mean().item(), t.quantile(.25).item(), t.quantile(.75).item())
            self.__dict__['_st'] = st
        return st

    @property
    def median(self):
        return self._stats()[1]

    @property
    def mean(self):
        return self._stats()[2]

    @property
    def iqr(self):
        s = self._stats()
        return s[4] - s[3]

    def meets_confidence(self, threshold=_IQR_WARN):
        return self.iqr / self.median < threshold

    @property
    def _warnings(self):
        if not self.raw_times:
            return ()
        if not self.meets_confidence(_IQR_GROSS_WARN):
            why = 'This suggests significant environmental influence.'
        elif not self.meets_confidence(_IQR_WARN):
            why = 'This could indicate system fluctuation.'
        else:
            return ()
        return (f'  WARNING: Interquartile range is {self.iqr / self.median * 100:.1f}% of the median '
                f'measurement.\n           {why}',)

    @property
    def has_warnings(self):
        return bool(self._warnings)

    @property
    def significant_figures(self):
        """Digits the interquartile spread supports (1 to 4), from a 90% confidence interval of the median."""
        ts = self._stats()[0]
        n = len(ts)
        middle = ts[n // 4:int(np.ceil(_f32(3 * n / 4)))]
        std = _t(middle).std(unbiased=False).item()
        ci = max(1.645 * std / float(np.sqrt(_f32(len(middle)))), _MIN_CONFIDENCE_INTERVAL)
        return min(max(int(np.floor(_log10(self.median / ci))), 1), _MAX_SIGFIGS)

    @property
    def title(self):
        return self.task_spec.title

    @property
    def as_row_name(self):
        return self.sub_label or self.stmt or '[Unknown]'

    def __repr__(self):
        _, median, _, p25, p75 = self._stats()
        n = len(self.raw_times)
        unit, scale = select_unit(median)
        threads = self.task_spec.num_threads
        lines = [f'<torch.utils.benchmark.utils.common.Measurement object at {hex(id(self))}>',
                 self.task_spec.summarize(),
                 f"  {'Median: ' if n > 1 else ''}{median / scale:.2f} {unit}"]
        if n >= 4:
            lines.append(f'  IQR:    {self.iqr / scale:.2f} {unit} ({p25 / scale:.2f} to {p75 / scale:.2f})')
        lines.append(f"  {n} measurement{'s' if n > 1 else ''}, {self.number_per_run} runs "
                     f"{'per measurement,' if n > 1 else ','} {threads} thread{'s' if threads > 1 else ''}")
        lines.extend(self._warnings)
        return '\n'.join(lines).strip()

    @staticmethod
    def merge(measurements):
        """Replicates of one task merged into one Measurement of single runs (metadata dropped)."""
        groups = collections.defaultdict(list)
        for m in measurements:
            groups[m.task_spec].extend(m.times)
        return [Measurement(1, times, spec) for spec, times in groups.items()]


class Timer:
    """Times a Python statement as ``timeit.Timer`` does, in ``num_threads`` threads, with a warm-up first."""

    def __init__(self, stmt='pass', setup='pass', global_setup='', timer=timer, globals=None, label=None,
                 sub_label=None, description=None, env=None, num_threads=1, language=Language.PYTHON):
        if not isinstance(stmt, str):
            raise ValueError('Currently only a `str` stmt is supported.')
        if language not in (Language.PYTHON, 'py', 'python'):
            raise NotImplementedError('ember times Python statements only: it has no C++ timer.')
        if global_setup:
            raise ValueError(f'global_setup is C++ only, got `{global_setup}`. Most likely this code can simply '
                             'be moved to `setup`.')
        import ember
        self._globals = dict(globals or {})
        self._globals.setdefault('torch', ember)
        stmt, setup = _clean(stmt), _clean(setup)
        self._timer = _timeit.Timer(stmt=stmt, setup=setup, timer=timer, globals=self._globals)
        self._task_spec = TaskSpec(stmt=stmt, setup=setup, global_setup=global_setup, label=label,
                                   sub_label=sub_label, description=description, env=env, num_threads=num_threads)

    def _timeit(self, number):
        return max(self._timer.timeit(number), 1e-9)

    def timeit(self, number=1000000):
        """One measurement of ``number`` runs, after a warm-up of ``number // 100`` (at least 2)."""
        with set_torch_threads(self._task_spec.num_threads):
            self._timeit(max(int(number // 100), 2))
            return Measurement(number, [self._timeit(number)], self._task_spec)

    def repeat(self, repeat=-1, number=-1):
        raise NotImplementedError('See `Timer.blocked_autorange.`')

    def autorange(self, callback=None):
        raise NotImplementedError('See `Timer.blocked_autorange.`')

    def _block_size(self, min_run_time):
        """Runs per block: grown tenfold until the timer's own overhead is negligible (this is the warm-up)."""
        with set_torch_threads(self._task_spec.num_threads):
            overhead = _t([self._timeit(0) for _ in range(5)]).median().item()
            number = 1
            while True:
                taken = self._timeit(number)
                if (overhead / taken <= 1e-4 and taken >= min_run_time / 1000) or taken > min_run_time:
                    return number
                if number * 10 > 2147483647:
                    return number
                number *= 10

    def _loop(self, number, stop, min_run_time, max_run_time=None, callback=None):
        total, times = 0.0, []
        with set_torch_threads(self._task_spec.num_threads):
            while True:
                t = self._timeit(number)
                times.append(t)
                total += t
                if callback:
                    callback(number, t)
                done = stop(times)
                if max_run_time and total > max_run_time:
                    break
                if total >= min_run_time and done:
                    break
        return Measurement(number, times, self._task_spec)

    def blocked_autorange(self, callback=None, min_run_time=0.2):
        """Blocks of runs until ``min_run_time`` seconds have been measured."""
        number = self._block_size(min_run_time)
        return self._loop(number, lambda times: True, min_run_time, callback=callback)

    def adaptive_autorange(self, threshold=0.1, *, min_run_time=0.01, max_run_time=10.0, callback=None):
        """Blocks of runs until the IQR is under ``threshold`` of the median (after 4 blocks and
        ``min_run_time``), or ``max_run_time`` has passed."""
        number = self._block_size(0.05)

        def stop(times):
            return len(times) > 3 and Measurement(number, times, self._task_spec).meets_confidence(threshold)
        return self._loop(number, stop, min_run_time, max_run_time, callback)

    def collect_callgrind(self, *args, **kwargs):
        raise NotImplementedError('ember has no Callgrind instruction counts (valgrind is not wrapped).')


def _clean(code):
    code = textwrap.dedent(code)
    return (code[1:] if code.startswith('\n') else code).rstrip()


class Compare:
    """A table of measurements: one per label, rows by thread count, env and sub_label (or stmt), columns by
    description; ``print()`` shows it."""

    def __init__(self, results):
        self._results = []
        self.extend_results(results)
        self._trim = False
        self._colorize = None
        self._highlight = False

    def extend_results(self, results):
        for r in results:
            if not isinstance(r, Measurement):
                raise ValueError(f'Expected an instance of `Measurement`, got {type(r)} instead.')
        self._results.extend(results)

    def trim_significant_figures(self):
        self._trim = True

    def colorize(self, rowwise=False):
        self._colorize = 'rowwise' if rowwise else 'columnwise'

    def highlight_warnings(self):
        self._highlight = True

    def __str__(self):
        groups = collections.defaultdict(list)
        for m in Measurement.merge(self._results):
            groups[m.label].append(m)
        return '\n'.join(_Table(ms, self._colorize, self._trim, self._highlight).render() for ms in groups.values())

    def print(self):
        print(str(self))


_BEST, _GOOD, _BAD, _VERY_BAD, _BOLD, _END = ('\033[92m', '\033[34m', '\033[2m\033[91m', '\033[31m', '\033[1m',
                                              '\033[0m')


def _color(text, value, best):
    if value <= best * 1.01 or value <= best + 100e-9:
        return _BEST + _BOLD + text + _END * 2
    if value <= best * 1.1:
        return _GOOD + _BOLD + text + _END * 2
    if value >= best * 5:
        return _VERY_BAD + _BOLD + text + _END * 2
    if value >= best * 2:
        return _BAD + text + _END * 2
    return text


class _Table:
    """One label's table, laid out as PyTorch's Compare lays it out."""

    def __init__(self, results, colorize, trim, highlight):
        self.results, self.colorize, self.trim = results, colorize, trim
        self.highlight = highlight
        self.label = results[0].label
        self.unit, self.scale = select_unit(min(r.median for r in results))
        keys = ordered_unique([(r.num_threads, r.env, r.as_row_name) for r in results])
        self.row_keys = sorted(keys, key=lambda k: k[:2])     # stable: statements keep their order
        self.col_keys = ordered_unique([r.description for r in results])
        where = {(r.num_threads, r.env, r.as_row_name, r.description): r for r in results}
        self.grid = [[where.get(k + (c,)) for c in self.col_keys] for k in self.row_keys]
        self.groups = []        # row indices per thread count
        for i, k in enumerate(self.row_keys):
            if i == 0 or k[0] != self.row_keys[i - 1][0]:
                self.groups.append([])
            self.groups[-1].append(i)
        self.marks = [highlight and any(row[j] is not None and row[j].has_warnings for row in self.grid)
                      for j in range(len(self.col_keys))]      # columns that show (! XX%) spreads
        self.formats = [self._column_format(j) for j in range(len(self.col_keys))]

    def _column_format(self, j):
        col = [row[j] for row in self.grid]
        lead = [None if m is None else int(np.ceil(_log10(m.median / self.scale))) for m in col]
        units = max(d for d in lead if d is not None)
        decimals = min(max(m.significant_figures - d, 0) for d, m in zip(lead, col) if m is not None) \
            if self.trim else 1
        return f"{{:>{units + decimals + (1 if decimals else 0)}.{decimals}f}}{{:>{7 if self.marks[j] else 0}}}"

    def _cell(self, j, m):
        fmt = self.formats[j]
        if m is None:
            return ' ' * len(fmt.format(1.0, ''))
        value = m.median / self.scale
        if self.trim:
            value = trim_sigfig(value, m.significant_figures)
        spread = f' (! {m.iqr / m.median * 100:.0f}%)' if self.marks[j] and m.has_warnings else ''
        return fmt.format(value, spread)

    def render(self):
        envs = {r.env for r in self.results}
        render_env = len(envs) > 1
        env_len = max(len(e) for e in envs) if render_env else 0
        strings = [[''] + self.col_keys]     # a None description fails in len() here, as in PyTorch
        prior_env = None
        for i, (threads, env, name) in enumerate(self.row_keys):
            if i == 0 or threads != self.row_keys[i - 1][0]:
                prior_env = ''
            shown = f'({env})' if render_env and env != prior_env else ''
            strings.append(['  ' + shown.ljust(env_len + 4) + name]
                           + [self._cell(j, m) for j, m in enumerate(self.grid[i])])
            prior_env = env
        width = max(len(s) for s in strings)
        for s in strings:
            s.extend([''] * (width - len(s)))
        widths = [max(len(s[k]) for s in strings) for k in range(width)]
        lines = ['  |  '.join(c.center(w) for c, w in zip(strings[0], widths))]
        overall = len(lines[0])
        for i, s in enumerate(strings[1:]):
            if i == 0 or self.row_keys[i][0] != self.row_keys[i - 1][0]:
                lines.append(f'{self.row_keys[i][0]} threads: '.ljust(overall, '-'))
            lines.append('  |  '.join(self._finish_row(i, s, widths)))
        warn = ('(! XX%) Measurement has high variance, where XX is the IQR / median * 100.\n'
                if self.highlight and any(r.has_warnings for r in self.results) else '')
        return (f"[{(' ' + (self.label or '') + ' ').center(overall - 2, '-')}]\n" + '\n'.join(lines)
                + f'\n\nTimes are in {_ENGLISH[self.unit]}s ({self.unit}).\n' + warn)

    def _finish_row(self, i, strings, widths):
        row = self.grid[i]
        out = [strings[0].ljust(widths[0])]
        group = next(g for g in self.groups if i in g)
        for j, (text, w) in enumerate(zip(strings[1:], widths[1:])):
            text = text.center(w)
            m = row[j] if j < len(row) else None
            if self.colorize and m is not None:
                if self.colorize == 'rowwise':
                    best = min(r.median for r in row if r is not None)
                else:
                    best = min(self.grid[k][j].median for k in group if self.grid[k][j] is not None)
                text = _color(text, m.median, best)
            out.append(text)
        return out
