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
        cols = [np.zeros((x.numel(), o.numel()), np.complex128 if cx or o.is_complex() else np.float64)
                for o in outs0]
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
    plus = [_wide(o) for o in _flat_out(func, inputs)]
    flat[k] = old - step
    minus = [_wide(o) for o in _flat_out(func, inputs)]
    flat[k] = old
    q = _quiet.enter()  # inf - inf in a difference: NaN silently, as PyTorch's (the user's func runs outside)
    try:
        return [((p - m) / (2 * abs(step))).reshape(-1) for p, m in zip(plus, minus)]
    finally:
        _quiet.leave(q)


def _wide(o):
    """An output's values in float64 (complex128 for a complex output: the forward-mode check's, whose inputs are
    the real or imaginary parts of complex ones)."""
    return np.array(o._data.view(np.ndarray) if o.is_complex() else o._data, np.complex128 if o.is_complex() else
                    np.float64)


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
    if check_backward_ad:
        if any(o.is_complex() for o in outs):   # PyTorch's order: the imaginary parts of complex outputs, then the real
            flags = [o.is_complex() for o in outs]
            if not all(_check(_parts(func, part), inputs, eps, atol, rtol, raise_exception, analytical_jacobian,
                              _label(part, 'outputs', lambda i, j: flags[j])) for part in ('imaginary', 'real')):
                return False
        elif not _check(func, inputs, eps, atol, rtol, raise_exception, analytical_jacobian):
            return False
    if not check_forward_ad:
        return True
    complex_in = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.is_complex()]
    if not complex_in:
        return _check(func, inputs, eps, atol, rtol, raise_exception, forward_jacobian)
    # (as PyTorch: complex inputs checked through their imaginary, then their real parts, as real inputs)
    flags = [i in complex_in for i in sorted(_diff_positions(inputs))]
    for part in ('imaginary', 'real'):
        fn, args = _input_part(func, inputs, complex_in, part)
        if not _check(fn, args, eps, atol, rtol, raise_exception, forward_jacobian,
                      _label(part, 'inputs', lambda i, j: flags[i])):
            return False
    return True


def _diff_positions(inputs):
    ids = {id(x) for x in _diff_inputs(inputs)}
    return {i for i, x in enumerate(inputs) if id(x) in ids}


def _label(part, element, complex_at):
    """PyTorch's prefix of a mismatch found in one part of the complex outputs (backward) or inputs (forward)."""
    return lambda i, j: f'While considering the {part} part of complex {element} only, ' if complex_at(i, j) else ''


def _input_part(func, inputs, complex_in, part):
    """``func`` of the real or imaginary parts of its complex inputs (the other part held), and those parts."""
    from .. import complex as _complex_of
    args = list(inputs)
    for i in complex_in:   # (contiguous copies: the numerical Jacobian perturbs their values in place)
        x = inputs[i].detach()
        args[i] = (x.imag if part == 'imaginary' else x.real).clone().requires_grad_(inputs[i].requires_grad)

    def f(*parts):
        full = list(parts)
        for i in complex_in:
            fixed = inputs[i].detach()
            full[i] = _complex_of(fixed.real, parts[i]) if part == 'imaginary' else _complex_of(parts[i], fixed.imag)
        return func(*full)
    return f, tuple(args)


def _parts(func, part):
    """``func`` with its complex outputs replaced by their real or imaginary parts."""
    from .. import imag, real
    take = real if part == 'real' else imag

    def f(*inputs):
        return tuple(take(o) if o.is_complex() else o for o in _flat_out(func, inputs))
    return f


def _check(func, inputs, eps, atol, rtol, raise_exception, jacobian, label=lambda i, j: ''):
    """gradcheck's comparison of ``jacobian`` (analytical_jacobian: backward mode, or forward_jacobian) with finite
    differences; ``label(i, j)``: PyTorch's prefix of a mismatch of output j with respect to input i."""
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
    mode = 'computed with forward mode ' if jacobian is forward_jacobian else ''
    for i, (n_cols, a_cols) in enumerate(zip(num, jacobian(func, inputs))):
        for j, (n, a) in enumerate(zip(n_cols, a_cols)):
            if differentiable[j] and not np.allclose(a, n, rtol=rtol, atol=atol):
                msg = (f'{label(i, j)}Jacobian {mode}mismatch for output {j} with respect to input {i},\n'
                       f'numerical:{_as_tensor(n, outs[j])}\nanalytical:{_as_tensor(a, diff[i])}\n')
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def forward_jacobian(func, inputs):
    """The same Jacobians from forward-mode AD: one evaluation per input element, that input made dual with a
    unit tangent (the differentiable inputs detached, as PyTorch's check does; complex inputs come here as their
    real and imaginary parts, see gradcheck)."""
    from ..tensor import Tensor
    diff = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad and x.is_floating_point()]
    plain = [x.detach() if i in diff else x for i, x in enumerate(inputs)]
    outs = _flat_out(func, inputs)
    jac = []
    for i in diff:
        x = plain[i]
        cols = [np.zeros((x.numel(), o.numel()), np.complex128 if o.is_complex() else np.float64) for o in outs]
        for k in range(x.numel()):
            for c, t in zip(cols, _tangents(func, plain, i, k)):
                c[k] = t
        jac.append(cols)
    return jac


def _tangents(func, plain, i, k):
    """Each output's tangent (flat; 0 where it has none) with input ``i`` dual, its tangent 1 at element ``k`` and 0
    elsewhere."""
    from . import forward_ad
    from ..tensor import Tensor
    x = plain[i]
    t = np.zeros(x._data.size, x._data.dtype)
    t[k] = 1
    with forward_ad.dual_level():
        args = list(plain)
        args[i] = forward_ad.make_dual(x, Tensor._make(t.reshape(x._data.shape)))
        got = []
        for o in _flat_out(func, args):
            tangent = forward_ad.unpack_dual(o).tangent
            got.append(0 if tangent is None else tangent._data.reshape(-1))
    return got


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
    if not (check_fwd_over_rev or check_rev_over_rev):   # (PyTorch's asserts)
        raise AssertionError('Expected at least one of check_fwd_over_rev or check_rev_over_rev to be True')
    if check_undefined_grad and not check_rev_over_rev:
        raise AssertionError('Setting check_undefined_grad=True requires check_rev_over_rev to be True')
    _refuse_checks('gradgradcheck', check_batched_grad=check_batched_grad, masked=masked)
    from . import grad
    from ..tensor import Tensor
    inputs = tuple(inputs) if isinstance(inputs, (list, tuple)) else (inputs,)
    if grad_outputs is None:
        grad_outputs = [_random_grad_output(o) for o in _flat_out(func, inputs) if o.requires_grad]
    else:
        grad_outputs = list(grad_outputs) if isinstance(grad_outputs, (list, tuple)) else [grad_outputs]
    n = len(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def first(*args):   # (requires_grad restored, as PyTorch's: the forward-mode check passes detached inputs)
        args = [a.requires_grad_() if isinstance(a, Tensor) and (i in diff_idx or i >= n) and not a.requires_grad
                else a for i, a in enumerate(args)]
        xs, gos = args[:n], args[n:]
        o = [t for t in _flat_out(func, xs) if t.requires_grad]
        gs = grad(o, [xs[i] for i in diff_idx], list(gos), create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, check_grad_dtypes=check_grad_dtypes,
                     check_forward_ad=check_fwd_over_rev, check_backward_ad=check_rev_over_rev)
