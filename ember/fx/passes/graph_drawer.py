"""``torch.fx.passes.graph_drawer``: importable, as scripts import it at the top. Drawing needs pydot: without it
``FxGraphDrawer`` raises PyTorch's RuntimeError; with it, ember does not draw graphs yet and says so."""
import importlib.util

__all__ = ['FxGraphDrawer']


class FxGraphDrawer:
    """Would render a GraphModule with graphviz; refuses as PyTorch does without pydot."""

    def __init__(self, graph_module, name, ignore_getattr=False, ignore_parameters_and_buffers=False,
                 skip_node_names_in_args=True, parse_stack_trace=False, dot_graph_shape=None, normalize_args=False):
        if importlib.util.find_spec('pydot') is None:
            raise RuntimeError('FXGraphDrawer requires the pydot package to be installed. Please install '
                               'pydot through your favorite Python package manager.')
        raise NotImplementedError('torch.fx.passes.graph_drawer.FxGraphDrawer is not supported by ember yet (ember '
                                  'does not draw fx graphs); print(graph_module.graph) shows the same nodes')
