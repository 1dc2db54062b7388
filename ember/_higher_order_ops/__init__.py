"""``torch._higher_order_ops``: the control-flow operators (cond, while_loop, scan, map, associative_scan), run
eagerly (see ember/_control_flow.py); each also has its submodule, as the control-flow tutorial imports them."""
from .._control_flow import associative_scan, cond, map, scan, while_loop  # noqa: A004

__all__ = ['cond', 'while_loop', 'scan', 'map', 'associative_scan']
