"""``nn.parallel.DistributedDataParallel``: one model replica per process, kept identical by averaging
gradients over the process group during backward, as PyTorch's reducer does: parameters are grouped
into buckets (flat buffers, filled in reverse parameter order, the order backward produces gradients),
and each bucket's all-reduce starts from the gradient hooks as soon as it is full, so communication
overlaps the rest of the backward pass; the pass waits for them at its end (an engine callback)."""
import contextlib
import warnings

import numpy as np

from ...autograd import engine
from ...autograd.grad_mode import GRAD, no_grad
from ..modules.module import Module

__all__ = ['DistributedDataParallel']

_MB = 1024 * 1024
_DEFAULT_BUCKET_CAP_MB = 25
_DEFAULT_FIRST_BUCKET_BYTES = _MB       # PyTorch's dist._DEFAULT_FIRST_BUCKET_BYTES
_UNFINISHED = (
    'Expected to have finished reduction in the prior iteration before starting a new one. This error indicates '
    'that your module has parameters that were not used in producing loss. You can enable unused parameter '
    'detection by passing the keyword argument `find_unused_parameters=True` to '
    '`torch.nn.parallel.DistributedDataParallel`, and by \nmaking sure all `forward` function outputs participate '
    'in calculating loss. \nIf you already have done the above, then the distributed data parallel module wasn\'t '
    'able to locate the output tensors in the return value of your module\'s `forward` function. Please include '
    'the loss function and the structure of the return value of `forward` of your module when reporting this issue '
    '(e.g. list, dict, iterable).\nParameter indices which did not receive grad for rank {rank}: {indices}\n In '
    'addition, you can set the environment variable TORCH_DISTRIBUTED_DEBUG to either INFO or DETAIL to print out '
    'information about which particular parameters did not receive gradient on this rank as part of this error')


def _dist():
    from ... import distributed
    return distributed


def _refuse(name, detail):
    raise NotImplementedError(f'DistributedDataParallel({name}=...) is not supported by ember yet ({detail})')


class _Bucket:
    """A flat buffer holding the gradients of some parameters of one dtype, all-reduced as one tensor."""

    def __init__(self, indices, params):
        from ...tensor import Tensor
        self.indices = indices
        sizes = [params[i]._data.size for i in indices]
        self.flat = np.zeros(sum(sizes), params[indices[0]]._data.dtype)
        self.tensor = Tensor._make(self.flat)
        offsets = np.cumsum([0] + sizes)
        self.views = [self.flat[a:b].reshape(params[i]._data.shape)
                      for i, a, b in zip(indices, offsets[:-1], offsets[1:])]
        self.pending = len(indices)
        self.work = None


def _assign_buckets(params, caps):
    """Parameter indices grouped into buckets: reverse parameter order, one dtype per bucket, each closed once
    it holds ``caps[k]`` bytes (the last cap repeats), as PyTorch's ``_compute_bucket_assignment_by_size``.
    PyTorch's first iteration uses one bucket and then rebuilds them in the order gradients arrived; ember
    takes reverse parameter order (that order, for a sequential model) from the first iteration on."""
    open_buckets, done = {}, []
    for i in reversed(range(len(params))):
        a = params[i]._data
        entry = open_buckets.setdefault(a.dtype, [[], 0, 0])
        entry[0].append(i)
        entry[1] += a.nbytes
        if entry[1] >= caps[min(entry[2], len(caps) - 1)]:
            done.append(entry[0])
            open_buckets[a.dtype] = [[], 0, entry[2] + 1]
    done.extend(e[0] for e in open_buckets.values() if e[0])
    return sorted(done, key=lambda b: -max(b))


def _first_buckets(params):
    """The buckets of the first backward pass: as PyTorch's reducer, which then rebuilds them (unless unused
    parameters are searched for), one bucket per dtype in parameter order (what a comm hook sees)."""
    by_dtype = {}
    for i, p in enumerate(params):
        by_dtype.setdefault(p._data.dtype, []).append(i)
    return sorted(by_dtype.values(), key=lambda b: -max(b))


def _check_comm_hook(hook):
    """PyTorch's checks of a communication hook: callable, its ``bucket`` and return annotations, and bf16's
    compression, which needs CUDA and NCCL."""
    import inspect
    from ...distributed import GradBucket
    from ...futures import Future
    from ...tensor import Tensor
    if not callable(hook):
        raise TypeError('Communication hook must be callable.')
    sig = inspect.signature(hook)
    if sig.parameters['bucket'].annotation not in (inspect.Parameter.empty, GradBucket):
        raise ValueError('Communication hook: bucket annotation should be dist.GradBucket.')
    if sig.return_annotation not in (inspect.Signature.empty, Future[Tensor]):
        raise ValueError('Communication hook: return annotation should be torch.futures.Future[torch.Tensor].')
    if getattr(hook, '__name__', '') in ('bf16_compress_hook', 'bf16_compress_wrapper_hook'):
        raise TypeError('BF16 all reduce communication hook required CUDA 11+ and NCCL 2.10+ or XPU and XCCL')


def _grad_bucket(ddp, index):
    """Bucket ``index`` of ``ddp`` as the ``GradBucket`` its comm hook receives."""
    from ...distributed import GradBucket
    from ...tensor import Tensor
    b = ddp._buckets[index]
    return GradBucket(index, b.tensor, [Tensor._make(v) for v in b.views], [ddp._params[i] for i in b.indices],
                      index == len(ddp._buckets) - 1)


class _HookWork:
    """A bucket reduced by a comm hook: the hook runs when the bucket is full; ``wait`` takes the reduced
    gradients from the Future it returned into the bucket."""

    def __init__(self, comm_hook, grad_bucket):
        state, hook = comm_hook
        self._flat = grad_bucket.buffer()._data
        self._future = hook(state, grad_bucket)

    def wait(self):
        from ...futures import Future
        from ...tensor import Tensor
        if not isinstance(self._future, Future):
            raise RuntimeError(f'A DDP communication hook must return a torch.futures.Future, not '
                               f'{type(self._future).__name__}')
        out = self._future.wait()
        if isinstance(out, list) and len(out) == 1:   # PyTorch accepts a Future of [tensor] too
            out = out[0]
        if not isinstance(out, Tensor) or out.numel() != self._flat.size:
            raise RuntimeError(f'A DDP communication hook\'s Future must give one tensor of the bucket\'s '
                               f'{self._flat.size} elements, got {out!r:.100}')
        if out._data is not self._flat:
            np.copyto(self._flat, out._data.reshape(-1), casting='unsafe')
        return True


def _find_tensors(obj, out):
    """Every tensor inside a forward's output (nested lists, tuples and dicts)."""
    from ...tensor import Tensor
    if isinstance(obj, Tensor):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for x in obj:
            _find_tensors(x, out)
    elif isinstance(obj, dict):
        for x in obj.values():
            _find_tensors(x, out)
    return out


def _reachable(tensors):
    """The graph nodes backward from ``tensors`` can reach (to find unused parameters)."""
    seen = set()
    stack = [t.grad_fn for t in tensors if t.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(child for child, _ in node.next_functions if child is not None and child not in seen)
    return seen


class DistributedDataParallel(Module):
    """Wraps ``module`` so that backward leaves every process with the gradients averaged over the group."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=None, init_sync=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, delay_all_reduce_named_params=None,
                 param_to_hook_all_reduce=None, mixed_precision=None, device_mesh=None,
                 skip_all_reduce_unused_params=False, bucket_cap_mb_list=None, batched_grad_copy=False,
                 forward_sync_buffers=None):
        super().__init__()
        if (delay_all_reduce_named_params is None) != (param_to_hook_all_reduce is None):
            raise ValueError('delay_all_reduce_named_params and param_to_hook_all_reduce need to be set at the '
                             'same time.')
        self._refuse_unsupported(delay_all_reduce_named_params, mixed_precision, device_mesh,
                                 skip_all_reduce_unused_params)
        dist = _dist()
        self.process_group = process_group
        self._world_size = dist.get_world_size(process_group)
        self._rank = dist.get_rank(process_group)
        self.parameters_to_ignore = set(getattr(module, '_ddp_params_and_buffers_to_ignore', ()))
        named = [(n, p) for n, p in module.named_parameters() if n not in self.parameters_to_ignore]
        if not any(p.requires_grad for _, p in named):
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter "
                               'that requires a gradient.')
        self._check_devices(device_ids, output_device, named)
        self.device_ids = self.output_device = None
        self.dim = dim
        self.module = module
        self.device = named[0][1].device
        self.forward_sync_buffers = self._buffer_sync_flags(broadcast_buffers, forward_sync_buffers)
        init_sync_buffers = True if forward_sync_buffers is not None else self.forward_sync_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.mixed_precision = None
        if check_reduction:
            warnings.warn('The `check_reduction` argument in `DistributedDataParallel` module is deprecated. '
                          'Please avoid using it.', FutureWarning, stacklevel=2)
        caps = self._bucket_caps(bucket_cap_mb, bucket_cap_mb_list)
        self._params = [p for _, p in named if p.requires_grad]
        if init_sync:
            self._verify_same_model(named)
            with no_grad():
                self._broadcast_coalesced([p for _, p in named], src=0)
                if init_sync_buffers:
                    self._broadcast_coalesced(self._module_buffers(), src=0)
        self._rebuilt = [_Bucket(ix, self._params) for ix in _assign_buckets(self._params, caps)]
        self._use_buckets(self._rebuilt if find_unused_parameters and not static_graph else
                          [_Bucket(ix, self._params) for ix in _first_buckets(self._params)])
        self._expect_hooks = False
        self._require_finalize = False
        self._ready = set()
        self._next_bucket = self._done_upto = 0
        self._unused = ()
        self._comm_hook = None
        self._hook_handles = [p.register_post_accumulate_grad_hook(self._make_hook(i))
                              for i, p in enumerate(self._params)]

    def _use_buckets(self, buckets):
        """Reduce the gradients in ``buckets`` from the next backward on."""
        self._buckets, self._locator = buckets, {}
        for b in buckets:
            for k, i in enumerate(b.indices):
                self._locator[i] = (b, k)

    # -- construction ------------------------------------------------------------------------------------------
    @staticmethod
    def _refuse_unsupported(delay_all_reduce_named_params, mixed_precision, device_mesh, skip_unused):
        if delay_all_reduce_named_params is not None:
            _refuse('delay_all_reduce_named_params', 'every parameter is reduced in buckets during backward')
        if mixed_precision is not None:
            _refuse('mixed_precision', 'gradients are reduced in the parameters\' dtype')
        if device_mesh is not None:
            _refuse('device_mesh', 'pass process_group, or nothing for the default group')
        if skip_unused:
            _refuse('skip_all_reduce_unused_params', 'unused parameters\' zero gradients are reduced with the rest')

    @staticmethod
    def _check_devices(device_ids, output_device, named):
        """PyTorch's checks: CPU modules take no device_ids or output_device."""
        if device_ids is not None and len(device_ids) > 1:
            raise ValueError('device_ids can only be None or contain a single element.')
        if device_ids or output_device:
            devices = {p.device for _, p in named}
            raise ValueError('DistributedDataParallel device_ids and output_device arguments only work with '
                             'single-device/multiple-device GPU modules or CPU modules, but got device_ids '
                             f'{device_ids}, output_device {output_device}, and module parameters {devices}.')

    @staticmethod
    def _buffer_sync_flags(broadcast_buffers, forward_sync_buffers):
        """Whether buffers are broadcast from rank 0 before each forward (PyTorch 2.13's deprecation warnings)."""
        if broadcast_buffers is not None:
            if forward_sync_buffers is not None:
                warnings.warn('Both `broadcast_buffers` and `forward_sync_buffers` were specified. '
                              '`broadcast_buffers` is deprecated and its value is ignored when '
                              '`forward_sync_buffers` is provided.', FutureWarning, stacklevel=3)
            else:
                warnings.warn('`broadcast_buffers` is deprecated. Use `forward_sync_buffers` instead. IMPORTANT: '
                              'unlike `broadcast_buffers=False`, `forward_sync_buffers=False` still syncs buffers '
                              'at init. If you rely on buffers NOT being synced at init (e.g. rank-local buffers), '
                              'keep using `broadcast_buffers=False` until `init_sync_buffers` is available.',
                              FutureWarning, stacklevel=3)
        if forward_sync_buffers is not None:
            return forward_sync_buffers
        return True if broadcast_buffers is None else broadcast_buffers

    def _bucket_caps(self, bucket_cap_mb, bucket_cap_mb_list):
        """Byte caps of the buckets in order (the last repeats); a small first bucket unless a cap was given."""
        if bucket_cap_mb_list:
            caps = [int(c * _MB) for c in bucket_cap_mb_list]
            self.bucket_bytes_cap = max(caps)
            return caps
        self.bucket_bytes_cap = int((_DEFAULT_BUCKET_CAP_MB if bucket_cap_mb is None else bucket_cap_mb) * _MB)
        if bucket_cap_mb is None:
            return [_DEFAULT_FIRST_BUCKET_BYTES, self.bucket_bytes_cap]
        return [self.bucket_bytes_cap]

    def _module_buffers(self):
        return [b for n, b in self.module.named_buffers() if n not in self.parameters_to_ignore]

    def _verify_same_model(self, named):
        """Refuse models whose parameter count or shapes differ between ranks (their reductions would not
        match): with SUM only, all ranks agree on x exactly when sum(x)**2 == world * sum(x**2)."""
        from ...tensor import Tensor
        shapes = [tuple(p.shape) for _, p in named]
        x = np.array([len(shapes), sum(p._data.size for _, p in named), hash(tuple(shapes)) % 1000003], np.float64)
        both = Tensor._make(np.concatenate([x, x * x]))
        _dist().all_reduce(both, group=self.process_group)
        s, s2 = both._data[:3], both._data[3:]
        if not np.array_equal(s * s, self._world_size * s2):
            raise RuntimeError(f'DDP expects the same model on every rank, but rank {self._rank} has {len(shapes)} '
                               f'parameters ({int(x[1])} elements) that differ from another rank\'s in number or '
                               'shape.')

    def _broadcast_coalesced(self, tensors, src):
        """Overwrite ``tensors`` with rank ``src``'s values: one broadcast per dtype of a flat copy."""
        from ...tensor import Tensor
        by_dtype = {}
        for t in tensors:
            by_dtype.setdefault(t._data.dtype, []).append(t)
        for group in by_dtype.values():
            flat = Tensor._make(np.concatenate([t._data.reshape(-1) for t in group]))
            _dist().broadcast(flat, src, group=self.process_group)
            offset = 0
            for t in group:
                n = t._data.size
                t._data[...] = flat._data[offset:offset + n].reshape(t._data.shape)
                offset += n

    # -- forward -----------------------------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        sync = GRAD.enabled and self.require_backward_grad_sync
        if sync and self._require_finalize:
            missing = ' '.join(str(i) for i in range(len(self._params)) if i not in self._ready)
            raise RuntimeError(_UNFINISHED.format(rank=self._rank, indices=missing))
        if self.will_sync_module_buffers():
            with no_grad():
                self._broadcast_coalesced(self._module_buffers(), src=0)
        output = self.module(*inputs, **kwargs)
        if sync:
            self.require_forward_param_sync = True
            self._prepare_for_backward(output)
        else:
            self.require_forward_param_sync = False
        return output

    def will_sync_module_buffers(self):
        return self.require_forward_param_sync and self.forward_sync_buffers and bool(self._module_buffers())

    @property
    def broadcast_buffers(self):
        return self.forward_sync_buffers

    @broadcast_buffers.setter
    def broadcast_buffers(self, value):
        self.forward_sync_buffers = value

    @contextlib.contextmanager
    def no_sync(self):
        """Accumulate gradients locally (forward and backward inside the block); the first synchronised
        backward after it averages the sum."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def join(self, divide_by_initial_world_size=True, enable=True, throw_on_early_termination=False):
        raise NotImplementedError('DistributedDataParallel.join is not supported by ember yet (uneven inputs: give '
                                  'every rank the same number of batches, as DistributedSampler does)')

    def register_comm_hook(self, state, hook):
        """Reduce each bucket with ``hook(state, bucket)`` instead of the all-reduce of averages: the bucket (a
        ``GradBucket``) holds this rank's gradients, not yet divided by the world size, and the Future the hook
        returns gives the reduced bucket, written into the ``.grad``s at the end of backward."""
        _check_comm_hook(hook)
        if self._comm_hook is not None:
            raise RuntimeError('register_comm_hook or register_builtin_comm_hook can only be called once.')
        self._comm_hook = (state, hook)

    # -- the reducer -------------------------------------------------------------------------------------------
    def _prepare_for_backward(self, output):
        """Arm the gradient hooks for the coming backward; with find_unused_parameters, list the parameters
        the output does not reach (their buckets get zeros for them)."""
        self._expect_hooks = True
        self._ready = set()
        self._next_bucket = self._done_upto = 0
        for b in self._buckets:
            b.pending = len(b.indices)
            b.work = None
        self._unused = ()
        if self.find_unused_parameters or self.static_graph:   # a static graph's unused parameters: found the same way
            reached = _reachable(_find_tensors(output, []))
            self._unused = [i for i, p in enumerate(self._params) if p._accum is None or p._accum not in reached]

    def _make_hook(self, i):
        def hook(param):
            if self._expect_hooks:
                self._on_grad_ready(i)
        return hook

    def _on_grad_ready(self, i):
        """Parameter ``i``'s gradient is final for this backward: scale it into its bucket's slot."""
        if not self._ready:
            self._require_finalize = True
            for j in self._unused:
                self._mark_ready(j, None)
        g = self._params[i]._grad
        self._mark_ready(i, None if g is None else g._data)
        self._progress()

    def _progress(self):
        """Test the reductions in flight: MPI moves a nonblocking all-reduce along only inside MPI calls, so
        testing from each hook is what lets communication overlap the rest of the backward pass."""
        while (self._done_upto < self._next_bucket and self._comm_hook is None
               and self._buckets[self._done_upto].work.is_completed()):
            self._done_upto += 1

    def _mark_ready(self, i, grad):
        if i in self._ready:
            raise RuntimeError(f'Expected to mark a variable ready only once. This error is caused by one of the '
                               f'parameters (index {i}) having been marked ready twice in one backward pass '
                               '(a parameter used in a reentrant backward or by several DDP instances?).')
        self._ready.add(i)
        bucket, k = self._locator[i]
        view = bucket.views[k]
        if grad is None:
            view.fill(0)
        elif self._comm_hook is not None:   # a comm hook gets the gradients as they are
            np.copyto(view, grad, casting='unsafe')
        else:
            np.multiply(grad, 1.0 / self._world_size, out=view, casting='unsafe')
        bucket.pending -= 1
        if bucket.pending == 0:
            self._launch_ready_buckets()

    def _launch_ready_buckets(self):
        """Start the all-reduce of every full bucket whose turn has come (all ranks launch in one order)."""
        dist = _dist()
        while self._next_bucket < len(self._buckets) and self._buckets[self._next_bucket].pending == 0:
            b = self._buckets[self._next_bucket]
            if self._comm_hook is None:
                b.work = dist.all_reduce(b.tensor, group=self.process_group, async_op=True)
            else:
                b.work = _HookWork(self._comm_hook, _grad_bucket(self, self._next_bucket))
            self._next_bucket += 1
        if self._next_bucket == len(self._buckets):
            self._used_work = self._used_map = None
            if self._unused:
                self._launch_used_map()
            engine.queue_callback(self._finalize)

    def _launch_used_map(self):
        """All-reduce which parameters each rank used, so that globally unused ones keep their .grad."""
        from ...tensor import Tensor
        used = np.ones(len(self._params), np.int32)
        used[list(self._unused)] = 0
        self._used_map = Tensor._make(used)
        self._used_work = _dist().all_reduce(self._used_map, group=self.process_group, async_op=True)

    def _finalize(self):
        """End of backward: wait for the reductions and write the averages into the parameters' ``.grad``."""
        from ...tensor import Tensor
        self._expect_hooks = False
        for b in self._buckets:
            b.work.wait()
        if self._used_work is not None:
            self._used_work.wait()
        for b in self._buckets:
            for i, view in zip(b.indices, b.views):
                if self._used_map is not None and self._used_map._data[i] == 0:
                    continue
                p = self._params[i]
                g = p._grad
                if self.gradient_as_bucket_view:
                    if g is None or g._data is not view:
                        p._grad = Tensor._make(view)
                elif g is None:
                    p._grad = Tensor._make(view.copy())
                else:
                    g._data[...] = view
        self._require_finalize = False
        if self._buckets is not self._rebuilt:   # PyTorch rebuilds its buckets after the first backward
            self._use_buckets(self._rebuilt)
