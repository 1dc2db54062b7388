"""``torch.fx.experimental.proxy_tensor``: ``get_proxy_mode``, which libraries ask to learn whether they are
being traced by ``make_fx`` (kornia skips its early-stopping reads then)."""


def get_proxy_mode():
    """None: ember's fx traces through ``symbolic_trace`` only, never under a proxy dispatch mode."""
    return None
