"""``torch.distributed.algorithms.join``: the context manager for uneven inputs across processes. A process that runs
out of inputs keeps calling its joinables' hooks, which stand in for the collectives the others still make."""
import abc
import typing
import warnings

from ... import ones, zeros
from .. import _collectives, distributed_c10d

__all__ = ["JoinHook", "Joinable", "Join"]


class JoinHook:
    """What a joined process runs: ``main_hook()`` once per iteration the others still train, ``post_hook()`` once
    all have joined (``is_last_joiner``: this process was among the last)."""

    def main_hook(self):
        """Shadow one training iteration's collectives of the processes that have not joined."""

    def post_hook(self, is_last_joiner):
        """Run once every process has joined."""


class _JoinConfig(typing.NamedTuple):
    """The join settings a ``Joinable`` reads: set by ``Join`` for the span of its ``with`` block."""
    enable: bool
    throw_on_early_termination: bool
    is_first_joinable: bool

    @staticmethod
    def construct_disabled_join_config():
        """The settings outside any ``Join``: join logic off."""
        return _JoinConfig(enable=False, throw_on_early_termination=False, is_first_joinable=False)


class Joinable(abc.ABC):
    """A participant of ``Join``: gives its ``join_hook`` and the device and process group to agree on."""

    @abc.abstractmethod
    def __init__(self):
        super().__init__()
        self._join_config = _JoinConfig.construct_disabled_join_config()

    @abc.abstractmethod
    def join_hook(self, **kwargs):
        """The ``JoinHook`` this object runs once its process has joined."""

    @property
    @abc.abstractmethod
    def join_device(self):
        """The device of the join's own collectives."""

    @property
    @abc.abstractmethod
    def join_process_group(self):
        """The process group of the join's own collectives."""


class Join:
    """``with Join(joinables):`` a process that leaves the block early keeps answering the others' collectives
    through its joinables' hooks until every process has left it."""

    def __init__(self, joinables, enable=True, throw_on_early_termination=False, **kwargs):
        if len(joinables) == 0:
            raise ValueError("The join context manager requires at least one joinable")
        for joinable in joinables:
            if not hasattr(joinable, 'join_hook'):
                raise AttributeError(f"Join: {type(joinable).__name__} has no join_hook: it is not a Joinable (ember's "
                                     "DistributedDataParallel and optimizers are not yet); pass objects deriving "
                                     "from torch.distributed.algorithms.join.Joinable")
        self._joinables = joinables
        self._join_hooks = [joinable.join_hook(**kwargs) for joinable in joinables]
        self._enable = enable
        self._throw_on_early_termination = throw_on_early_termination
        for i, joinable in enumerate(joinables):
            joinable._join_config = _JoinConfig(enable, throw_on_early_termination, i == 0)
        self._process_group, self._device = self._common_group_and_device()
        self._rank = distributed_c10d.get_rank(self._process_group)

    def _common_group_and_device(self):
        """The joinables' one process group, and the first joinable's device."""
        groups = [joinable.join_process_group for joinable in self._joinables]
        if any(group != groups[0] for group in groups):
            raise ValueError("Using join context manager with multiple process groups")
        return groups[0], self._joinables[0].join_device

    def __enter__(self):
        return None

    def __exit__(self, kind, value, traceback):
        """Run the main hooks while any process has not joined, then the post hooks (not after an exception)."""
        if not self._enable or kind:
            return
        is_last_joiner, rounds = True, 0
        while self._count_nonjoined() != 0:
            if rounds > 1000:
                warnings.warn(f"Detected uneven input skew of greater than 1000. This means that rank {self._rank} "
                              "has at least 1000 fewer inputs than other currently-active ranks. This level of skew "
                              "could lead to performance degradation during training.", stacklevel=2)
            if self._throw_on_early_termination:
                self._notify_procs_to_terminate()
            for hook in self._join_hooks:
                hook.main_hook()
            is_last_joiner, rounds = False, rounds + 1
        for hook in self._join_hooks:
            hook.post_hook(is_last_joiner)

    def _count_nonjoined(self):
        """How many processes are still in the block: each of them adds 1 in ``notify_join_context``'s all-reduce,
        which this zero shadows."""
        count = zeros(1, device=self._device)
        _collectives.all_reduce(count, group=self._process_group)
        return count.item()

    def _notify_procs_to_terminate(self):
        """Tell the processes still training to stop (the all-reduce they check), and stop this one."""
        _collectives.all_reduce(ones(1, device=self._device), group=self._process_group)
        raise RuntimeError(f"Rank {self._rank} exhausted all inputs.")

    @staticmethod
    def notify_join_context(joinable):
        """Called by a joinable before its per-iteration collectives: the first joinable adds this process to the
        count of processes still training; with ``throw_on_early_termination`` returns the all-reduce that says
        whether one has already joined. Returns the count's ``Work``, None outside a ``Join``."""
        config = joinable._join_config
        if not config.is_first_joinable or not config.enable:
            return None
        device, group = joinable.join_device, joinable.join_process_group
        work = _collectives.all_reduce(ones(1, device=device), group=group, async_op=True)
        if not config.throw_on_early_termination:
            return work
        terminate = zeros(1, device=device)
        _collectives.all_reduce(terminate, group=group)
        if terminate.item():
            raise RuntimeError("Detected at least one rank that exhausted inputs. Throwing across all ranks.")
        return work
