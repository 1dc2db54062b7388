"""Neural differential equations and flow matching under the alias against PyTorch (session 40): torchcde 0.2.5,
torchdyn 1.0.6, torchcfm 1.0.7 and pytorch-crf 0.7.2, each reduced to the lines that found a defect in ember."""
import importlib
import itertools
import subprocess
import sys
import warnings

import pytest
import torch

import ember

from helpers import run_both


# -- torchcfm: its UNet's float32 timestep embedding meets a float64 model (F.linear's dtype checks) -------------------
_INPUTS = {'1d': lambda L, d: L.ones(4, dtype=d), '2d': lambda L, d: L.ones(3, 4, dtype=d),
           '2d_t': lambda L, d: L.ones(4, 3, dtype=d).t(), '3d': lambda L, d: L.ones(2, 3, 4, dtype=d),
           '4d': lambda L, d: L.ones(2, 1, 3, 4, dtype=d)}
_DTYPES = ('float32', 'float64', 'bfloat16', 'float16', 'int64')


def _linear_cases():
    """(input form, input dtype, weight dtype, bias dtype or None, bias shape): two of the three dtypes equal."""
    for form, dx, dw, db in itertools.product(_INPUTS, _DTYPES, _DTYPES, _DTYPES + (None,)):
        if len({dx, dw, db}) > 1 and len({dx, dw, db} - {None}) < 3:
            for shape in ((2,), ()) if db else (None,):
                yield form, dx, dw, db, shape


@pytest.mark.parametrize('form', list(_INPUTS))
def test_linear_dtype_checks_are_addmm_or_matmul_then_add(form):
    """PyTorch's linear folds the bias into addmm for a 2-D input or a contiguous one with a 1-D bias (addmm's
    checks: 'self and mat2', then 'mat1 and mat2' by scalar names, before shapes); else matmul (mm's 'expected m1
    and m2') and then an in-place add in the input's dtype. ember said 'Float32 and Float64', named bfloat16
    'Float32', took a bias of another dtype into addmm and gave the 0-d bias of a 3-D input AddmmBackward0."""
    for f, dx, dw, db, shape in _linear_cases():
        if f != form:
            continue

        def run(L):
            b = None if db is None else L.ones(shape, dtype=getattr(L, db))
            y = L.nn.functional.linear(_INPUTS[form](L, getattr(L, dx)), L.ones(2, 4, dtype=getattr(L, dw)), b)
            return y, str(y.dtype)
        run_both(run, message=True)


@pytest.mark.parametrize('shape,bias_shape,bias_dtype', [((2, 4, 3), (2,), 'float64'), ((2, 3, 4), (), 'float32'),
                                                         ((2, 1, 3, 4), (), 'float64'), ((2, 1, 4, 3), (2,), 'int64'),
                                                         ((2, 1, 3, 4), (2,), 'float32')])
def test_linear_matmul_then_add_graph_and_gradients(shape, bias_shape, bias_dtype):
    """Where PyTorch's linear is matmul and an in-place add (a transposed input, or a 0-d bias on a 3-D input) the
    result has the input's dtype, AddBackward0 over UnsafeViewBackward0, and the bias's gradient its own dtype."""
    def run(L):
        g = L.Generator().manual_seed(0)
        x = L.randn(*shape, generator=g, dtype=L.float64).float().requires_grad_()
        xi = x.transpose(-1, -2) if shape[-1] == 3 else x
        w = L.randn(2, 4, generator=g, dtype=L.float64).float().requires_grad_()
        b = L.arange(2.).to(getattr(L, bias_dtype))[:1].reshape(bias_shape) if bias_shape == () else \
            L.tensor([0.5, -1.0]).to(getattr(L, bias_dtype))
        if b.is_floating_point():
            b.requires_grad_()
        y = L.nn.functional.linear(xi, w, b)
        names = [y.grad_fn.name(), y.grad_fn.next_functions[0][0].name()]
        (y * L.arange(y.numel()).reshape(y.shape)).sum().backward()
        return y.detach(), str(y.dtype), names, x.grad, None if b.grad is None else (b.grad, str(b.grad.dtype))
    run_both(run, tol=1e-5)


@pytest.mark.parametrize('shape', [(2, 3, 4), (2, 1, 3, 4)])
def test_linear_flops_count_addmm_only_where_pytorch_folds_the_bias(shape):
    """FlopCounterMode's table names aten.addmm for a contiguous input with a 1-D bias (3-D or more) and aten.mm
    for a 0-d bias there, as PyTorch's linear takes them."""
    def run(L):
        FlopCounterMode = importlib.import_module(f'{L.__name__}.utils.flop_counter').FlopCounterMode
        x, w = L.ones(shape), L.ones(2, 4)
        out = []
        for b in (L.ones(2), L.tensor(1.)):
            with FlopCounterMode(display=False) as fc:
                L.nn.functional.linear(x, w, b)
            out.append({str(k): v for k, v in fc.get_flop_counts()['Global'].items()})
        return out
    assert run(ember) == run(torch)


# -- pytorch-crf: torchcrf/__init__.py:249 masks with a uint8 tensor in torch.where ------------------------------------
def _byte_where_warnings(L):
    """The messages ``L.where`` gives for a uint8 condition, warning filters at 'always'."""
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        r = L.where(L.tensor([1, 0], dtype=L.uint8), L.ones(2), L.zeros(2))
    assert r.tolist() == [1.0, 0.0]
    return [str(m.message) for m in w]


def test_where_uint8_condition_warns_as_pytorch_with_its_source_line():
    """PyTorch's TORCH_WARN_ONCE for a byte condition ends with '(Triggered internally at ...TensorCompare.cpp:621.)';
    ember's lacked that ending. PyTorch warns once a process: where an earlier test spent it, a fresh one runs."""
    t = _byte_where_warnings(torch)
    if not t:
        import inspect
        prog = f'import torch, warnings\n{inspect.getsource(_byte_where_warnings)}print(_byte_where_warnings(torch)[0])'
        t = [subprocess.run([sys.executable, '-c', prog], capture_output=True, text=True, check=True).stdout.strip()]
    ember._warn._WARNED_ONCE.discard(t[0].split(' (Triggered')[0])
    assert _byte_where_warnings(ember) == t


# -- torchio: torchio/download.py does ``from torch.hub import tqdm`` -----------------------------------------------
def test_hub_tqdm_is_tqdm_and_its_stand_in_writes_as_pytorch(capsys):
    """torch.hub.tqdm is tqdm's class where tqdm is installed (it is here), else PyTorch's ``_Faketqdm``, whose
    progress lines on stderr ember's stand-in writes alike."""
    assert ember.hub.tqdm is torch.hub.tqdm
    out = []
    for L in (torch, ember):
        with L.hub._Faketqdm(total=200) as bar:
            bar.update(50)
            bar.set_description('x')
            bar.write('note')
            bar.update(150)
        with L.hub._Faketqdm() as bar:
            bar.update(7)
            bar.close()
            bar.update(1)
        out.append(capsys.readouterr().err)
    assert out[0] == out[1] and '100.0%' in out[0]
