"""``replace_pattern``: find every non-overlapping occurrence of a pattern function's graph in a
GraphModule (by data dependencies, not names) and replace it by a replacement function's graph."""
from collections import namedtuple

from .graph import Graph
from .graph_module import GraphModule
from .node import Node

Match = namedtuple("Match", ["anchor", "nodes_map"])


def _pattern_graph(fn):
    from ._symbolic_trace import symbolic_trace
    if isinstance(fn, GraphModule):
        return fn.graph
    if isinstance(fn, Graph):
        return fn
    return symbolic_trace(fn).graph


class _Matcher:
    """Matches a pattern graph whose output returns one node, anchored at that node."""

    def __init__(self, pattern):
        self.pattern = pattern
        self.placeholders = [n for n in pattern.nodes if n.op == "placeholder"]
        out = pattern.output_node()
        self.returning = out.args[0] if isinstance(out.args[0], (list, tuple)) else [out.args[0]]

    def match_at(self, anchor_candidates):
        nodes_map = {}
        if not all(self._match(pn, gn, nodes_map) for pn, gn in zip(self.returning, anchor_candidates)):
            return None
        internal = [pn for pn in nodes_map if pn.op not in ("placeholder", "output")]
        matched = {nodes_map[pn] for pn in internal}
        returning = {nodes_map[pn] for pn in self.returning}
        for pn in internal:
            gn = nodes_map[pn]
            if gn not in returning and any(u not in matched for u in gn.users):
                return None  # an intermediate value is used outside the match
        return nodes_map

    def _match(self, pn, gn, nodes_map):
        if isinstance(pn, Node):
            if pn in nodes_map:
                return nodes_map[pn] is gn
            if pn.op == "placeholder":
                if gn in nodes_map.values():
                    return False
                nodes_map[pn] = gn
                return True
            if not isinstance(gn, Node) or gn.op != pn.op or gn.target != pn.target \
                    or len(pn.args) != len(gn.args) or set(pn.kwargs) != set(gn.kwargs):
                return False
            if gn in nodes_map.values():
                return False
            nodes_map[pn] = gn
            ok = all(self._match(a, b, nodes_map) for a, b in zip(pn.args, gn.args)) and \
                all(self._match(pn.kwargs[k], gn.kwargs[k], nodes_map) for k in pn.kwargs)
            if not ok:
                del nodes_map[pn]
            return ok
        if isinstance(pn, (list, tuple)):
            return isinstance(gn, (list, tuple)) and len(pn) == len(gn) and \
                all(self._match(a, b, nodes_map) for a, b in zip(pn, gn))
        return type(pn) is type(gn) and pn == gn


def replace_pattern(gm, pattern, replacement):
    """Replace each match of ``pattern`` in ``gm`` by ``replacement`` (callables, traced, or Graphs /
    GraphModules) and recompile ``gm``; returns the Matches (anchor and pattern-to-graph node map)."""
    pattern_graph = _pattern_graph(pattern)
    replacement_graph = _pattern_graph(replacement)
    matcher = _Matcher(pattern_graph)
    graph = gm.graph
    matches, used = [], set()
    if len(matcher.returning) != 1:
        raise NotImplementedError("replace_pattern supports patterns that return one value")
    for node in graph.nodes:
        nodes_map = matcher.match_at([node])
        if nodes_map is None:
            continue
        internal = {nodes_map[pn] for pn in nodes_map if pn.op != "placeholder"}
        if internal & used:
            continue
        used |= internal
        matches.append(Match(anchor=matcher.returning[0], nodes_map=nodes_map))  # the pattern's node, as PyTorch
    replacement_placeholders = [n for n in replacement_graph.nodes if n.op == "placeholder"]
    for match in matches:
        val_map = {rn: match.nodes_map[pn] for rn, pn in zip(replacement_placeholders, matcher.placeholders)}
        returning = match.nodes_map[matcher.returning[0]]
        users = [n for n in graph.nodes if n in returning.users]
        insert_point = users[0] if users else returning.next
        with graph.inserting_before(insert_point):
            copied = graph.graph_copy(replacement_graph, val_map)
        if isinstance(copied, (list, tuple)):
            copied = copied[0]
        returning.replace_all_uses_with(copied)
        for pn in reversed(pattern_graph.nodes):
            if pn.op not in ("placeholder", "output"):
                graph.erase_node(match.nodes_map[pn])
    gm.recompile()
    return matches


__all__ = ["replace_pattern", "Match"]

