"""``torch.distributed.tensor.parallel.style``: the tensor-parallel plans as PyTorch spells them (torchtune builds
its models' plans from them at import time). They hold their layouts and print as PyTorch's; applying one needs a
DeviceMesh, which ember has not, so ``parallelize_module`` refuses."""
from abc import ABC

from ..placement_types import Replicate, Shard

__all__ = ["ParallelStyle", "ColwiseParallel", "RowwiseParallel", "SequenceParallel"]


class ParallelStyle(ABC):
    """The base of the tensor-parallel plans: how a module's parameters and activations are laid out."""
    src_data_rank = 0


class _LinearStyle(ParallelStyle):
    """A column- or row-wise plan: its input and output layouts, each a one-element tuple as PyTorch keeps them."""

    def __repr__(self):
        return (f"{type(self).__name__}(input_layouts={self.input_layouts}, output_layouts={self.output_layouts}, "
                f"use_local_output={self.use_local_output})")


class ColwiseParallel(_LinearStyle):
    """Shard a Linear's or Embedding's weight by output column: replicated input, output sharded on the last dim."""

    def __init__(self, *, input_layouts=None, output_layouts=None, use_local_output=True):
        self.input_layouts = (input_layouts or Replicate(),)
        self.output_layouts = (output_layouts or Shard(-1),)
        self.desired_input_layouts = (Replicate(),)   # before use_local_output: vars() lists them as PyTorch's
        self.use_local_output = use_local_output


class RowwiseParallel(_LinearStyle):
    """Shard a Linear's weight by input row: input sharded on the last dim, output replicated."""

    def __init__(self, *, input_layouts=None, output_layouts=None, use_local_output=True):
        self.input_layouts = (input_layouts or Shard(-1),)
        self.output_layouts = (output_layouts or Replicate(),)
        self.use_local_output = use_local_output


class SequenceParallel(ParallelStyle):
    """Replicate a norm or dropout's parameters and shard its activations along the sequence dimension."""

    def __init__(self, *, sequence_dim=1, use_local_output=False):
        self.sequence_sharding = (Shard(sequence_dim),)
        self.use_local_output = use_local_output

    def __repr__(self):
        return (f"{type(self).__name__}(sequence_dim={self.sequence_sharding[0].dim}, "
                f"use_local_output={self.use_local_output})")
