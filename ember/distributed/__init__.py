"""``ember.distributed`` (``torch.distributed``) on MPI: process groups, collectives, point-to-point
and object collectives, with ``gloo`` and ``mpi`` both served by mpi4py over MPICH (the
``distributed`` extra). See docs/DISTRIBUTED.md."""
from . import _mpi, rpc
from ._collectives import (P2POp, all_gather, all_gather_into_tensor, all_reduce, all_to_all, all_to_all_single,
                           barrier, batch_isend_irecv, broadcast, gather, irecv, isend, monitored_barrier, recv,
                           reduce, reduce_scatter, reduce_scatter_tensor, scatter, send)
from ._objects import (all_gather_object, broadcast_object_list, gather_object, recv_object_list,
                       scatter_object_list, send_object_list)
from ._grad_bucket import GradBucket
from ._reduce_op import ReduceOp
from ._store import DistError, DistStoreError, HashStore, Store, TCPStore
from ._work import Work
from .distributed_c10d import (Backend, _rank_not_in_group, GroupMember, ProcessGroup, default_pg_timeout, destroy_process_group,
                               get_backend, get_default_backend_for_device, get_global_rank, get_group_rank,
                               get_node_local_rank,
                               get_process_group_ranks, get_rank,
                               get_world_size, group, init_process_group, is_backend_available,
                               is_gloo_available, is_initialized, is_mpi_available, is_nccl_available,
                               is_torchelastic_launched, is_ucc_available, is_xccl_available, new_group)


def is_available():
    """Whether ``torch.distributed`` can run here: mpi4py and MPICH are installed."""
    return _mpi.available()
