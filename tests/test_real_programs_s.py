"""Hugging Face transformers 5.25 under ``ember.aliasing.as_torch()`` (session 34): the names and values
``import transformers`` and ``from transformers import GPT2LMHeadModel, BertModel, T5ForConditionalGeneration,
LlamaForCausalLM`` reach at load, each reduced to the lines that stopped it, checked against PyTorch (the CPU build's
values). transformers itself is not needed here."""
import dataclasses
import pickle

import pytest
import torch
import torch.distributed._composable.fsdp
import torch.distributed._functional_collectives
import torch.distributed.device_mesh
import torch.distributed.fsdp
import torch.distributed.tensor._utils
import torch.nn.attention.flex_attention
import torch._dynamo._trace_wrapped_higher_order_op

import ember
import ember.distributed._composable.fsdp
import ember.distributed._functional_collectives
import ember.distributed.device_mesh
import ember.distributed.fsdp
import ember.distributed.tensor._utils
import ember.nn.attention.flex_attention
import ember._dynamo._trace_wrapped_higher_order_op
from helpers import run_both


# -- transformers/distributed/*.py: DTensor, placements, FSDP names (is_torch_distributed_available is True) -----
def test_placement_types_compare_and_print_as_pytorchs():
    """transformers/distributed/tensor_parallel.py builds ``Replicate()``/``Shard(-1)`` layouts at import and
    sharding_utils.py imports ``_StridedShard``; they are value types, equal and hashed by their fields."""
    def placements(T):
        p = T.distributed.tensor.placement_types
        s = p._StridedShard(0, split_factor=2)
        made = [p.Shard(0), p.Shard(-1), p.Replicate(), p.Partial(), p.Partial('max'), s]
        return [[repr(x), str(x)] for x in made] + [
            p.Shard(1) == p.Shard(1), p.Shard(1) == p.Shard(0), hash(p.Shard(2)) == hash(p.Shard(2)),
            s == p.Shard(0), s.is_shard(), p.Shard(0).is_shard(), p.Shard(0).is_shard(1), p.Replicate().is_replicate(),
            p.Partial().is_partial(), p.Partial().reduce_op, p.Replicate() == p.Replicate(),
            T.distributed.tensor.Shard is p.Shard]
    run_both(placements)


def test_dtensor_fsdp_and_functional_collectives_names():
    """transformers' distributed helpers check ``isinstance(t, DTensor)`` and ``isinstance(m,
    FullyShardedDataParallel)`` on every tensor and module they load; no ember tensor or module is one, and
    making one is refused. fsdp.py builds ``MixedPrecisionPolicy``/``CPUOffloadPolicy``; parallel_utils.py imports
    ``wait_tensor``."""
    def names(T):
        d = T.distributed
        mp = d.fsdp.MixedPrecisionPolicy(param_dtype=T.bfloat16)
        return [isinstance(T.ones(2), d.tensor.DTensor), isinstance(T.nn.Linear(2, 2), d.fsdp.FullyShardedDataParallel),
                isinstance(T.nn.Linear(2, 2), d.fsdp.FSDPModule), repr(mp), repr(d.fsdp.CPUOffloadPolicy()),
                dataclasses.is_dataclass(mp), d._composable.fsdp.fully_shard is d.fsdp.fully_shard,
                issubclass(d.tensor.DTensor, T.Tensor)]
    run_both(names)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ember.distributed.fsdp.MixedPrecisionPolicy().param_dtype = ember.float16
    t = ember.ones(3)
    assert ember.distributed._functional_collectives.wait_tensor(t) is t
    for make in (lambda: ember.distributed.tensor.DTensor(), lambda: ember.distributed.tensor.distribute_tensor(t),
                 lambda: ember.distributed.device_mesh.init_device_mesh('cpu', (1,)),
                 lambda: ember.distributed.fsdp.FullyShardedDataParallel(ember.nn.Linear(2, 2)),
                 lambda: ember.distributed.tensor._utils.compute_local_shape_and_global_offset((4,), None, [])):
        with pytest.raises(NotImplementedError, match='not supported by ember'):
            make()


# -- transformers/modeling_utils.py and cache_utils.py: the float8 dtypes -------------------------------------------
FLOAT8 = ('float8_e4m3fn', 'float8_e5m2', 'float8_e4m3fnuz', 'float8_e5m2fnuz', 'float8_e8m0fnu')


def test_float8_dtypes_and_their_finfo():
    """modeling_utils.py maps safetensors' "F8_E4M3" to ``torch.float8_e4m3fn`` at import, and cache_utils.py's
    ``Fp8QuantizedLayer`` reads ``torch.finfo(torch.float8_e4m3fn).max`` in its class body."""
    def dtypes(T):
        out = []
        for name in FLOAT8:
            d = getattr(T, name)
            f = T.finfo(d)
            out.append([repr(d), str(d), d.is_floating_point, d.is_signed, d.is_complex, d.itemsize, repr(f),
                        f.bits, f.eps, f.max, f.min, f.tiny, f.smallest_normal, f.resolution, f.dtype,
                        d == T.float32, d.to_real() is d, pickle.loads(pickle.dumps(d)) is d])
        return out
    run_both(dtypes)


def test_float8_tensors_are_refused_by_name():
    """ember cannot store float8 values (NumPy has no such type): making one says so and names the dtype."""
    for name in FLOAT8:
        with pytest.raises(NotImplementedError, match=f'torch.{name} tensors are not supported by ember'):
            ember.zeros(2, dtype=getattr(ember, name))
    with pytest.raises(NotImplementedError, match='float8_e5m2'):
        ember.ones(2).to(ember.float8_e5m2)


# -- transformers/utils/generic.py, integrations/executorch.py: torch.utils._pytree's dict helpers ------------------
def test_pytree_dict_flatten_helpers_and_keys():
    """generic.py registers every ModelOutput class with ``flatten_with_keys_fn=torch_pytree._dict_flatten_with_keys``
    (at class creation); executorch.py flattens caches with ``_dict_flatten``/``_dict_unflatten``."""
    def helpers(T):
        p = T.utils._pytree
        d = {'b': [1, 2], 'a': 3}
        values, keys = p._dict_flatten(d)
        with_keys, keys2 = p._dict_flatten_with_keys(d)
        mk, sk = p.MappingKey('a'), p.SequenceKey(1)
        return [values, keys, [repr(k) for k, _ in with_keys], [v for _, v in with_keys], keys2,
                p._dict_unflatten(values, keys), repr(mk), str(mk), repr(sk), str(sk), mk == p.MappingKey('a'),
                hash(sk) == hash(p.SequenceKey(1)), mk.get({'a': 5}), sk.get([4, 6])]
    run_both(helpers)


# -- transformers/core_model_loading.py: @torch.no_grad without parentheses --------------------------------------
def test_no_grad_and_enable_grad_decorate_without_parentheses():
    """core_model_loading.py decorates its converters' methods with a bare ``@torch.no_grad``."""
    def decorated(T):
        x = T.ones(2, requires_grad=True)

        @T.no_grad
        def off(t):
            return [T.is_grad_enabled(), (t * 2).requires_grad]

        @T.enable_grad
        def on(t):
            return [T.is_grad_enabled(), (t * 2).requires_grad]

        with T.no_grad():
            inside = on(x)
        return [off(x), inside, T.is_grad_enabled(), off.__name__, on.__name__, type(T.no_grad()).__name__,
                isinstance(T.no_grad(), T.no_grad)]
    run_both(decorated)


# -- transformers/masking_utils.py: TransformGetItemToIndex -------------------------------------------------------
def test_transform_getitem_to_index_indexes_by_tensor():
    """masking_utils.py imports ``TransformGetItemToIndex`` and runs vmap-ed mask functions under it: inside it,
    ``a[q, 2]`` with a 0-d tensor ``q`` indexes by tensor and gives the same values."""
    def index(T):
        mode = T._dynamo._trace_wrapped_higher_order_op.TransformGetItemToIndex
        a = T.arange(12.).reshape(3, 4)
        with mode():
            q = T.tensor(1)
            return [a[q, 2], a[q], a[1], a[q, T.tensor(3)], a[0:2]]
    run_both(index)


# -- transformers/generation/continuous_batching/utils.py: torch.cuda's CUDA-graph and stream names ---------------
def test_cuda_graph_and_stream_context_as_a_cpu_build():
    """continuous_batching/utils.py annotates with ``torch.cuda.CUDAGraph`` and ``torch.cuda.StreamContext`` and
    subclasses nothing: a CPU-only PyTorch defines them; making a graph fails, a stream context does nothing."""
    def cuda(T):
        with T.cuda.StreamContext(None) as entered:
            pass
        return [entered, T.cuda.stream(None).stream, isinstance(T.cuda.stream(None), T.cuda.StreamContext)]
    run_both(cuda)
    run_both(lambda T: T.cuda.CUDAGraph(), message=True)
    run_both(lambda T: T.cuda.graph(None), message=True)


# -- transformers/integrations/deepgemm.py, flex_attention.py ------------------------------------------------------
def test_assume_constant_result_marks_and_returns():
    """deepgemm.py decorates a helper with ``@torch._dynamo.assume_constant_result`` at import."""
    def marked(T):
        def f():
            return 3
        g = T._dynamo.assume_constant_result(f)
        return [g is f, g(), f._dynamo_marked_constant]
    run_both(marked)


def test_flex_attention_names_import_and_refuse():
    """masking_utils.py and integrations/flex_attention.py import ``BlockMask``, ``create_block_mask``,
    ``flex_attention``, ``AuxRequest`` and ``_DEFAULT_SPARSE_BLOCK_SIZE`` when flex attention is available (it is,
    on a CPU build); ember has no flex kernel and refuses the calls, pointing at SDPA."""
    def names(T):
        f = T.nn.attention.flex_attention
        return [f._DEFAULT_SPARSE_BLOCK_SIZE, repr(f.AuxRequest()), repr(f.AuxRequest(lse=True)), repr(f.AuxOutput()),
                isinstance(T.ones(2), f.BlockMask)]
    run_both(names)
    f = ember.nn.attention.flex_attention
    with pytest.raises(NotImplementedError, match='sdpa'):
        f.create_block_mask(lambda b, h, q, k: q >= k, 1, 1, 4, 4)
    assert torch.nn.attention.flex_attention._DEFAULT_SPARSE_BLOCK_SIZE == 128


# -- safetensors 0.8 (Rust safe_open, framework="pt"), as transformers' from_pretrained loads model.safetensors -----
def test_untyped_storage_from_file_read_as_safe_open_reads(tmp_path):
    """safe_open maps the file with ``torch.UntypedStorage.from_file(name, shared=False, nbytes=size).untyped()``,
    and each tensor is ``torch.asarray(storage[start:stop], dtype=torch.uint8).view(dtype=dtype).reshape(shape)``
    (ember had no ``from_file``, and read a storage as a sequence of byte values whatever the dtype)."""
    import numpy as np
    path = tmp_path / 'w.bin'
    np.arange(16, dtype=np.float32).tofile(path)

    def read(T):
        s = T.UntypedStorage.from_file(str(path), shared=False, nbytes=64).untyped()
        t = T.asarray(s[8:24], dtype=T.uint8).view(dtype=T.float32).reshape([2, 2])
        whole = T.asarray(s, dtype=T.float32)
        whole[1] = 7.0   # shared=False: a private copy on write
        return [type(s).__name__, s.nbytes(), s[8:24].nbytes(), t, T.asarray(s).dtype, T.asarray(s).shape,
                T.asarray(s, dtype=T.float32)[:3], np.fromfile(path, dtype=np.float32)[:3].tolist(),
                T.asarray(T.UntypedStorage(6), dtype=T.float32).shape]
    run_both(read)
    run_both(lambda T: T.UntypedStorage.from_file(str(path), shared=False, nbytes=100), message=False)
    run_both(lambda T: T.UntypedStorage.from_file(str(path) + 'x', shared=False, nbytes=4), message=False)


def test_asarray_of_a_storage_reads_its_bytes_as_dtype():
    """``torch.asarray(storage, dtype=d)`` reinterprets the bytes as ``d`` and shares them (ember gave the byte
    values converted to ``d``); bfloat16 too (ember copies those into its float32-backed layout)."""
    def read(T):
        u = T.tensor([1.5, -2.25, 3.0, 1e30]).untyped_storage()
        b = T.asarray(u, dtype=T.float32)
        b[0] = 5.0
        return [T.asarray(u, dtype=T.float32), T.asarray(u, dtype=T.int32), T.asarray(u[4:12], dtype=T.bfloat16),
                T.asarray(u, dtype=T.bfloat16).float()]
    run_both(read)


# -- transformers/utils/import_utils.py: is_torch_deterministic() ---------------------------------------------------
def test_deterministic_debug_mode_as_is_torch_deterministic_reads_it():
    """``is_torch_deterministic()`` returns ``torch.get_deterministic_debug_mode() != 0`` (ember had no such
    function: the probe raised AttributeError where PyTorch's CPU build says False)."""
    def probe(T):
        try:
            before = T.get_deterministic_debug_mode() != 0
            T.use_deterministic_algorithms(True)
            return [before, T.get_deterministic_debug_mode() != 0]
        finally:
            T.use_deterministic_algorithms(False)
    run_both(probe)


def test_bfloat16_view_as_itself_and_bytes_as_bfloat16():
    """safe_open reads a bfloat16 checkpoint's tensors as ``asarray(bytes, dtype=uint8).view(dtype=bfloat16)``
    (transformers' _materialize_copy, ``tensor[...]`` on the slice): ember reads the 16-bit patterns (it refused,
    keeping bfloat16 widened to float32). A bfloat16 tensor viewed as bfloat16 is itself, sharing memory
    (ember refused it too)."""
    def same(T):
        x = T.tensor([1.5, 2.25], dtype=T.bfloat16)
        v = x.view(T.bfloat16)
        v[0] = 3.0
        y = T.ones(2, requires_grad=True).bfloat16().view(T.bfloat16)
        return [x, v.dtype, x._version, y.grad_fn is None, y.requires_grad]
    run_both(same)
    run_both(lambda T: T.tensor([0, 0, 192, 63, 16, 192, 255, 127], dtype=T.uint8).view(dtype=T.bfloat16), tol=0)
