"""``torch.profiler``: ``profile`` records the ops a block runs (with ``schedule`` steps and
``on_trace_ready``), ``record_function`` labels a range, and the results print as PyTorch's table
(``prof.key_averages().table(sort_by=..., row_limit=...)``) and export as its Chrome trace JSON.
Times are ember's own; the event names are PyTorch's for the ops ember runs (see ``_record``)."""
import enum
import json
import os
import socket
import time
import warnings

from ._events import EventList, FunctionEvent
from ._record import record_function, start as _start, stop as _stop
from ..ops import profiler as _ops_profiler  # noqa: F401,E402 (torch.ops.profiler, used by fx-traced code)


class ProfilerActivity(enum.Enum):
    """What to profile: CPU ops (ember has no device activity to record)."""
    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5

    def __repr__(self):
        return f"<ProfilerActivity.{self.name}: {self.value}>"


class ProfilerAction(enum.Enum):
    """What the profiler does at a step, as ``schedule`` returns it."""
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3
    DEVICE_STOPPED = 4

    def __repr__(self):
        return f"<ProfilerAction.{self.name}: {self.value}>"


def kineto_available():
    """Whether ``torch.profiler.profile`` (PyTorch's Kineto profiler) is there: True, as in PyTorch's CPU
    build (ember's ``profile`` serves it)."""
    return True


def supported_activities():
    """The activities this build can profile: the CPU."""
    return {ProfilerActivity.CPU}


def schedule(*, wait, warmup, active, repeat=0, skip_first=0, skip_first_wait=0):
    """The action for each step: after ``skip_first`` steps, cycles of ``wait`` idle steps, ``warmup``
    steps and ``active`` recorded steps (the last saves), ``repeat`` times (0: forever)."""
    def schedule_fn(step):
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait != 0:
            step += wait
        num_steps = wait + warmup + active
        if repeat > 0 and step / num_steps >= repeat:
            return ProfilerAction.NONE
        mod_step = step % num_steps
        if mod_step < wait:
            return ProfilerAction.NONE
        if mod_step < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if mod_step < num_steps - 1 else ProfilerAction.RECORD_AND_SAVE
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), warmup={warmup} "
                             f"(need >= 0), active={active} (need > 0), repeat={repeat} (need >= 0), "
                             f"skip_first={skip_first} (need >= 0).")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results", stacklevel=2)
    return schedule_fn


def _default_schedule_fn(_):
    return ProfilerAction.RECORD


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False):
    """An ``on_trace_ready`` that writes each trace to ``dir_name`` as
    ``{worker_name}.{time_ns}.pt.trace.json`` (worker: ``{hostname}_{pid}``), for TensorBoard's plugin."""
    def handler_fn(prof):
        nonlocal worker_name
        if not os.path.isdir(dir_name):
            try:
                os.makedirs(dir_name, exist_ok=True)
            except Exception as e:
                raise RuntimeError("Can't create directory: " + dir_name) from e
        if not worker_name:
            worker_name = f"{socket.gethostname()}_{os.getpid()}"
        file_name = f"{worker_name}.{time.time_ns()}.pt.trace.json"
        if use_gzip:
            file_name += ".gz"
        prof.export_chrome_trace(os.path.join(dir_name, file_name))
    return handler_fn


def _events_from(session, rewrite_steps=True):
    """FunctionEvents (in start order, with parents and children) from a session's raw events."""
    threads = {}
    base = session.base_us
    events = EventList(profile_memory=session.profile_memory)
    for i, (name, start, end, tid, shapes, kind, nbytes) in enumerate(sorted(session.events,
                                                                             key=lambda e: (e[1], -e[2]))):
        thread = threads.setdefault(tid, len(threads) + 1)
        shown = "ProfilerStep*" if rewrite_steps and name.startswith("ProfilerStep#") else name
        evt = FunctionEvent(i + 1, shown, thread, round(start - base, 3), round(end - base, 3), input_shapes=shapes,
                            trace_name=name, is_user_annotation=kind == "user_annotation", cpu_memory_usage=nbytes)
        evt.raw_start, evt.raw_end, evt.raw_tid = start, end, tid
        events.append(evt)
    events._build_tree()
    return events


class _KinetoProfile:
    """Start/stop recording and the results of the last recording."""

    def __init__(self, *, activities=None, record_shapes=False, profile_memory=False, with_stack=False,
                 with_flops=False, with_modules=False, experimental_config=None, execution_trace_observer=None,
                 acc_events=False, custom_trace_id_callback=None):
        self.activities = set(activities) if activities else supported_activities()
        self.record_shapes = record_shapes
        self.with_flops = with_flops
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_modules = with_modules
        self._session = None
        self._events = None
        self._trace_start_ns = None
        self._trace_metadata = {}   # key -> JSON text, written at the top of the chrome trace as PyTorch's

    def add_metadata(self, key, value):
        """Write ``key: value`` (a string) into the trace file (Lightning's PyTorchProfiler adds its name)."""
        self._trace_metadata[key] = json.dumps(value)

    def add_metadata_json(self, key, value):
        """Write ``key`` with ``value``, a JSON text, into the trace file."""
        self._trace_metadata[key] = value

    def prepare_trace(self):
        pass

    def start_trace(self):
        self._session = _start(self.record_shapes, self.profile_memory)
        self._trace_start_ns = time.time_ns()

    def stop_trace(self):
        if self._session is not None:
            _stop(self._session)
            self._events = _events_from(self._session)
            self._raw = self._session
            self._session = None

    def events(self):
        """The events of the last finished recording."""
        if self._events is None:
            raise AssertionError("Expected profiling results, please call start()/stop() or use profile as a "
                                 "context manager")
        return self._events

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0, group_by_overload_name=False):
        """The events averaged by name (and input shapes): print ``.table(...)`` of it."""
        return self.events().key_averages(group_by_input_shape, group_by_stack_n)

    def export_chrome_trace(self, path):
        """Write the trace in the JSON layout of PyTorch's (Kineto) profiler, for chrome://tracing,
        Perfetto or TensorBoard."""
        trace = _chrome_trace(self.events(), self.record_shapes, self._trace_start_ns, os.path.basename(path),
                              self._trace_metadata)
        if path.endswith(".gz"):
            import gzip
            with gzip.open(path, "wt") as f:
                json.dump(trace, f)
        else:
            with open(path, "w") as f:
                json.dump(trace, f)
        return path

    def export_stacks(self, path, metric="self_cpu_time_total"):
        raise NotImplementedError("profile.export_stacks is not supported by ember yet (stacks are not recorded)")


def _chrome_trace(events, record_shapes, start_ns, name, metadata=None):
    pid = os.getpid()
    events = sorted(events, key=lambda e: e.raw_start)
    t0 = min((e.raw_start for e in events), default=0.0)
    base_us = (start_ns or time.time_ns()) / 1000.0
    out = [{"ph": "M", "name": "process_name", "ts": base_us, "pid": pid, "tid": 0, "args": {"name": "python"}},
           {"ph": "M", "name": "process_labels", "ts": base_us, "pid": pid, "tid": 0, "args": {"labels": "CPU"}},
           {"ph": "M", "name": "process_sort_index", "ts": base_us, "pid": pid, "tid": 0,
            "args": {"sort_index": pid}}]
    for tid in sorted({e.raw_tid for e in events}):
        out.append({"ph": "M", "name": "thread_name", "ts": base_us, "pid": pid, "tid": tid,
                    "args": {"name": f"thread {tid} (python)"}})
        out.append({"ph": "M", "name": "thread_sort_index", "ts": base_us, "pid": pid, "tid": tid,
                    "args": {"sort_index": tid}})
    for i, e in enumerate(events):
        args = {"External id": i + 1, "Record function id": 0}
        if record_shapes and e.kind == "cpu_op":
            args["Input Dims"] = e.input_shapes
        args["Ev Idx"] = i
        out.append({"ph": "X", "cat": e.kind, "name": e.trace_name, "pid": pid, "tid": e.raw_tid,
                    "ts": round(base_us + e.raw_start - t0, 3), "dur": round(e.raw_end - e.raw_start, 3),
                    "args": args})
    span = max((e.raw_end for e in events), default=t0) - t0
    out.append({"ph": "X", "cat": "Trace", "name": "PyTorch Profiler (0)", "pid": "Spans", "tid": "PyTorch Profiler",
                "ts": base_us, "dur": round(span, 3), "args": {"Op count": 0}})
    out.append({"name": "process_sort_index", "ph": "M", "ts": base_us, "pid": "Spans", "tid": 0,
                "args": {"sort_index": 536870912}})
    out.append({"name": "Iteration Start: PyTorch Profiler", "ph": "i", "s": "g", "pid": "Traces",
                "tid": "Trace PyTorch Profiler", "ts": base_us})
    out.append({"name": "Record Window End", "ph": "i", "s": "g", "pid": "", "tid": "", "ts": base_us + span})
    trace = {"schemaVersion": 1, "deviceProperties": [], "trace_id": os.urandom(16).hex().upper()}
    trace.update({k: json.loads(v) for k, v in (metadata or {}).items()})
    if record_shapes:   # PyTorch writes the key only when shapes were recorded
        trace["record_shapes"] = 1
    return dict(trace, host_name=socket.gethostname(), displayTimeUnit="ms",
                baseTimeNanoseconds=(start_ns or time.time_ns()) // 1_000_000_000 * 1_000_000_000,
                traceEvents=out, traceName=name)


class profile(_KinetoProfile):
    """Profile the ops a block runs: ``with torch.profiler.profile(...) as prof:``; with a ``schedule``,
    call ``prof.step()`` after each step and ``on_trace_ready(prof)`` runs when a cycle's recording ends."""

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None, record_shapes=False,
                 profile_memory=False, with_stack=False, with_flops=False, with_modules=False,
                 experimental_config=None, execution_trace_observer=None, acc_events=False, use_cuda=None,
                 custom_trace_id_callback=None):
        activities_set = set()
        for item in activities if activities is not None else supported_activities():
            if isinstance(item, ProfilerActivity):
                activities_set.add(item)
        if use_cuda is not None:
            warnings.warn("`use_cuda` is deprecated, use `activities` argument instead", FutureWarning,
                          stacklevel=2)
        for device in sorted(activities_set - {ProfilerActivity.CPU}, key=lambda a: a.value):
            warnings.warn(f"{device.name} is not available, disabling {device.name} profiling", stacklevel=2)
        activities_set &= {ProfilerActivity.CPU}
        if with_flops:
            warnings.warn("torch.profiler.profile(with_flops=True): ember does not count FLOPs, so the table "
                          "has no Total FLOPs column", stacklevel=2)
        if with_stack:
            warnings.warn("torch.profiler.profile(with_stack=True): ember does not record source stacks",
                          stacklevel=2)
        if not activities_set and not activities:
            raise AssertionError("No valid profiler activities found")
        super().__init__(activities=activities_set, record_shapes=record_shapes, profile_memory=profile_memory,
                         with_stack=with_stack, with_flops=with_flops, with_modules=with_modules)
        self.schedule = schedule if schedule else _default_schedule_fn
        self.record_steps = bool(schedule)
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self.step_rec_fn = None
        self.current_action = self.schedule(self.step_num)
        N, W, R, S = (ProfilerAction.NONE, ProfilerAction.WARMUP, ProfilerAction.RECORD,
                      ProfilerAction.RECORD_AND_SAVE)
        start, stop, ready = self.start_trace, self.stop_trace, self._trace_ready

        def warn(msg):
            return lambda: warnings.warn(msg, stacklevel=3)
        self.action_map = {
            (N, W): [], (N, R): [start], (N, S): [start],
            (W, N): [warn("Incorrect schedule: WARMUP followed by NONE"), start, stop], (W, R): [start],
            (W, S): [start], (R, N): [warn("Incorrect schedule: RECORD followed by NONE"), stop],
            (R, W): [warn("Incorrect schedule: RECORD followed by WARMUP"), stop],
            (S, N): [stop, ready], (S, W): [stop, ready], (S, R): [stop, ready, start], (S, S): [stop, ready, start],
            (W, None): [start, stop], (R, None): [stop, ready], (S, None): [stop, ready],
        }

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.stop()

    def start(self):
        self._transit_action(ProfilerAction.NONE, self.current_action)
        if self.record_steps:
            self.step_rec_fn = record_function("ProfilerStep#" + str(self.step_num))
            self.step_rec_fn.__enter__()

    def stop(self):
        if self.record_steps and self.step_rec_fn:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None
        self._transit_action(self.current_action, None)

    def step(self):
        """Mark the end of a step: move to the schedule's next action."""
        if self.record_steps and self.step_rec_fn:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None
        prev_action = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        self._transit_action(prev_action, self.current_action)
        if self.record_steps:
            self.step_rec_fn = record_function("ProfilerStep#" + str(self.step_num))
            self.step_rec_fn.__enter__()

    def _trace_ready(self):
        if self.on_trace_ready:
            self.on_trace_ready(self)

    def _transit_action(self, prev_action, current_action):
        for action in self.action_map.get((prev_action, current_action), []):
            action()


__all__ = ["profile", "record_function", "schedule", "tensorboard_trace_handler", "ProfilerActivity",
           "ProfilerAction", "supported_activities"]


from . import profiler  # noqa: E402 (torch.profiler.profiler, an attribute of the package as in PyTorch)
