"""``torch.autograd.profiler``: the legacy ``profile`` context manager (``print(prof)`` shows every
event in order as PyTorch's table) and ``record_function``; see ``ember.profiler``."""
import warnings

from ..profiler._events import EventList, FunctionEvent, FunctionEventAvg  # noqa: F401 (torch's names here)
from ..profiler._record import record_function, start as _start, stop as _stop

record_function.__module__ = __name__  # where PyTorch keeps it (torch.autograd.profiler)


class profile:
    """Record the ops run inside ``with profile() as prof:``; ``prof.function_events`` are the events,
    ``print(prof)`` their table and ``prof.key_averages()`` the events averaged by name."""

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False, with_flops=False,
                 profile_memory=False, with_stack=False, with_modules=False, use_kineto=False, use_cpu=True,
                 experimental_config=None, acc_events=False, custom_trace_id_callback=None):
        if use_cuda:
            warnings.warn("The attribute `use_cuda` will be deprecated soon, please use "
                          "``use_device = 'cuda'`` instead.", FutureWarning, stacklevel=2)
        if use_cuda or use_device not in (None, "cpu"):
            raise RuntimeError(f"torch.autograd.profiler.profile(use_device={use_device or 'cuda'!r}): ember runs "
                               "on the CPU only")
        self.enabled = enabled
        self.record_shapes = record_shapes
        self.with_flops = with_flops
        self.profile_memory = profile_memory
        self.function_events = None
        self._session = None
        self.entered = False

    def __enter__(self):
        if not self.enabled:
            return self
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        self.entered = True
        self._session = _start(self.record_shapes, self.profile_memory)
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        if not self.enabled:
            return None
        _stop(self._session)
        from ..profiler import _events_from
        self.function_events = _events_from(self._session, rewrite_steps=False)
        self.function_events._with_flops = self.with_flops
        return None

    def _check_finish(self):
        if self.function_events is None:
            raise RuntimeError("Profiler didn't finish running")

    def __repr__(self):
        if self.function_events is None:
            return "<unfinished torch.autograd.profile>"
        return repr(self.function_events)

    def __str__(self):
        if self.function_events is None:
            return "<unfinished torch.autograd.profile>"
        return str(self.function_events)

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75, max_name_column_width=55,
              max_shapes_column_width=80, header=None, top_level_events_only=False, time_unit=None):
        self._check_finish()
        return self.function_events.table(sort_by=sort_by, row_limit=row_limit,
                                          max_name_column_width=max_name_column_width,
                                          max_shapes_column_width=max_shapes_column_width, header=header,
                                          top_level_events_only=top_level_events_only, time_unit=time_unit)

    def export_chrome_trace(self, path):
        self._check_finish()
        return self.function_events.export_chrome_trace(path)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0, group_by_overload_name=False):
        self._check_finish()
        return self.function_events.key_averages(group_by_input_shape, group_by_stack_n)

    def total_average(self):
        self._check_finish()
        return self.function_events.total_average()

    @property
    def self_cpu_time_total(self):
        self._check_finish()
        return self.function_events.self_cpu_time_total


__all__ = ["profile", "record_function", "EventList", "FunctionEvent", "FunctionEventAvg"]


class emit_nvtx:
    """Mark each op with an NVTX range for NVIDIA's profilers: CUDA only, so entering it enabled raises
    PyTorch's CPU build's AssertionError; disabled, it does nothing (and gives None, as PyTorch's)."""

    def __init__(self, enabled=True, record_shapes=False):
        self.enabled, self.record_shapes = enabled, record_shapes

    def __enter__(self):
        if self.enabled:
            raise AssertionError('Torch not compiled with CUDA enabled')

    def __exit__(self, *exc):
        return False
