"""``torch._higher_order_ops.associative_scan``."""
from .._control_flow import associative_scan  # noqa: F401,A004
