"""``torch.distributed.tensor.placement_types``: how a DTensor's data lies on one device-mesh dimension.

Plain value types (equal and hashed by their fields, PyTorch's reprs) so that code which names or compares
placements imports and runs; ember has no DeviceMesh, so no tensor is ever placed with them.
"""

__all__ = ["Placement", "Shard", "Replicate", "Partial"]


class Placement:
    """The base of the placement types; ``is_shard``/``is_replicate``/``is_partial`` ask which it is."""

    def _key(self):
        return ()

    def __eq__(self, other):
        return type(self) is type(other) and self._key() == other._key()

    def __hash__(self):
        return hash((type(self).__name__,) + self._key())

    def is_shard(self, dim=None):
        """Whether this is a ``Shard`` (on ``dim`` when given)."""
        return type(self) is Shard and (dim is None or self.dim == dim)

    def is_replicate(self):
        """Whether this is ``Replicate()``."""
        return isinstance(self, Replicate)

    def is_partial(self, reduce_op=None):
        """Whether this is a ``Partial`` (with ``reduce_op`` when given)."""
        return isinstance(self, Partial) and (reduce_op is None or self.reduce_op == reduce_op)


class Shard(Placement):
    """The tensor is split along ``dim`` across the mesh dimension."""

    def __init__(self, dim=0):
        self.dim = dim

    def _key(self):
        return (self.dim,)

    def __repr__(self):
        return f"Shard(dim={self.dim})"

    def __str__(self):
        return f"S({self.dim})"


class _StridedShard(Shard):
    """A ``Shard`` taken from each of ``split_factor`` groups along ``dim`` (nested sharding)."""

    def __init__(self, dim=0, *, split_factor):
        super().__init__(dim)
        self.split_factor = split_factor

    def _key(self):
        return (self.dim, self.split_factor)

    def __repr__(self):
        return f"_StridedShard(dim={self.dim}, sf={self.split_factor})"

    def __str__(self):
        return f"_S({self.dim}, {self.split_factor})"


class Replicate(Placement):
    """Every rank of the mesh dimension holds the whole tensor."""

    def __repr__(self):
        return "Replicate()"

    def __str__(self):
        return "R"


class Partial(Placement):
    """Each rank holds a partial value; reducing them with ``reduce_op`` gives the tensor."""

    def __init__(self, reduce_op="sum"):
        self.reduce_op = reduce_op

    def _key(self):
        return (self.reduce_op,)

    def __repr__(self):
        return f"Partial({self.reduce_op})"

    def __str__(self):
        return f"P({self.reduce_op})"
