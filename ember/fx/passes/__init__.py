"""``torch.fx.passes``: the graph passes programs import from fx (``shape_prop.ShapeProp``)."""
from . import shape_prop  # noqa: F401

__all__ = ['shape_prop']
