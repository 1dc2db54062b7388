"""``torch.Stream`` and ``torch.Event``: the device-generic stream and event. ember computes on the CPU in order, so a
stream has nothing to queue and an event nothing to mark; these answer as PyTorch's CPU build does (diffusers'
group offloading names ``torch.Stream`` in its signatures, transformers' offloaded cache makes one)."""
from .tensor import device as _device

_NO_EVENTS = "cpu backend doesn't support events."
_TYPE_NUMBERS = {'cpu': 0, 'cuda': 1, 'mps': 13, 'meta': 14}   # c10's DeviceType values, what device_type gives


def _stream_device(device):
    """The device a stream or event is made on: CPU by default; a device ember cannot run on raises PyTorch's
    error."""
    if device is None:
        return _device('cpu')
    made = _device(device)
    if made.type in ('cuda', 'mps'):
        raise RuntimeError(f"PyTorch is not linked with support for {made.type} devices")
    return made


class Stream:
    """``torch.Stream(device=None, *, priority=0)``: an in-order queue of work; on the CPU work runs at once, so
    synchronizing and waiting return immediately."""

    def __init__(self, device=None, *, priority=0):
        self.device = _stream_device(device)

    device_type = property(lambda self: _TYPE_NUMBERS[self.device.type])
    device_index = property(lambda self: -1 if self.device.index is None else self.device.index)
    stream_id = property(lambda self: 0)

    def query(self):
        """Whether all work queued on the stream has finished: always, on the CPU."""
        return True

    def synchronize(self):
        """Wait for the stream's work: there is none left."""

    def wait_event(self, event):
        """Make later work wait for ``event``: nothing waits on the CPU."""

    def wait_stream(self, stream):
        """Make later work wait for ``stream``'s: needs an event, which the CPU backend lacks."""
        raise RuntimeError(_NO_EVENTS)

    def record_event(self, event=None):
        """Record an event on the stream: the CPU backend has no events."""
        raise RuntimeError(_NO_EVENTS)

    def is_capturing(self):
        """Whether a graph capture is under way: never, on the CPU."""
        return False

    @property
    def native_handle(self):
        raise RuntimeError("Backend doesn't support getting stream native handle.")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def __eq__(self, other):
        return isinstance(other, Stream) and (self.device, self.stream_id) == (other.device, other.stream_id)

    def __hash__(self):
        return hash((self.device.type, self.device_index, self.stream_id))

    def __repr__(self):
        return f"torch.Stream device_type={self.device.type}, device_index={self.device_index}, stream_id=0"


class Event:
    """``torch.Event(device=None, *, enable_timing=False, blocking=False, interprocess=False)``: a marker in a
    stream; the CPU backend cannot record one, and an unrecorded event has always completed."""

    def __init__(self, device=None, *, enable_timing=False, blocking=False, interprocess=False):
        self.device = _stream_device(device)
        self._timing = bool(enable_timing)

    event_id = property(lambda self: 0)

    def record(self, stream=None):
        """Mark the point ``stream`` has reached: the CPU backend has no events."""
        raise RuntimeError(_NO_EVENTS)

    def query(self):
        """Whether the work before the event has finished: always, as it was never recorded."""
        return True

    def synchronize(self):
        """Wait for the event: nothing to wait for."""

    def wait(self, stream=None):
        """Make ``stream`` wait for the event: nothing waits on the CPU."""

    def elapsed_time(self, end_event):
        """Milliseconds between two recorded timing events: these cannot be recorded on the CPU."""
        if not isinstance(end_event, Event):
            raise RuntimeError("expected other to be a torch.Event object")
        if not (self._timing and end_event._timing):
            raise ValueError("Both events must be created with argument 'enable_timing=True'.")
        raise ValueError("Both events must be recorded before calculating elapsed time.")

    def ipc_handle(self):
        raise NotImplementedError("torch.Event ipc is not supported yet, please open an issue if you need this!")

    @classmethod
    def from_ipc_handle(cls, device, ipc_handle):
        raise NotImplementedError("torch.Event ipc is not supported yet, please open an issue if you need this!")

    def __repr__(self):
        index = -1 if self.device.index is None else self.device.index
        return (f"torch.Event device_type={self.device.type}, device_index={index}, "
                f"event_flag={int(self._timing)}, event_id=0")
