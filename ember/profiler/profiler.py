"""``torch.profiler.profiler``: the module PyTorch defines ``profile`` and ``schedule`` in, whose private
``_default_schedule_fn`` PyTorch Lightning's PyTorchProfiler sets when it stops (pytorch.py)."""
from . import (ProfilerAction, ProfilerActivity, _KinetoProfile, _default_schedule_fn, kineto_available, profile,
               schedule, supported_activities, tensorboard_trace_handler)

PROFILER_STEP_NAME = 'ProfilerStep'

__all__ = ['ProfilerAction', 'ProfilerActivity', 'kineto_available', 'profile', 'schedule', 'supported_activities',
           'tensorboard_trace_handler', '_KinetoProfile', '_default_schedule_fn', 'PROFILER_STEP_NAME']
