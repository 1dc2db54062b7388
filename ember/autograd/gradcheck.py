"""Check analytical gradients against central finite differences (use float64 inputs)."""
import numpy as np

from .. import _quiet


class GradcheckError(RuntimeError):
    """Raised when analytical and numerical gradients disagree."""


def _tensors(x):
    from ..tensor import Tensor
    return [x] if isinstance(x, Tensor) else [t for t in x if isinstance(t, Tensor)]


def _diff_inputs(inputs):
    """The inputs gradcheck differentiates: floating and complex tensors that require grad (None, numbers and other
    arguments pass through to ``func`` unchecked, as in PyTorch)."""
    return [x for x in _tensors(inputs) if x.requires_grad and (x.is_floating_point() or x.is_complex())]


def _flat_out(func, inputs):
    from ..tensor import Tensor
    out = func(*inputs)
    return [out] if isinstance(out, Tensor) else [o for o in out if isinstance(o, Tensor)]


def numerical_jacobian(func, inputs, eps):
    """d out / d input for each (differentiable input, real output) by central differences; for a complex input, the
    derivative along its real part plus i times that along its imaginary part (what a backward pass gives for a
    real output, PyTorch's convention)."""
    outs0 = _flat_out(func, inputs)
    jac = []
    for x in _diff_inputs(inputs):
        cx = x.is_complex()
        cols = [np.zeros((x.numel(), o.numel()), np.complex128 if cx else np.float64) for o in outs0]
        flat = x._data.reshape(-1)
        for k in range(flat.size):
            d = _difference(func, inputs, flat, k, eps)
            if cx:
                d = [re + 1j * im for re, im in zip(d, _difference(func, inputs, flat, k, eps * 1j))]
            for c, v in zip(cols, d):
                c[k] = v
        jac.append(cols)
    return jac


def _difference(func, inputs, flat, k, step):
    """Each output's central difference along element ``k`` of the input whose flat array is ``flat``."""
    old = flat[k]
    flat[k] = old + step
    plus = [o._data.astype(np.float64).copy() for o in _flat_out(func, inputs)]
    flat[k] = old - step
    minus = [o._data.astype(np.float64).copy() for o in _flat_out(func, inputs)]
    flat[k] = old
    q = _quiet.enter()  # inf - inf in a difference: NaN silently, as PyTorch's (the user's func runs outside)
    try:
        return [((p - m) / (2 * abs(step))).reshape(-1) for p, m in zip(plus, minus)]
    finally:
        _quiet.leave(q)


def analytical_jacobian(func, inputs):
    """The same Jacobians from autograd, one vector-Jacobian product per output element."""
    from . import grad
    from ..tensor import Tensor
    diff = _diff_inputs(inputs)
    outs = _flat_out(func, inputs)
    jac = [[np.zeros((x.numel(), o.numel()), np.complex128 if x.is_complex() else np.float64) for o in outs]
           for x in diff]
    for j, o in enumerate(outs):
        if not o.requires_grad:   # depends on no input (a gradient that is a constant): zero, as in PyTorch
            continue
        for k in range(o.numel()):
            seed = np.zeros(o._data.size, o._data.dtype)
            seed[k] = 1
            gs = grad([o], diff, [Tensor._make(seed.reshape(o._data.shape))], retain_graph=True, allow_unused=True)
            for i, g in enumerate(gs):
                if g is not None:
                    jac[i][j][:, k] = g._data.reshape(-1)
    return jac


def _refuse_checks(op, **flags):
    """gradcheck options asking for checks ember does not run raise instead of passing silently."""
    for name, value in flags.items():
        if value:
            raise NotImplementedError(f'{op}: {name}=True is not supported by ember (it has no batched gradients, '
                                      'forward-over-reverse checks or masked tensors); leave it False')


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True, fast_mode=False,
              masked=None):
    """True when autograd's Jacobian matches finite differences for every differentiable input.
    ember's backward is deterministic (nondet_tol has nothing to allow for), fast_mode runs the full
    check, and check_undefined_grad/check_backward_ad=False only skip checks; ``check_grad_dtypes``
    also compares each gradient's dtype with its input's."""
    _refuse_checks('gradcheck', check_batched_grad=check_batched_grad,
                   check_batched_forward_grad=check_batched_forward_grad, masked=masked)
    inputs = tuple(inputs) if isinstance(inputs, (list, tuple)) else (inputs,)
    if not (check_backward_ad or check_forward_ad):
        return True
    if check_grad_dtypes:
        _check_grad_dtypes(func, inputs)
    from ..tensor import Tensor
    for i, x in enumerate(inputs):     # (by position: == on tensors compares their elements)
        if isinstance(x, Tensor) and x.requires_grad and x.dtype.name not in ('float64', 'complex128'):
            import warnings
            warnings.warn(f'Input #{i} requires gradient and is not a double precision floating point or complex. '
                          'This check will likely fail if all the inputs are not of double precision floating point '
                          'or complex. ', UserWarning)
    outs = _flat_out(func, inputs)
    if any(o.is_complex() for o in outs):   # PyTorch's order: the imaginary parts of complex outputs, then the real
        return all(_check(_parts(func, part), inputs, eps, atol, rtol, raise_exception, check_backward_ad,
                          check_forward_ad, [o.is_complex() for o in outs], part) for part in ('imaginary', 'real'))
    return _check(func, inputs, eps, atol, rtol, raise_exception, check_backward_ad, check_forward_ad)


def _parts(func, part):
    """``func`` with its complex outputs replaced by their real or imaginary parts."""
    from .. import imag, real
    take = real if part == 'real' else imag

    def f(*inputs):
        return tuple(take(o) if o.is_complex() else o for o in _flat_out(func, inputs))
    return f


def _check(func, inputs, eps, atol, rtol, raise_exception, check_backward_ad, check_forward_ad, complex_outs=(),
           part=None):
    """gradcheck's comparison for a function of real outputs (``complex_outs``, ``part``: which outputs were complex
    and which of their parts this is, for PyTorch's message)."""
    num = numerical_jacobian(func, inputs, eps)
    outs = _flat_out(func, inputs)
    differentiable = [o.requires_grad for o in outs]
    if not any(differentiable):   # PyTorch's check when no output depends on the inputs through autograd
        if any(np.any(n != 0) for n_cols in num for n in n_cols):
            if raise_exception:
                raise GradcheckError('Numerical gradient for function expected to be zero')
            return False
        return True
    diff = _diff_inputs(inputs)
    modes = ([('', analytical_jacobian)] if check_backward_ad else []) + \
        ([('computed with forward mode ', forward_jacobian)] if check_forward_ad else [])
    for mode, jacobian in modes:
        for i, (n_cols, a_cols) in enumerate(zip(num, jacobian(func, inputs))):
            for j, (n, a) in enumerate(zip(n_cols, a_cols)):
                if differentiable[j] and not np.allclose(a, n, rtol=rtol, atol=atol):
                    prefix = '' if not (j < len(complex_outs) and complex_outs[j]) else \
                        f'While considering the {part} part of complex outputs only, '
                    msg = (f'{prefix}Jacobian {mode}mismatch for output {j} with respect to input {i},\n'
                           f'numerical:{_as_tensor(n, outs[j])}\nanalytical:{_as_tensor(a, diff[i])}\n')
                    if raise_exception:
                        raise GradcheckError(msg)
                    return False
    return True


def forward_jacobian(func, inputs):
    """The same Jacobians from forward-mode AD: one evaluation per input element, that input made dual with a
    unit tangent (the differentiable inputs detached, as PyTorch's check does)."""
    from . import forward_ad
    from ..tensor import Tensor
    diff = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad and x.is_floating_point()]
    if any(isinstance(x, Tensor) and x.requires_grad and x.is_complex() for x in inputs):
        raise NotImplementedError('gradcheck: check_forward_ad=True with complex inputs is not supported by ember '
                                  '(its forward-mode check takes real inputs); leave it False')
    plain = [x.detach() if i in diff else x for i, x in enumerate(inputs)]
    outs = _flat_out(func, inputs)
    jac = [[np.zeros((inputs[i].numel(), o.numel())) for o in outs] for i in diff]
    for cols, i in zip(jac, diff):
        x = plain[i]
        for k in range(x.numel()):
            unit = np.zeros(x._data.size, x._data.dtype)
            unit[k] = 1
            with forward_ad.dual_level():
                args = list(plain)
                args[i] = forward_ad.make_dual(x, Tensor._make(unit.reshape(x._data.shape)))
                for c, o in zip(cols, _flat_out(func, args)):
                    tangent = forward_ad.unpack_dual(o).tangent
                    if tangent is not None:
                        c[k] = tangent._data.reshape(-1)
    return jac


def _as_tensor(jacobian, like):
    """A Jacobian as PyTorch prints it in a mismatch: a tensor of ``like``'s dtype (the numerical one takes the
    output's, the analytical one the input's)."""
    from ..tensor import Tensor
    if jacobian.dtype.kind == 'c':   # a complex input's
        from .. import tensor
        return tensor(jacobian)
    return Tensor._make(jacobian.astype(like._data.dtype))


def _check_grad_dtypes(func, inputs):
    from . import grad
    from ..tensor import Tensor
    xs = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    outs = [o for o in _flat_out(func, inputs) if o.requires_grad]
    for o in outs:
        for x, g in zip(xs, grad(o.sum(), xs, allow_unused=True, retain_graph=True)):
            if g is not None and g.dtype != x.dtype:
                raise GradcheckError('Gradient has dtype mismatch')


def _random_grad_output(out):
    """A grad output for ``out`` as PyTorch's gradgradcheck makes one (``torch.testing.make_tensor`` in [-1, 1),
    float64 for a non-floating output), drawing from the global generator as it does, so that a script's later
    random numbers stay those PyTorch gives."""
    from .. import empty, float64, view_as_real
    dtype = out.dtype if out.is_floating_point() or out.is_complex() else float64
    t = empty(out.shape, dtype=dtype)
    (view_as_real(t) if t.is_complex() else t).uniform_(-1, 1)
    return t.requires_grad_()


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, gen_non_contig_grad_outputs=False,
                  raise_exception=True, nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
                  check_batched_grad=False, check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """gradcheck of the gradient itself (second derivatives through ``create_graph=True``); the options
    behave as in gradcheck (gen_non_contig_grad_outputs: ember's grad outputs are always contiguous)."""
    _refuse_checks('gradgradcheck', check_batched_grad=check_batched_grad, check_fwd_over_rev=check_fwd_over_rev,
                   masked=masked)
    if not check_rev_over_rev:
        return True
    from . import grad
    from ..tensor import Tensor
    inputs = tuple(inputs) if isinstance(inputs, (list, tuple)) else (inputs,)
    if grad_outputs is None:
        grad_outputs = [_random_grad_output(o) for o in _flat_out(func, inputs) if o.requires_grad]
    else:
        grad_outputs = list(grad_outputs) if isinstance(grad_outputs, (list, tuple)) else [grad_outputs]
    n = len(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def first(*args):
        xs, gos = args[:n], args[n:]
        o = [t for t in _flat_out(func, xs) if t.requires_grad]
        gs = grad(o, [xs[i] for i in diff_idx], list(gos), create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, check_grad_dtypes=check_grad_dtypes)
