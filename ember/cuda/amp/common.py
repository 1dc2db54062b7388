"""``ember.cuda.amp.common`` (``torch.cuda.amp.common``)."""

__all__ = ['amp_definitely_not_available']


def amp_definitely_not_available():
    """True: ember has no CUDA (nor XLA), so CUDA autocast can never be on."""
    return True
