"""Where ``torch.utils.flop_counter.FlopCounterMode`` counts. PyTorch's counter is a dispatch mode that sees every
aten op; ember has no dispatcher below its public functions, so the ops PyTorch's counter has formulas for
(mm, addmm, bmm, baddbmm, convolution and their backwards) report here themselves while a counter is entered.
Outside one, that is one list check per call of those ops. The formulas are PyTorch's: 2 * m * k * n for
a product, and for a convolution 2 * batch * out channels * in channels per group * kernel size * the
output's spatial size (the input's, for a transposed one)."""
import functools
import math

COUNTERS = []   # the entered FlopCounterModes, innermost last


def count(op, flops, out=None, backward=()):
    """Aten op ``op`` ('mm') did ``flops``; ``backward``: the (op, flops) its backward does, counted when ``out``'s
    grad_fn runs while a counter is entered (ember's nodes compute them, as PyTorch's do)."""
    if QUIET[0]:
        return
    for counter in COUNTERS:
        counter._count(op, flops)
    fn = getattr(out, 'grad_fn', None)
    if backward and fn is not None:
        fn.register_prehook(functools.partial(_count_backward, tuple(backward)))


def _count_backward(ops, grad_outputs):
    for counter in list(COUNTERS):
        for op, flops in ops:
            counter._count(op, flops)


def product(op, a, b, out, need, batch=1):
    """A product of (m, k) ``a`` by (k, n) ``b`` shapes (``batch`` of them): its FLOPs under ``op`` and the gradient
    products' of the operands that need one (``need``), under ``mm`` or ``bmm``."""
    flops = 2 * batch * a[-2] * a[-1] * b[-1]
    grad_op = 'bmm' if op in ('bmm', 'baddbmm') else 'mm'
    count(op, flops, out, [(grad_op, flops) for n in need if n])


def matmul(x, y, out):
    """``x @ y`` as PyTorch's matmul runs it: mm for two matrices, a vector by a matrix, and a stack folded into a
    matrix (``_folds``); bmm over the broadcast batch for the other stacks; mv and dot (a matrix or a folded stack
    by a vector) are not counted."""
    a, b = tuple(x.shape), tuple(y.shape)
    need = (x.requires_grad, y.requires_grad)
    if len(a) <= 2 and len(b) <= 2:
        if len(b) == 2:
            product('mm', (1,) * (2 - len(a)) + a, b, out, need)
    elif _folds(x, y):
        if len(a) >= 3 and len(b) == 2:
            product('mm', (math.prod(a[:-1]), a[-1]), b, out, need)
        elif len(a) == 2:   # the stack y^T folded, times x^T
            product('mm', (math.prod(b[:-2]) * b[-1], b[-2]), (a[-1], a[-2]), out, need)
    elif len(a) >= 3 and len(b) >= 3 and math.prod(b[:-2]) == 1:   # y's batch of one: x folded by y's matrix
        product('mm', (math.prod(a[:-1]), a[-1]), b[-2:], out, need)
    else:
        a2 = (1,) + a if len(a) == 1 else a
        b2 = b + (1,) if len(b) == 1 else b
        product('bmm', a2[-2:], b2[-2:], out, need, math.prod(_broadcast(a2[:-2], b2[:-2])))


def _folds(x, y):
    """PyTorch's matmul folds a stack (3-d or more) times a matrix or vector into one mm or mv: always when the
    smaller operand requires grad, never for a matrix times a stack otherwise, else when the stack's batch dims are
    contiguous (the stack transposed, for the smaller operand first)."""
    big, small = (x, y) if x.dim() >= y.dim() else (y.mT, x)
    if not (big.dim() >= 3 and small.dim() in (1, 2)):
        return False
    if small.requires_grad:
        return True
    if x.dim() == 2:
        return False
    if big.numel() == 0:
        return True
    shape, stride = big.shape, big.stride()
    return all(stride[i] == stride[i + 1] * shape[i + 1] for i in range(big.dim() - 2))


def einsum(subs, out, shapes, result, need):
    """A two-operand einsum as PyTorch's runs it: a dim of one operand only, not in the output, summed first, then one
    bmm over the dims both operands share (batched by those the output keeps, contracting the others); none when
    nothing is contracted (a product of elements)."""
    size = {}
    for sub, shape in zip(subs, shapes):
        for c, n in zip(sub, shape):
            size[c] = max(size.get(c, 1), n)
    a, b, o = set(subs[0]), set(subs[1]), set(out)
    contracted = (a & b) - o
    if contracted:
        def dims(cs):
            return math.prod(size[c] for c in cs)
        product('bmm', (dims((a - b) & o), dims(contracted)), (dims(contracted), dims((b - a) & o)), result, need,
                dims(a & b & o))


def _broadcast(s, t):
    n = max(len(s), len(t))
    s, t = (1,) * (n - len(s)) + tuple(s), (1,) * (n - len(t)) + tuple(t)
    return [max(x, y) for x, y in zip(s, t)]


def _conv_flops(x, w, out, transposed):
    """PyTorch's convolution FLOPs of input shape ``x``, weight ``w``, output ``out``."""
    spatial = (x if transposed else out)[2:]
    return 2 * x[0] * w[0] * w[1] * math.prod(w[2:]) * math.prod(spatial)


def convolution(x, w, out, transposed, result, need):
    """A convolution of shapes ``x`` by ``w`` giving ``out``, and its backward's convolution_backward: the input's
    gradient (a transposed convolution of the output's gradient) and the weight's, for those that need one."""
    def t(s):
        return (s[1], s[0]) + tuple(s[2:])
    grad = 0
    if need[0]:
        grad += _conv_flops(out, w, x, not transposed)
    if need[1]:
        grad += _conv_flops(t(out), t(x), t(w), False) if transposed else _conv_flops(t(x), t(out), t(w), False)
    count('convolution', _conv_flops(x, w, out, transposed), result, [('convolution_backward', grad)] if any(need) else ())


QUIET = [0]   # >0 while an op counted as a whole (addmm) runs the product it is made of (mm)


def quietly(fn, *args):
    """``fn(*args)`` counting nothing inside."""
    QUIET[0] += 1
    try:
        return fn(*args)
    finally:
        QUIET[0] -= 1
