"""``torch.distributed._functional_collectives``: the names library code imports at load time.

ember's collectives finish before they return (MPI, blocking), so ``wait_tensor`` has nothing to wait for
and gives back its tensor; the traced functional collectives are refused.
"""
from ..aliasing import unsupported_function


def wait_tensor(tensor):
    """Wait on a tensor a collective returned: ember's collectives are complete on return, so ``tensor``."""
    return tensor


all_to_all_single_autograd = unsupported_function(
    "torch.distributed._functional_collectives.all_to_all_single_autograd",
    "ember has no differentiable functional collectives; use torch.distributed.all_to_all_single")
