"""``torch._higher_order_ops.map``."""
from .._control_flow import map  # noqa: F401,A004
