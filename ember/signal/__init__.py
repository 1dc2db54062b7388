"""``torch.signal``: signal-processing helpers; ``windows`` holds the window functions of ``torch.signal.windows``."""
from . import windows

__all__ = ['windows']
