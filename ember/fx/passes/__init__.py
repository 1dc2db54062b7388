"""``torch.fx.passes``: the graph passes programs import from fx (``shape_prop.ShapeProp``)."""
from . import graph_drawer, shape_prop  # noqa: F401

__all__ = ["graph_drawer", "shape_prop"]
