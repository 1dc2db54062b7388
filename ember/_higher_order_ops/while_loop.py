"""``torch._higher_order_ops.while_loop``."""
from .._control_flow import while_loop  # noqa: F401,A004
