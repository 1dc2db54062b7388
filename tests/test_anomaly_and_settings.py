"""Anomaly detection and the start-up settings scripts call, against PyTorch: detect_anomaly/set_detect_anomaly
(the NaN check names the node and the output, the warning carries the forward traceback), the torch-level flags,
set_num_interop_threads, set_default_tensor_type, typename, set_flush_denormal, get_device."""
import warnings

import numpy as np
import pytest
import torch

import ember


def _nan_backward(lib):
    x = lib.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        with lib.autograd.detect_anomaly():
            y = (x / x).sum()
            try:
                y.backward()
                err = None
            except RuntimeError as e:
                err = str(e)
    msgs = [str(w.message) for w in caught if w.category is UserWarning]
    return err, msgs, lib.is_anomaly_enabled()


def test_detect_anomaly_reports_the_nan_node_with_its_forward_traceback():
    e_err, e_msgs, e_on = _nan_backward(ember)
    t_err, t_msgs, t_on = _nan_backward(torch)
    assert e_err == t_err == "Function 'DivBackward0' returned nan values in its 1th output."
    assert e_msgs[0] == t_msgs[0]
    head = 'Error detected in DivBackward0. Traceback of forward call that caused the error:\n'
    assert e_msgs[1].startswith(head) and t_msgs[1].startswith(head)
    # the same user frame, and no frame of ember's own
    assert e_msgs[1].split('\n')[1:3] == t_msgs[1].split('\n')[1:3]
    import os
    package = os.path.dirname(ember.__file__)
    assert not any(package in line for line in e_msgs[1].split('\n') if line.startswith('  File'))
    assert e_on is t_on is False


@pytest.mark.parametrize('lib', [ember, torch])
def test_set_detect_anomaly_is_a_setting_and_a_context(lib):
    lib.autograd.set_detect_anomaly(True)
    assert lib.is_anomaly_enabled() and lib.is_anomaly_check_nan_enabled()
    lib.autograd.set_detect_anomaly(False)
    assert not lib.is_anomaly_enabled()
    x = lib.tensor([0.0, 1.0], requires_grad=True)
    with lib.autograd.set_detect_anomaly(True, check_nan=False):
        assert lib.is_anomaly_enabled() and not lib.is_anomaly_check_nan_enabled()
        (x / x).sum().backward()    # NaN gradients pass without the check
    assert not lib.is_anomaly_enabled() and lib.is_anomaly_check_nan_enabled()
    assert np.isnan(x.grad.numpy()[0])


def test_anomaly_mode_leaves_results_alone():
    """Gradients under anomaly mode are those without it (the checked path is the general one)."""
    grads = []
    for on in (False, True):
        ember.manual_seed(0)
        w = ember.randn(4, 3, requires_grad=True)
        with ember.autograd.set_detect_anomaly(on):
            (ember.tanh(ember.randn(5, 4) @ w) ** 2).sum().backward()
        grads.append(w.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


def test_anomaly_reports_an_error_raised_in_backward():
    class Boom(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            raise ValueError('boom')
    x = ember.ones(2, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        with ember.autograd.detect_anomaly():
            y = Boom.apply(x).sum()
            with pytest.raises(ValueError, match='boom'):
                y.backward()
    assert any(str(w.message).startswith('Error detected in BoomBackward') for w in caught)


def test_interop_threads_set_once():
    import subprocess
    import sys
    code = ('import {m} as t; print(t.get_num_interop_threads() >= 1); t.set_num_interop_threads(1); '
            'print(t.get_num_interop_threads())\ntry:\n    t.set_num_interop_threads(2)\nexcept RuntimeError as e:\n'
            '    print(e)')
    outs = [subprocess.run([sys.executable, '-c', code.format(m=m)], capture_output=True, text=True).stdout
            for m in ('ember', 'torch')]
    assert outs[0] == outs[1]


@pytest.mark.parametrize('kind', ['DoubleTensor', 'torch.DoubleTensor', 'FloatTensor'])
def test_set_default_tensor_type(kind):
    res = []
    for lib in (ember, torch):
        t = kind if kind.startswith('torch.') else getattr(lib, kind)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                lib.set_default_tensor_type(t)
            res.append(str(lib.tensor([1.5]).dtype).replace('ember', 'torch'))
        finally:
            lib.set_default_dtype(lib.float32)
    assert res[0] == res[1]


def test_set_default_tensor_type_warns_once_per_process():
    import subprocess
    import sys
    code = ('import warnings; warnings.simplefilter("always"); import {m} as t\n'
            'with warnings.catch_warnings(record=True) as c:\n    warnings.simplefilter("always")\n'
            '    t.set_default_tensor_type(t.DoubleTensor); t.set_default_tensor_type(t.FloatTensor)\n'
            'print(len(c), str(c[0].message).split(" (Triggered")[0])')
    outs = [subprocess.run([sys.executable, '-c', code.format(m=m)], capture_output=True, text=True).stdout
            for m in ('ember', 'torch')]
    assert outs[0] == outs[1] and outs[0].startswith('1 torch.set_default_tensor_type() is deprecated')


def test_typename_get_device_and_flush_denormal():
    for x in (3, 'a', [1]):
        assert ember.typename(x) == torch.typename(x)
    for make in (lambda L: L.zeros(2), lambda L: L.zeros(2, dtype=L.int64), lambda L: L.nn.Linear(1, 1),
                 lambda L: L.zeros(2, dtype=L.bool)):
        assert ember.typename(make(ember)) == torch.typename(make(torch))
    assert ember.get_device(ember.zeros(1)) == torch.get_device(torch.zeros(1)) == -1
    assert ember.set_flush_denormal(False) is False      # ember cannot flush denormals: it says so
