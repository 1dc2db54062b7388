"""Pictures of the backward graph: ``draw(y)`` walks ``y.grad_fn`` and returns a ``Graph`` that prints
as Graphviz DOT text, renders to SVG/PNG when Graphviz's ``dot`` is installed, and shows in Jupyter.

Leaves (tensors whose ``.grad`` backward fills) are light blue, backward nodes grey, tensors saved for
backward orange and the output green, as torchviz draws them. Arrows follow the forward computation.
"""
import os
import shutil
import subprocess
import warnings
from collections import deque
from typing import NamedTuple

from .autograd.graph import PACKED

__all__ = ['draw', 'make_dot', 'Graph', 'GraphNode', 'GraphEdge', 'GraphvizNotFound', 'has_dot']

COLORS = {'leaf': 'lightblue', 'op': 'lightgrey', 'saved': 'orange', 'output': 'darkolivegreen1'}
LEGEND = ('light blue: leaf tensors (backward fills their .grad)   grey: backward nodes (grad_fn)\\l'
          'orange: tensors saved for backward   green: output   arrows: forward direction\\l')
INSTALL_HINT = ('install Graphviz to get pictures (Debian/Ubuntu: apt-get install graphviz, macOS: '
                'brew install graphviz, conda: conda install graphviz)')


class GraphvizNotFound(RuntimeError):
    """Raised when an image is asked for but Graphviz's ``dot`` program is not on PATH."""


class GraphNode(NamedTuple):
    """One box of the picture; ``kind`` is 'leaf', 'op', 'saved' or 'output'."""
    id: str
    kind: str
    label: str
    shape: tuple = None
    requires_grad: bool = None
    name: str = None


class GraphEdge(NamedTuple):
    """An arrow ``src -> dst``; ``kind`` is 'input' (gradient path), 'saved' or 'output'."""
    src: str
    dst: str
    kind: str = 'input'
    label: str = ''


def has_dot():
    """Whether Graphviz's ``dot`` program is installed (needed for SVG/PNG, not for DOT text)."""
    return shutil.which('dot') is not None


def draw(y, params=None, show_saved=True, legend=True, rankdir='TB'):
    """The backward graph of tensor ``y`` (or of several tensors, or of a ``grad_fn`` node) as a ``Graph``.

    ``params`` names tensors: a dict name -> tensor such as ``dict(model.named_parameters())``, pairs, or
    a module. ``show_saved`` adds the tensors each node saved for backward.
    """
    walker = _Walker(_param_names(params), show_saved)
    roots = y if isinstance(y, (tuple, list)) else [y]
    for i, root in enumerate(roots):
        walker.add_root(root, 'output' if len(roots) == 1 else f'output {i}')
    return Graph(walker.nodes, walker.edges, legend=legend, rankdir=rankdir)


def make_dot(var, params=None, show_attrs=False, show_saved=False, max_attr_chars=50):
    """torchviz's ``make_dot`` spelling of ``draw`` (``show_attrs``/``max_attr_chars`` are accepted, unused)."""
    return draw(var, params=params, show_saved=show_saved)


def _param_names(params):
    """id(tensor) -> name from a dict, an iterable of (name, tensor) pairs, or a module."""
    if params is None:
        return {}
    if hasattr(params, 'named_parameters'):
        params = params.named_parameters()
    items = params.items() if hasattr(params, 'items') else params
    return {id(t): name for name, t in items}


def _shape_str(shape):
    return '(' + ', '.join(str(int(s)) for s in shape) + ')'


def _dtype_note(arr):
    """A third label line for unusual dtypes (float32 is the default and goes unsaid)."""
    return '' if arr.dtype.name == 'float32' else '\n' + arr.dtype.name


class _Walker:
    """Builds the node and edge lists by a breadth-first walk of ``next_functions``."""

    def __init__(self, names, show_saved):
        self.names, self.show_saved = names, show_saved
        self.nodes, self.edges, self.ids, self.walked, self.saved_edges = [], [], {}, set(), set()

    def _new(self, key, kind, label, **info):
        """The id of the box for ``key``, created on first sight."""
        if key not in self.ids:
            self.ids[key] = f'n{len(self.ids)}'
            self.nodes.append(GraphNode(self.ids[key], kind, label, **info))
        return self.ids[key]

    def add_root(self, root, default_name):
        """Add an output tensor (or a bare grad_fn node) and everything its backward reaches."""
        if hasattr(root, 'next_functions'):
            self._node(root)
            self._walk(root)
            return
        name = self.names.get(id(root), default_name)
        label = f'{name}\n{_shape_str(root.shape)}{_dtype_note(root._data)}'
        out = self._new(('out', id(root)), 'output', label, shape=tuple(root.shape),
                        requires_grad=root.requires_grad, name=name)
        fn = root.grad_fn
        if fn is not None:
            self.edges.append(GraphEdge(self._node(fn), out, 'output', _port(fn, root._output_nr)))
            self._walk(fn)

    def _walk(self, start):
        queue = deque([start] if id(start) not in self.walked else [])
        self.walked.add(id(start))
        while queue:
            fn = queue.popleft()
            if self.show_saved:
                self._add_saved(fn)
            for child, nr in fn.next_functions:
                if child is None:
                    continue
                self.edges.append(GraphEdge(self._node(child), self.ids[id(fn)], 'input', _port(child, nr)))
                if id(child) not in self.walked:
                    self.walked.add(id(child))
                    queue.append(child)

    def _node(self, fn):
        """The box of a grad_fn node, or of the leaf tensor behind an AccumulateGrad."""
        var = getattr(fn, 'variable', None)
        if var is not None:
            name = self.names.get(id(var))
            label = (f'{name}\n' if name else '') + _shape_str(var.shape)
            return self._new(id(fn), 'leaf', label, shape=tuple(var.shape), requires_grad=var.requires_grad,
                             name=name)
        label = type(fn).__name__
        if self.show_saved and fn._saved is None:
            label += '\n(saved tensors freed)'
        return self._new(id(fn), 'op', label)

    def _add_saved(self, fn):
        """Orange boxes for the tensors ``fn`` saved for backward, joined to it by one dashed line each."""
        for entry in fn._saved or ():
            if entry is None or entry[0] is PACKED:     # a saved-tensor hook holds it: nothing to draw
                continue
            obj = entry[0]
            arr = obj if len(entry) == 4 else obj._data
            name = self.names.get(id(obj), 'result' if len(entry) == 4 else None)
            label = f"saved{' ' + name if name else ''}\n{_shape_str(arr.shape)}{_dtype_note(arr)}"
            edge = GraphEdge(self._new(('saved', id(obj)), 'saved', label, shape=tuple(arr.shape), name=name),
                             self.ids[id(fn)], 'saved')
            if edge not in self.saved_edges:
                self.saved_edges.add(edge)
                self.edges.append(edge)


def _port(fn, nr):
    """Label an arrow with the output number when its node has several outputs."""
    return str(nr) if getattr(fn, '_n_out', 1) > 1 else ''


def _quote(text):
    """A DOT double-quoted string (newlines become DOT line breaks)."""
    text = text.replace('\\', '\\\\').replace('"', '\\"')
    return '"' + text.replace('\n', '\\n') + '"'


class Graph:
    """A drawn backward graph: ``nodes`` and ``edges`` lists, ``.source`` DOT text, ``render``/``pipe``
    images through Graphviz, and inline display in Jupyter (the picture, or the DOT text without dot)."""

    format = 'png'

    def __init__(self, nodes, edges, legend=True, rankdir='TB'):
        self.nodes, self.edges = list(nodes), list(edges)
        self.legend, self.rankdir = legend, rankdir

    def _kind(self, kind):
        return [n for n in self.nodes if n.kind == kind]

    @property
    def leaves(self):
        return self._kind('leaf')

    @property
    def ops(self):
        return self._kind('op')

    @property
    def saved(self):
        return self._kind('saved')

    @property
    def outputs(self):
        return self._kind('output')

    @property
    def source(self):
        """The graph as Graphviz DOT text."""
        lines = ['digraph ember {', self._graph_attrs(),
                 '    node [style=filled shape=box align=left fontsize=10 height=0.2 fontname=monospace]']
        lines += [f'    {n.id} [label={_quote(n.label)} fillcolor={COLORS[n.kind]}]' for n in self.nodes]
        lines += [self._edge_line(e) for e in self.edges]
        return '\n'.join(lines + ['}']) + '\n'

    def _graph_attrs(self):
        attrs = f'size="12,12" rankdir={self.rankdir} ranksep=0.2'
        if self.legend:
            attrs += f' label="{LEGEND}" labelloc=b labeljust=l fontsize=9 fontname=Helvetica'
        return f'    graph [{attrs}]'

    @staticmethod
    def _edge_line(e):
        attrs = ['style=dashed color=darkorange3 dir=none'] if e.kind == 'saved' else []
        if e.label:
            attrs.append(f'label={_quote(e.label)} fontsize=8')
        return f'    {e.src} -> {e.dst}' + (f' [{" ".join(attrs)}]' if attrs else '')

    def __str__(self):
        return self.source

    def __repr__(self):
        return (f'<ember.viz.Graph: {len(self.leaves)} leaves, {len(self.ops)} backward nodes, '
                f'{len(self.saved)} saved tensors, {len(self.edges)} edges; .source for DOT text>')

    def pipe(self, format='svg'):
        """The graph rendered by ``dot -T<format>`` as bytes; GraphvizNotFound without Graphviz."""
        dot = shutil.which('dot')
        if dot is None:
            raise GraphvizNotFound(f"Graphviz's dot program was not found: {INSTALL_HINT}")
        done = subprocess.run([dot, f'-T{format}'], input=self.source.encode(), capture_output=True)
        if done.returncode != 0:
            raise RuntimeError(f'dot -T{format} failed: {done.stderr.decode(errors="replace").strip()}')
        return done.stdout

    def save(self, path):
        """Write the DOT text to ``path``; returns ``path``."""
        with open(path, 'w', encoding='utf-8') as f:
            f.write(self.source)
        return path

    def render(self, path, format=None):
        """Write an image (``format`` or the path's suffix, default png) and return its path. Without
        Graphviz the DOT text goes to ``<path>.dot`` instead, with a warning saying so."""
        stem, suffix = os.path.splitext(path)
        format = format or suffix[1:] or self.format
        if suffix[1:] != format:
            stem = path
        if format == 'dot' or not has_dot():
            if format != 'dot':
                warnings.warn(f"Graphviz's dot program was not found, so {stem}.dot holds the graph as "
                              f'DOT text instead of a {format} picture: {INSTALL_HINT}', stacklevel=2)
            return self.save(stem + '.dot')
        out = f'{stem}.{format}'
        with open(out, 'wb') as f:
            f.write(self.pipe(format))
        return out

    def _repr_svg_(self):
        return self.pipe('svg').decode() if has_dot() else None

    def _repr_markdown_(self):
        return None if has_dot() else f'{self._note()}\n\n```dot\n{self.source}```\n'

    def _repr_html_(self):
        if has_dot():
            return None
        import html
        return f'<p>{html.escape(self._note())}</p><pre>{html.escape(self.source)}</pre>'

    def _repr_mimebundle_(self, include=None, exclude=None):
        """Jupyter's display: the SVG picture with Graphviz, the DOT text with a note without it."""
        if has_dot():
            return {'image/svg+xml': self._repr_svg_(), 'text/plain': repr(self)}
        return {'text/html': self._repr_html_(), 'text/markdown': self._repr_markdown_(),
                'text/plain': self.source}

    @staticmethod
    def _note():
        return f"Graphviz's dot program was not found, so here is the graph as DOT text: {INSTALL_HINT}."
