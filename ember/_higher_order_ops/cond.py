"""``torch._higher_order_ops.cond``."""
from .._control_flow import cond  # noqa: F401,A004
