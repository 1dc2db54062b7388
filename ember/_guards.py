"""``torch._guards``: the queries libraries make to learn whether a forward runs under a fake-tensor mode (nnsight
skips loading real weights and reading mask values then); ember has no fake tensors, so the answer is None."""


def active_fake_mode():
    """The fake-tensor mode in force: None, as no fake mode is ever active in ember."""
    return None


def detect_fake_mode(inputs=None):
    """The fake-tensor mode of the tracing context, of the active modes or of fake tensors among ``inputs``: None
    in ember, which has none of them (PyTorch's answer for real tensors outside a fake mode)."""
    return None
