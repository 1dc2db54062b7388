"""Variable-length sequences: ``pad_sequence``, and ``PackedSequence`` with ``pack_padded_sequence`` /
``pad_packed_sequence`` / ``pack_sequence`` / ``unpack_sequence`` (one gather or scatter each, so
gradients flow through packing)."""
from collections import namedtuple

import numpy as np

from ...tensor import Tensor

__all__ = ['PackedSequence', 'invert_permutation', 'pack_padded_sequence', 'pad_packed_sequence', 'pad_sequence',
           'unpad_sequence', 'pack_sequence', 'unpack_sequence']

_Packed = namedtuple('PackedSequence', ['data', 'batch_sizes', 'sorted_indices', 'unsorted_indices'])


class PackedSequence(_Packed):
    """Time-major packed batch: ``data`` holds step t's ``batch_sizes[t]`` rows one step after another."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else type(self)(data, self.batch_sizes, self.sorted_indices,
                                                         self.unsorted_indices)

    def cpu(self, *args, **kwargs):
        return self

    def double(self):
        return self.to(dtype=self.data.double().dtype)

    def float(self):
        return self.to(dtype=self.data.float().dtype)

    @property
    def is_cuda(self):
        return False

    def is_pinned(self):
        return False


def invert_permutation(permutation):
    """The inverse of an index permutation (None stays None)."""
    if permutation is None:
        return None
    p = permutation._data
    out = np.empty_like(p)
    out[p] = np.arange(p.size, dtype=p.dtype)
    return Tensor._make(out)


def _lengths(lengths):
    if isinstance(lengths, Tensor):
        return lengths._data.astype(np.int64).reshape(-1)
    return np.asarray([int(v) for v in lengths], np.int64)


def _pack_index(lens, batch):
    """Flat (t * batch + b) positions of the packed rows of a time-major padded batch, and batch_sizes."""
    steps = int(lens.max())
    bs = (lens[None, :] > np.arange(steps)[:, None]).sum(1)
    idx = np.concatenate([t * batch + np.arange(n) for t, n in enumerate(bs)])
    return idx, bs.astype(np.int64)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded (T, B, *) batch (B, T, * with batch_first) given each sequence's length."""
    lens = _lengths(lengths)
    if enforce_sorted:
        b = input.shape[0 if batch_first else 1] if input.ndim > 1 else None
        if b is not None and lens.size != b:
            raise RuntimeError(f'Expected `len(lengths)` to be equal to batch_size, but got {lens.size} (batch_size={b})')
        if np.any(np.diff(lens) > 0):
            raise RuntimeError('`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. '
                               'You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to '
                               'sidestep this requirement if you do not need ONNX exportability.')
        sorted_idx = None
    else:
        order = np.argsort(-lens, kind='stable')
        lens = lens[order]
        sorted_idx = Tensor._make(order.astype(np.int64))
        input = input.index_select(0 if batch_first else 1, sorted_idx)
    if lens.size and lens.min() <= 0:
        raise RuntimeError('Length of all samples has to be greater than 0, but found an element in \'lengths\' '
                           'that is <= 0')
    if batch_first:
        input = input.transpose(0, 1)
    t, b = input.shape[:2]
    if int(lens.max()) > t:
        raise RuntimeError(f'Expected sequence length to be at most {t}, but found a length of {int(lens.max())}')
    idx, bs = _pack_index(lens, b)
    data = input.reshape((t * b,) + tuple(input.shape[2:]))[Tensor._make(idx)]
    return PackedSequence(data, Tensor._make(bs), sorted_idx, invert_permutation(sorted_idx))


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Inverse of pack_padded_sequence: (padded batch, lengths as an int64 tensor)."""
    from ...ops import full
    data, bs = sequence.data, sequence.batch_sizes._data
    b, steps = int(bs[0]), len(bs)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f'Expected total_length to be at least the length of the longest sequence in input, '
                             f'but got total_length={total_length} and max sequence length being {steps}')
        steps = total_length
    lens = (bs[None, :] > np.arange(b)[:, None]).sum(1).astype(np.int64)
    idx, _ = _pack_index(lens, b)
    tail = tuple(data.shape[1:])
    base = full((steps * b,) + tail, padding_value, dtype=data.dtype)
    out = base.index_put((Tensor._make(idx),), data).reshape((steps, b) + tail)
    if batch_first:
        out = out.transpose(0, 1)
    if sequence.unsorted_indices is not None:   # after the transpose, as PyTorch: its index_select's output is dense
        out = out.index_select(0 if batch_first else 1, sequence.unsorted_indices)
        lens = lens[sequence.unsorted_indices._data]
    return out, Tensor._make(lens)


def _as_trailing(s, trailing):
    """Sequence ``s`` broadcast to the first sequence's trailing sizes, as PyTorch copies each into its slot of the
    padded output (its size error, the slot as tensor a, where they do not broadcast)."""
    if tuple(s.shape[1:]) == trailing:
        return s
    slot = (s.shape[0] if s.dim() else 1,) + trailing
    try:
        both = np.broadcast_shapes(tuple(s.shape), slot)
    except ValueError:
        both = None
    if both == slot:
        return s.expand(slot)
    if both is not None:
        raise RuntimeError(f"output with shape {list(slot)} doesn't match the broadcast shape {list(both)}")
    from ...ops import empty
    from ...ops.pointwise import _broadcast_error
    raise _broadcast_error('pad_sequence', empty(slot), s)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side='right'):
    """Stack sequences of shape (L_i, *) into (max L, B, *) (or (B, max L, *)), padding with padding_value."""
    from ...ops import stack
    from ..functional._pad import pad
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    if padding_side not in ('left', 'right'):
        raise RuntimeError(f'Expected padding_side to be one of left or right, but got {padding_side}.')
    n = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        s = _as_trailing(s, tuple(sequences[0].shape[1:]))
        extra = n - s.shape[0]
        spec = [0, 0] * (s.dim() - 1) + ([0, extra] if padding_side == 'right' else [extra, 0])
        padded.append(pad(s, spec, value=padding_value) if extra else s)
    return stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Split a padded batch back into a list of unpadded sequences. As PyTorch's, with ``batch_first=False`` it
    transposes ``padded_sequences`` itself in place (so a leaf that requires grad raises)."""
    if not batch_first:
        padded_sequences.transpose_(0, 1)
    return [seq[:int(n)] for seq, n in zip(padded_sequences.unbind(0), _lengths(lengths))]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of (L_i, *) sequences."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """Unpack a PackedSequence into a list of sequences."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
