"""``nn.LinearCrossEntropyOptions``: the settings of PyTorch's chunked linear_cross_entropy kernel (chunk size and
method, accumulation policy and dtype, retain_graph support), held as PyTorch's frozen dataclass; ember's
linear_cross_entropy refuses a call that passes one (it has only the reference path)."""
import dataclasses

__all__ = ['LinearCrossEntropyOptions']


@dataclasses.dataclass(slots=True, frozen=True)
class LinearCrossEntropyOptions:
    """The chunked kernel's settings, as PyTorch names them (see torch.nn.LinearCrossEntropyOptions)."""
    allow_retain_graph: bool = False
    batch_chunk_size: int = None
    chunking_method: str = 'auto'
    acc_policy: str = 'auto'
    acc_dtype: object = None
