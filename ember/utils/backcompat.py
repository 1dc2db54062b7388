"""``torch.utils.backcompat``: the switches that once made PyTorch warn where broadcasting (``broadcast_warning``)
or the default of ``keepdim`` (``keepdim_warning``) changed a result from the pre-0.2 behaviour. PyTorch 2.13
still has them (notes/broadcasting.md sets one) but no op reads them any longer: they hold a flag, warn for
nothing, and ember's are the same."""

__all__ = ['Warning', 'broadcast_warning', 'keepdim_warning']


class Warning:  # noqa: A001  (PyTorch's name)
    """One switch: ``enabled`` (also ``get_enabled`` / ``set_enabled``), False until set."""

    def __init__(self):
        self._enabled = False

    def set_enabled(self, value):
        self._enabled = bool(value)

    def get_enabled(self):
        return self._enabled

    enabled = property(get_enabled, set_enabled)


broadcast_warning = Warning()
keepdim_warning = Warning()
