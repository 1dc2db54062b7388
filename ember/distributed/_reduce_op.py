"""``ReduceOp`` in PyTorch's shape: ``ReduceOp.SUM`` is ``ReduceOp.RedOpType.SUM`` (an int enum whose
members are also ``ReduceOp`` instances), and ``ReduceOp(ReduceOp.MAX)`` wraps one."""
import enum


class ReduceOp:
    """A reduction for ``all_reduce``, ``reduce`` and ``reduce_scatter``."""

    def __init__(self, op):
        if not isinstance(op, ReduceOp.RedOpType):
            raise TypeError(f'ReduceOp(op) takes a ReduceOp.RedOpType such as ReduceOp.SUM, got {op!r}')
        self.op = op

    def __eq__(self, other):
        return _type(self) == _type(other)

    def __hash__(self):
        return hash(_type(self))


class _RedOpType(ReduceOp, enum.IntEnum):
    """The reduction's kind, numbered as PyTorch numbers them."""
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7
    PREMUL_SUM = 8

    __eq__ = int.__eq__
    __hash__ = int.__hash__

    def __init__(self, *value):
        pass

    def __repr__(self):
        return f'<RedOpType.{self.name}: {self.value}>'

    def __str__(self):
        return f'RedOpType.{self.name}'


_RedOpType.__name__ = _RedOpType.__qualname__ = 'RedOpType'
ReduceOp.RedOpType = _RedOpType
for _member in _RedOpType:
    setattr(ReduceOp, _member.name, _member)
del _member


def _type(op):
    """The RedOpType of a ReduceOp, a RedOpType or an int; None for anything else."""
    if isinstance(op, _RedOpType):
        return op
    if isinstance(op, ReduceOp):
        return op.op
    if isinstance(op, int) and not isinstance(op, bool) and 0 <= op <= 8:
        return _RedOpType(op)
    return None


def red_op_type(op, name):
    """The RedOpType of argument ``op`` of collective ``name``; ValueError for anything else."""
    kind = _type(op)
    if kind is None:
        raise TypeError(f'{name}: op must be a torch.distributed.ReduceOp such as ReduceOp.SUM, got {op!r}')
    return kind
