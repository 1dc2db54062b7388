"""``torch._subclasses.fake_tensor``: ``is_fake``, which libraries call to skip work on traced tensors."""


def is_fake(x):
    """False: ember has no fake (shape-only) tensors, so no object is one (PyTorch's answer for real tensors)."""
    return False
