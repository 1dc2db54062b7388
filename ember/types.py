"""``torch.types``: the type aliases PyTorch code annotates with (``Number``, ``Device``, ``FileLike``...), so
that ``from torch.types import Number`` imports (pytorch-ignite's metrics do). They are the same unions as
PyTorch's, over ember's classes; ember has no quantization schemes or dispatch keys, so those are ``str``."""
import os
from collections.abc import Sequence
from typing import IO, TypeAlias, Union

from . import Size, SymBool, SymFloat, SymInt, Tensor, UntypedStorage, device as _device_cls, dtype as _dtype_cls, \
    layout as _layout_cls

__all__ = ["Number", "Device", "FileLike", "Storage"]

_bool, _complex, _float, _int, _str, _bytes = bool, complex, float, int, str, bytes
_dtype: TypeAlias = _dtype_cls
_device: TypeAlias = _device_cls
_layout: TypeAlias = _layout_cls
_qscheme: TypeAlias = str
_dispatchkey: TypeAlias = str
_TensorOrTensors: TypeAlias = Tensor | Sequence[Tensor]
_TensorOrOptionalTensors: TypeAlias = Tensor | Sequence[Tensor | None]
_size: TypeAlias = Size | list[int] | tuple[int, ...]
_symsize: TypeAlias = Size | Sequence[int | SymInt]
_Number = (int, float, bool)
Number: TypeAlias = int | float | bool
Device: TypeAlias = _device_cls | str | int | None
FileLike: TypeAlias = Union[str, os.PathLike[str], IO[bytes]]
IntLikeType: TypeAlias = int | SymInt
FloatLikeType: TypeAlias = float | SymFloat
BoolLikeType: TypeAlias = bool | SymBool
PySymType: TypeAlias = SymInt | SymFloat | SymBool
py_sym_types = (SymInt, SymFloat, SymBool)
Storage = UntypedStorage
