"""``torch.fx``: symbolic tracing of Modules into Graphs of Nodes, Python code generated from them
(GraphModule), graph editing, ``Interpreter``/``Transformer`` and the subgraph rewriter, as in PyTorch.

Importing it makes the torch functions record nodes when called on Proxies (see ``_dispatch``)."""
from . import _dispatch
from .graph import CodeGen, Graph  # noqa: F401
from .graph_module import GraphModule
from .interpreter import Interpreter, Transformer
from .node import Node, has_side_effect, map_arg
from .proxy import Proxy
from ._symbolic_trace import PH, Tracer, symbolic_trace, wrap  # noqa: F401
from .subgraph_rewriter import replace_pattern
from . import node, proxy, graph, graph_module, interpreter, subgraph_rewriter  # noqa: F401 (torch.fx.node...)

_dispatch.install()

__all__ = ["symbolic_trace", "Tracer", "wrap", "Graph", "GraphModule", "Interpreter", "Transformer", "Node",
           "Proxy", "replace_pattern", "has_side_effect", "map_arg"]

