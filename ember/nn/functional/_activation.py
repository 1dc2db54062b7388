"""Activation functions: each is one fused node (NumPy forward and backward) named like PyTorch's grad_fn;
in-place variants go through the core's in-place machinery."""
import math
import re

import numpy as np

from ... import _bf16, _layout, _parallel, _quiet, ops
from ...backend import keep, select, select_into
from ...ops import _special, pointwise, reduction, _linear_twice, _vec_exp, _sleef_expm1, _vec_softplus, _sleef
from ...ops.shape import CloneBackward0
from ...tensor import Tensor
from ...autograd import dual, forward_refusal, graph
from ...autograd.grad_mode import GRAD
from ...ops.inplace import adopt, check_inplace, make_inplace
from ..._warn import warn_at_level
from ..._dtype import scalar_name
from ...ops._util import not_implemented, arg_error, check_tensor_args, check_inner_args, undifferentiable
from ...autograd.graph import Node
from ...tensor import Tensor
from ._fused import fused, record
from . import _gelu_cpu
from ...amp import _state as _autocast

__all__ = ['relu', 'relu_', 'relu6', 'leaky_relu', 'leaky_relu_', 'elu', 'elu_', 'selu', 'selu_', 'celu',
           'celu_', 'gelu', 'silu', 'mish', 'softplus', 'hardtanh', 'hardtanh_', 'hardsigmoid', 'hardswish',
           'sigmoid', 'tanh', 'softmax', 'log_softmax', 'softmin', 'prelu', 'rrelu', 'rrelu_', 'softsign',
           'tanhshrink', 'threshold', 'threshold_', 'logsigmoid', 'hardshrink', 'softshrink', 'glu',
           'gumbel_softmax']

_F16 = np.dtype(np.float16)
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_K_TANH = math.sqrt(2.0 / math.pi)
_HALF_LOG2E = -0.5 / math.log(2.0)


def _elementwise(node_name, forward, backward, reference, kernel=None, twice=None, second=None, refuse=None):
    """An activation ``op(input, *params)``: forward(a, *p) and backward(g, x, *p) on arrays; reference(x, *p)
    composed of ember ops; ``kernel``: PyTorch's kernel name, which has no integer or bool loop (so such inputs
    raise as in PyTorch); ``twice``: the name of PyTorch's one node for the gradient under create_graph, with
    ``second`` its formula for the input (see _linear_twice; without ``twice``, create_graph differentiates the
    reference; ``refuse``: the backward op PyTorch has no derivative for, whose gradient under create_graph is a
    NotImplemented node that raises when differentiated). float16 is computed in float32 and rounded once, as PyTorch's CPU kernels do (their opmath
    type): on 70k values, values equal to PyTorch's went from 40-87% (each step rounded to float16) to
    99.98-100% for silu, mish, elu, selu, hardswish, hardsigmoid, leaky_relu and softplus, forward and
    backward, and NumPy's float16 arithmetic (converting each operand) is slower than float32's."""
    def grad(g, x, *p):
        if x.dtype == _F16 and not getattr(backward, 'rounds_low', False):
            return np.asarray(backward(g.astype(np.float32), x.astype(np.float32), *p)).astype(_F16)
        return backward(g, x, *p)

    def np_backward(self, g):
        (x,) = self.saved()
        return (grad(g, x, *self.ctx),)

    cls = fused(node_name, np_backward, lambda ctx, x: reference(x, *ctx))
    twice_cls = None
    if twice is not None:    # PyTorch's one node for the gradient under create_graph (see _linear_twice)
        twice_cls = _linear_twice.node_class(twice, second)
        cls.graph_backward = lambda self, grads: (_linear_twice.record(twice_cls, grad, grads[0],
                                                                       self.saved()[0], self.ctx),)
    if refuse is not None:
        refused = undifferentiable('NotImplemented', f'derivative for aten::{refuse} is not implemented',
                                   'torch::autograd::NotImplemented')
        cls.graph_backward = lambda self, grads: (
            _tangent_path(grad, grads[0], self.saved(False)[0], self.ctx) if forward_refusal.SOURCES and any(
                forward_refusal.carries_tangent(t) for t in self.saved(True)) else
            _refused(refused, grad, grads[0], self.saved()[0], self.ctx),)
    display = re.sub(r'(?<=[a-z])(?=[A-Z])', '_', node_name[:-9]).lower()   # PyTorch's name: LeakyRelu leaky_relu

    def op(input, *params):
        if not isinstance(input, Tensor):
            raise arg_error(display, 'input', 1, input)
        a = input._data
        if kernel is not None and a.dtype.kind != 'f':
            raise not_implemented(kernel, a.dtype)
        low = a.dtype == _F16 and not getattr(forward, 'rounds_low', False)
        x = a.astype(np.float32) if low else a
        try:
            y = forward(x, *params)
        except RuntimeWarning:   # inf/NaN/huge: NumPy's warning raised by the user's filter (see _quiet; a try costs
            y = _quiet.again(forward, x, *params)   # nothing, where a wrapper's call cost silu (4, 4) 0.33 us)
        return record(cls, (input,), np.asarray(y).astype(_F16) if low else y, ctx=params)
    op.node, op.twice = cls, twice_cls
    return op


def _tangent_path(grad, g, x, ctx):
    """Under a forward-mode transform, the gradient of an op whose backward PyTorch does not differentiate but which
    has a forward formula (its backward kernel on the tangent): ``g`` times the elementwise derivative, recorded
    linear in ``g`` so that ember's double-backward trick reads the tangent off it (hardsigmoid's float 1/6 kept)."""
    return g * Tensor._make(np.asarray(grad(np.ones_like(x), x, *ctx)))


def _refused(cls, grad, g, x, ctx):
    """``grad(g, x, *ctx)`` for tensors, recorded as ``cls`` (an undifferentiable node) over those of g and x that
    require grad, as PyTorch's NotImplemented node."""
    out = grad(g._data, x._data, *ctx)
    inputs = [t for t in (g, x) if t._requires_grad]
    return Tensor._make(out, cls(inputs)) if GRAD.enabled and inputs else Tensor._make(out)


def _inplace(out_of_place, name, node_name=None, np_backward=None, graph_backward=None, clone_self=False,
             save_result=False):
    """``fn(input, *params)`` applied in place (the core's make_inplace handles autograd and versions);
    ``node_name`` is the grad_fn PyTorch records for the in-place variant when it differs (``np_backward`` its
    backward, when that differs too, and ``graph_backward`` its gradient under create_graph, else the out-of-place
    op's); ``clone_self``: the node saves a clone of the input (see _save_clone); ``save_result``: it saves its
    result instead of the input (make_inplace's commit re-points it to the tensor changed in place)."""
    renamed = None
    if node_name is not None:
        cls = out_of_place.node
        renamed = fused(node_name, np_backward or cls.np_backward, cls.reference)
        if 'graph_backward' in cls.__dict__:    # PyTorch's one node for the gradient under create_graph
            renamed.graph_backward = graph_backward or cls.graph_backward
    if renamed is None and not clone_self:
        return make_inplace(out_of_place, name)
    base = out_of_place

    def out_of_place(input, *params):
        out = base(input, *params)
        node = out.grad_fn
        if node is not None:
            if renamed is not None:
                node.__class__ = renamed
            if clone_self:
                _save_clone(node)
            if save_result:
                node.save()
                node.save_output(out)
        return out
    op = make_inplace(out_of_place, name)
    op.node = renamed
    return op


def _save_clone(node):
    """What PyTorch's in-place op saves where its formula reads the input: a clone made before the change, whose
    CloneBackward0 the gradient's graph reaches under create_graph (hardtanh_, threshold_, hardsigmoid_,
    hardswish_); it shares the snapshot's array."""
    (x,) = node.saved(True)
    if x is not None and x._requires_grad:
        node.save(Tensor._make(x._data, CloneBackward0((x,))))


def _sig(a):
    """1 / (1 + exp(-a)); a float ndarray on one temporary, its steps in place (the same values: each rounds as
    the expression's does), where the expression allocated four. Backward of (8, 32, 32, 32) float32, one thread,
    SkylakeX, min of 15 interleaved (us): silu 220 -> 207, softplus 323 -> 306, logsigmoid 191 -> 173, mish 864 ->
    841, glu 159 -> 155."""
    with np.errstate(over='ignore'):
        if type(a) is not np.ndarray or not a.ndim or a.dtype.kind != 'f':
            return 1.0 / (1.0 + np.exp(-a))
        s = np.negative(a)
        np.exp(s, out=s)
        s += 1.0
        return np.divide(1.0, s, out=s)


# -- PyTorch's *_double_backward formulas (FunctionsManual.cpp), in dual's helpers: arrays in a plain backward,
# tensors recording PyTorch's nodes under create_graph (C++'s ``t * 2.0`` is MulBackward1: dual.scale) ------------
def _sigmoid_any(x):
    return _sig(x) if dual.is_array(x) else ops.sigmoid(x)


def _sigmoid_backward_any(g, y):
    """PyTorch's sigmoid_backward(g, y): one SigmoidBackwardBackward0 node for tensors."""
    return pointwise._sigmoid_formula(g, None, y)


def _mask_as(cond, like):
    """``cond.type_as(like)``: a constant 0/1 array or tensor of like's dtype."""
    return dual.const(cond.astype(dual.data(like).dtype), like)


def _one_minus(t):
    """C++'s ``1 - t`` (a filled tensor minus t: SubBackward0 with no edge for the 1)."""
    return dual.const(1, t) - t


def _elu_second(self, h, g, x):
    """elu_double_backward for a saved input: elu_backward(h * g * input_scale, x) where x < 0, else 0."""
    return self.redo(dual.scale(h * g, self.ctx[2]), x) * _mask_as(dual.data(x) < 0, h)


def _celu_scale(alpha):
    """celu's input_scale as PyTorch's backward takes it: ``1.0 / alpha.toFloat()`` (alpha rounded to float32
    first; the forward divides by alpha itself): 1.4285714528998554 for alpha 0.7, not 1.4285714285714286."""
    return 1.0 / float(np.float32(alpha))


def _celu_bwd(g, x, alpha, scale, in_scale):
    """elu's backward (PyTorch's elu_backward kernel, NaN inputs included) with celu's input_scale."""
    return _elu_bwd_nan(g, x, alpha, scale, _celu_scale(alpha))


def _celu_second(self, h, g, x):
    """_elu_second with celu's backward input_scale."""
    return self.redo(dual.scale(h * g, _celu_scale(self.ctx[0])), x) * _mask_as(dual.data(x) < 0, h)


def _softplus_second(self, h, g, x):
    """softplus_double_backward(h * g, x): sigmoid_backward(grad, sigmoid(beta x)) below the threshold, times beta."""
    beta, threshold = self.ctx
    grad = h * g
    bx = dual.scale(x, beta)
    return dual.scale(_sigmoid_backward_any(grad, _sigmoid_any(bx)) * _mask_as(dual.data(bx) < threshold, grad), beta)


def _logsigmoid_second(self, h, g, x):
    """log_sigmoid_double_backward(h * g, x): grad * (z - 1) * z, z = sigmoid(x)."""
    z = _sigmoid_any(x)
    return h * g * (z - 1 if dual.is_array(z) else pointwise._sub_scalar(z, 1)) * z


def _hardswish_second(self, h, g, x):
    """where(-3 < x < 3, h * g / 3, 0)."""
    d = dual.data(x)
    r = h * g
    r = r / 3.0 if dual.is_array(r) else pointwise._div_scalar(r, 3.0)
    return dual.where((-3.0 < d) & (d < 3.0), r, dual.const(0, r))


def _gelu_second(self, h, g, x):
    """gelu_double_backward: h * g * gelu''(x), in PyTorch's steps for each form."""
    if self.ctx[0] == 'tanh':
        inner = dual.scale(x + dual.scale(pointwise._cube(x), 0.044715), _K_TANH)
        t = dual.tanh(inner)
        sech = dual.scale(dual.reciprocal(dual.cosh(inner)), 1)
        f = dual.scale(x, 0.5)
        gg = _one_minus(t * t)
        hh = dual.scale(dual.shift(dual.scale(x, 3 * 0.044715) * x, 1), _K_TANH)
        f_prime_gh = dual.scale(gg, 0.5) * hh
        g_prime = dual.scale(sech, 2) * (-sech * t) * hh
        h_prime = dual.scale(dual.scale(x, 6 * 0.044715), _K_TANH)
        second = dual.scale(f_prime_gh, 2) + f * hh * g_prime + f * gg * h_prime
    else:
        sq = x * x
        pdf = dual.scale(dual.exp(dual.scale(sq, -0.5)), _INV_SQRT_2PI)
        second = dual.scale(pdf, 2) - sq * pdf
    return h * g * second


def _vector_lanes(x, step=64):
    """Where ATen's elementwise CPU kernels take x in whole vectors, not their scalar tails, whose NaN and -0.0
    handling differ: ``step`` bytes a step, measured on lengths 1..65 in every float dtype (softshrink,
    shrink_backward, hardtanh_backward: 64, two 256-bit vectors; elu_backward: 128, two 512-bit ones)."""
    if x.flags.c_contiguous and x.size:
        width = 2 if x.dtype == _F16 or _bf16.is_bf16(x.dtype) else x.dtype.itemsize
        return _gelu_cpu._vector_positions(x.size, step // width).reshape(x.shape)
    return np.zeros(x.shape, bool)


def _hardtanh_bw(g, x, lo, hi):
    """g inside (lo, hi): NaN's gradient passes in PyTorch's scalar tail, not in its vector loop."""
    inside = np.asarray((x > lo) & (x < hi))
    scalar = ~_vector_lanes(x)
    inside[scalar] |= np.isnan(x[scalar])
    return g * inside


_hardtanh_bw.rounds_low = True     # it sees float16 (for its vector width)


# -- hardtanh, relu6 -----------------------------------------------------------------------------------------
_hardtanh = _elementwise(
    'HardtanhBackward0',
    lambda a, lo, hi: np.clip(a, lo, hi).astype(a.dtype, copy=False),
    _hardtanh_bw,
    lambda x, lo, hi: ops.clamp(x, lo, hi), twice='HardtanhBackwardBackward0')
_hardtanh_ = _inplace(_hardtanh, 'hardtanh_', clone_self=True)



def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """Clamp to [min_val, max_val]."""
    if min_val > max_val:
        raise ValueError('min_val cannot be greater than max_val')
    if isinstance(input, Tensor) and input._data.dtype.kind == 'b':
        raise RuntimeError('Bool inputs not supported for hardtanh')
    if isinstance(input, Tensor) and input._data.dtype.kind == 'c':   # PyTorch's hardtanh is a clamp
        raise NotImplementedError('clamp is not supported for complex types')
    if isinstance(input, Tensor) and input._data.dtype == np.uint8 and (min_val < 0 or max_val < 0):
        raise RuntimeError('cannot do hardtanh on an unsigned type with negative limits')
    return (_hardtanh_ if inplace else _hardtanh)(input, min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    """min(max(0, x), 6) (PyTorch records it as a hardtanh)."""
    try:
        return hardtanh(input, 0, 6, inplace)
    except (AttributeError, TypeError):
        check_tensor_args('relu6', 'input')
        raise


def relu(input, inplace=False):
    """max(0, x) (a quantized input: max(q, zero_point))."""
    if input.__class__ is not Tensor and getattr(input, 'is_quantized', False) is True:   # (an identity test
        return input.relu_() if inplace else input.relu()     # first: getattr cost 80 of relu's 2500 ns)
    if inplace:
        return input.relu_()
    return pointwise.relu(input)


def relu_(input):
    try:
        return input.relu_()
    except (AttributeError, TypeError):
        check_tensor_args('relu_', 'input')
        raise


# -- leaky relu, elu family ------------------------------------------------------------------------------
def _leaky_fwd(a, s):
    """x if x > 0 else x * s. For 0 < s <= 1 that is max(x, x * s), the same values (NaN propagates, -0.0
    stays) in one allocation: select's masks made 39% of the DCGAN step's page faults, and on 32x64x8x8 this
    takes 0.017 ms against select's 0.073."""
    y = a * s
    if 0 < s <= 1 and type(y) is np.ndarray and y.dtype == a.dtype:
        return np.maximum(a, y, out=y)
    return select(a > 0, a, y)


def _leaky_bwd(g, x, s):
    """g where x > 0 else g * s, as g times a factor of 1 or s made from the mask: the same products bit for bit
    (g * 1 is g) wherever (1 - s) + s rounds to 1 in g's dtype (0 * (1 - s) + s is s), else select. DCGAN's
    shapes, min of 200: (32, 32, 16, 16) 174 -> 87 us, (32, 64, 8, 8) 85 -> 47, (32, 128, 4, 4) 44 -> 22."""
    if type(g) is np.ndarray and type(x) is np.ndarray and x.shape == g.shape and g.ndim and g.dtype.kind == 'f':
        dt = g.dtype
        c = dt.type(s)
        d = dt.type(1) - c
        if d + c == 1:
            f = (x > 0).astype(dt)
            f *= d
            f += c
            return np.multiply(g, f, out=f)
    return select(x > 0, g, g * s)


_leaky = _elementwise(
    'LeakyReluBackward0',
    _leaky_fwd,
    _leaky_bwd,
    lambda x, s: ops.where(x > 0, x, x * s), 'leaky_relu_cpu', twice='LeakyReluBackwardBackward0')


def _leaky_inplace_bwd(self, g):
    """The in-place variant's backward, which PyTorch (deriving it from the result) refuses for a negative slope."""
    if self.ctx[0] < 0:
        raise RuntimeError('In-place leakyReLu backward calculation is triggered with a negative slope which is not '
                           'supported. This is caused by calling in-place forward function with a negative slope, '
                           'please call out-of-place version instead. File an issue at '
                           'https://github.com/pytorch/pytorch if you do require supporting in-place leakRelu '
                           'backward calculation with negative slope')
    return _leaky.node.np_backward(self, g)


_leaky_ = _inplace(_leaky, 'leaky_relu_', 'LeakyReluBackward1', _leaky_inplace_bwd)


def _leaky_result_bwd(self, g):
    """Backward from the saved result: for a slope in (0, 1] it is > 0 exactly where the input was."""
    (y,) = self.saved()
    return (_leaky_bwd(g, y, self.ctx[0]),)


def _leaky_result_graph_bwd(self, grads):
    """Under create_graph: PyTorch's LeakyReluBackwardBackward0 over (g, the result), linear in g with a constant
    factor of 1 or the slope (its derivative in y is 0)."""
    (y,) = self.saved()
    return (_linear_twice.record(_LeakyTwice, _leaky_bwd, grads[0], y, self.ctx),)


_LeakyTwice = _linear_twice.node_class('LeakyReluBackwardBackward0')


_LeakyResultBackward = type('LeakyReluBackward1', (fused('LeakyReluBackward1', _leaky_result_bwd, _leaky.node.reference),),
                            {'__slots__': (), 'graph_backward': _leaky_result_graph_bwd})


def _leaky_in_place(t, s):
    """leaky_relu_ for a slope in (0, 1] on a float32/64 tensor that owns its array, as PyTorch's: the result
    written over the input in one pass, max(x, x * s), and saved for backward in place of a copy of the input
    (the generic path copied the input, computed the result aside and copied it back). DCGAN's shapes, graph
    recorded, min of 300 interleaved: (32, 32, 16, 16) 86 -> 44 us, (32, 64, 8, 8) 46 -> 24, (32, 128, 4, 4) 24 ->
    11. None when it does not apply (the generic path then runs)."""
    a = t._data
    if not (0 < s <= 1) or type(a) is not np.ndarray or a.dtype.type not in (np.float32, np.float64) or \
            t._base is not None or not a.flags.writeable:
        return None
    tracked = check_inplace(t)
    np.maximum(a, np.multiply(a, s, dtype=a.dtype), out=a)
    if tracked:
        node = _LeakyResultBackward((t,))
        node.ctx, node.need = (s,), (True,)
        adopt(t, Tensor._make(a, node))
    t._bump()
    if tracked:
        node.save_output(t)
    return t


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, negative_slope * x otherwise."""
    if inplace and type(input) is Tensor:
        out = _leaky_in_place(input, negative_slope)
        if out is not None:
            return out
    return (_leaky_ if inplace else _leaky)(input, negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, True)


def _elu_fwd(a, alpha, scale, in_scale):
    """x * scale where x > 0, else expm1(x * in_scale) * (alpha * scale) (PyTorch's vectorized blend, which takes
    expm1 of every lane: -0. gives -0.). On blockwise's blocks when it applies: (8, 32, 32, 32) float32, one
    thread, min of 30: 294 -> 175 us. With the exact kernels, PyTorch's SLEEF and glibc expm1f (_sleef_expm1)."""
    with np.errstate(over='ignore', invalid='ignore'):   # overflow in the lanes the blend drops
        if _vec_exp.applies(a):
            return _sleef_expm1.elu(a, alpha, scale, in_scale)
        out = _parallel.blockwise(lambda o, x: _elu_fwd_block(o, x, alpha, scale, in_scale), a)
        if out is not None:
            return out
        neg = np.expm1(a * in_scale) * (alpha * scale)
    return select(a > 0, a * scale, neg.astype(a.dtype, copy=False))


def _elu_fwd_block(out, a, alpha, scale, in_scale):
    np.expm1(a if in_scale == 1 else np.multiply(a, in_scale, out=out), out=out)
    if alpha * scale != 1:
        out *= alpha * scale
    select_into(a > 0, a if scale == 1 else a * scale, out)


def _elu_bwd(g, x, alpha, scale, in_scale):
    """g * scale where x > 0, else g * (exp(x * in_scale) * (in_scale * scale * alpha)). On blockwise's blocks when
    it applies, blended by bits instead of np.where's branches: (8, 32, 32, 32) float32, one thread, min of 30:
    1140 -> 299 us. With the exact kernels, PyTorch's products and SLEEF/glibc expf (_sleef_expm1.elu_grad)."""
    with np.errstate(over='ignore', invalid='ignore'):   # overflow in the lanes the blend drops
        if _vec_exp.applies(x) and type(g) is np.ndarray and g.dtype == np.float32 and g.shape == x.shape:
            return _sleef_expm1.elu_grad(g, x, alpha, scale, in_scale)
        out = _parallel.blockwise(lambda o, g, x: _elu_bwd_block(o, g, x, alpha, scale, in_scale), g, x)
        if out is not None:
            return out
        return np.where(x > 0, g * scale, g * (np.exp(x * in_scale) * (in_scale * scale * alpha)))


def _elu_bwd_nan(g, x, alpha, scale, in_scale):
    """_elu_bwd with NaN inputs as PyTorch's: g * scale in its scalar tails (where x <= 0 fails), NaN in its vector
    loop (where x > 0 fails). float16 in float32, rounded once."""
    low = x.dtype == _F16
    out = np.asarray(_elu_bwd(g.astype(np.float32), x.astype(np.float32), alpha, scale, in_scale) if low else
                     _elu_bwd(g, x, alpha, scale, in_scale))
    tail = np.isnan(x)
    if tail.any():
        tail &= ~_vector_lanes(x, 128)
        out = np.where(tail, np.multiply(g, scale, dtype=out.dtype), out).astype(out.dtype, copy=False)
    return out.astype(_F16) if low else out


_elu_bwd_nan.rounds_low = _celu_bwd.rounds_low = True


def _elu_bwd_block(out, g, x, alpha, scale, in_scale):
    np.exp(x if in_scale == 1 else np.multiply(x, in_scale, out=out), out=out)
    out *= in_scale * scale * alpha
    out *= g
    select_into(x > 0, g if scale == 1 else g * scale, out)


def _elu_ref(x, alpha, scale, in_scale):
    neg = ops.expm1(ops.clamp(x, max=0) * in_scale) * (alpha * scale)
    return ops.where(x > 0, x * scale, neg)


_NEGATIVE_ELU = ('In-place elu backward calculation is triggered with a negative slope which is not supported. This '
                 'is caused by calling in-place forward function with a negative slope, please call out-of-place '
                 'version instead.')


def _elu_result_grad(g, y, alpha, scale, bw_scale):
    """The in-place elu family's gradient as PyTorch's, elu_backward from the saved result y: g * bw_scale * (y +
    alpha * scale) where y <= 0, else g * scale (float16 in float32, PyTorch's opmath). ``bw_scale``: the backward's
    input_scale (celu's is 1 / float32(alpha)). Against the input formula, elu_/celu_/selu_'s float64 gradients of
    2000 values were 738/1008/722 apart from PyTorch's (celu_(x, 0.6) 1.4e-8 relative off), float16's 677/806/685."""
    if y.dtype == _F16:
        return _elu_result_grad(g.astype(np.float32), y.astype(np.float32), alpha, scale, bw_scale).astype(_F16)
    with np.errstate(over='ignore', invalid='ignore'):
        return select(y <= 0, g * bw_scale * (y + alpha * scale), g * scale)


def _elu_result_second(self, h, g, y):
    """The gradient's derivative in the result y: h * g * bw_scale where y <= 0 (PyTorch's elu_double_backward
    with is_result)."""
    return dual.scale(h * g, self.ctx[2]) * _mask_as(dual.data(y) <= 0, h)


_EluResultTwice = _linear_twice.node_class('EluBackwardBackward0', _elu_result_second)


def _elu_in_place(out_of_place, name, node_name, bw_scale):
    """elu_/celu_ (selu_ is elu_): their nodes save the result and take their gradients from it, as PyTorch's,
    which refuse a negative alpha (where the result no longer tells the sides apart)."""
    def ctx(node):
        if node.ctx[0] < 0:
            raise RuntimeError(_NEGATIVE_ELU)
        return node.ctx[0], node.ctx[1], bw_scale(*node.ctx)

    def np_backward(self, g):
        return (_elu_result_grad(g, self.saved()[0], *ctx(self)),)

    def graph_backward(self, grads):
        return (_linear_twice.record(_EluResultTwice, _elu_result_grad, grads[0], self.saved()[0], ctx(self)),)
    return _inplace(out_of_place, name, node_name, np_backward, graph_backward, save_result=True)


_elu = _elementwise('EluBackward0', _elu_fwd, _elu_bwd_nan, _elu_ref, 'elu_cpu', 'EluBackwardBackward0', _elu_second)
_elu_ = _elu_in_place(_elu, 'elu_', 'EluBackward1', lambda alpha, scale, in_scale: in_scale)
_celu = _elementwise('CeluBackward0', _elu_fwd, _celu_bwd, _elu_ref, 'elu_cpu', 'EluBackwardBackward0', _celu_second)
_celu_ = _elu_in_place(_celu, 'celu_', 'CeluBackward1', lambda alpha, scale, in_scale: _celu_scale(alpha))


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    return (_elu_ if inplace else _elu)(input, alpha, 1, 1)     # (PyTorch's default scales are ints)


def elu_(input, alpha=1.0):
    return elu(input, alpha, True)


def selu(input, inplace=False):
    """Scaled ELU with the self-normalising constants."""
    try:
        return (_elu_ if inplace else _elu)(input, _SELU_ALPHA, _SELU_SCALE, 1)
    except (AttributeError, TypeError):
        check_tensor_args('selu', 'input')
        raise


def selu_(input):
    try:
        return selu(input, True)
    except (AttributeError, TypeError):
        check_tensor_args('selu_', 'input')
        raise


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    if alpha == 0:   # PyTorch's check, before its 1 / alpha
        raise RuntimeError('ZeroDivisionError: alpha cannot be 0 for CELU')
    return (_celu_ if inplace else _celu)(input, alpha, 1, 1.0 / alpha)


def celu_(input, alpha=1.0):
    return celu(input, alpha, True)


# -- gelu, silu, mish, softplus ------------------------------------------------------------------------------
def _gelu_backward(self, g):
    """d gelu / dx: Phi(x) + x phi(x) (or the tanh form's derivative); Phi comes saved from the forward."""
    (x,) = self.saved()
    return (_gelu_grad_any(g, x, *self.ctx),)


def _gelu_grad_any(g, x, approximate, cdf):
    """_gelu_grad of arrays of any float dtype: float16 and bfloat16 in float32, rounded once (see gelu)."""
    if x.dtype == _F16 or x.dtype is _bf16.NP:
        dt = x.dtype
        x, g = _bf16.to_f32(x), _bf16.to_f32(g)
        return _bf16.cast(_gelu_grad(g, x, approximate, cdf), dt)
    return _gelu_grad(g, x, approximate, cdf)


def _gelu_grad(g, x, approximate, cdf):
    """_gelu_backward's gradient of arrays of one float dtype."""
    if approximate == 'tanh':
        if g.dtype == x.dtype and _gelu_cpu.takes_exact_tanh_grad(x):
            return _gelu_cpu.gelu_tanh_grad(g, x)
        x2 = x * x
        t = np.tanh(_K_TANH * (x + 0.044715 * x2 * x))
        return g * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * _K_TANH * (1.0 + 3 * 0.044715 * x2))
    if g.dtype == x.dtype and _gelu_cpu.takes_onednn_grad(x):
        return _gelu_cpu.gelu_erf_grad(g, x)
    d = np.empty_like(x)
    if g.dtype != d.dtype:
        _gelu_slope(x, cdf, d)
        return g * d
    _parallel.flat(_gelu_slope, x, cdf, d, g)     # on flat blocks across threads when large
    return d


def _gelu_slope(x, cdf, d, g=None):
    """d = Phi(x) + x phi(x), times g if given, in place (578 -> 384 us for 393k float32 against
    temporaries, interleaved min). float32 takes exp(-x*x/2) as exp2(-x*x log2(e) / 2): NumPy's float32 exp2 is
    a faster vectorized loop than its exp (393k values: 70 against 130 us); the argument's extra rounding puts
    about x*x/2 float32 ulps on phi (4 at |x| = 2 sqrt 2, where x phi is 0.02), below the sum's own rounding:
    against PyTorch's gradient, max |difference| 2.98e-7 either way on [-8, 8] and GPT's inputs."""
    np.square(x, out=d)     # (a unary pass: 39 -> 33 us on 393k float32 against x * x, the same values)
    if d.dtype == np.float32:
        d *= _HALF_LOG2E
        np.exp2(d, out=d)
    else:
        d *= -0.5
        np.exp(d, out=d)
    d *= x
    d *= _INV_SQRT_2PI
    d += cdf
    if g is not None:
        d *= g


def _gelu_ref(ctx, x):
    if ctx[0] == 'tanh':
        return x * 0.5 * (ops.tanh((x + x * x * x * 0.044715) * _K_TANH) + 1.0)
    return x * 0.5 * (pointwise.erf(x * _SQRT1_2) + 1.0)


GeluBackward0 = fused('GeluBackward0', _gelu_backward, _gelu_ref)
GeluBackwardBackward0 = _linear_twice.node_class('GeluBackwardBackward0', _gelu_second)
GeluBackward0.graph_backward = lambda self, grads: (_linear_twice.record(GeluBackwardBackward0, _gelu_grad_any, grads[0],
                                                                          self.saved()[0], self.ctx),)


@_quiet.rerun
def gelu(input, approximate='none'):
    """x * Phi(x) (exact, with erf) or its tanh approximation (approximate='tanh')."""
    try:
        if approximate not in ('none', 'tanh'):
            raise RuntimeError('approximate argument must be either none or tanh.')
        a = input._data
        if a.dtype.kind != 'f':
            raise not_implemented('GeluKernelImpl', a.dtype)
        # float16 and bfloat16 in float32, rounded once: PyTorch's opmath (float16: its values in 99.99% of 70k,
        # against 54%; bfloat16: 100% of 2000 normal values, against 64% rounding erf's result too)
        w = _bf16.to_f32(a) if a.dtype == _F16 or a.dtype is _bf16.NP else a
        out, cdf = _gelu_arrays(w, approximate, _gelu_cpu.takes_onednn(a), a.dtype == np.float32 and a.size > 1)
        if a.dtype is _bf16.NP and approximate == 'none' and a.size > 1 and a.flags.c_contiguous:
            out = _onednn_inf(out, w)
        out = out.astype(a.dtype, copy=False)
        out = out if a.flags.c_contiguous else _layout.follow(out, (a,))   # the input's layout, as PyTorch's
        return record(GeluBackward0, (input,), out, ctx=(approximate, cdf))
    except (AttributeError, TypeError):
        check_tensor_args('gelu', 'input')
        raise


def _onednn_inf(out, w):
    """NaN at +inf, as oneDNN's GELU (which PyTorch runs contiguous bfloat16 arrays of 2+ elements through) gives."""
    inf = w == np.inf
    return np.where(inf, np.float32(np.nan), out) if inf.any() else out


def _gelu_arrays(a, approximate, onednn=False, coarse=False):
    """(gelu(a), Phi(a) or None for the tanh form) of a float array, in its dtype; ``onednn``: float32 as
    PyTorch's oneDNN kernel computes it (see _gelu_cpu; arrays up to its EXACT_MAX elements); ``coarse``: a float32
    input of 2+ elements, which PyTorch hands to oneDNN when contiguous (1.2e-6 off: see _gelu_f32)."""
    if approximate == 'tanh':
        if _gelu_cpu.takes_vector_tanh(a):
            return _gelu_cpu.gelu_tanh(a), None
        return (0.5 * a * (1.0 + np.tanh(_K_TANH * (a + 0.044715 * a * a * a)))).astype(a.dtype, copy=False), None
    if onednn:
        return _gelu_cpu.gelu_erf(a)
    if a.dtype == np.float32 and a.flags.c_contiguous:
        return _gelu_f32(a, coarse)
    if a.dtype == np.float32:
        cdf = _special.ndtr_f32(a)
    else:
        cdf = _special.blocked(_special.erf, a * a.dtype.type(_SQRT1_2))
        cdf += 1
        cdf *= 0.5
    return (a * cdf).astype(a.dtype, copy=False), cdf


def _gelu_f32(a, coarse=False):
    """(a * Phi(a), Phi(a)) of a C-contiguous float32 array, on flat blocks shared between set_num_threads's
    threads when large (each block's elementwise passes are the whole array's, so the values are too). GPT's
    (12, 64, 512) at 2 threads, calling thread's CPU time (min of 200 interleaved): forward 883 -> 478 us,
    backward 404 -> 273 us. Phi's x*x temporary is written into the output's block (overwritten last), one fresh
    1.5 MB array fewer: the GPT step's 4 GELU forwards in situ at one thread, medians of 8 interleaved runs of the
    per-call minima, 3.75 -> 3.55 ms. ``coarse`` (a float32 input): Phi by ndtr_f32's degree-4 polynomial, x * Phi
    within 1.02e-6 of exact where PyTorch's oneDNN kernel, which takes these arrays, is 1.2e-6 off (Phi, which the
    gradient takes, within 9.1e-7: 3.3e-6 from PyTorch's gradient on GPT's inputs, 1e-6 before); GPT's real
    GELU inputs at one thread, 400 alternating calls (load 9): median 871 -> 794 us. bfloat16 and float16 (ATen's
    kernel in float32, nearly exact, then rounded) keep degree 5."""
    flat = a.reshape(-1)
    out, cdf = np.empty_like(flat), np.empty_like(flat)

    def part(lo, hi):
        np.multiply(flat[lo:hi], _special.ndtr_f32(flat[lo:hi], cdf[lo:hi], out[lo:hi], coarse), out=out[lo:hi])
    _parallel.run(part, flat.size, flat.nbytes)
    return out.reshape(a.shape), cdf.reshape(a.shape)


def _silu_fwd(a):
    """a / (1 + exp(-a)), PyTorch's formula (one rounding fewer than a * sigmoid(a): on 1M float32 values in
    [-16, 16] equal to PyTorch's 83% of the time against 66%), in place on one temporary (with the backward's:
    silu fwd+bwd of (8, 32, 32, 32) float32, min of 25 interleaved, 1 thread 373 -> 341 us). bfloat16 keeps
    a * sigmoid(a), whose steps (each in float32, rounded to bfloat16) give PyTorch's values there."""
    if type(a) is not np.ndarray:
        return a * _sig(a)
    if _vec_exp.applies(a):     # exact kernels: PyTorch's SLEEF expf
        return _vec_exp.silu(a)
    with np.errstate(over='ignore'):
        d = np.exp(np.negative(a))
    d += 1.0
    return np.divide(a, d, out=d) if type(d) is np.ndarray else a / d     # (a 0-d input gives NumPy scalars)


_silu = _elementwise(
    'SiluBackward0',
    _silu_fwd,
    lambda g, x: _silu_bwd(g, x),
    lambda x: x * ops.sigmoid(x), 'silu_cpu')


def _silu_bwd(g, x):
    """g * s * (1 + x * (1 - s)), s = sigmoid(x), in PyTorch's order (equal to its gradient 73% of the time
    against 48% for g * (s * ...)), on two temporaries; bfloat16 as g * (s * ...) (see _silu_fwd)."""
    if _vec_exp.applies(x) and type(g) is np.ndarray and g.dtype == np.float32 and g.shape == x.shape:
        return _vec_exp.silu_grad(g, x)     # exact kernels: PyTorch's SLEEF expf and fused step
    s = _sig(x)
    if type(x) is not np.ndarray:
        return g * (s * (1.0 + x * (1.0 - s)))
    t = np.subtract(1.0, s)
    t *= x
    t += 1.0
    s *= g
    s *= t
    return s


def _silu_graph(self, grads):
    """Under create_graph, PyTorch's infinitely_differentiable_silu_backward: g * s * (1 + x * (1 - s))."""
    (x,) = self.saved()
    s = ops.sigmoid(x)
    right = dual.shift(x * _one_minus(s), 1.0)    # made first, as PyTorch's build (its nodes run in that order)
    return (grads[0] * s * right,)


_silu.node.graph_backward = _silu_graph
_silu_ = _inplace(_silu, 'silu_')


def silu(input, inplace=False):
    """x * sigmoid(x) (swish)."""
    return (_silu_ if inplace else _silu)(input)


def _softplus_arr(a):
    """log(1 + exp(a)) without overflow, as max(a, 0) + log1p(exp(-|a|)); float32 and narrower computed in float64
    and rounded once (within 0.5 ulp of the exact value; PyTorch's own within 1.5). np.logaddexp(0, a) is 13x
    slower: 262144 float32, one thread, 3.5 -> 0.27 ms."""
    if type(a) is not np.ndarray:   # bfloat16 (an ndarray subclass that NumPy's ufuncs keep)
        return np.logaddexp(0, a)
    w = a.astype(np.float64) if a.dtype.itemsize < 8 else a
    return (np.maximum(w, 0) + np.log1p(np.exp(-np.abs(w)))).astype(a.dtype, copy=False)


def _mish_bwd(g, x):
    if _vec_exp.applies(x) and type(g) is np.ndarray and g.dtype == np.float32 and g.shape == x.shape:
        return _vec_softplus.mish_grad(g, x)    # exact kernels: PyTorch's SLEEF/glibc functions and fused steps
    t = np.tanh(_softplus_arr(x))
    return g * (t + x * _sig(x) * (1.0 - t * t))


def _mish_fwd(a):
    """x * tanh(softplus(x)); with the exact kernels, PyTorch's SLEEF and glibc functions (_vec_softplus)."""
    if _vec_exp.applies(a):
        return _vec_softplus.mish(a)
    r = a * np.tanh(_softplus_arr(a))
    return r if r.strides == a.strides else _layout.follow(r, (a,))   # (an expanded input: PyTorch's C order)


_mish = _elementwise('MishBackward0', _mish_fwd, _mish_bwd,
                     lambda x: x * ops.tanh(_softplus_ref(x, 1.0, 20.0)), 'mish_cpu')
def _mish_graph(self, grads):
    """Under create_graph, PyTorch's infinitely_differentiable_mish_backward: g * (t + x * s * (1 - t * t)),
    t = tanh(log1p(exp(x))), s = sigmoid(x)."""
    (x,) = self.saved()
    s = ops.sigmoid(x)
    t = ops.tanh(ops.log1p(ops.exp(x)))
    return (grads[0] * (t + x * s * _one_minus(t * t)),)


_mish.node.graph_backward = _mish_graph
_mish_ = _inplace(_mish, 'mish_')


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    return (_mish_ if inplace else _mish)(input)


def _log1p_exp(a):
    """log1p(exp(a)) with PyTorch's softplus roundings: a float32 exp(a) rounded to float32 first (correctly, then
    log1p correctly rounded: PyTorch's agree bit for bit on fewer than 32 values, its scalar tail, and in 94% of
    a large tensor, where _softplus_arr's single rounding agreed in 83%); inf where exp(a) overflows, as
    PyTorch's (softplus's threshold keeps that out). Other dtypes: _softplus_arr."""
    if type(a) is not np.ndarray or a.dtype != np.float32:
        return _softplus_arr(a)
    with np.errstate(over='ignore'):
        e = np.exp(a.astype(np.float64)).astype(np.float32)
    return np.log1p(e.astype(np.float64)).astype(np.float32)


def _softplus_fwd(a, beta, threshold):
    if _vec_exp.applies(a):     # exact kernels: PyTorch's SLEEF/glibc expf and log1pf
        return _vec_softplus.softplus(a, beta, threshold)
    bx = a * beta
    return np.where(bx > threshold, a, _log1p_exp(bx) / beta).astype(a.dtype, copy=False)


def _softplus_bwd(g, x, beta, threshold):
    if _vec_exp.applies(x) and type(g) is np.ndarray and g.dtype == np.float32 and g.shape == x.shape:
        return _vec_softplus.softplus_grad(g, x, beta, threshold)
    bx = x * beta
    return np.where(bx > threshold, g, g * _sig(bx))


def _softplus_ref(x, beta, threshold):
    bx = x * beta
    soft = (ops.log1p(ops.exp(-ops.abs(bx))) + ops.clamp(bx, min=0)) / beta
    return ops.where(bx > threshold, x, soft)


_softplus = _elementwise('SoftplusBackward0', _softplus_fwd, _softplus_bwd, _softplus_ref, 'softplus_cpu',
                         'SoftplusBackwardBackward0', _softplus_second)


def softplus(input, beta=1, threshold=20):
    """log(1 + exp(beta * x)) / beta, linear above ``threshold`` (computed without overflow)."""
    return _softplus(input, beta, threshold)


# -- hard sigmoid / swish, threshold, shrinks ------------------------------------------------------------
_ONE_SIXTH = float(np.float32(1 / 6))   # PyTorch's hardsigmoid backward multiplies by 1/6 as a float (also for double)


def _hardsigmoid_fwd(a):
    """clamp(x + 3, 0, 6) / 6 in PyTorch's order of rounding (float16 computed in float32, rounded once)."""
    w = a.astype(np.float32) if a.dtype == np.float16 else a
    return (np.clip(w + 3.0, 0.0, 6.0) / 6.0).astype(a.dtype, copy=False)
_hardsigmoid = _elementwise(
    'HardsigmoidBackward0',
    lambda a: _hardsigmoid_fwd(a),
    lambda g, x: g * ((x > -3.0) & (x < 3.0)) * _ONE_SIXTH,
    lambda x: ops.clamp(x / 6.0 + 0.5, 0.0, 1.0), 'hardsigmoid_cpu', refuse='hardsigmoid_backward')
_hardsigmoid_ = _inplace(_hardsigmoid, 'hardsigmoid_', clone_self=True)


def hardsigmoid(input, inplace=False):
    """clamp(x / 6 + 1/2, 0, 1)."""
    return (_hardsigmoid_ if inplace else _hardsigmoid)(input)


def _hardswish_fwd(a):
    """a * clip(a + 3, 0, 6) / 6, on blockwise's blocks when it applies (with the backward's: hardswish fwd+bwd of
    (8, 32, 32, 32) float32, min of 25 interleaved, 1 thread 437 -> 368 us, 2 threads 421 -> 401)."""
    out = _parallel.blockwise(_hardswish_fwd_block, a)
    return (a * np.clip(a + 3.0, 0.0, 6.0) / 6.0).astype(a.dtype, copy=False) if out is None else out


def _hardswish_fwd_block(out, a):
    np.clip(np.add(a, 3.0, out=out), 0.0, 6.0, out=out)
    out *= a
    out /= 6.0


def _hardswish_bwd(g, x):
    """0 where x <= -3, g * (x / 3 + 1/2) where x < 3, else g (NaN too), as PyTorch's; on blockwise's blocks when it
    applies, blended by bits instead of np.where's branches."""
    out = _parallel.blockwise(_hardswish_bwd_block, g, x)
    if out is not None:
        return out
    return np.where(x <= -3.0, 0.0, np.where(x < 3.0, g * (x / 3.0 + 0.5), g)).astype(g.dtype, copy=False)


def _hardswish_bwd_block(out, g, x):
    np.divide(x, 3.0, out=out)
    out += 0.5
    out *= g
    select_into(~np.less(x, 3.0), g, out)
    select_into(np.less_equal(x, -3.0), None, out)


_hardswish = _elementwise(
    'HardswishBackward0', _hardswish_fwd, _hardswish_bwd,
    lambda x: x * ops.clamp(x + 3.0, 0.0, 6.0) / 6.0, 'hardswish_cpu', 'HardswishBackwardBackward0', _hardswish_second)
_hardswish_ = _inplace(_hardswish, 'hardswish_', clone_self=True)


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6."""
    return (_hardswish_ if inplace else _hardswish)(input)


_threshold = _elementwise(
    'ThresholdBackward0',
    lambda a, th, v: np.where(a <= th, v, a).astype(a.dtype, copy=False),   # (a NaN stays, as PyTorch's <= test)
    lambda g, x, th, v: g * ~(x <= th),
    lambda x, th, v: ops.where(x <= th, float(v), x), twice='ThresholdBackwardBackward0')
_threshold_ = _inplace(_threshold, 'threshold_', 'ThresholdBackward1', clone_self=True)


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else ``value``."""
    if isinstance(input, Tensor) and input._data.dtype.kind == 'b':
        raise not_implemented('threshold_cpu', input._data.dtype)
    return (_threshold_ if inplace else _threshold)(input, threshold, value)


def threshold_(input, threshold, value):
    return _threshold_(input, threshold, value)


def _log_sigmoid_arr(a):
    """log(sigmoid(a)) as PyTorch's log_sigmoid kernel rounds it for float32: min(a, 0) - log1p(exp(-|a|)) with
    exp and log1p each rounded to float32 (correctly) and the difference in float32 (the same float32 as PyTorch
    in 97% of 100k random values, where one rounding of the exact value agreed in 80%); other dtypes rounded
    once. binary_cross_entropy_with_logits subtracts it as PyTorch's does."""
    if type(a) is not np.ndarray or a.dtype != np.float32:     # (+ 0: +0.0 for large a, as min(a, 0) - 0 gives)
        return (-_softplus_arr(-a) + 0).astype(a.dtype, copy=False)
    if _sleef.emulated():
        return _vec_softplus.log_sigmoid(a)
    z = np.exp(-np.abs(a).astype(np.float64)).astype(np.float32)
    return np.minimum(a, np.float32(0)) - np.log1p(z.astype(np.float64)).astype(np.float32)


def _c_order(r):
    """``r`` C-contiguous: PyTorch's log_sigmoid kernel writes its output so whatever its input's layout."""
    return r if r.flags.c_contiguous else np.ascontiguousarray(r)


def _logsigmoid_bw(g, x):
    """g * sigmoid(-x); in float16/bf16 PyTorch's kernel's (max' - sign * z / (1 + z)) * g in float32, its
    z = exp(-|x|) the forward's buffer, rounded to the input's dtype."""
    if not dual.is_low(x):
        if _sleef.emulated() and dual.is_array(g) and x.dtype == np.float32 == g.dtype:
            return _vec_softplus.log_sigmoid_grad(g, x)
        return g * _sig(-x)
    q, xf = dual.rounder(x.dtype), dual.wide(x)
    z = q(np.exp(-np.abs(xf).astype(np.float64)).astype(np.float32))
    neg = xf < 0
    d = np.where(neg, np.float32(1), np.float32(0)) - np.where(neg, np.float32(1), np.float32(-1)) * (z / (1 + z))
    return dual.narrow(d * dual.wide(g), x.dtype)


_logsigmoid_bw.rounds_low = True


_logsigmoid = _elementwise(
    'LogSigmoidBackward0',
    lambda a: _c_order(_log_sigmoid_arr(a)),
    _logsigmoid_bw,
    lambda x: -_softplus_ref(-x, 1.0, math.inf), 'log_sigmoid_cpu', 'LogSigmoidBackwardBackward0', _logsigmoid_second)


def logsigmoid(input):
    """log(sigmoid(x)), computed without overflow."""
    return _logsigmoid(input)


def _softshrink_fw(a, l):
    """Within the band a * 0, as PyTorch's scalar loop (NaN stays, a negative value gives -0.0); its vector loop
    gives +0.0 there (adding +0.0 turns only -0.0 into +0.0). float16 in float32, rounded once."""
    w = a.astype(np.float32) if a.dtype == _F16 else a
    out = np.where(w > l, w - l, np.where(w < -l, w + l, w * 0)).astype(a.dtype, copy=False)
    out[_vector_lanes(a)] += 0
    return out


def _softshrink_bw(g, x, l):
    """1 outside [-lambd, lambd]: PyTorch's scalar loop also passes NaN's gradient, its vector loop does not."""
    keep_ = np.asarray((x > l) | (x < -l))
    scalar = ~_vector_lanes(x)
    keep_[scalar] |= np.isnan(x[scalar])
    return g * keep_


_softshrink_fw.rounds_low = _softshrink_bw.rounds_low = True    # they see float16 (for its vector width)


_hardshrink = _elementwise(
    'HardshrinkBackward0',
    lambda a, l: np.where((a >= -l) & (a <= l), 0, a).astype(a.dtype, copy=False),   # (NaN stays, as PyTorch's)
    _softshrink_bw,     # PyTorch's one shrink_backward kernel for both
    lambda x, l: ops.where((x >= -l) & (x <= l), 0.0, x), 'hardshrink_cpu', twice='HardshrinkBackwardBackward0')


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0."""
    return _hardshrink(input, lambd)


_softshrink = _elementwise(
    'SoftshrinkBackward0',
    _softshrink_fw,
    _softshrink_bw,
    lambda x, l: ops.where(x > l, x - l, ops.where(x < -l, x + l, x * 0.0)), 'softshrink_check',
    twice='SoftshrinkBackwardBackward0')


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, else 0."""
    if lambd < 0:
        raise RuntimeError(f'lambda must be greater or equal to 0, but found to be {lambd}.')
    return _softshrink(input, lambd)


# -- composites, softmax family -------------------------------------------------------------------------------
def sigmoid(input):
    return pointwise.sigmoid(input)


def tanh(input):
    return pointwise.tanh(input)


def softsign(input):
    """x / (1 + |x|)."""
    return input / (ops.abs(input) + 1)


def tanhshrink(input):
    """x - tanh(x)."""
    return input - ops.tanh(input)


def _implicit_dim(input, op, stacklevel):
    """PyTorch's deprecated implicit softmax dim, warned of at ``_stacklevel`` (frames counted as PyTorch's
    ``_get_softmax_dim`` counts them)."""
    warn_at_level(f'Implicit dimension choice for {op} has been deprecated. Change the call to include dim=X '
                  'as an argument.', stacklevel)
    return 0 if input.dim() in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``."""
    if dim is None:
        dim = _implicit_dim(input, 'softmax', _stacklevel)
    return reduction.softmax(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(x)) along ``dim``, computed stably."""
    if dim is None:
        dim = _implicit_dim(input, 'log_softmax', _stacklevel)
    return reduction.log_softmax(input, dim, dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along ``dim`` (an implicit dim is chosen, and warned of, under softmin's name)."""
    if dim is None:
        dim = _implicit_dim(input, 'softmin', _stacklevel)
    return reduction.softmax(-input, dim, dtype)


# -- prelu, rrelu, glu ------------------------------------------------------------------------------------------
def _prelu_w(x, w):
    """The weight as it multiplies x: viewed (1, C, 1...) by prelu for an input of 2 or more dims, one value else."""
    return w.reshape(()) if x.ndim < 2 else w


def _prelu_grads(g, x, w):
    """(input's gradient, weight's over x's shape): g or w * g; 0 or x * g (PyTorch's _prelu_kernel_backward)."""
    pos = x > 0
    return select(pos, g, (g * _prelu_w(x, w)).astype(g.dtype, copy=False)), keep(~pos, g * x)


def _prelu_bwd(self, g):
    x, w = self.saved()
    gx, gw = _prelu_grads(g, x, w)
    return (gx if self.need[0] else None,
            dual.sum_to(gw, w.shape).astype(w.dtype, copy=False) if self.need[1] else None)


def _prelu_ref(ctx, x, w):
    return ops.where(x > 0, x, x * (w.reshape(()) if x.dim() < 2 else w))


class PreluKernelBackwardBackward0(Node):
    """prelu's gradients recorded under create_graph (PyTorch's one node over grad_output, input and the viewed
    weight; outputs the input's gradient and the weight's over the input's shape, summed to the weight's after):
    linear in grad_output, and in x and w apart, so its own gradients are masks: for incoming (ggx, ggw), grad_output
    gets ggx or w * ggx + x * ggw, x gets g * ggw, w g * ggx (0 where x > 0)."""
    __slots__ = ('need', 'outs')
    _need_order = True

    def backward(self, ggx, ggw):
        g, x, w = self.saved()
        ggx, ggw = (gg if out else None for gg, out in zip((ggx, ggw), self.outs))
        neg = ~(dual.data(x) > 0)
        wb = w if dual.is_array(w) and x.ndim >= 2 or not dual.is_array(w) and x.dim() >= 2 else w.reshape(())
        gg = gx = gw = None
        if self.need[0]:
            if ggx is not None:
                gg = dual.where(~neg, ggx, ggx * wb)
            if ggw is not None:
                t = dual.mask(ggw * x, neg)
                gg = t if gg is None else gg + t
        if self.need[1]:    # (zeros where the other output's gradient is absent, as PyTorch's formula)
            gx = dual.zeros(x.shape, g) if ggw is None else dual.mask(g * ggw, neg)
        if self.need[2]:
            gw = dual.zeros(tuple(w.shape), g) if ggx is None else dual.sum_to(dual.mask(g * ggx, neg), tuple(w.shape))
        return gg, gx, gw


for _name, _prop in graph.saved_properties('grad_output', 'self', 'weight').items():
    setattr(PreluKernelBackwardBackward0, _name, _prop)


def _prelu_graph_bwd(self, grads):
    """Under create_graph: one PreluKernelBackwardBackward0 over (g, x, w), the weight's output summed to w's
    shape (SumBackward1) as PyTorch's."""
    g = grads[0]
    x, w = self.saved()
    gx, gw = _prelu_grads(g._data, x._data, w._data)
    edges = (graph.edge(g),) + tuple(self.next_functions)
    need = tuple(e[0] is not None for e in edges)
    if not (GRAD.enabled and any(need)):
        return (Tensor._make(gx) if self.need[0] else None,
                Tensor._make(dual.sum_to(gw, w.shape)) if self.need[1] else None)
    node = PreluKernelBackwardBackward0(())
    node.next_functions, node.need, node.outs = edges, need, tuple(self.need)
    node.save(g, x, w)
    node._out_meta = [(gx.shape, gx.dtype), (gw.shape, gw.dtype)]
    tx, tw = Tensor._make(gx, node), Tensor._make(gw, node)
    tw._output_nr = 1
    return (tx if self.need[0] else None, dual.sum_to(tw, tuple(w.shape)) if self.need[1] else None)


PreluKernelBackward0 = fused('PreluKernelBackward0', _prelu_bwd, _prelu_ref)
PreluKernelBackward0.graph_backward = _prelu_graph_bwd
for _name, _prop in graph.saved_properties('self', 'weight').items():
    setattr(PreluKernelBackward0, _name, _prop)


@_autocast.lower_precision
@_quiet.rerun
def prelu(input, weight):
    """max(0, x) + weight * min(0, x), one weight per channel (dim 1; one for an input of fewer dims) or one shared."""
    try:
        x, w = input._data, weight._data
        if x.dtype.kind != 'f':
            raise not_implemented('prelu_cpu', x.dtype)
        if input.dtype != weight.dtype:
            raise RuntimeError(f'prelu: Type promoting not supported. Got {scalar_name(input.dtype)} and '
                               f'{scalar_name(weight.dtype)}')
        if w.size != 1:
            ch = x.shape[1] if x.ndim >= 2 else 1
            if w.size != ch:
                raise RuntimeError(f'Mismatch of parameter numbers and input channel size. Found parameter numbers = '
                                   f'{w.size} and channel size = {ch}.')
        if x.ndim >= 2:     # PyTorch views the weight across the channel dim (ViewBackward0 in its graph)
            weight = weight.view((1, w.size) + (1,) * (x.ndim - 2))
            w = weight._data
        out = select(x > 0, x, (x * _prelu_w(x, w)).astype(x.dtype, copy=False))   # (select: no np.where branches)
        return record(PreluKernelBackward0, (input, weight), out)
    except (AttributeError, TypeError):
        check_tensor_args('prelu', 'input', 'weight')
        raise


def _rrelu_bwd(self, g):
    return (g * self.ctx,)


RreluWithNoiseBackward0 = fused('RreluWithNoiseBackward0', _rrelu_bwd, lambda ctx, x: x * Tensor._make(ctx),
                                checks=(0,))
RreluWithNoiseBackward1 = forward_refusal.refusing(   # PyTorch's in-place rrelu has no forward-mode formula
    fused('RreluWithNoiseBackward1', _rrelu_bwd, lambda ctx, x: x * Tensor._make(ctx)), 'rrelu_with_noise_', 'inplace')


def _rrelu_graph_bwd(self, grads):
    """Under create_graph: PyTorch's RreluWithNoiseBackwardBackward0 over (g, the input; the result in place), g
    times the saved slopes (their derivative in x is 0)."""
    return (_linear_twice.record(_RreluTwice, _rrelu_grad, grads[0], self.saved()[-1], (self.ctx,)),)


def _rrelu_grad(g, x, slopes):
    return g * slopes


_RreluTwice = _linear_twice.node_class('RreluWithNoiseBackwardBackward0')
RreluWithNoiseBackward0.graph_backward = RreluWithNoiseBackward1.graph_backward = _rrelu_graph_bwd


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Leaky ReLU with a random slope in [lower, upper] per element (the mean slope in eval)."""
    try:
        if lower > upper:
            raise RuntimeError(f'Lower bound should be less than or equal to the upper bound (rrelu got lower={lower}, '
                               f'upper={upper})')
        x = input._data
        if x.dtype.kind != 'f':
            raise not_implemented('leaky_relu_cpu' if not training else 'rrelu_with_noise_out_cpu', x.dtype)
        if training:
            slope = _rrelu_noise(x, lower, upper)
        else:
            slope = x.dtype.type((lower + upper) / 2)
        factor = np.where(x > 0, 1, slope).astype(x.dtype)
        if inplace:
            from ...ops.inplace import check_inplace, commit
            check_inplace(input)
            out = commit(input, record(RreluWithNoiseBackward1, (input,), x * factor, ctx=factor, save=(None,)))
            if isinstance(out.grad_fn, RreluWithNoiseBackward1):    # its gradient under create_graph reads it
                out.grad_fn.save_output(out)
                out.grad_fn.guard(outputs=(out,))   # (and PyTorch's plain backward checks it: ember's reads ctx)
            return out
        return record(RreluWithNoiseBackward0, (input,), x * factor, ctx=factor)
    except (AttributeError, TypeError):
        check_tensor_args('rrelu', 'input')
        raise


def _rrelu_noise(x, lower, upper):
    """PyTorch's training noise: for each element <= 0 in memory order, a double uniform in [lower, upper)
    (bounds first rounded to the input's float type); 1 elsewhere."""
    from ...ops import _distributions as D
    from ...random import default_generator
    acc = np.float64 if x.dtype == np.float64 else np.float32
    lo, hi = float(acc(lower)), float(acc(upper))
    neg = np.ascontiguousarray(x) <= 0
    u = D.unit_uniform(default_generator, int(neg.sum()), np.float64)
    slope = np.ones(x.shape, x.dtype)
    slope[neg] = D.fma64(u, hi - lo, lo).astype(acc).astype(x.dtype)
    return slope


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    try:
        return rrelu(input, lower, upper, training, True)
    except (AttributeError, TypeError):
        check_tensor_args('rrelu_', 'input')
        raise


def _glu_grad(g, x, d, given=None):
    """glu's input gradient: (g * s, g * a * s * (1 - s)) along d, s = sigmoid(b) (``given``: the dim as given,
    which PyTorch's node saves)."""
    a, b = np.split(x, 2, axis=d)
    s = _sig(b)
    return np.concatenate([g * s, g * a * s * (1 - s)], axis=d)


def _glu_bwd(self, g):
    (x,) = self.saved()
    return (_glu_grad(g, x, self.ctx),)


def _halves(t, d):
    """The two halves of t along d (slices: SliceBackward0 for tensors, as PyTorch's narrow)."""
    n = t.shape[d] // 2
    return t[(slice(None),) * d + (slice(0, n),)], t[(slice(None),) * d + (slice(n, 2 * n),)]


def _glu_second(self, h, g, x):
    """PyTorch's glu_double_backward: the input's gradient through the sigmoid's first and second derivatives."""
    d = self.ctx[0]
    a, b = _halves(x, d)
    ha, hb = _halves(h, d)
    s = _sigmoid_any(b)
    s1 = 1 - s
    ss = s * s1
    first = hb * g * ss
    second = hb * a * g * (ss * s1 - s * ss) + ha * g * ss
    return np.concatenate([first, second], d) if dual.is_array(x) else ops.cat([first, second], d)


def _glu_again(self, h, x):
    """PyTorch's glu_double_backward_grad_output: h times glu's backward of ones, its halves added."""
    d = self.ctx[0]
    a, b = _halves(x, d)
    ha, hb = _halves(h, d)
    s = _sigmoid_any(b)
    return ha * s + hb * (a * s * (1 - s))


GluBackward0 = fused('GluBackward0', _glu_bwd, lambda d, x: _glu_ref(x, d))
_GluTwice = _linear_twice.node_class('GluBackwardBackward0', _glu_second, _glu_again)
GluBackward0.graph_backward = lambda self, grads: (_linear_twice.record(
    _GluTwice, _glu_grad, grads[0], self.saved()[0], (self.ctx, self.__dict__.get('given_dim', self.ctx))),)


def _glu_ref(x, d):
    a, b = ops.chunk(x, 2, d)
    return a * ops.sigmoid(b)


@_quiet.rerun
def glu(input, dim=-1):
    """a * sigmoid(b) where a and b are the two halves of ``input`` along ``dim``."""
    x = input._data
    if x.ndim == 0:
        raise RuntimeError('glu does not support scalars because halving size must be even')
    d = dim % x.ndim
    if x.shape[d] % 2:
        raise RuntimeError(f'Halving dimension must be even, but dimension {d} is size {x.shape[d]}')
    if x.dtype.kind != 'f':     # (checked after the shape, as PyTorch's kernel does)
        raise not_implemented('glu_cpu', x.dtype)
    a, b = np.split(x, 2, axis=d)
    out = record(GluBackward0, (input,), (a * _sig(b)).astype(x.dtype, copy=False), ctx=d)
    if out.grad_fn is not None:
        out.grad_fn.given_dim = dim     # (PyTorch's _saved_dim)
    return out


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """Sample from the Gumbel-softmax distribution (one-hot in the forward pass when ``hard``, with the
    soft sample's gradient: the straight-through estimator)."""
    try:
        from ...ops.random import _exponential
        from ...random import default_generator
        dt = logits._data.dtype
        cast = _bf16.from_f32 if _bf16.is_bf16(dt) else (lambda a: a.astype(dt))   # each step rounded, as PyTorch's
        e = cast(_exponential(default_generator, logits._data.size, 1.0)).reshape(logits._data.shape)
        g = -cast(np.log(np.asarray(e, np.float64)))
        y_soft = reduction.softmax((logits + Tensor._make(g)) / tau, dim)
        if not hard:
            return y_soft
        index = np.argmax(y_soft._data, axis=dim)
        y_hard = np.zeros_like(y_soft._data)
        np.put_along_axis(y_hard, np.expand_dims(index, dim), 1.0, axis=dim)
        return Tensor._make(y_hard) - y_soft.detach() + y_soft
    except (AttributeError, TypeError):
        check_inner_args('empty_like', ('input', logits))
        raise


# -- PyTorch's saved attributes (grad_fn._saved_self, _saved_alpha...; torchviz's make_dot(show_attrs=True) lists
# them): the saved input, and the op's scalars as it was called (ints where PyTorch's defaults are ints) -----------
def _expose(cls, *scalars, saved=('self',)):
    """``cls``'s saved tensors by ``saved`` names, its ``ctx`` entries by ``scalars`` names (None: not exposed)."""
    for name, prop in graph.saved_properties(*saved).items():
        setattr(cls, name, prop)
    graph.saved_attributes(cls, **{name: (lambda i: lambda node: node.ctx[i])(i)
                                   for i, name in enumerate(scalars) if name is not None})


_expose(_elu.node, 'alpha', 'scale', 'input_scale')
_expose(_celu.node, 'alpha')
_expose(_leaky.node, 'negative_slope')
_expose(_hardtanh.node, 'min_val', 'max_val')
_expose(_softplus.node, 'beta', 'threshold')
_expose(_threshold.node, 'threshold')
_expose(_hardshrink.node, 'lambd')
_expose(_softshrink.node, 'lambd')
_expose(GeluBackward0, 'approximate')
_expose(_threshold_.node, 'threshold')     # (saved: the input, as PyTorch's clone of it)
_expose(_LeakyResultBackward, 'negative_slope', saved=('result',))
_ctx = _linear_twice.ctx_entry
_linear_twice.expose(_elu.twice, 'self_or_result', alpha=_ctx(0), scale=_ctx(1), input_scale=_ctx(2),
                     is_result=lambda node: False)
_linear_twice.expose(_celu.twice, 'self_or_result', alpha=_ctx(0), scale=_ctx(1),
                     input_scale=lambda node: _celu_scale(node.ctx[0]), is_result=lambda node: False)
_expose(_elu_.node, 'alpha', 'scale', 'input_scale', saved=('result',))
_expose(_celu_.node, 'alpha', saved=('result',))
_linear_twice.expose(_EluResultTwice, 'self_or_result', alpha=_ctx(0), scale=_ctx(1), input_scale=_ctx(2),
                     is_result=lambda node: True)
_linear_twice.expose(_leaky.twice, 'self', negative_slope=_ctx(0))
_linear_twice.expose(_LeakyTwice, 'self', negative_slope=_ctx(0))
_linear_twice.expose(_hardtanh.twice, 'self', min_val=_ctx(0), max_val=_ctx(1))
_linear_twice.expose(_softplus.twice, 'self', beta=_ctx(0), threshold=_ctx(1))
_linear_twice.expose(_threshold.twice, 'self', threshold=_ctx(0))
_linear_twice.expose(_hardshrink.twice, 'self', lambd=_ctx(0))
_linear_twice.expose(_softshrink.twice, 'self', lambd=_ctx(0))
_linear_twice.expose(_hardswish.twice, 'self')
_linear_twice.expose(_logsigmoid.twice, 'self')
_linear_twice.expose(GeluBackwardBackward0, 'self', approximate=_ctx(0))
_expose(GluBackward0)
graph.saved_attributes(GluBackward0, dim=lambda node: node.__dict__.get('given_dim', node.ctx) % (1 << 64))
_linear_twice.expose(_GluTwice, 'self', dim=lambda node: node.ctx[1] % (1 << 64))
for _cls in (_hardsigmoid.node, _hardswish.node, _silu.node, _mish.node):
    _expose(_cls)
