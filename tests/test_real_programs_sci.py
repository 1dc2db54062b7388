"""DeepXDE 1.15 (DDE_BACKEND=pytorch) and neuraloperator 2.0 under ``ember.aliasing.as_torch()`` (session 37): the
names and values their PINN and neural-operator examples reach, each reduced to the lines that found the defect and
checked against PyTorch. Neither library is needed here."""
import pytest
import torch

import ember
from helpers import run_both


# -- neuralop/layers/channel_mlp.py, skip_connections.py: Conv1d/Conv2d in a float64 model fed float32 -----------
@pytest.fixture(params=[1, 2])
def threads(request):
    """PyTorch's convolution picks its mkldnn path (other dtype checks and messages) by its thread count."""
    old = torch.get_num_threads(), ember.get_num_threads()
    torch.set_num_threads(request.param)
    ember.set_num_threads(request.param)
    yield request.param
    torch.set_num_threads(old[0])
    ember.set_num_threads(old[1])


@pytest.mark.parametrize('case', [
    ('conv1d', 'float', 'double', 'double'), ('conv2d', 'float', 'double', 'double'),
    ('conv3d', 'float', 'double', 'double'), ('conv2d', 'double', 'float', 'double'),
    ('conv1d', 'double', 'double', 'float'), ('conv1d', 'double', 'float', None),
    ('conv1d', 'bfloat16', 'bfloat16', 'float'), ('conv2d', 'cfloat', 'float', None),
    ('conv1d', 'float', 'cfloat', None), ('conv_transpose2d', 'double', 'float', None),
    ('conv_transpose1d', 'bfloat16', 'bfloat16', 'float'), ('conv1d', 'float', 'double', None),
    ('conv_transpose2d', 'float', 'float', 'double')])
def test_conv_dtype_errors_in_pytorchs_order(case, threads):
    """neuraloperator's FNO made under ``set_default_dtype(float64)`` and fed float32 data stops in a Conv1d with
    bias: PyTorch checks the bias before the weight ("Input type (float) and bias type (double) should be the
    same"), ember named the weight first. A float32 1x1 convolution on one thread skips mkldnn, whose messages
    (and refusal of a transposed convolution's other-dtype bias) differ."""
    op, xd, wd, bd = case
    nd = 3 if op == 'conv3d' else 1 if op.endswith('1d') else 2

    def conv(T):
        x = T.ones((2, 3) + (4,) * nd, dtype=getattr(T, xd))
        w = T.ones((3, 3) + (1,) * nd, dtype=getattr(T, wd))
        b = None if bd is None else T.ones(3, dtype=getattr(T, bd))
        return getattr(T.nn.functional, op)(x, w, b)
    run_both(conv, message=True)


def test_transposed_conv_casts_its_bias(threads):
    """A transposed convolution off the mkldnn path (here float64) takes a bias of another floating dtype (or an
    integer one): PyTorch casts it to the input's dtype, and the bias's gradient comes back in its own dtype."""
    def tconv(T):
        T.manual_seed(0)
        x = T.randn(2, 3, 5, 5, dtype=T.float64, requires_grad=True)
        w = T.randn(3, 4, 2, 2, dtype=T.float64, requires_grad=True)
        b = T.randn(4, requires_grad=True)
        y = T.nn.functional.conv_transpose2d(x, w, b, stride=2)
        y.pow(2).sum().backward()
        z = T.nn.functional.conv_transpose1d(x[:, :, 0], w[..., 0], T.tensor([1, 2, 3, 4]))
        return [y, y.dtype, y.grad_fn.name(), b.grad, b.grad.dtype, x.grad, w.grad, z, z.dtype]
    run_both(tconv, tol=1e-5)
