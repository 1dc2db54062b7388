"""``Identity``, ``Linear`` and ``Bilinear`` with PyTorch's default initialisation."""
import math

from ...ops import blas
from .. import functional as F, init
from ._factory import empty_param, reset_fan_in
from .module import Module
from .lazy import LazyModuleMixin
from ...autograd.grad_mode import no_grad
from ..._torch_function import _INSTALLED as _DISPATCHING   # non-empty once torch functions dispatch
from ..parameter import UninitializedParameter

__all__ = ['LazyLinear', 'Identity', 'Linear', 'NonDynamicallyQuantizableLinear', 'Bilinear']


class Identity(Module):
    """Returns its input unchanged (accepts and ignores any constructor arguments)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x W^T + b, W of shape (out_features, in_features)."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = empty_param((out_features, in_features), device, dtype)
        if bias:
            self.bias = empty_param((out_features,), device, dtype)
        else:
            self.register_parameter('bias', None)
        self.reset_parameters()

    def reset_parameters(self):
        """kaiming_uniform_(a=sqrt(5)) for the weight, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias."""
        reset_fan_in(self.weight, self.bias)

    def forward(self, input):
        p = self._parameters
        try:    # a dict lookup; try costs 0.03 us where a helper call cost 0.2 (of 2.9 us for a 4x4 forward)
            w, b = p['weight'], p['bias']
        except KeyError:    # moved out of _parameters by nn.utils.weight_norm or a parametrization
            w, b = self.weight, self.bias
        if _DISPATCHING:   # through F.linear's dispatching stand-in, so a Tensor subclass or mode sees the call
            return F.linear(input, w, b)
        return blas.linear(input, w, b)

    def extra_repr(self):
        return f'in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}'


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear layer (PyTorch uses this subclass for MultiheadAttention.out_proj)."""


class Bilinear(Module):
    """y_o = x1^T A_o x2 + b_o, A of shape (out_features, in1_features, in2_features)."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = empty_param((out_features, in1_features, in2_features), device, dtype)
        if bias:
            self.bias = empty_param((out_features,), device, dtype)
        else:
            self.register_parameter('bias', None)
        self.reset_parameters()

    def reset_parameters(self):
        """U(-1/sqrt(in1_features), 1/sqrt(in1_features)) for weight and bias."""
        bound = 1 / math.sqrt(self.weight.size(1))
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        from ..functional import bilinear
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f'in1_features={self.in1_features}, in2_features={self.in2_features}, '
                f'out_features={self.out_features}, bias={self.bias is not None}')


class LazyLinear(LazyModuleMixin, Linear):
    """A Linear layer whose in_features is inferred from the first input's last dim."""
    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__(0, 0, False)
        self.weight = UninitializedParameter(dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        if self.has_uninitialized_params():
            with no_grad():
                self.in_features = input.shape[-1]
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()
