"""``torch.distributed.constants``: the default process-group timeouts (30 minutes; no NCCL here, so
``default_pg_nccl_timeout`` is None, as in PyTorch's builds without NCCL)."""
import datetime

default_pg_timeout = datetime.timedelta(minutes=30)
default_pg_nccl_timeout = None
