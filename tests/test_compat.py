"""The names real PyTorch programs import on a CPU: torch.backends, torch.accelerator, torch.cuda(.amp),
torch.amp (autocast, GradScaler), device predicates, bfloat16, torch.tensor of other sequences, nn
classes at their module paths, DataParallel, and the import-only modules (onnx, distributed)."""
import collections
import importlib
import inspect
import pkgutil
import warnings

import numpy as np
import pytest
import torch

import ember
from ember import aliasing


def answer(fn, lib):
    """``fn(lib)``'s value, or the type and message of what it raised."""
    try:
        return fn(lib)
    except Exception as exc:  # noqa: BLE001 (the error is the answer)
        return type(exc).__name__, str(exc)


CPU_ANSWERS = [
    lambda t: t.backends.cudnn.is_available(), lambda t: t.backends.cudnn.enabled,
    lambda t: t.backends.cudnn.benchmark, lambda t: t.backends.cudnn.deterministic,
    lambda t: t.backends.cudnn.allow_tf32, lambda t: t.backends.cudnn.version(),
    lambda t: t.backends.mps.is_available(), lambda t: t.backends.mps.is_built(),
    lambda t: t.backends.cuda.is_built(), lambda t: t.backends.cuda.matmul.allow_tf32,
    lambda t: t.backends.cuda.matmul.allow_fp16_reduced_precision_reduction,
    lambda t: t.backends.cuda.flash_sdp_enabled(), lambda t: t.backends.cuda.math_sdp_enabled(),
    lambda t: t.backends.opt_einsum.is_available(), lambda t: t.backends.opt_einsum.strategy,
    lambda t: t.backends.mkldnn.enabled, lambda t: t.get_float32_matmul_precision(),
    lambda t: t.accelerator.is_available(), lambda t: t.accelerator.current_accelerator(),
    lambda t: t.accelerator.device_count(), lambda t: t.accelerator.current_device_index(),
    lambda t: t.accelerator.synchronize(),
    lambda t: t.cuda.is_available(), lambda t: t.cuda.device_count(), lambda t: t.cuda.is_initialized(),
    lambda t: t.cuda.manual_seed(0), lambda t: t.cuda.manual_seed_all(0), lambda t: t.cuda.is_bf16_supported(),
    lambda t: t.cuda.memory_allocated(), lambda t: type(answer(lambda t: t.cuda.current_device(), t)),
    lambda t: answer(lambda t: t.cuda.get_device_name(0), t)[0],
    lambda t: t.mps.is_available(), lambda t: t.mps.device_count(), lambda t: t.mps.synchronize(),
    lambda t: t.xpu.is_available(), lambda t: t.xpu.device_count(), lambda t: t.xpu.is_initialized(),
    lambda t: t.xpu.manual_seed(0), lambda t: t.xpu.empty_cache(),
    lambda t: answer(lambda t: t.xpu.synchronize(), t)[0], lambda t: answer(lambda t: t.xpu.current_device(), t)[0],
    lambda t: t.amp.is_autocast_available('cpu'), lambda t: t.is_autocast_enabled(),
    lambda t: t.get_autocast_dtype('cpu'), lambda t: t.get_autocast_dtype('cuda'),
]


@pytest.mark.parametrize('i', range(len(CPU_ANSWERS)))
def test_backends_and_devices_answer_as_cpu_pytorch(i):
    e, t = answer(CPU_ANSWERS[i], ember), answer(CPU_ANSWERS[i], torch)
    assert repr(e) == repr(t), inspect.getsource(CPU_ANSWERS[i])


def test_backend_flags_are_settable_and_restored():
    for lib in (ember, torch):
        cudnn = lib.backends.cudnn
        cudnn.benchmark, cudnn.deterministic = True, True
        lib.backends.cuda.matmul.allow_tf32 = True
        with cudnn.flags(enabled=False, benchmark=False):
            inside = (cudnn.enabled, cudnn.benchmark, cudnn.deterministic)
        after = (cudnn.enabled, cudnn.benchmark, cudnn.deterministic, lib.backends.cuda.matmul.allow_tf32)
        cudnn.benchmark, cudnn.deterministic = False, False
        lib.backends.cuda.matmul.allow_tf32 = False
        assert inside == (False, False, False) and after == (True, True, True, True), lib.__name__


def test_tensor_device_predicates_and_is_functions():
    e, t = ember.zeros(2), torch.zeros(2)
    names = [n for n in dir(torch.Tensor) if n.startswith('is_') and not callable(getattr(t, n))]
    assert {n: getattr(e, n) for n in names} == {n: getattr(t, n) for n in names}
    for name in ('is_complex', 'is_conj', 'is_neg', 'is_signed', 'is_floating_point', 'is_storage'):
        assert getattr(ember, name)(e) == getattr(torch, name)(t), name
        assert getattr(ember, name)(e.long()) == getattr(torch, name)(t.long()), name
    assert ember.is_same_size(e, ember.zeros(3)) == torch.is_same_size(t, torch.zeros(3)) is False


def test_bfloat16_is_a_dtype():
    b = ember.bfloat16
    assert repr(b) == repr(torch.bfloat16) and str(b) == str(torch.bfloat16)
    assert (b.is_floating_point, b.itemsize, b.is_complex, b.is_signed) == (
        torch.bfloat16.is_floating_point, torch.bfloat16.itemsize, torch.bfloat16.is_complex, torch.bfloat16.is_signed)
    assert {ember.float32: 'f32', b: 'bf16'}[b] == 'bf16' and b != ember.float16
    import pickle
    assert pickle.loads(pickle.dumps(b)) is b
    for make in (lambda: ember.zeros(2, dtype=b), lambda: ember.ones(2).to(b), lambda: ember.ones(2).bfloat16(),
                 lambda: ember.tensor([1.0], dtype=b), lambda: ember.nn.Linear(2, 2).to(b).weight):
        assert make().dtype is b   # tensors of it: tests/test_bfloat16.py


class _Seq:
    """A user class with the sequence protocol (len and integer indexing)."""

    def __len__(self):
        return 2

    def __getitem__(self, i):
        if i >= 2:
            raise IndexError(i)
        return i * 1.5


SEQUENCES = [lambda: collections.deque([1, 2, 3]), lambda: collections.deque([[1.0, 2.0], [3.0, 4.0]]),
             lambda: range(4), lambda: [range(2), range(2)], lambda: [collections.deque([1, 2]), [3, 4]],
             lambda: (i for i in range(3)), lambda: {1, 2}, lambda: {1: 2}, lambda: b'ab', lambda: bytearray(b'ab'),
             lambda: _Seq(), lambda: [_Seq(), _Seq()], lambda: collections.deque([True, False])]


@pytest.mark.parametrize('i', range(len(SEQUENCES)))
def test_tensor_from_other_sequences(i):
    e, t = answer(lambda lib: lib.tensor(SEQUENCES[i]()), ember), answer(lambda lib: lib.tensor(SEQUENCES[i]()), torch)
    if isinstance(t, tuple):
        assert e == t
    else:
        assert repr(e) == repr(t)
    assert repr(ember.as_tensor(collections.deque([1, 2]))) == repr(torch.as_tensor(collections.deque([1, 2])))


def test_cuda_autocast_runs_disabled_as_on_a_cpu_build():
    for lib in (ember, torch):
        with pytest.warns(UserWarning, match='CUDA is not available or torch_xla is imported. Disabling autocast.'):
            with lib.autocast('cuda'):
                assert not lib.is_autocast_enabled()
        with pytest.warns(FutureWarning, match=r'torch.cuda.amp.autocast\(args...\)` is deprecated'):
            with warnings.catch_warnings():
                warnings.simplefilter('ignore', UserWarning)
                lib.cuda.amp.autocast()
        with pytest.warns(UserWarning, match='In CPU autocast, but the target dtype is not supported'):
            lib.amp.autocast('cpu', dtype=lib.float32)
        with lib.autocast('cpu', enabled=False):
            x = lib.ones(2, 2)
            assert repr((x @ x).dtype) == 'torch.float32'
        with pytest.warns(UserWarning):
            assert lib.autocast('cuda')(lambda v: v + 1)(1) == 2
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match='Expected one of cpu, cuda'):
            lib.autocast('xyz')


def test_grad_scaler_cuda_is_disabled_with_pytorchs_warning():
    for lib in (ember, torch):
        with pytest.warns(UserWarning, match=r'torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  '
                                             r'Disabling.'):
            s = lib.amp.GradScaler()
        with pytest.warns(FutureWarning, match=r'`torch.cuda.amp.GradScaler\(args...\)` is deprecated'):
            lib.cuda.amp.GradScaler(enabled=False)
        loss = lib.ones(()) * 3
        assert s.scale(loss) is loss and s.get_scale() == 1.0 and s.state_dict() == {} and not s.is_enabled()
        w = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.SGD([w], lr=0.5)
        (w * 2).sum().backward()
        s.step(opt)
        s.update()
        assert w.tolist() == [0.0, 0.0]


def _scaler_run(lib):
    """A few scaled SGD steps on the CPU, one with an inf gradient; returns what the scaler and weights show."""
    lib.manual_seed(0)
    w = lib.nn.Parameter(lib.tensor([[0.5, -1.0], [2.0, 0.25]]))
    opt = lib.optim.SGD([w], lr=0.1, momentum=0.9)
    scaler = lib.amp.GradScaler('cpu', init_scale=1024.0, growth_interval=2)
    seen = []
    x = lib.tensor([[1.0, 2.0], [3.0, -1.0]])
    for step in range(5):
        opt.zero_grad()
        loss = (x @ w).pow(2).mean() * (float('inf') if step == 2 else 1.0)
        scaled = scaler.scale(loss)
        scaled.backward()
        if step == 3:
            scaler.unscale_(opt)
            seen.append(answer(lambda _: scaler.unscale_(opt), lib))
        scaler.step(opt)
        seen.append(answer(lambda _: scaler.step(opt), lib))
        scaler.update()
        seen.append((scaled.grad_fn.name(), scaler.get_scale(), scaler._get_growth_tracker()))
    state = scaler.state_dict()
    scaler.update(new_scale=8.0)
    seen.append(scaler.get_scale())
    return seen, state, w.detach().numpy().copy(), scaler.scale([loss, (loss, loss)])[1][0].item()


def test_grad_scaler_on_the_cpu_matches_pytorch():
    e_seen, e_state, e_w, e_last = _scaler_run(ember)
    t_seen, t_state, t_w, t_last = _scaler_run(torch)
    assert e_seen == t_seen and e_state == t_state
    np.testing.assert_allclose(e_w, t_w, rtol=1e-6)
    assert np.isclose(e_last, t_last, rtol=1e-6)
    fresh = ember.amp.GradScaler('cpu')
    with pytest.raises(AssertionError, match='Attempted step but _scale is None'):
        fresh.step(ember.optim.SGD([ember.nn.Parameter(ember.ones(1))], lr=1.0))
    with pytest.raises(RuntimeError, match='empty, possibly because it was saved from a disabled'):
        fresh.load_state_dict({})
    fresh.load_state_dict(t_state)
    assert fresh.state_dict() == t_state


def test_nn_classes_live_at_pytorchs_module_paths():
    import torch.nn.modules as tmods
    checked = 0
    for info in pkgutil.iter_modules(tmods.__path__):
        if info.name.startswith('_'):
            continue
        tmod = importlib.import_module(f'torch.nn.modules.{info.name}')
        for name, cls in vars(tmod).items():
            if inspect.isclass(cls) and cls.__module__ == tmod.__name__ and hasattr(ember.nn, name):
                emod = importlib.import_module(f'ember.nn.modules.{info.name}')
                assert getattr(emod, name) is getattr(ember.nn, name), f'torch.nn.modules.{info.name}.{name}'
                assert getattr(ember.nn, name).__module__ == f'ember.nn.modules.{info.name}', name
                checked += 1
    assert checked > 100
    from ember.nn.modules.linear import NonDynamicallyQuantizableLinear
    assert type(ember.nn.MultiheadAttention(4, 2).out_proj) is NonDynamicallyQuantizableLinear


def test_data_parallel_is_the_thin_cpu_wrapper():
    torch.manual_seed(0)
    tm = torch.nn.DataParallel(torch.nn.Linear(3, 2), device_ids=[0])
    em = ember.nn.DataParallel(ember.nn.Linear(3, 2), device_ids=[0])
    em.load_state_dict({k: ember.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    assert repr(em) == repr(tm) and list(em.state_dict()) == list(tm.state_dict()) and em.device_ids == tm.device_ids
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_allclose(em(ember.tensor(x)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(), rtol=1e-6)
    assert answer(lambda lib: lib.nn.parallel.data_parallel(em.module, ember.tensor(x)), ember) == answer(
        lambda lib: lib.nn.parallel.data_parallel(tm.module, torch.tensor(x)), torch)


def test_import_only_modules_import_and_refuse_when_called():
    with aliasing.as_torch():
        import torch as t
        import torch.distributed as dist
        import torch.nn.parallel
        import torch.onnx
        from torch.cuda.amp import GradScaler, autocast  # noqa: F401
        from torch.nn.parallel import DistributedDataParallel as DDP
        assert torch.nn.parallel.DataParallel is t.nn.DataParallel
        assert not dist.is_initialized() and not torch.onnx.is_in_onnx_export()
        with pytest.raises(NotImplementedError, match=r'^torch.onnx.export is not supported by ember yet'):
            torch.onnx.export(t.nn.Linear(1, 1), t.zeros(1), 'm.onnx')
        with pytest.raises(ValueError, match=r'^Default process group has not been initialized'):
            dist.get_rank()
        with pytest.raises(ValueError, match=r'^Default process group has not been initialized'):
            DDP(t.nn.Linear(1, 1))
        with pytest.raises(NotImplementedError, match=r'^torch.distributed.rpc.init_rpc is not supported by ember yet'):
            dist.rpc.init_rpc('worker0', rank=0, world_size=1)


SCRIPT = '''import torch
import torch.nn as nn
import torch.onnx
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.cuda.amp import GradScaler, autocast
from torch.nn.modules.activation import MultiheadAttention
device = torch.accelerator.current_accelerator() or "cpu"
torch.backends.cudnn.benchmark = True
print(device, torch.backends.cudnn.benchmark, torch.zeros(1).is_xpu, torch.zeros(1).is_mps)
try:
    torch.fft
except AttributeError:
    pass
torch.onnx.export(nn.Linear(1, 1), torch.zeros(1), "m.onnx")
'''


def test_script_under_ember_run_and_traceback_ends_at_users_line(tmp_path):
    import os
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    (tmp_path / 'prog.py').write_text(SCRIPT)
    proc = subprocess.run([sys.executable, '-W', 'ignore', '-m', 'ember', 'run', 'prog.py'], cwd=tmp_path,
                          env=dict(os.environ, PYTHONPATH=root), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and proc.stdout == 'cpu True False False\n', proc.stderr
    assert proc.stderr.splitlines()[-3:] == [
        f'  File "{tmp_path / "prog.py"}", line 14, in <module>',
        '    torch.onnx.export(nn.Linear(1, 1), torch.zeros(1), "m.onnx")',
        'NotImplementedError: torch.onnx.export is not supported by ember yet (ember cannot export ONNX graphs; '
        'save the state_dict and export from PyTorch)']
    assert 'aliasing.py' not in proc.stderr


def test_dynamo_settings_import_and_read_back():
    """torch._dynamo's config: settings kept (compile changes nothing in ember), unknown ones refused as
    PyTorch refuses them; disable() and is_compiling() as PyTorch's outside compiled code."""
    import torch._dynamo as td
    from ember import _dynamo as ed
    for d in (ed, td):
        saved = d.config.suppress_errors
        d.config.suppress_errors = True
        assert d.config.suppress_errors is True and d.config.cache_size_limit == 8
        d.config.suppress_errors = saved
        with pytest.raises(AttributeError, match=r'^torch._dynamo.config.nonexistent_option does not exist$'):
            d.config.nonexistent_option = 1
        assert d.is_compiling() is False and d.reset() is None
        assert d.disable(abs)(-3) == 3 and d.disable()(abs)(-2) == 2
    assert aliasing.ember_name('torch._dynamo') == 'ember._dynamo' and aliasing.torch_name('ember._dynamo') == 'torch._dynamo'
