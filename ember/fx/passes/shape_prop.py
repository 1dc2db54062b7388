"""``torch.fx.passes.shape_prop``: run a GraphModule node by node and record each result's shape, dtype, strides and
memory format in ``node.meta['tensor_meta']`` (and its type in ``node.meta['type']``), as PyTorch's ShapeProp."""
import traceback
from typing import Any, NamedTuple

import ember

from ..interpreter import Interpreter
from ..node import map_aggregate

__all__ = ['TensorMetadata', 'ShapeProp']


class TensorMetadata(NamedTuple):
    """What ShapeProp records of a tensor result."""
    shape: Any
    dtype: Any
    requires_grad: bool
    stride: tuple
    memory_format: Any
    is_quantized: bool
    qparams: dict


def _memory_format(t):
    """The first of contiguous, channels_last, channels_last_3d that ``t`` is laid out in, else None."""
    formats = ((ember.contiguous_format, None), (ember.channels_last, 4), (ember.channels_last_3d, 5))
    for fmt, ndim in formats:
        if (ndim is None or t.dim() == ndim) and t.is_contiguous(memory_format=fmt):
            return fmt
    return None


def _extract_tensor_metadata(result, include_contiguity=True):
    """``result``'s TensorMetadata (sparse tensors have no strides nor memory format)."""
    dense = result.layout == ember.strided
    stride = result.stride() if dense else ()
    memory_format = _memory_format(result) if include_contiguity and dense else None
    return TensorMetadata(result.shape, result.dtype, result.requires_grad, stride, memory_format,
                          result.is_quantized, {})  # ember has no quantized tensors, so no qparams


class ShapeProp(Interpreter):
    """Execute ``gm`` node by node, recording each tensor result's metadata on its node. ember has no fake tensors,
    so ``fake_mode`` must be None: the graph runs on the real inputs."""

    def __init__(self, gm, fake_mode=None):
        super().__init__(gm)
        if fake_mode is not None:
            raise NotImplementedError('ShapeProp(fake_mode=...) is not supported by ember yet (ember has no fake '
                                      'tensors); leave fake_mode None to propagate real inputs')
        self.fake_module = self.fake_mode = None
        self.real_module = self.module

    def run_node(self, n):
        try:
            result = super().run_node(n)
        except Exception as e:
            traceback.print_exc()
            raise RuntimeError(f'ShapeProp error for: node={n.format_node()} with meta={n.meta}') from e
        found_tensor = False

        def extract_tensor_meta(obj):
            nonlocal found_tensor
            if isinstance(obj, ember.Tensor):
                found_tensor = True
                return _extract_tensor_metadata(obj)
            return obj

        meta = map_aggregate(result, extract_tensor_meta)
        if found_tensor:
            n.meta['tensor_meta'] = meta
        n.meta['type'] = type(result)
        return result

    def propagate(self, *args):
        """Run the module on ``args``, recording every node's result metadata; returns the module's result."""
        return super().run(*args)
