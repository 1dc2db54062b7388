"""ember.viz: the backward graph as data and DOT text (always), rendered by Graphviz's dot (when
installed), and shown in Jupyter. Op names are checked against PyTorch's graph of the same code."""
import re
import shutil
import subprocess

import pytest
import torch

import ember
from ember import nn, viz

needs_dot = pytest.mark.skipif(shutil.which('dot') is None,
                               reason="Graphviz's dot is not installed (apt-get install graphviz)")


def torch_op_names(fn):
    """Names of every grad_fn node PyTorch records below ``fn`` (AccumulateGrad excluded)."""
    seen, stack, names = set(), [fn], set()
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        if type(node).__name__ != 'AccumulateGrad':
            names.add(type(node).__name__)
        stack.extend(n for n, _ in node.next_functions)
    return names


def course_example(lib):
    """The course's first graph: y = w*x + b with three scalar leaves."""
    x = lib.tensor(4., requires_grad=True)
    w = lib.tensor(2., requires_grad=True)
    b = lib.tensor(3., requires_grad=True)
    return w * x + b, {'x': x, 'w': w, 'b': b}


def by_id(graph):
    return {n.id: n for n in graph.nodes}


def edge_labels(graph, kind=None):
    """(source label, target label) of the edges, optionally of one kind."""
    nodes = by_id(graph)
    return [(nodes[e.src].label, nodes[e.dst].label) for e in graph.edges if kind in (None, e.kind)]


def test_course_example_structure():
    y, params = course_example(ember)
    g = viz.draw(y, params)
    assert sorted((n.name, n.shape, n.requires_grad) for n in g.leaves) == [
        ('b', (), True), ('w', (), True), ('x', (), True)]
    assert [n.label for n in g.ops] == ['AddBackward0', 'MulBackward0']
    assert {n.label for n in g.ops} == torch_op_names(course_example(torch)[0].grad_fn)
    assert [n.label for n in g.outputs] == ['output\n()']
    assert sorted(edge_labels(g, 'input')) == [('MulBackward0', 'AddBackward0'), ('b\n()', 'AddBackward0'),
                                               ('w\n()', 'MulBackward0'), ('x\n()', 'MulBackward0')]
    assert edge_labels(g, 'output') == [('AddBackward0', 'output\n()')]
    assert sorted(edge_labels(g, 'saved')) == [('saved w\n()', 'MulBackward0'), ('saved x\n()', 'MulBackward0')]


def test_course_example_dot_text():
    y, params = course_example(ember)
    src = viz.draw(y, params).source
    assert src.startswith('digraph ember {') and src.rstrip().endswith('}')
    assert str(viz.draw(y, params)) == src
    assert src.count('->') == 7 and src.count('style=dashed') == 2
    for label, color in [('x\\n()', 'lightblue'), ('w\\n()', 'lightblue'), ('b\\n()', 'lightblue'),
                         ('MulBackward0', 'lightgrey'), ('AddBackward0', 'lightgrey'),
                         ('saved w\\n()', 'orange'), ('output\\n()', 'darkolivegreen1')]:
        assert re.search(rf'n\d+ \[label="{re.escape(label)}" fillcolor={color}\]', src), label


def test_without_saved_or_legend():
    y, params = course_example(ember)
    g = viz.draw(y, params, show_saved=False, legend=False)
    assert g.saved == [] and len(g.edges) == 5
    assert g.source.count('->') == 5 and 'label="light blue' not in g.source
    assert viz.make_dot(y, params).source == viz.draw(y, params, show_saved=False).source


def test_leaf_without_names_shows_shape():
    a = ember.ones(2, 3, requires_grad=True)
    g = viz.draw((a * 2).sum())
    assert [(n.label, n.name, n.shape) for n in g.leaves] == [('(2, 3)', None, (2, 3))]
    assert [n.label for n in g.ops] == ['SumBackward0', 'MulBackward0']


def test_model_loss_with_named_parameters():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x, target = ember.randn(5, 3), ember.tensor([0, 1, 1, 0, 1])
    loss = nn.CrossEntropyLoss()(model(x), target)
    g = viz.draw(loss, dict(model.named_parameters(), x=x, target=target, loss=loss))
    params = dict(model.named_parameters())
    assert {n.name: n.shape for n in g.leaves} == {k: tuple(p.shape) for k, p in params.items()}
    assert all(n.requires_grad for n in g.leaves)
    assert [n.label for n in g.outputs] == ['loss\n()']
    saved = {n.label for n in g.saved}
    assert 'saved x\n(5, 3)' in saved and 'saved target\n(5)\nint64' in saved
    leaf_ids = {n.id for n in g.leaves}
    assert sorted(e.kind for e in g.edges if e.src in leaf_ids) == ['input'] * 4
    assert {n.label for n in g.ops} >= {'ReluBackward0', 'NllLossBackward0'}


def test_multi_output_node_labels_its_outputs():
    a = ember.randn(4, 6, requires_grad=True)
    left, right = a.split(3, dim=1)
    g = viz.draw((left * right).sum())
    assert [n.label for n in g.ops].count('SplitBackward0') == 1
    split = next(n.id for n in g.ops if n.label == 'SplitBackward0')
    assert sorted(e.label for e in g.edges if e.src == split) == ['0', '1']
    assert 'label="0" fontsize=8' in g.source and 'label="1" fontsize=8' in g.source
    assert all(e.label == '' for e in g.edges if e.src != split)


def test_shared_nodes_are_drawn_once():
    x = ember.tensor([1., 2.], requires_grad=True)
    h = x * x
    g = viz.draw([h + h, h.exp()], {'x': x})
    labels = [n.label for n in g.nodes]
    assert labels.count('MulBackward0') == 1 and labels.count('x\n(2)') == 1
    assert [n.label for n in g.outputs] == ['output 0\n(2)', 'output 1\n(2)']
    assert edge_labels(g, 'input').count(('x\n(2)', 'MulBackward0')) == 2
    assert edge_labels(g, 'input').count(('MulBackward0', 'AddBackward0')) == 2
    assert len(g.edges) == len(set(g.edges)) + 2
    assert 'saved result\n(2)' in labels


def test_released_graph_after_backward():
    y, params = course_example(ember)
    y.backward()
    g = viz.draw(y, params)
    assert [n.label for n in g.ops] == ['AddBackward0', 'MulBackward0\n(saved tensors freed)']
    assert g.saved == [] and len(g.edges) == 5 and len(g.leaves) == 3
    kept, params = course_example(ember)
    kept.backward(retain_graph=True)
    assert len(viz.draw(kept, params).saved) == 2


def test_drawing_a_grad_fn_and_a_plain_tensor():
    y, params = course_example(ember)
    g = viz.draw(y.grad_fn, params)
    assert g.outputs == [] and len(g.leaves) == 3 and len(g.edges) == 6
    plain = viz.draw(ember.zeros(2, 2))
    assert [(n.kind, n.label) for n in plain.nodes] == [('output', 'output\n(2, 2)')] and plain.edges == []


def test_custom_function_node_name():
    def make(lib):
        class Square(lib.autograd.Function):
            @staticmethod
            def forward(ctx, t):
                ctx.save_for_backward(t)
                return t * t

            @staticmethod
            def backward(ctx, g):
                (t,) = ctx.saved_tensors
                return 2 * t * g
        return Square.apply(lib.ones(3, requires_grad=True)).sum()
    g = viz.draw(make(ember))
    assert {n.label for n in g.ops} == torch_op_names(make(torch).grad_fn)
    assert [n.label for n in g.saved] == ['saved\n(3)']


def test_dot_quoting_of_odd_names():
    t = ember.ones(1, requires_grad=True)
    src = viz.draw(t * 3, {'a "quoted" \\ name': t}).source
    assert 'label="a \\"quoted\\" \\\\ name\\n(1)"' in src


def test_without_graphviz(monkeypatch, tmp_path):
    monkeypatch.setattr(viz.shutil, 'which', lambda name: None)
    y, params = course_example(ember)
    g = viz.draw(y, params)
    assert not viz.has_dot() and g._repr_svg_() is None
    bundle = g._repr_mimebundle_()
    assert g.source in bundle['text/markdown'] and 'Graphviz' in bundle['text/markdown']
    assert 'MulBackward0' in bundle['text/html'] and bundle['text/plain'] == g.source
    with pytest.raises(viz.GraphvizNotFound, match='apt-get install graphviz'):
        g.pipe('svg')
    with pytest.warns(UserWarning, match='DOT text instead of a png picture'):
        written = g.render(str(tmp_path / 'graph.png'))
    assert written == str(tmp_path / 'graph.dot') and (tmp_path / 'graph.dot').read_text() == g.source


def test_save_and_render_dot(tmp_path):
    y, params = course_example(ember)
    g = viz.draw(y, params)
    assert g.render(str(tmp_path / 'g'), format='dot') == str(tmp_path / 'g.dot')
    assert (tmp_path / 'g.dot').read_text() == g.source
    assert 'leaves' in repr(g) and '7 edges' in repr(g)


@needs_dot
def test_render_with_graphviz(tmp_path):
    y, params = course_example(ember)
    g = viz.draw(y, params)
    assert g.render(str(tmp_path / 'graph'), format='png') == str(tmp_path / 'graph.png')
    assert (tmp_path / 'graph.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert g.render(str(tmp_path / 'graph.svg')) == str(tmp_path / 'graph.svg')
    svg = g.pipe('svg').decode()
    assert '<svg' in svg and 'MulBackward0' in svg and svg.count('class="node"') == 8
    assert g._repr_svg_() == svg and g._repr_mimebundle_()['image/svg+xml'] == svg
    assert g._repr_markdown_() is None and g._repr_html_() is None


@needs_dot
def test_dot_accepts_every_graph():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 2))
    loss = model(ember.randn(2, 1, 4, 4)).sum()
    left, right = ember.randn(4, 6, requires_grad=True).split(3, dim=1)
    for g in [viz.draw(loss, model), viz.draw((left * right).sum()), viz.draw(ember.ones(1)),
              viz.draw(loss.grad_fn, show_saved=False, legend=False)]:
        done = subprocess.run(['dot', '-Tsvg'], input=g.source.encode(), capture_output=True)
        assert done.returncode == 0 and not done.stderr, done.stderr
