"""``torch.nn.attention.flex_attention``: the names, so that code which imports them (transformers'
masking_utils, at load) runs; ember has no flex_attention kernel, so calling one raises NotImplementedError,
and no tensor is a ``BlockMask``."""
from typing import NamedTuple

from ...aliasing import unsupported, unsupported_function

__all__ = ["BlockMask", "flex_attention", "AuxOutput", "AuxRequest", "create_block_mask", "create_mask", "and_masks",
           "or_masks", "noop_mask"]

_DEFAULT_SPARSE_BLOCK_SIZE = 128   # PyTorch's block size, which callers read to size their masks

_USE_SDPA = "ember has no flex_attention; use scaled_dot_product_attention (transformers: attn_implementation='sdpa')"


class AuxRequest(NamedTuple):
    """Which extra outputs ``flex_attention`` should return."""
    lse: bool = False
    max_scores: bool = False


class AuxOutput(NamedTuple):
    """The extra outputs ``flex_attention`` returns when asked."""
    lse: object = None
    max_scores: object = None


class BlockMask:
    """flex_attention's block-sparse mask; ember cannot make one."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(unsupported("torch.nn.attention.flex_attention.BlockMask", _USE_SDPA))

    @classmethod
    def from_kv_blocks(cls, *args, **kwargs):
        """Refused: ember has no flex_attention."""
        raise NotImplementedError(unsupported("torch.nn.attention.flex_attention.BlockMask.from_kv_blocks",
                                              _USE_SDPA))


flex_attention = unsupported_function("torch.nn.attention.flex_attention.flex_attention", _USE_SDPA)
create_block_mask = unsupported_function("torch.nn.attention.flex_attention.create_block_mask", _USE_SDPA)
create_mask = unsupported_function("torch.nn.attention.flex_attention.create_mask", _USE_SDPA)
and_masks = unsupported_function("torch.nn.attention.flex_attention.and_masks", _USE_SDPA)
or_masks = unsupported_function("torch.nn.attention.flex_attention.or_masks", _USE_SDPA)
noop_mask = unsupported_function("torch.nn.attention.flex_attention.noop_mask", _USE_SDPA)
