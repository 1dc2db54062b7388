"""torch.profiler and torch.autograd.profiler against PyTorch's: the table layout from the same events,
the names of the events recorded for the same program, schedules, trace files and record_function.
Measured times differ between the two, so values are compared only where they are given."""
import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch
import torch.autograd.profiler_util as tpu

import ember
import ember.profiler._events as epu

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (name, start_us, end_us): a record_function holding ops, one nested op, a repeated op.
EVENTS = [("ProfilerStep#1", 0.0, 400.0), ("model_inference", 5.0, 300.5), ("aten::linear", 10.0, 110.25),
          ("aten::addmm", 20.0, 90.0), ("aten::relu", 120.0, 135.125), ("aten::linear", 140.0, 290.0),
          ("aten::addmm", 150.0, 280.0), ("Optimizer.step#SGD.step", 310.0, 1310.0),
          ("a_name_longer_than_the_fifty_five_characters_of_the_name_column", 1320.0, 1330.0)]


def event_lists(shapes=False):
    out = []
    for lib in (epu, tpu):
        events = [lib.FunctionEvent(i, name, 1, start, end, input_shapes=[[i, 2]] if shapes else [], stack=[])
                  for i, (name, start, end) in enumerate(EVENTS)]
        evl = lib.EventList(events)
        evl._build_tree()
        out.append(evl)
    return out


@pytest.mark.parametrize('kwargs', [{}, {'sort_by': 'cpu_time_total', 'row_limit': 4},
                                    {'sort_by': 'self_cpu_time_total'}, {'time_unit': 'ms'},
                                    {'top_level_events_only': True}, {'header': 'TITLE', 'sort_by': 'count'}])
def test_table_is_pytorchs(kwargs):
    mine, theirs = event_lists()
    assert mine.table(**kwargs) == theirs.table(**kwargs)
    assert mine.key_averages().table(**kwargs) == theirs.key_averages().table(**kwargs)
    assert str(mine) == str(theirs)


def test_table_with_input_shapes_and_totals_are_pytorchs():
    mine, theirs = event_lists(shapes=True)
    assert mine.table(sort_by='cpu_time_total') == theirs.table(sort_by='cpu_time_total')
    kw = mine.key_averages(group_by_input_shapes=True), theirs.key_averages(group_by_input_shapes=True)
    assert kw[0].table(row_limit=5) == kw[1].table(row_limit=5)
    assert mine.self_cpu_time_total == theirs.self_cpu_time_total
    a, b = mine.total_average(), theirs.total_average()
    assert (a.key, a.count, a.cpu_time_total, a.self_cpu_time_total) == \
        (b.key, b.count, b.cpu_time_total, b.self_cpu_time_total)
    assert [[c.id for c in e.cpu_children] for e in mine] == [[c.id for c in e.cpu_children] for e in theirs]


PROGRAM = '''
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.profiler import profile, record_function, ProfilerActivity

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
x, y, w = torch.randn(5, 4), torch.randn(5, 4), torch.randn(4, 3)


@record_function("helper")
def helper(t):
    return torch.tanh(t)


with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
    with record_function("block"):
        a = x * y
        b = torch.add(a, y)
        c = b.matmul(w)
        d = torch.relu(c)
        e = F.softmax(d, dim=1)
        f = e.sum()
    helper(x)
    loss = model(x).sum()
    opt.zero_grad()
    loss.backward()
    opt.step()

events = prof.events()
top = [e.name for e in events if e.cpu_parent is not None and e.cpu_parent.name == "block"]
print(top)
print([e.name for e in events if e.cpu_parent is not None and e.cpu_parent.name == "helper"])
print(sorted({e.name for e in events if e.name.startswith(("autograd::", "Optimizer."))}))
print(sorted({e.name for e in events if e.cpu_parent is None} - {"aten::ones_like"}))
table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=3)
print(table.splitlines()[1])
print(len(table.splitlines()))
'''


def run_both(src, tmp_path):
    """stdout of ``src`` run by ``ember run`` and by Python with PyTorch."""
    script = tmp_path / 'prog.py'
    script.write_text(src)
    outs = []
    for cmd in ([sys.executable, '-m', 'ember', 'run', str(script)], [sys.executable, str(script)]):
        r = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=ROOT),
                           cwd=tmp_path, timeout=120)
        assert r.returncode == 0, r.stderr
        outs.append(r.stdout)
    return outs


def test_a_training_step_records_pytorchs_event_names(tmp_path):
    mine, theirs = (out.splitlines() for out in run_both(PROGRAM, tmp_path))
    assert mine[0] == theirs[0]          # the ops inside record_function("block")
    assert mine[1] == theirs[1]          # the decorated function's op
    assert mine[2] == theirs[2]          # autograd and optimizer events
    assert mine[3] == theirs[3]          # the top-level events (ember seeds backward without an op)
    assert mine[4:] == theirs[4:]        # the table's header and its number of lines


def test_schedule_is_pytorchs():
    for kw in [dict(wait=1, warmup=1, active=2), dict(wait=0, warmup=2, active=3, repeat=2),
               dict(wait=2, warmup=1, active=1, repeat=1, skip_first=3), dict(wait=1, warmup=1, active=1,
                                                                              skip_first_wait=1)]:
        mine, theirs = ember.profiler.schedule(**kw), torch.profiler.schedule(**kw)
        assert [mine(i).name for i in range(14)] == [theirs(i).name for i in range(14)]
    with pytest.warns(UserWarning, match="won't be using warmup"):
        ember.profiler.schedule(wait=1, warmup=0, active=1)
    assert repr(ember.profiler.ProfilerActivity.CPU) == repr(torch.profiler.ProfilerActivity.CPU)
    assert [repr(a) for a in ember.profiler.ProfilerAction] == [repr(a) for a in torch.profiler.ProfilerAction]


def steps_run(lib, tmp_path):
    """Six steps under a wait/warmup/active schedule: the step at which traces are ready, and the files."""
    ready = []
    x = lib.ones(3, 4)
    with lib.profiler.profile(schedule=lib.profiler.schedule(wait=1, warmup=1, active=2, repeat=1),
                              on_trace_ready=lambda p: ready.append(
                                  (p.step_num, sorted({e.name for e in p.events()} & {'ProfilerStep*', 'work'})))
                              ) as prof:
        for _ in range(6):
            with lib.profiler.record_function("work"):
                (x * 2).sum()
            prof.step()
    handler = lib.profiler.tensorboard_trace_handler(str(tmp_path / lib.__name__))
    with lib.profiler.profile(on_trace_ready=handler, record_shapes=True):
        (x * 2).sum()
    files = os.listdir(tmp_path / lib.__name__)
    with open(tmp_path / lib.__name__ / files[0]) as f:
        trace = json.load(f)
    return ready, prof.step_num, files, trace


def test_schedule_steps_and_trace_files_as_pytorch(tmp_path):
    mine, theirs = steps_run(ember, tmp_path), steps_run(torch, tmp_path)
    assert mine[:2] == theirs[:2]
    assert [f.split('.', 1)[1].split('.', 1)[1] for f in mine[2]] == ['pt.trace.json']
    assert mine[2][0].split('.')[0] == theirs[2][0].split('.')[0].replace(str(os.getpid()), str(os.getpid()))
    assert set(mine[3]) == set(theirs[3])
    ops = [[e for e in t['traceEvents'] if e.get('name') == 'aten::mul'][0] for t in (mine[3], theirs[3])]
    assert set(ops[0]) == set(ops[1]) and ops[0]['cat'] == ops[1]['cat'] == 'cpu_op'
    assert ops[0]['args']['Input Dims'] == ops[1]['args']['Input Dims'] == [[3, 4], []]
    assert {e['ph'] for e in mine[3]['traceEvents']} == {e['ph'] for e in theirs[3]['traceEvents']}


def test_legacy_profiler_prints_events_in_order():
    """The events in PyTorch's order, the aten calls inside its ops included (aten::ones -> aten::empty...)."""
    names = []
    for lib in (ember, torch):
        with lib.autograd.profiler.profile() as p:
            with lib.autograd.profiler.record_function("r"):
                lib.ones(2).add(1)
        names.append([ln.split()[0] for ln in str(p).splitlines()[3:-2]])
        if lib is ember:
            prof = p
    assert names[0] == names[1] == ['r', 'aten::ones', 'aten::empty', 'aten::fill_', 'aten::add', 'aten::to',
                                    'aten::_to_copy', 'aten::empty_strided', 'aten::copy_']
    lines = str(prof).splitlines()
    assert lines[1].split() == ['Name', 'Self', 'CPU', '%', 'Self', 'CPU', 'CPU', 'total', '%', 'CPU', 'total',
                                'CPU', 'time', 'avg', '#', 'of', 'Calls']
    assert prof.function_events[0].cpu_children[0].name == 'aten::ones'
    assert str(prof.key_averages()) == str(prof.function_events.key_averages())
    assert type(ember.autograd.profiler.record_function("x")).__module__ == 'ember.autograd.profiler'


def test_wrappers_are_removed_after_profiling():
    before = (ember.relu, ember.Tensor.__add__, ember.nn.Linear.forward, ember.optim.SGD.step)
    with ember.profiler.profile():
        ember.relu(ember.ones(2))
    assert (ember.relu, ember.Tensor.__add__, ember.nn.Linear.forward, ember.optim.SGD.step) == before
    with ember.profiler.profile(profile_memory=True):
        ember.relu(ember.ones(2))
    assert (ember.relu, ember.Tensor.__add__, ember.nn.Linear.forward, ember.optim.SGD.step) == before


def test_fx_traced_profiler_ranges(tmp_path):
    """pytorch/examples' profiling_tracer: a tracer that keeps record_function ranges as
    torch.ops.profiler calls in the graph."""
    src = textwrap.dedent('''
    import torch
    import torch.fx

    class Foo(torch.nn.Module):
        def forward(self, x):
            with torch.profiler.record_function('foo'):
                return torch.relu(x)

    class ProfilerTracer(torch.fx.Tracer):
        def trace(self, root, concrete_args=None):
            rf = torch.autograd.profiler.record_function
            enter, exit_ = rf.__enter__, rf.__exit__
            tracer = self

            def fake_enter(_self):
                _self._fx_profiler_ctx = tracer.create_proxy('call_function',
                                                             torch.ops.profiler._record_function_enter,
                                                             (_self.name,), {})
                return _self._fx_profiler_ctx

            def fake_exit(_self, *exc):
                torch.ops.profiler._record_function_exit(_self._fx_profiler_ctx)
            rf.__enter__, rf.__exit__ = fake_enter, fake_exit
            try:
                return super().trace(root, concrete_args)
            finally:
                rf.__enter__, rf.__exit__ = enter, exit_

    pt = ProfilerTracer()
    graph = pt.trace(Foo())
    gm = torch.fx.GraphModule(pt.root, graph)
    print(gm.code)
    with torch.autograd.profiler.profile() as prof:
        gm(torch.randn(5, 3))
    print([e.name for e in prof.function_events if not e.name.startswith('aten::') or e.name == 'aten::relu'])
    ''')
    outs = run_both(src, tmp_path)
    assert outs[0] == outs[1]
    assert "torch.ops.profiler._record_function_enter('foo')" in outs[0]


def test_conv_layers_record_their_op_as_torch_does():
    """A conv layer's forward (inherited from a shared base class) is one aten::conv2d / conv_transpose2d event."""
    def names(lib):
        layers = lib.nn.Sequential(lib.nn.Conv2d(2, 3, 3), lib.nn.ConvTranspose2d(3, 2, 2), lib.nn.Conv1d(2, 2, 1))
        x = lib.ones(1, 2, 5, 5)
        with lib.profiler.profile() as prof:
            h = layers[1](layers[0](x))
            layers[2](h[:, :, 0])
        return [e.name for e in prof.events() if e.cpu_parent is None and e.name.startswith('aten::conv')]
    assert names(ember) == names(torch) == ['aten::conv2d', 'aten::conv_transpose2d', 'aten::conv1d']
    assert 'forward' not in ember.nn.Conv2d.__dict__
