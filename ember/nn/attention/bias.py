"""``torch.nn.attention.bias``: causal attention biases for ``scaled_dot_product_attention`` that need no
materialized mask (the SDPA tutorial's ``causal_lower_right``). ``causal_upper_left(L, S)`` is ``is_causal=True``;
``causal_lower_right(L, S)`` aligns the triangle with the last key, as when decoding with a cache. A bias prints
as its boolean mask."""
import enum
import warnings

__all__ = ['causal_upper_left', 'causal_lower_right', 'CausalVariant', 'CausalBias']


class CausalVariant(enum.IntEnum):
    """Where the causal triangle is anchored: the upper-left corner (``is_causal=True``) or the lower right."""
    UPPER_LEFT = 1
    LOWER_RIGHT = 2


class CausalBias:
    """A causal attention bias of ``seq_len_q`` queries by ``seq_len_kv`` keys, passed as ``attn_mask``."""

    def __init__(self, variant, seq_len_q, seq_len_kv):
        if not isinstance(variant, CausalVariant):
            raise AssertionError(f'variant must be a CausalVariant, got {type(variant).__name__}')
        self.variant, self.seq_len_q, self.seq_len_kv = variant, seq_len_q, seq_len_kv
        if seq_len_q > seq_len_kv and variant == CausalVariant.LOWER_RIGHT:
            warnings.warn('Lower right causal bias will produce NaNs in the output when seq_len_q > seq_len_kv!',
                          stacklevel=3)

    def _materialize(self, device=None):
        """The boolean mask: True where a query may attend to a key."""
        import ember
        ones = ember.ones(self.seq_len_q, self.seq_len_kv, dtype=ember.bool, device=device)
        offset = self.seq_len_kv - self.seq_len_q if self.variant == CausalVariant.LOWER_RIGHT else 0
        return ember.tril(ones, diagonal=offset)

    def _dispatch(self, query, key, value, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False):
        """scaled_dot_product_attention under this bias: the causal kernel when the triangle starts at the
        corner (upper left, or a square), else the materialized mask."""
        from ..functional import scaled_dot_product_attention as sdpa
        if is_causal:
            raise ValueError('CausalBias should not be used with causal=True')
        if self.seq_len_q == self.seq_len_kv or self.variant == CausalVariant.UPPER_LEFT:
            return sdpa(query, key, value, None, dropout_p, True, scale=scale, enable_gqa=enable_gqa)
        return sdpa(query, key, value, self._materialize(), dropout_p, False, scale=scale, enable_gqa=enable_gqa)

    def __repr__(self):
        return repr(self._materialize())


def causal_upper_left(*size):
    """The bias of ``is_causal=True``: ``tril(ones(L, S))``."""
    if len(size) != 2:
        raise AssertionError('causal_upper_left only supports 2D tensors')
    return CausalBias(CausalVariant.UPPER_LEFT, *size)


def causal_lower_right(*size):
    """``tril(ones(L, S), diagonal=S - L)``: the last query sees every key."""
    if len(size) != 2:
        raise AssertionError('causal_lower_right only supports 2D tensors')
    return CausalBias(CausalVariant.LOWER_RIGHT, *size)
