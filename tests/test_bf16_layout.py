"""bfloat16 byte for byte as PyTorch 2.13 keeps it (element sizes, storages, views to and from the 16-bit dtypes
and bytes, frombuffer, data_ptr, torch.save and safetensors files), float16 products, and the memory layout
PyTorch's CPU pointwise ops give mixed-layout operands."""
import ctypes
import io
import json
import os
import struct
import sys

import numpy as np
import pytest
import torch

import ember

sys.path.insert(0, os.path.dirname(__file__))
from _isa import assert_bits_or_near_max, bits_or
from helpers import run_both  # noqa: E402

VALUES = [1.5, -2.25, 3.0, 1e-3, 65504., 1 / 3, -0.0, 7.0, 1e-40, float('inf'), 3.4e38, -1e-3]


def _bits(t):
    """A bf16 tensor's 16-bit patterns, as Python ints, read through ``view(int16)``."""
    return t.view(t.__class__.__module__.split('.')[0] == 'torch' and torch.int16 or ember.int16).tolist()


def test_sizes_and_storages_count_two_bytes_an_element():
    def sizes(T):
        x = T.tensor(VALUES, dtype=T.bfloat16).reshape(3, 4)
        s = x.untyped_storage()
        return [x.element_size(), x.nbytes, x.itemsize, s.nbytes(), len(s), s.size(), x.storage().nbytes(),
                x.storage().size(), x.storage().element_size(), x[1:].untyped_storage().nbytes()]
    run_both(sizes, tol=0)


def test_storage_bytes_are_the_16_bit_patterns_and_write_through():
    def storage(T):
        x = T.tensor(VALUES, dtype=T.bfloat16)
        s = x.untyped_storage()
        before = [bytes(s), s.tolist(), s[1], s[-1]]
        s[0] = 0x80       # low byte of 1.5 (0x3FC0) -> 0x3F80 (1.0... with the low byte 0x80: 0x3F80 is 1.0)
        s[3] = 0x40
        x2 = T.tensor([5.0, 6.0], dtype=T.bfloat16)
        x2.untyped_storage().copy_(T.tensor([2.0, -1.0], dtype=T.bfloat16).untyped_storage())
        x3 = T.tensor([5.0, 6.0], dtype=T.bfloat16)
        x3.untyped_storage().fill_(0x3F)
        return before + [x, bytes(x.untyped_storage()), x2, x3]
    run_both(storage, tol=0)


def test_typed_storage_of_bfloat16():
    def typed(T):
        x = T.tensor(VALUES[:4], dtype=T.bfloat16)
        st = x.storage()
        st[1] = 0.1           # rounded to bfloat16, written into x
        return [st.tolist(), st[1], x, st.dtype]
    run_both(typed, tol=0)


@pytest.mark.parametrize('dt', ['int16', 'uint16', 'float16', 'uint8', 'int8', 'float32', 'int32', 'bool'])
def test_views_from_bfloat16(dt):
    def view(T):
        x = T.tensor(VALUES, dtype=T.bfloat16).reshape(3, 4)
        if dt == 'bool':
            x = T.tensor([0.0, 2.3509887e-38, 1.0], dtype=T.bfloat16)    # patterns 0x0000 0x0100 0x3F80
            return [x.view(T.uint8).view(T.bool), x.view(T.int16)]
        v = x.view(getattr(T, dt))
        return [v, v.shape, v.stride(), x[:, 1:3].view(getattr(T, dt)) if dt in ('int16', 'float16', 'uint16')
                else x[1].view(getattr(T, dt))]
    run_both(view, tol=0)


@pytest.mark.parametrize('dt', ['int16', 'uint16', 'float16', 'uint8', 'int8', 'float32', 'int64'])
def test_views_to_bfloat16(dt):
    def view(T):
        src = T.tensor([16320, -16368, 16448, 14979, 32641, -128, 0, 32640], dtype=T.int16).view(getattr(T, dt))
        v = src.view(T.bfloat16)
        return [v, v.shape, v.stride(), v.view(getattr(T, dt)), src.reshape(-1)[:2].view(T.bfloat16).shape]
    run_both(view, tol=0)


def test_dtype_views_across_bfloat16_write_through_both_ways():
    """A dtype view across bfloat16 is a copy in ember (its bfloat16 is widened), kept in step with its source:
    an in-place write to either side (or to another view of the source) shows in the other, as PyTorch's shared
    memory does."""
    def writes(T):
        x = T.tensor([[1.5, -2.25, 3.0], [1e-3, 65504., 1 / 3]], dtype=T.bfloat16)
        v = x.view(T.int16)
        v[0, 1] = 16256
        out = [x.clone()]
        x.mul_(2)
        out.append(v.clone())
        u = x.view(T.uint8)
        u[1].zero_()
        out += [x.clone(), v.clone()]
        b = T.zeros(8, dtype=T.uint8)
        w = b.view(T.bfloat16)
        b.copy_(T.tensor([0, 63, 128, 63, 0, 64, 0, 0], dtype=T.uint8))
        out.append(w.clone())
        w[3] = 5.0
        w.add_(1)
        out += [b.clone(), w.clone()]
        s = x[1].view(T.float16)
        s.fill_(1.0)
        x.detach().add_(1)
        out += [x.clone(), v.clone(), s.clone(), u.clone(), x._version]
        return out
    run_both(writes, tol=0)


def test_dtype_view_errors_name_bfloat16():
    def errors(T):
        x = T.ones(3, 4, dtype=T.bfloat16)
        return [x.t().view(T.uint8)]
    run_both(errors, message=True)
    run_both(lambda T: T.tensor(1.0, dtype=T.bfloat16).view(T.uint8), message=True)
    run_both(lambda T: T.ones(3, dtype=T.bfloat16).view(T.float32), message=True)
    run_both(lambda T: [T.tensor(1.0, dtype=T.bfloat16).view(T.int16), T.tensor(16256, dtype=T.int16).view(T.bfloat16)])


def test_frombuffer_reads_bfloat16_patterns():
    raw = struct.pack('<6H', 0x3FC0, 0xC010, 0x7F80, 0x0001, 0x8000, 0x4049)

    def frombuffer(T):
        return [T.frombuffer(bytearray(raw), dtype=T.bfloat16),
                T.frombuffer(bytearray(raw), dtype=T.bfloat16, offset=2, count=3),
                T.frombuffer(raw, dtype=T.bfloat16)]
    run_both(frombuffer, tol=0)
    run_both(lambda T: T.frombuffer(bytearray(raw[:5]), dtype=T.bfloat16), message=True)


def test_data_ptr_reads_pytorch_bytes_through_ctypes():
    """safetensors' writer reads ``numel * element_size`` bytes from ``data_ptr()`` through ctypes."""
    def raw(T):
        x = T.tensor(VALUES, dtype=T.bfloat16).reshape(3, 4)
        out = []
        for t in (x, x[1], x[2, 1:]):
            n = t.numel() * t.element_size()
            out.append(np.ctypeslib.as_array(ctypes.cast(t.data_ptr(), ctypes.POINTER(ctypes.c_ubyte)), (n,)).tobytes())
        x[0, 0] = -4.0
        n = x.numel() * 2
        out.append(np.ctypeslib.as_array(ctypes.cast(x.data_ptr(), ctypes.POINTER(ctypes.c_ubyte)), (n,)).tobytes())
        return out + [x[1].data_ptr() - x.data_ptr(), x[:, 1].data_ptr() - x.data_ptr(),
                      x.untyped_storage().data_ptr() == x.data_ptr(), x.t().data_ptr() == x.data_ptr(),
                      x.clone().data_ptr() == x.data_ptr()]
    run_both(raw)


def test_numpy_of_bfloat16_refused_as_pytorch_refuses():
    run_both(lambda T: T.ones(2, dtype=T.bfloat16).numpy(), message=True)


def test_torch_save_files_of_bfloat16_both_ways_bytes_equal():
    import zipfile
    x = torch.tensor(VALUES, dtype=torch.bfloat16).reshape(3, 4)
    buf = io.BytesIO()
    torch.save({'w': x, 'row': x[1]}, buf)
    loaded = ember.load(io.BytesIO(buf.getvalue()))
    assert loaded['w'].dtype is ember.bfloat16
    assert bytes(loaded['w'].untyped_storage()) == bytes(x.untyped_storage())
    assert loaded['row'].untyped_storage().data_ptr() == loaded['w'].untyped_storage().data_ptr()
    back = io.BytesIO()
    ember.save({'w': ember.tensor(VALUES, dtype=ember.bfloat16).reshape(3, 4)}, back)
    ref = io.BytesIO()
    torch.save({'w': x}, ref)
    ours, theirs = zipfile.ZipFile(back), zipfile.ZipFile(ref)
    for name in ('archive/data.pkl', 'archive/data/0', 'archive/byteorder'):
        assert ours.read(name) == theirs.read(name), name
    assert bytes(torch.load(io.BytesIO(back.getvalue()))['w'].untyped_storage()) == bytes(x.untyped_storage())


# a safetensors file by hand: 8-byte little-endian header length, the JSON header, then the raw bytes
def _write_safetensors(path, tensors):
    header, chunks, at = {}, [], 0
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {'dtype': dtype, 'shape': list(shape), 'data_offsets': [at, at + len(data)]}
        chunks.append(data)
        at += len(data)
    head = json.dumps(header, separators=(',', ':')).encode()
    head += b' ' * (-len(head) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(head)) + head + b''.join(chunks))


def _read_safetensors(path):
    with open(path, 'rb') as f:
        blob = f.read()
    n = struct.unpack('<Q', blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    return {k: (v['dtype'], v['shape'], blob[8 + n + v['data_offsets'][0]:8 + n + v['data_offsets'][1]])
            for k, v in header.items() if k != '__metadata__'}, 8 + n


def _tobytes(T, t):
    """A tensor's bytes as safetensors' writer takes them: ``numel * element_size`` bytes from ``data_ptr()``."""
    n = t.numel() * t.element_size()
    return np.ctypeslib.as_array(ctypes.cast(t.data_ptr(), ctypes.POINTER(ctypes.c_ubyte)), (n,)).tobytes()


def test_safetensors_bfloat16_files_both_ways(tmp_path):
    """PyTorch's file loads in ember as safe_open does (from_file, a storage slice, asarray as uint8,
    view(bfloat16), reshape) and as safetensors.torch.load does (frombuffer); ember's file, written as
    safetensors' writer writes (bytes from data_ptr), has PyTorch's bytes."""
    w = torch.tensor(VALUES, dtype=torch.bfloat16).reshape(3, 4)
    b = torch.linspace(-3, 3, 5).to(torch.bfloat16)
    theirs = tmp_path / 'torch.safetensors'
    _write_safetensors(theirs, {'w': ('BF16', w.shape, _tobytes(torch, w)), 'b': ('BF16', b.shape, _tobytes(torch, b))})
    entries, start = _read_safetensors(theirs)
    storage = ember.UntypedStorage.from_file(str(theirs), shared=False, nbytes=os.path.getsize(theirs))
    mine = {}
    for name, (_, shape, data) in entries.items():
        lo = start + json.loads(open(theirs, 'rb').read()[8:start])[name]['data_offsets'][0]
        part = ember.asarray(storage[lo:lo + len(data)], dtype=ember.uint8)
        mine[name] = part.view(dtype=ember.bfloat16).reshape(shape)
        assert ember.equal(mine[name], ember.frombuffer(bytearray(data), dtype=ember.bfloat16).reshape(shape))
    assert mine['w'].view(ember.int16).tolist() == w.view(torch.int16).tolist()
    assert mine['b'].view(ember.int16).tolist() == b.view(torch.int16).tolist()
    ours = tmp_path / 'ember.safetensors'
    _write_safetensors(ours, {k: ('BF16', v.shape, _tobytes(ember, v)) for k, v in mine.items()})
    assert ours.read_bytes() == theirs.read_bytes()
    back, _ = _read_safetensors(ours)
    assert torch.equal(torch.frombuffer(bytearray(back['w'][2]), dtype=torch.bfloat16).reshape(3, 4).view(torch.int16),
                       w.view(torch.int16))


# -- layout: PyTorch's CPU TensorIterator lays a pointwise result out by its FIRST operand's strides -----------------
def _operands(T):
    T.manual_seed(0)
    cl = T.randn(2, 3, 4, 5).contiguous(memory_format=T.channels_last)
    return {'cl': cl, 'c': T.randn(2, 3, 4, 5), 'bias': T.randn(1, 3, 1, 1), 'row': T.randn(5),
            'perm': T.randn(2, 5, 4, 3).permute(0, 3, 2, 1), 'cl1': T.randn(1, 3, 4, 5).contiguous(memory_format=T.channels_last),
            'T': T.randn(4, 3).t(), 'C2': T.randn(3, 4), 'sl': T.randn(2, 3, 4, 10)[..., ::2]}


LAYOUT_CASES = {
    'cl + c': lambda T, o: o['cl'] + o['c'], 'c + cl': lambda T, o: o['c'] + o['cl'],
    'cl + bias': lambda T, o: o['cl'] + o['bias'], 'bias + cl': lambda T, o: o['bias'] + o['cl'],
    'row * cl': lambda T, o: o['row'] * o['cl'], 'perm + cl': lambda T, o: o['perm'] + o['cl'],
    'cl - perm': lambda T, o: o['cl'] - o['perm'], 'c / perm': lambda T, o: o['c'] / o['perm'],
    'cl1 + c': lambda T, o: o['cl1'] + o['c'], 'c + cl1': lambda T, o: o['c'] + o['cl1'],
    'cl > c': lambda T, o: o['cl'] > o['c'], 'eq': lambda T, o: T.eq(o['cl'], o['c']),
    'logical_and': lambda T, o: T.logical_and(o['cl'], o['c']), 'maximum': lambda T, o: T.maximum(o['cl'], o['c']),
    'pow': lambda T, o: T.pow(o['cl'], o['c']), 'atan2': lambda T, o: T.atan2(o['cl'], o['c']),
    'copysign': lambda T, o: T.copysign(o['cl'], o['c']), 'fmod': lambda T, o: T.fmod(o['cl'], o['c']),
    'add alpha': lambda T, o: T.add(o['c'], o['cl'], alpha=2), 'add alpha cl': lambda T, o: T.add(o['cl'], o['c'], alpha=2),
    'sub alpha': lambda T, o: T.sub(o['cl'], o['c'], alpha=2), 'rsub': lambda T, o: T.rsub(o['cl'], o['c']),
    'rsub alpha': lambda T, o: T.rsub(o['c'], o['cl'], alpha=3), 'div floor': lambda T, o: T.div(o['cl'], o['c'], rounding_mode='floor'),
    'float64 + cl': lambda T, o: o['c'].double() + o['cl'], 'cl + float64': lambda T, o: o['cl'] + o['c'].double(),
    'bf16': lambda T, o: o['cl'].bfloat16() + o['c'].bfloat16(),
    'where(cl cond)': lambda T, o: T.where(o['cl'] > 0, o['c'], o['c']), 'where(cl input)': lambda T, o: T.where(o['c'] > 0, o['cl'], o['c']),
    'addcmul(cl first)': lambda T, o: T.addcmul(o['cl'], o['c'], o['c']), 'addcmul(cl second)': lambda T, o: T.addcmul(o['c'], o['cl'], o['c']),
    'addcdiv': lambda T, o: T.addcdiv(o['cl'], o['c'], o['c'] + 3), 'lerp': lambda T, o: T.lerp(o['cl'], o['c'], 0.3),
    'lerp tensor weight': lambda T, o: T.lerp(o['c'], o['cl'], o['c'].sigmoid()), 'clamp': lambda T, o: T.clamp(o['cl'], o['c'], o['c'] + 1),
    'unary': lambda T, o: [o['cl'].exp(), -o['perm'], o['sl'].sigmoid(), o['cl'] * 2, 2 - o['cl']],
    'gelu': lambda T, o: [T.nn.functional.gelu(o['perm']), T.nn.functional.gelu(o['cl'])],
    'T + C': lambda T, o: o['T'] + o['C2'], 'C + T': lambda T, o: o['C2'] + o['T'], 'where(T)': lambda T, o: T.where(o['T'] > 0, o['C2'], o['C2']),
    'flip': lambda T, o: [o['cl'].flip(1), o['cl'].flip(2, 3), o['perm'].flip(0), o['T'].flip(0), o['T'].fliplr(), o['sl'].flip(3)],
    'roll': lambda T, o: [o['cl'].roll(1, 2), o['cl'].roll(1), o['cl'].roll((1, 2), (1, 3)), o['perm'].roll(1, 1), o['T'].roll(1, 0)],
    'in place keeps self': lambda T, o: [o['c'].clone().mul_(o['cl']), o['cl'].clone().add_(o['c'])],
    'chain': lambda T, o: ((o['cl'] + o['c']) * o['c'] - o['bias']).relu() + o['c'],
}


@pytest.mark.parametrize('case', sorted(LAYOUT_CASES))
def test_pointwise_results_laid_out_as_pytorch(case):
    def layout(T):
        out = LAYOUT_CASES[case](T, _operands(T))
        out = out if isinstance(out, list) else [out]
        return [[r, r.stride(), r.is_contiguous(), r.is_contiguous(memory_format=T.channels_last)] if r.dim() == 4
                else [r, r.stride(), r.is_contiguous()] for r in out]
    run_both(layout, tol=1e-6)


def test_channels_last_training_step_keeps_its_layout():
    """timm's --channels-last: a conv net's activations stay channels-last through residual adds whose first
    operand is the block's channels-last output, so the second step's inputs and gradients keep that layout."""
    def step(T):
        T.manual_seed(0)
        conv = T.nn.Conv2d(3, 3, 3, padding=1).to(memory_format=T.channels_last)
        x = T.randn(2, 3, 6, 6).contiguous(memory_format=T.channels_last)
        y = conv(x)
        z = y + T.randn(2, 3, 6, 6)          # the residual's second operand row-major
        z.sum().backward()
        return [z, z.stride(), z.is_contiguous(memory_format=T.channels_last), conv.weight.grad.is_contiguous(
            memory_format=T.channels_last)]
    run_both(step, tol=1e-5)


# -- float16 products: PyTorch's CPU sums them in float32, four interleaved partial sums, the bias before rounding ----
def _half(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float16)


CONV_CASES = [((2, 8, 12, 12), (16, 8, 3, 3), dict(padding=1), True), ((2, 8, 12, 12), (16, 8, 3, 3), {}, False),
              ((1, 64, 14, 14), (64, 64, 3, 3), dict(padding=1), False), ((2, 4, 11, 11), (6, 4, 3, 3), dict(stride=2, padding=1), True),
              ((1, 4, 9, 9), (5, 4, 3, 3), dict(dilation=2), True), ((2, 4, 8, 8), (6, 2, 3, 3), dict(groups=2, padding=1), True),
              ((2, 4, 8, 8), (6, 4, 1, 1), dict(stride=2), True), ((2, 3, 10), (4, 3, 3), dict(padding=1), True),
              ((2, 8, 10, 10), (8, 1, 3, 3), dict(groups=8, padding=1), True)]


@pytest.mark.parametrize('xs, ws, kw, bias', CONV_CASES)
def test_float16_convolutions_bit_for_bit(xs, ws, kw, bias):
    x, w, b = _half(xs, 0), _half(ws, 1), _half(ws[:1], 2)
    f = 'conv1d' if len(xs) == 3 else 'conv2d'

    def conv(T):
        X = T.tensor(x, requires_grad=True)
        y = getattr(T.nn.functional, f)(X, T.tensor(w), T.tensor(b) if bias else None, **kw)
        y.float().square().sum().backward()
        return [y] if kw.get('groups') == 8 else [y, X.grad]    # (the depthwise input gradient: not yet)
    run_both(conv, tol=0)


@pytest.mark.parametrize('left, right', [('row', 'row'), ('col', 'col'), ('col', 'row'), ('row', 'col')])
def test_float16_matmul_bit_for_bit(left, right):
    a, b = _half((40, 203), 3), _half((203, 36), 4)

    def product(T):
        A = T.tensor(a) if left == 'row' else T.tensor(np.ascontiguousarray(a.T)).t()
        B = T.tensor(b) if right == 'row' else T.tensor(np.ascontiguousarray(b.T)).t()
        return [A @ B, T.mm(A, B), T.matmul(A[:7], B)]
    run_both(product, tol=bits_or(2 ** -10))     # AVX2 PyTorch's float16 dot sums in another order: 1 ulp


# -- bfloat16 arithmetic rounded where PyTorch's CPU kernels round ------------------------------------------------
@pytest.mark.parametrize('op', ['add', 'mul', 'mul scalar', 'matmul', 'linear', 'sum', 'sum0', 'mean', 'mean0', 'mean all',
                                'softmax', 'log_softmax', 'log_softmax0', 'cumsum', 'cross_entropy'])
def test_bfloat16_arithmetic_bit_for_bit(op):
    x32 = np.random.default_rng(0).standard_normal((16, 300)).astype(np.float32)
    y32 = np.random.default_rng(1).standard_normal((300, 24)).astype(np.float32)
    ops = {'add': lambda T, x, y: x + x.flip(1), 'mul': lambda T, x, y: x * x.flip(0), 'mul scalar': lambda T, x, y: x * 0.1,
           'matmul': lambda T, x, y: x @ y, 'linear': lambda T, x, y: T.nn.functional.linear(x, y.t(), y[0]),
           'sum': lambda T, x, y: x.sum(1), 'sum0': lambda T, x, y: x.sum(0), 'mean': lambda T, x, y: x.mean(1),
           'mean0': lambda T, x, y: x.mean(0), 'mean all': lambda T, x, y: x.mean(), 'softmax': lambda T, x, y: x.softmax(-1),
           'log_softmax': lambda T, x, y: x.log_softmax(-1), 'log_softmax0': lambda T, x, y: x.log_softmax(0),
           'cumsum': lambda T, x, y: x.cumsum(1),
           'cross_entropy': lambda T, x, y: T.nn.functional.log_softmax(x[:, :10], 1)}

    def compute(T):
        return ops[op](T, T.tensor(x32).to(T.bfloat16), T.tensor(y32).to(T.bfloat16))
    run_both(compute, tol=0)


def test_float16_log_softmax_over_the_last_dim_bit_for_bit():
    x = _half((8, 1000), 5)
    run_both(lambda T: [T.tensor(x).log_softmax(-1), T.tensor(x).log_softmax(0)], tol=0)


@pytest.mark.parametrize('xs, ws, kw', [((2, 8, 12, 12), (8, 4, 3, 3), {}), ((2, 4, 7, 7), (4, 6, 4, 4), dict(stride=2, padding=1)),
                                        ((2, 4, 6, 6), (4, 3, 3, 3), dict(groups=2, padding=1)), ((2, 3, 10), (3, 4, 3), dict(stride=2))])
def test_bfloat16_transposed_convolutions_bit_for_bit(xs, ws, kw):
    """PyTorch computes them in float32 and rounds once; ember rounded each column sum."""
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal(xs).astype(np.float32), rng.standard_normal(ws).astype(np.float32)
    b = rng.standard_normal(ws[1] * kw.get('groups', 1)).astype(np.float32)
    f = 'conv_transpose1d' if len(xs) == 3 else 'conv_transpose2d'

    def tconv(T):
        X, W, B = (T.tensor(v).bfloat16().requires_grad_() for v in (x, w, b))
        y = getattr(T.nn.functional, f)(X, W, B, **kw)
        y.float().square().sum().backward()
        return [y, X.grad, W.grad, B.grad]
    # AVX2 PyTorch (no oneDNN bfloat16 path) rounds partial sums: up to 0.008 of max|value| off, measured on these
    for e, t in zip(tconv(ember), tconv(torch)):
        assert_bits_or_near_max(e, t, 2 ** -6)


def test_channels_last_block_trains_in_its_layout_for_three_steps():
    """A residual block with batch norm, gelu * sigmoid, pooling and a head, channels-last, three SGD steps with
    momentum: the same losses, and every weight, gradient and momentum buffer keeps PyTorch's strides (the
    buffer is a clone of the first gradient, channels-last too)."""
    def train(T):
        nn = T.nn
        T.manual_seed(0)

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.stem = nn.Conv2d(3, 8, 3, padding=1)
                self.c1, self.b1 = nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8)
                self.c2, self.b2 = nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8)
                self.head = nn.Linear(8, 4)

            def forward(self, x):
                x = T.relu(self.stem(x))
                x = self.b2(self.c2(T.relu(self.b1(self.c1(x))))) + x
                x = nn.functional.gelu(x) * T.sigmoid(x)
                return self.head(nn.functional.adaptive_avg_pool2d(x, 1).flatten(1))
        m = Block().to(memory_format=T.channels_last)
        opt = T.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
        out = []
        for _ in range(3):
            x = T.randn(4, 3, 8, 8).contiguous(memory_format=T.channels_last)
            loss = nn.functional.cross_entropy(m(x), T.randint(0, 4, (4,)))
            opt.zero_grad()
            loss.backward()
            opt.step()
            out.append(loss)
            out += [[p.stride(), p.grad.stride(), opt.state[p]['momentum_buffer'].stride()] for p in m.parameters()]
        return out
    run_both(train, tol=1e-5)


@pytest.mark.parametrize('xs, out, bias', [((8, 64), 16, True), ((40, 203), 36, False), ((2, 5, 300), 24, True), ((16, 2048), 8, True)])
def test_float16_linear_bit_for_bit(xs, out, bias):
    """PyTorch's addmm of a row-major input and the transposed (column-major) weight: its vectorised dot."""
    x, w, b = _half(xs, 8), _half((out, xs[-1]), 9), _half((out,), 10)

    def layer(T):
        X = T.tensor(x, requires_grad=True)
        y = T.nn.functional.linear(X, T.tensor(w), T.tensor(b) if bias else None)
        return [y]
    run_both(layer, tol=bits_or(2 ** -10))     # AVX2 PyTorch's float16 dot sums in another order: 1 ulp


def test_float16_bmm_bit_for_bit():
    a, b = _half((4, 64, 300), 11), _half((4, 300, 32), 12)
    run_both(lambda T: [T.bmm(T.tensor(a), T.tensor(b)), T.tensor(a) @ T.tensor(b)], tol=0)
