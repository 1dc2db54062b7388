"""``torch._subclasses.fake_tensor``: ``is_fake``, which libraries call to skip work on traced tensors, and the
fake-tensor mode that nnsight's ``scan`` runs a forward under and the converter torchtune imports (both refused:
ember has no fake tensors) with ``unset_fake_temporarily``, which nnsight enters around real work."""
import contextlib


def is_fake(x):
    """False: ember has no fake (shape-only) tensors, so no object is one (PyTorch's answer for real tensors)."""
    return False


class FakeTensorMode:
    """PyTorch's mode making every tensor a fake one (shapes and dtypes, no data); refused when made, naming it
    and the meta device, which gives shapes without data in ember."""
    def __init__(self, *args, **kwargs):
        raise NotImplementedError(
            'torch._subclasses.fake_tensor.FakeTensorMode is not supported by ember (it has no fake tensors); '
            "build and run the model on the meta device (with torch.device('meta'): ...) for shapes without data")


class FakeTensorConverter:
    """PyTorch's converter of real tensors to fake ones (torchtune's low-RAM state-dict hook imports it); refused
    when made, as FakeTensorMode is."""
    def __init__(self, *args, **kwargs):
        raise NotImplementedError(
            'torch._subclasses.fake_tensor.FakeTensorConverter is not supported by ember (it has no fake tensors); '
            "build and run the model on the meta device (with torch.device('meta'): ...) for shapes without data")


@contextlib.contextmanager
def unset_fake_temporarily():
    """Set aside the active fake mode for the block, yielding it: None, as no fake mode is ever active in ember
    (PyTorch's answer outside one)."""
    yield None
