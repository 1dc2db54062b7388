"""``torch.jit.annotations``: the type names TorchScript code imports from it (densenet in torchvision and timm
writes ``from torch.jit.annotations import List``), the typing module's own, and the BroadcastingList markers,
which annotate like PyTorch's (subscripting one gives None)."""
from typing import Any, Dict, List, Optional, Tuple, Union

__all__ = ['Any', 'BroadcastingList1', 'BroadcastingList2', 'BroadcastingList3', 'Dict', 'List', 'Optional',
           'Tuple', 'Union']


class _BroadcastingList:
    """A TorchScript broadcasting-list annotation; eager code only subscripts it."""

    def __getitem__(self, types):
        return None


BroadcastingList1 = _BroadcastingList()
BroadcastingList2 = _BroadcastingList()
BroadcastingList3 = _BroadcastingList()
