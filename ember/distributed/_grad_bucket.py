"""``torch.distributed.GradBucket``: what a DDP communication hook receives, one bucket of gradients flattened
into one buffer (``register_comm_hook``)."""


class GradBucket:
    """Bucket ``index`` of a DDP model: the flat ``buffer`` of its gradients, their views, its parameters."""

    def __init__(self, index, buffer, gradients, parameters, is_last):
        self._index, self._buffer, self._gradients = index, buffer, gradients
        self._parameters, self._is_last = parameters, is_last

    def index(self):
        """The bucket's position in the order buckets are reduced (0 first)."""
        return self._index

    def buffer(self):
        """The flat 1-D tensor of the bucket's gradients."""
        return self._buffer

    def gradients(self):
        """The gradients, each a view of ``buffer()`` shaped as its parameter."""
        return list(self._gradients)

    def parameters(self):
        """The parameters whose gradients the bucket holds, in the buffer's order."""
        return list(self._parameters)

    def is_last(self):
        """Whether this is the last bucket of the backward pass (the first parameters' gradients)."""
        return self._is_last

    def set_buffer(self, buffer):
        """Replace the buffer (a hook that reduces a new tensor)."""
        self._buffer = buffer
