"""torch.fx against PyTorch's: the same programs run with ``torch`` being PyTorch and being ember, and
print the same graphs, generated code, tables and values (function addresses masked)."""
import contextlib
import io
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import ember
from ember import aliasing

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_as(src, lib):
    """Run ``src`` as a ``__main__`` script with ``import torch`` resolving to ``lib``; its stdout, the
    type and message of what it raised appended, and addresses masked."""
    out = io.StringIO()
    scope = {'__name__': '__main__'}
    ctx = aliasing.as_torch() if lib is ember else contextlib.nullcontext()
    with ctx, contextlib.redirect_stdout(out):
        try:
            exec(compile(textwrap.dedent(src), '<fx test>', 'exec'), scope)
        except Exception as exc:  # noqa: BLE001 (the error is part of the answer)
            print(f'raised {type(exc).__name__}: {exc}')
    return re.sub(r'0x[0-9a-f]+', '0x?', out.getvalue())


def same_as_pytorch(src):
    expected = run_as(src, torch)
    assert 'Traceback' not in expected
    got = run_as(src, ember)
    assert got == expected
    return got


MODULES = '''
import math
import operator
import torch
import torch.fx as fx
import torch.nn as nn
import torch.nn.functional as F


class Sub(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 3)
        self.register_buffer('scale', torch.ones(3))

    def forward(self, x):
        return self.lin(x) * self.scale


class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.sub = Sub()
        self.w = nn.Parameter(torch.ones(3))
        self.c = torch.tensor([1., 2.])
        self.seq = nn.Sequential(nn.ReLU(), nn.Dropout(0.0))

    def forward(self, x, y=2):
        a = self.sub(x) + self.w
        b = a.sum(dim=-1, keepdim=True)
        c = torch.cat([a, b], 1)
        d = F.softmax(c, dim=1)
        e = d[:, 0:2] * math.sqrt(4) + self.c
        s = e.shape[0]
        f = e.view(s, -1).relu()
        g = self.seq(f) - y
        h = -g / 3 + (1 - g) ** 2 @ torch.ones(2, 2)
        return {'out': h, 'a': a.mean()}


torch.manual_seed(0)
m = M()
gm = fx.symbolic_trace(m)
'''


def test_graph_code_and_module_print_as_pytorch():
    out = same_as_pytorch(MODULES + '''
print(gm.graph)
print(gm.code)
print(gm)
print([(n.op, n.name, n.target if isinstance(n.target, str) else n.target.__name__) for n in gm.graph.nodes])
for n in gm.graph.nodes:
    print(n.name, n.args, n.kwargs, list(n.users), n.all_input_nodes, n.format_node())
print(sorted(dict(gm.named_parameters())), sorted(dict(gm.named_buffers())))
''')
    assert 'call_module[target=sub.lin]' in out


def test_traced_module_computes_what_the_module_computes():
    same_as_pytorch(MODULES + '''
x = torch.randn(2, 4)
out, ref = gm(x), m(x)
print(out['out'], torch.equal(out['out'], ref['out']), torch.equal(out['a'], ref['a']))
print(fx.Interpreter(gm).run(x)['out'])
''')


def test_editing_graphs_and_recompiling():
    same_as_pytorch('''
    import operator
    import torch
    import torch.fx as fx

    class M(torch.nn.Module):
        def forward(self, x, y):
            return x + y, torch.add(x, y), x.add(y)

    traced = fx.symbolic_trace(M())
    for n in traced.graph.nodes:
        if any(n.target == p for p in (operator.add, torch.add, 'add')):
            with traced.graph.inserting_after(n):
                new = traced.graph.call_function(torch.mul, n.args, n.kwargs)
                n.replace_all_uses_with(new)
            traced.graph.erase_node(n)
    traced.recompile()
    print(traced.code)
    print(traced(torch.tensor([2., 3.]), torch.tensor([4., 5.])))

    def fn(x):
        return torch.cat([x, x.relu()]) + 1
    dead = fx.symbolic_trace(fn)
    with dead.graph.inserting_before(dead.graph.output_node()):
        dead.graph.call_function(torch.exp, (next(iter(dead.graph.nodes)),))
    print(dead.graph)
    print(dead.graph.eliminate_dead_code(), dead.graph.eliminate_dead_code())
    print(dead.graph)
    try:
        dead.graph.erase_node(next(iter(dead.graph.nodes)))
    except RuntimeError as e:
        print(e)

    g = fx.Graph()
    a = g.placeholder('a')
    b = g.call_method('sum', (a,), {'dim': 0})
    c = g.call_module('foo', (b,))
    g.output((b, c))
    print(g)
    print(g.python_code('self').src)
    g.lint()
    bad = fx.Graph()
    p = bad.placeholder('p')
    q = bad.call_function(torch.neg, (p,))
    with bad.inserting_before(p):
        bad.call_function(torch.abs, (q,))
    try:
        bad.lint()
    except RuntimeError as e:
        print(e)
    ''')


def test_proxies_build_and_inline_graphs():
    same_as_pytorch('''
    import torch
    from torch.fx import Graph, GraphModule, Proxy, symbolic_trace
    from torch.fx.node import map_arg

    graph = Graph()
    tracer = torch.fx.proxy.GraphAppendingTracer(graph)
    x = Proxy(graph.placeholder('x'), tracer)
    y = Proxy(graph.placeholder('y'), tracer)
    b = torch.tanh(torch.cat([x, y]))
    c = torch.neg(b) * 2 + x.sum()
    print(x, c, c.node.args)
    graph.output(c.node)
    mod = GraphModule(torch.nn.Module(), graph)
    print(mod.code)
    print(mod(torch.tensor([0.5]), torch.tensor([-1.0])))

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.act = torch.nn.LeakyReLU(0.1)

        def forward(self, x):
            return self.act(x) + 1.0

    m = symbolic_trace(M())
    tracer = torch.fx.proxy.GraphAppendingTracer(m.graph)
    for node in m.graph.nodes:
        if (node.op, node.target) == ('call_module', 'act'):
            with m.graph.inserting_before(node):
                args = map_arg(node.args, lambda n: Proxy(n, tracer))
                kwargs = map_arg(node.kwargs, lambda n: Proxy(n, tracer))
                out = m.act(*args, **kwargs)
                node.replace_all_uses_with(out.node)
                m.graph.erase_node(node)
    m.recompile()
    print(m.code)
    print(m(torch.tensor([-2.0, 3.0])))
    ''')


def test_custom_tracers_wrap_and_tables():
    out = same_as_pytorch('''
    import torch
    import torch.fx
    from torch.fx import Tracer, symbolic_trace

    def scaled(x, k):
        return x * k
    torch.fx.wrap('scaled')
    torch.fx.wrap('len')

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.relu = torch.nn.ReLU()
            self.drop = torch.nn.Dropout(0.25)

        def forward(self, x):
            return scaled(self.drop(self.relu(x)), 2) + len(x)

    class LowerTracer(Tracer):
        def is_leaf_module(self, m, qualname):
            if isinstance(m, (torch.nn.ReLU, torch.nn.Dropout)):
                return False
            return super().is_leaf_module(m, qualname)

    class TaggingTracer(Tracer):
        def create_node(self, kind, target, args, kwargs, name=None, type_expr=None):
            n = super().create_node(kind, target, args, kwargs, name)
            n.tag = kind.upper()
            return n

    gm = symbolic_trace(M())
    print(gm.code)
    print(gm(torch.ones(2)))
    graph = LowerTracer().trace(M())
    print(graph)
    print([n.tag for n in TaggingTracer().trace(M()).nodes])
    ''')
    assert 'wrap("__main___scaled")' in out


TABLE = """\
opcode         name    target                   args        kwargs
-------------  ------  -----------------------  ----------  ---------------------------
placeholder    x       x                        ()          {}
call_module    relu    relu                     (x,)        {}
call_method    sum_1   sum                      (relu,)     {'dim': 0, 'keepdim': True}
call_function  add     <built-in function add>  (sum_1, 1)  {}
output         output  output                   (add,)      {}
"""


def test_print_tabular_is_tabulates_layout():
    """PyTorch's print_tabular needs the ``tabulate`` package; ember prints its layout without it (TABLE
    is what PyTorch 2.13 prints with tabulate 0.10 installed)."""
    src = '''
    import torch
    from torch.fx import symbolic_trace
    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.relu = torch.nn.ReLU()
        def forward(self, x):
            return self.relu(x).sum(dim=0, keepdim=True) + 1
    symbolic_trace(M()).graph.print_tabular()
    '''
    got = run_as(src, ember)
    assert got == TABLE
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return
    assert got == run_as(src, torch)


def test_interpreter_and_transformer():
    same_as_pytorch('''
    import torch
    import torch.fx as fx

    def fn(x):
        return torch.cat([x, x.relu()]) + 1

    class Swap(fx.Transformer):
        def call_function(self, target, args, kwargs):
            if target == torch.cat:
                return torch.stack(*args, **kwargs)
            return super().call_function(target, args, kwargs)

        def call_method(self, target, args, kwargs):
            if target == 'relu':
                return torch.sigmoid(*args, **kwargs)
            return super().call_method(target, args, kwargs)

    tr = Swap(fx.symbolic_trace(fn)).transform()
    print(tr.code)
    print(tr(torch.tensor([0.0, 1.0])))

    class Negate(fx.Interpreter):
        def call_function(self, target, args, kwargs):
            return -super().call_function(target, args, kwargs)

    print(Negate(fx.symbolic_trace(fn)).run(torch.tensor([1.0, -1.0])))
    ''')


def test_trace_errors_are_pytorchs():
    same_as_pytorch('''
    import torch
    import torch.fx as fx

    def branch(x):
        if x.sum() > 0:
            return x
        return -x

    def loop(x):
        for v in x:
            pass
        return x

    def length(x):
        return len(x)

    def unpack(x):
        a, b = x
        return a + b

    for f in (branch, loop, length):
        try:
            fx.symbolic_trace(f)
        except Exception as e:
            print(type(e).__name__, e)
    print(fx.symbolic_trace(unpack).code)
    ''')


def test_subgraph_rewriter_and_invert():
    same_as_pytorch('''
    import torch
    import torch.fx as fx
    from torch.fx import symbolic_trace, replace_pattern

    class M(torch.nn.Module):
        def forward(self, x, w1, w2):
            m1 = torch.cat([torch.neg(w1), w2]).sum()
            m2 = torch.cat([torch.neg(w1), w2]).sum()
            return x + torch.max(m1) + torch.max(m2)

    def pattern(a1, a2):
        return torch.cat([torch.neg(a1), a2]).sum()

    def replacement(w1, w2):
        return torch.stack([w1, w2])

    traced = symbolic_trace(M())
    matches = replace_pattern(traced, pattern, replacement)
    print(len(matches), [m.anchor.name for m in matches])
    print(traced.code)
    print(traced(torch.tensor(1.0), torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0])))

    inverse = {torch.exp: torch.log, torch.tan: torch.arctan}

    def f(x):
        return torch.exp(torch.tan(x))

    g = symbolic_trace(f)
    new = fx.Graph()
    env = {}
    for node in reversed(g.graph.nodes):
        if node.op == 'call_function':
            env[node.args[0].name] = new.call_function(inverse[node.target], (env[node.name],))
        elif node.op == 'output':
            env[node.args[0].name] = new.placeholder(node.name)
        else:
            new.output(env[node.name])
    new.lint()
    res = fx.GraphModule(g, new)
    print(res.code)
    print(f(res(torch.arange(5) + 1)))
    ''')


EXAMPLE = '''
import operator
from enum import Enum, auto

import torch
import torch.fx
from torch.fx import GraphModule, Proxy, symbolic_trace


def lowp_sigmoid(x):
    return x.double().sigmoid().float()


torch.fx.wrap(lowp_sigmoid)


class Foo(torch.nn.Module):
    def forward(self, x, y):
        return lowp_sigmoid(x) * lowp_sigmoid(y)


traced = symbolic_trace(Foo())
print(traced.code)
for node in traced.graph.nodes:
    if node.op == 'call_function' and node.target is lowp_sigmoid:
        tracer = torch.fx.proxy.GraphAppendingTracer(node.graph)
        with node.graph.inserting_before(node):
            args = torch.fx.node.map_arg(node.args, lambda a: torch.fx.Proxy(a, tracer))
            out = node.target(*args)
            node.replace_all_uses_with(out.node)
            node.graph.erase_node(node)
traced.recompile()
print(traced.code)


class Act(Enum):
    RELU = auto()
    TANH = auto()


acts = {Act.RELU: torch.nn.ReLU(), Act.TANH: torch.nn.Tanh()}


class Cat(torch.nn.Module):
    def forward(self, x, y):
        return torch.cat([x, y])


m = symbolic_trace(Cat())
out_node = next(n for n in reversed(m.graph.nodes) if n.op == 'output')
wrap_node = out_node.all_input_nodes[0]
act = symbolic_trace(acts[Act.TANH])
with m.graph.inserting_after(wrap_node):
    out_node.args = (act(Proxy(wrap_node)).node,)
m.recompile()
print(m.code)
x, y = torch.randn(2, 3), torch.randn(2, 3)
torch.testing.assert_close(m(x, y), torch.tanh(torch.cat([x, y])))
print('ok')
'''


def test_example_style_script_under_ember_run(tmp_path):
    """A script in the style of pytorch/examples' fx tutorials runs unmodified under ``ember run`` and
    prints what PyTorch prints."""
    script = tmp_path / 'fx_example.py'
    script.write_text(EXAMPLE)
    env = dict(os.environ, PYTHONPATH=ROOT)
    r = subprocess.run([sys.executable, '-m', 'ember', 'run', str(script)], capture_output=True, text=True,
                       env=env, cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout == run_as(EXAMPLE, torch)  # PyTorch's output, run in this process
    assert 'wrap("__main___lowp_sigmoid")' in r.stdout and r.stdout.endswith('ok\n')


RESNET_NODES = (
    'x conv1 bn1 relu maxpool '
    + ' '.join(f'layer{i}_{j}_conv1 layer{i}_{j}_bn1 layer{i}_{j}_relu layer{i}_{j}_conv2 layer{i}_{j}_bn2 '
               + (f'layer{i}_0_downsample_0 layer{i}_0_downsample_1 ' if i > 1 and j == 0 else '')
               + f'add_{2 * (i - 1) + j} layer{i}_{j}_relu_1'
               for i in range(1, 5) for j in range(2)).replace(' add_0 ', ' add ')
    + ' avgpool flatten fc output').split()


def test_module_path_tracer_on_resnet18():
    """pytorch/examples' module_tracer: node names and originating modules of torchvision's ResNet-18
    (the names PyTorch prints, from that example; torchvision cannot be installed beside PyTorch here)."""
    from ember.vision.models import resnet18

    class ModulePathTracer(ember.fx.Tracer):
        current = ''
        origin = {}

        def call_module(self, m, forward, args, kwargs):
            old = self.current
            try:
                self.current = self.path_of_module(m)
                return super().call_module(m, forward, args, kwargs)
            finally:
                self.current = old

        def create_proxy(self, kind, target, args, kwargs, name=None, type_expr=None):
            proxy = super().create_proxy(kind, target, args, kwargs, name, type_expr)
            self.origin[proxy.node] = self.current
            return proxy

    tracer = ModulePathTracer()
    graph = tracer.trace(resnet18())
    nodes = list(graph.nodes)
    assert [n.name for n in nodes] == RESNET_NODES
    origins = {n.name: tracer.origin.get(n) for n in nodes}
    assert origins['x'] == '' and origins['flatten'] == '' and origins['output'] is None
    assert origins['add_2'] == 'layer2.0' and origins['layer2_0_downsample_1'] == 'layer2.0.downsample.1'
    assert origins['layer4_1_relu_1'] == 'layer4.1.relu'


def test_tensor_op_proxy_records_a_method_call():
    same_as_pytorch('''
    import torch
    import torch.fx as fx

    def f(x, y):
        t = torch.ones(3)
        return torch.add(t + x, t * y, alpha=2).mean(0) + x.size()[0]

    gm = fx.symbolic_trace(f)
    print(gm.code)
    print(gm(torch.ones(3), torch.ones(3)))
    ''')


def test_plain_calls_are_unchanged_after_importing_fx():
    import ember.fx  # noqa: F401
    a = ember.tensor([1.0, -2.0])
    assert ember.relu(a).tolist() == [1.0, 0.0]
    assert ember.nn.functional.relu(a, inplace=False).tolist() == [1.0, 0.0]
    from ember._builtin import function   # (torch.cat is a builtin: its dispatching wrapper is behind it)
    assert ember.relu.__name__ == 'relu' and function(ember.cat).__wrapped__.__name__ == 'cat'
    np.testing.assert_array_equal(ember.cat([a, a]).numpy(), np.array([1.0, -2.0, 1.0, -2.0], np.float32))
    with pytest.raises(TypeError):
        ember.relu('x')
