"""Real PyTorch programs under the alias against PyTorch (session 48, lane realT): what beginners type, from the
PyTorch forum's common questions, and the errors they read; each defect found is reduced here to the lines that
found it."""
import numpy as np
import pytest

import ember
from helpers import run_both


# -- A GPU asked for on a CPU-only build (the forum's most read error): PyTorch's AssertionError 'Torch not compiled
# with CUDA enabled' word for word (ember added its own sentence), every device type PyTorch names is a device
# ('xpu', 'hip': ember listed four), an int device is an accelerator index, torch.cuda.init exists.
@pytest.mark.parametrize('call', [
    "lib.zeros(2).cuda()", "lib.zeros(2).to('cuda')", "lib.zeros(2, device='cuda')", "lib.zeros(2, device='cuda:1')",
    "lib.zeros(2, device=lib.device('cuda'))", "lib.tensor([1., 2.], device='cuda')", "lib.randn(2, device='cuda')",
    "lib.zeros(2).to(device='cuda:0')", "lib.zeros(2).to('cuda', lib.float64)", "lib.nn.Linear(2, 2).cuda()",
    "lib.nn.Linear(2, 2).to('cuda')", "lib.zeros_like(lib.zeros(2), device='cuda')",
    "lib.zeros(2).new_zeros(2, device='cuda')", "lib.cuda.current_device()", "lib.cuda.get_device_name(0)",
    "lib.cuda.synchronize()", "lib.cuda.get_device_properties(0)", "lib.cuda.mem_get_info()", "lib.cuda.init()",
    "lib.zeros(2, device='xpu')", "lib.zeros(2).to('xpu')", "lib.zeros(2).to('mps')", "lib.zeros(2).to('hip')",
    "lib.zeros(2).to(0)", "lib.zeros(2, device=0)", "lib.nn.Linear(2, 2).to(0)", "lib.zeros(2).cuda(0)",
    "lib.device('gpu')", "lib.device('gpu:0')", "lib.device('CUDA')",
    "(lambda d: (d.type, d.index, str(d)))(lib.device('xpu:1'))", "(lambda d: (d.type, str(d)))(lib.device('hip'))"])
def test_gpu_requests_refused_in_pytorchs_words(call):
    run_both(lambda lib: eval(call, {'lib': lib}), message=True)


def test_cuda_refusal_is_caught_as_pytorchs_assertion():
    """The forum's ``except AssertionError`` (and ``except RuntimeError``) fallbacks to the CPU catch it."""
    for call in (lambda: ember.zeros(2).cuda(), lambda: ember.zeros(2, device='cuda')):
        with pytest.raises(AssertionError, match='^Torch not compiled with CUDA enabled$'):
            call()
        with pytest.raises(RuntimeError):
            call()


# -- A Python complex number stored into a real dtype was cast (tensor(3+0j, dtype=torch.int8) gave 3, 2j gave 0):
# PyTorch's TypeError as Python's int()/float() word it; bool takes it, NumPy data is cast as there.
@pytest.mark.parametrize('call', [
    'lib.tensor(3+0j, dtype=lib.int8)', 'lib.tensor([3+0j], dtype=lib.int8)', 'lib.tensor(3+1j, dtype=lib.float32)',
    'lib.tensor([1, 2j], dtype=lib.int64)', 'lib.tensor([1, 2j], dtype=lib.float64)',
    'lib.tensor([[1., 2j]], dtype=lib.float16)', 'lib.tensor(3+0j, dtype=lib.uint8)',
    'lib.tensor(3+0j, dtype=lib.bfloat16)', 'lib.tensor([True, 1j], dtype=lib.int8)',
    'lib.as_tensor([1j], dtype=lib.float32)', 'lib.as_tensor([1j], dtype=lib.int32)', 'lib.tensor(1j, dtype=lib.bool)',
    'lib.tensor(np.complex128(1j), dtype=lib.float32)', 'lib.tensor(np.array([1j]), dtype=lib.float32)',
    'lib.tensor([1j], dtype=lib.complex64)', 'lib.tensor([1, 2j])'])
def test_complex_into_real_dtype_refused(call):
    run_both(lambda lib: eval(call, {'lib': lib, 'np': np}), message=True)


# -- Adaptive pools given an input of the wrong rank: PyTorch's messages (the shape as a list, max's with a colon;
# the Python check's ValueError without ember's added detail).
@pytest.mark.parametrize('call', [
    'F.adaptive_avg_pool2d(lib.zeros(3), 2)', 'F.adaptive_max_pool2d(lib.zeros(3), 2)',
    'F.adaptive_avg_pool2d(lib.zeros(1, 3, 3), (2, 2, 2))', 'F.adaptive_max_pool2d(lib.zeros(3), (2, 2))',
    'F.adaptive_avg_pool3d(lib.zeros(1, 3, 3, 3), (2, 2, 2, 2))', 'F.adaptive_max_pool3d(lib.zeros(1, 3, 3, 3), (2, 2, 2, 2))',
    'lib.nn.AdaptiveAvgPool2d((2, 2))(lib.zeros(5, 5))'])
def test_adaptive_pool_rank_messages(call):
    run_both(lambda lib: eval(call, {'lib': lib, 'F': lib.nn.functional}), message=True)


# -- pack_padded_sequence given fewer or more lengths than the batch holds (enforce_sorted=True): PyTorch's
# 'Expected `len(lengths)` to be equal to batch_size' before the order check (ember packed what the lengths named).
@pytest.mark.parametrize('lengths', [[3, 5], [2], [1, 2, 1, 1], [2, 1, 1, 1], [2, 2, 1]])
@pytest.mark.parametrize('batch_first', [False, True])
def test_pack_padded_lengths_against_batch(lengths, batch_first):
    def fn(lib):
        x = lib.arange(30.).reshape(2, 3, 5)
        x = x.transpose(0, 1) if batch_first else x
        p = lib.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=True)
        return p.data, p.batch_sizes
    run_both(fn, message=True)
