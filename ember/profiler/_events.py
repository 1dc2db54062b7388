"""The profiler's results: ``FunctionEvent`` (one recorded range), ``FunctionEventAvg`` (events averaged
by name) and ``EventList`` with PyTorch's ``table``, ``key_averages`` and ``export_chrome_trace``."""
import enum
import itertools

_US_IN_SECOND = 1000.0 * 1000.0
_US_IN_MS = 1000.0


class DeviceType(enum.Enum):
    CPU = 0


def _format_time(time_us):
    if time_us >= _US_IN_SECOND:
        return f"{time_us / _US_IN_SECOND:.3f}s"
    if time_us >= _US_IN_MS:
        return f"{time_us / _US_IN_MS:.3f}ms"
    return f"{time_us:.3f}us"


def _format_time_share(time_us, total_time_us):
    if total_time_us == 0:
        return "NaN"
    return f"{time_us * 100.0 / total_time_us:.2f}%"


def _format_memory(nbytes):
    for unit, size in (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("KB", 1024)):
        if abs(nbytes) >= size:
            return f"{nbytes * 1.0 / size:.2f} {unit}"
    return str(nbytes) + " B"


class Interval:
    def __init__(self, start, end):
        self.start = start
        self.end = end

    def elapsed_us(self):
        return self.end - self.start


class _Times:
    """The time columns of an event, raw (microseconds) and formatted."""
    count = 1

    @property
    def cpu_time(self):
        return 0.0 if self.count == 0 else self.cpu_time_total / self.count

    cpu_time_str = property(lambda self: _format_time(self.cpu_time))
    cpu_time_total_str = property(lambda self: _format_time(self.cpu_time_total))
    self_cpu_time_total_str = property(lambda self: _format_time(self.self_cpu_time_total))
    device_time = property(lambda self: 0.0)
    device_time_total = self_device_time_total = 0.0
    device_memory_usage = self_device_memory_usage = 0
    cpu_memory_usage = self_cpu_memory_usage = 0
    flops = 0
    node_id = -1
    overload_name = ""
    is_async = False
    is_remote = False
    is_legacy = False
    use_device = None
    device_type = DeviceType.CPU
    stack = ()


class FunctionEvent(_Times):
    """One recorded range: an op (``aten::add``), a ``record_function`` or an autograd step."""

    def __init__(self, id, name, thread, start_us, end_us, overload_name=None, fwd_thread=None, input_shapes=None,
                 stack=None, scope=0, use_device=None, cpu_memory_usage=0, device_memory_usage=0, is_async=False,
                 is_remote=False, sequence_nr=-1, node_id=-1, device_type=DeviceType.CPU, device_index=0,
                 device_resource_id=None, is_legacy=False, flops=None, trace_name=None, concrete_inputs=None,
                 kwinputs=None, is_user_annotation=False, **more):
        if use_device not in (None, "cpu") or device_type is not DeviceType.CPU or device_memory_usage:
            raise ValueError("FunctionEvent: ember records CPU events only (use_device/device_type/"
                             "device_memory_usage must keep their defaults)")
        self.id = id
        self.name = name
        self.thread = thread
        self.time_range = Interval(start_us, end_us)
        self.overload_name = overload_name or ""
        self.fwd_thread = fwd_thread
        self.input_shapes = input_shapes
        self.stack = stack if stack is not None else []
        self.scope = scope
        self.cpu_memory_usage = cpu_memory_usage
        self.is_async = is_async
        self.is_remote = is_remote
        self.sequence_nr = sequence_nr
        self.node_id = node_id
        self.device_index = device_index
        self.is_legacy = is_legacy
        self.flops = flops or 0
        self.trace_name = trace_name if trace_name is not None else name
        self.concrete_inputs = concrete_inputs
        self.kwinputs = kwinputs
        self.is_user_annotation = is_user_annotation
        self.kind = "user_annotation" if is_user_annotation else "cpu_op"
        self.extra = more
        self.cpu_children = []
        self.cpu_parent = None

    @property
    def key(self):
        return self.name

    @property
    def cpu_time_total(self):
        return self.time_range.elapsed_us()

    @property
    def self_cpu_time_total(self):
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    @property
    def self_cpu_memory_usage(self):
        return self.cpu_memory_usage - sum(c.cpu_memory_usage for c in self.cpu_children)

    def append_cpu_child(self, child):
        self.cpu_children.append(child)

    def set_cpu_parent(self, parent):
        self.cpu_parent = parent

    def __repr__(self):
        return (f"<FunctionEvent id={self.id} name={self.name} overload_name= device_type={self.device_type} "
                f"node_id=-1 cpu_time={self.cpu_time_str} start_us={self.time_range.start} "
                f"end_us={self.time_range.end} cpu_children={[c.id for c in self.cpu_children]} "
                f"None_time=0.000us name={self.name} thread={self.thread} input_shapes={self.input_shapes or []} "
                f"cpu_memory_usage={self.cpu_memory_usage} None_memory_usage=0 is_async=False is_remote=False "
                f"seq_nr={self.sequence_nr} is_legacy=False>")


class FunctionEventAvg(_Times):
    """The events of one key (name, and input shapes when grouped by them), added up."""

    def __init__(self):
        self.key = None
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = 0
        self.self_cpu_memory_usage = 0
        self.input_shapes = None
        self.cpu_parent = None
        self.cpu_children = []

    def add(self, other):
        if self.key is None:
            self.key = other.key
            self.input_shapes = other.input_shapes
            self.cpu_parent = other.cpu_parent
        self.cpu_time_total += other.cpu_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        self.cpu_memory_usage += other.cpu_memory_usage
        self.self_cpu_memory_usage += other.self_cpu_memory_usage
        self.count += other.count
        return self

    def __iadd__(self, other):
        return self.add(other)

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total_str} "
                f"cpu_time={self.cpu_time_str}  self_cuda_time=0.000us cuda_time=0.000us "
                f"input_shapes={self.input_shapes} cpu_memory_usage={self.cpu_memory_usage} cuda_memory_usage=0>")


class EventList(list):
    """A list of events that prints as PyTorch's profiler table."""

    def __init__(self, *args, use_device=None, profile_memory=False, with_flops=False):
        super().__init__(*args)
        self._use_device = use_device
        self._profile_memory = profile_memory
        self._with_flops = with_flops

    def __str__(self):
        return self.table()

    def _build_tree(self):
        """Give each event its parent and children: events nest when one's interval holds another's."""
        events = sorted(self, key=lambda e: e.thread)
        for _, thread_events in itertools.groupby(events, key=lambda e: e.thread):
            stack = []
            for event in sorted(thread_events, key=lambda e: (e.time_range.start, -e.time_range.end)):
                while stack:
                    parent = stack[-1]
                    if event.time_range.start >= parent.time_range.end or \
                            event.time_range.end > parent.time_range.end:
                        stack.pop()
                    else:
                        parent.append_cpu_child(event)
                        event.set_cpu_parent(parent)
                        break
                stack.append(event)
        self._remove_dup_nodes()

    def _remove_dup_nodes(self):
        """An event whose parent has its name and no other child is merged into the parent."""
        while True:
            drop = set()
            for i, evt in enumerate(self):
                parent = evt.cpu_parent
                if parent is not None and parent.name == evt.name and len(parent.cpu_children) == 1:
                    parent.cpu_children = evt.cpu_children
                    for ch in evt.cpu_children:
                        ch.cpu_parent = parent
                    drop.add(i)
            if not drop:
                return
            kept = [e for i, e in enumerate(self) if i not in drop]
            self.clear()
            self.extend(kept)

    @property
    def self_cpu_time_total(self):
        return sum(e.self_cpu_time_total for e in self)

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75, max_name_column_width=55,
              max_shapes_column_width=80, header=None, top_level_events_only=False, time_unit=None):
        """The events as PyTorch's profiler table (sorted by the attribute ``sort_by``, e.g.
        ``cpu_time_total`` or ``self_cpu_time_total``, else in recorded order)."""
        return _build_table(self, sort_by=sort_by, header=header, row_limit=row_limit,
                            max_name_column_width=max_name_column_width,
                            max_shapes_column_width=max_shapes_column_width,
                            profile_memory=self._profile_memory, top_level_events_only=top_level_events_only,
                            time_unit=time_unit)

    def key_averages(self, group_by_input_shapes=False, group_by_stack_n=0, group_by_overload_name=False):
        """One FunctionEventAvg per name (and per input shapes when ``group_by_input_shapes``)."""
        stats = {}
        for evt in self:
            key = (evt.key, str(evt.input_shapes)) if group_by_input_shapes else evt.key
            stats.setdefault(key, FunctionEventAvg()).add(evt)
        if not group_by_input_shapes:
            for avg in stats.values():
                avg.input_shapes = None  # the Input Shapes column shows only when grouped by them
        return EventList(stats.values(), use_device=self._use_device, profile_memory=self._profile_memory,
                         with_flops=self._with_flops)

    def total_average(self):
        total = FunctionEventAvg()
        for evt in self:
            total.add(evt)
        total.key = "Total"
        return total

    def export_chrome_trace(self, path):
        """Write the events in the Chrome tracing format of PyTorch's legacy profiler (a JSON list)."""
        with open(path, "w") as f:
            f.write("[")
            f.write(", ".join(
                f'{{"name": "{evt.trace_name}", "ph": "X", "ts": {evt.time_range.start}, '
                f'"dur": {evt.time_range.elapsed_us()}, "tid": {evt.thread}, "pid": "CPU functions", '
                f'"args": {{}}}}' for evt in self))
            f.write("]")

    def supported_export_stacks_metrics(self):
        return ["self_cpu_time_total", "self_cuda_time_total", "self_xpu_time_total",
                "self_privateuse1_time_total"]


def _time(us, formatted, time_unit):
    if time_unit == "s":
        return f"{us / _US_IN_SECOND:.3f}s"
    if time_unit == "ms":
        return f"{us / _US_IN_MS:.3f}ms"
    if time_unit == "us":
        return f"{us:.3f}us"
    return formatted


def _build_table(events, sort_by=None, header=None, row_limit=100, max_name_column_width=55,
                 max_shapes_column_width=80, profile_memory=False, top_level_events_only=False, time_unit=None):
    """PyTorch's profiler table: right-aligned columns 12 wide (the name column fits the longest name, at
    most 55), two spaces after each, a dashed rule above and below the header and at the end."""
    if len(events) == 0:
        return ""
    has_input_shapes = any(e.input_shapes is not None and len(e.input_shapes) > 0 for e in events)
    if sort_by is not None:
        key = sort_by.replace("cuda", "device").replace("xpu", "device").replace("privateuse1", "device")
        events = EventList(sorted(events, key=lambda e: getattr(e, key), reverse=True))
    name_width = min(max(len(e.key) for e in events) + 4, max_name_column_width)
    shapes_width = min(max(len(str(e.input_shapes)) for e in events) + 4, max_shapes_column_width)
    headers = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
    if profile_memory:
        headers += ["CPU Mem", "Self CPU Mem"]
    headers.append("# of Calls")
    widths = [name_width] + [12] * (len(headers) - 1)
    if has_input_shapes:
        headers.append("Input Shapes")
        widths.append(shapes_width)
    row_format = "".join("{: >" + str(w) + "}  " for w in widths)
    header_sep = "".join("-" * w + "  " for w in widths)
    line_length = sum(w + 2 for w in widths) - 2
    total = sum(e.self_cpu_time_total for e in events)
    lines = []
    if header is not None:
        lines += ["=" * line_length, header]
    if top_level_events_only:
        lines += ["=" * line_length, "This report only display top-level ops statistics"]
    lines += [header_sep, row_format.format(*headers), header_sep]
    shown = 0
    for evt in events:
        if shown == row_limit:
            break
        if top_level_events_only and evt.cpu_parent is not None:
            continue
        shown += 1
        name = evt.key
        if len(name) >= max_name_column_width - 3:
            name = name[:max_name_column_width - 3] + "..."
        row = [name, _format_time_share(evt.self_cpu_time_total, total),
               _time(evt.self_cpu_time_total, evt.self_cpu_time_total_str, time_unit),
               _format_time_share(evt.cpu_time_total, total),
               _time(evt.cpu_time_total, evt.cpu_time_total_str, time_unit),
               _time(evt.cpu_time, evt.cpu_time_str, time_unit)]
        if profile_memory:
            row += [_format_memory(evt.cpu_memory_usage), _format_memory(evt.self_cpu_memory_usage)]
        row.append(evt.count)
        if has_input_shapes:
            row.append(str(evt.input_shapes)[:shapes_width])
        lines.append(row_format.format(*row))
    lines += [header_sep, f"Self CPU time total: {_time(total, _format_time(total), time_unit)}"]
    return "\n".join(lines) + "\n"


__all__ = ["EventList", "FunctionEvent", "FunctionEventAvg", "DeviceType"]
