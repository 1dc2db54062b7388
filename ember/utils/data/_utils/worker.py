"""``torch.utils.data._utils.worker``: the worker-side names programs import from PyTorch's private path
(tensordict's ``_generate_state``, older code's ``get_worker_info``/``WorkerInfo``)."""
from .._worker import (ExceptionWrapper, MP_STATUS_CHECK_INTERVAL, WorkerInfo,  # noqa: F401 (torch's names)
                       get_worker_info, numpy_seed)


def _generate_state(base_seed, worker_id):
    """The four 32-bit words PyTorch seeds a worker's NumPy with, as a list of ints (PyTorch's return type)."""
    return [int(w) for w in numpy_seed(base_seed, worker_id)]
