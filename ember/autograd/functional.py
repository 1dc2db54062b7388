"""Higher-level derivatives built on ``grad``: jacobian, hessian, vjp, jvp, hvp, vhp, with PyTorch's
semantics: an output or gradient that does not depend on an input contributes zeros (an error naming it
with ``strict=True``), results are detached unless ``create_graph=True``, and PyTorch's argument checks.
ember has no forward-mode AD or vmap: ``vectorize=True`` computes the same Jacobian one row at a time, and
``strategy='forward-mode'`` one column at a time by the double-backward trick."""
import contextlib

from . import forward_ad, forward_refusal
from .grad_mode import GRAD, enable_grad, set_grad_enabled


def _as_tuple(inp, arg_name, fn_name):
    """(was a tuple, tuple of Tensors): PyTorch's check that ``inp`` is a Tensor or a tuple of Tensors."""
    from ..tensor import Tensor
    is_tuple = isinstance(inp, tuple)
    items = inp if is_tuple else (inp,)
    for i, el in enumerate(items):
        if not isinstance(el, Tensor):
            where = f'value at index {i}' if is_tuple else f'given {arg_name}'
            raise TypeError(f'The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but the '
                            f'{where} has type {type(el)}.')
    return is_tuple, items


def _unpack(res, is_tuple):
    """``res`` (a tuple) as the caller gave its argument: the single element when it was not a tuple."""
    return res if is_tuple else res[0]


def _preprocess(xs, create_graph, need_graph):
    """Fresh tensors to differentiate: a differentiable view of an input that requires grad under
    ``create_graph`` (so the result's graph reaches it), else a detached copy requiring grad as needed."""
    return tuple(x.view_as(x) if create_graph and x.requires_grad else x.detach().requires_grad_(need_graph)
                 for x in xs)


def _postprocess(res, create_graph):
    if create_graph:
        return res
    if isinstance(res, tuple):
        return tuple(_postprocess(r, create_graph) for r in res)
    return res.detach()


def _validate_v(v, other, is_other_tuple):
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f'v is a tuple of invalid length: should be {len(other)} but got {len(v)}.')
        raise RuntimeError('The given v should contain a single Tensor.')
    for idx, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.size() != el_other.size():
            prepend = f'Entry {idx} in ' if is_other_tuple else ''
            raise RuntimeError(f'{prepend}v has invalid size: should be {el_other.size()} but got {el_v.size()}.')


_INDEPENDENT = {
    'outputs': 'Output {i} of the user-provided function does not require gradients. The outputs must be computed '
               'in a differentiable manner from the input when running in strict mode.',
    'grad_inputs': 'The gradient with respect to input {i} is independent of the inputs of the user-provided '
                   'function. This is not allowed in strict mode.',
    'jacobian': 'While computing the hessian, found that the jacobian of the user-provided function with respect to '
                'input {i} is independent of the input. This is not allowed in strict mode. You should ensure that '
                'your function is twice differentiable and that the jacobian depends on the inputs (this would be '
                'violated by a linear function for example).',
    'hessian': 'The hessian of the user-provided function with respect to input {i} is independent of the input. '
               'This is not allowed in strict mode. You should ensure that your function is thrice differentiable '
               'and that the hessian depends on the inputs.',
}


def _check_requires_grad(ts, kind, strict):
    """In strict mode, every tensor of ``ts`` must depend on the inputs (PyTorch's messages, by ``kind``)."""
    if not strict:
        return
    for i, t in enumerate(ts):
        if t is None:
            raise RuntimeError(f'The output of the user-provided function is independent of input {i}. This is not '
                               'allowed in strict mode.')
        if not t.requires_grad:
            raise RuntimeError(_INDEPENDENT[kind].format(i=i))


def _grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """``autograd.grad`` over the outputs that require grad (None for every input when none does)."""
    from . import grad
    grad_outputs = grad_outputs if grad_outputs is not None else (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return tuple(grad([o for o, _ in pairs], inputs, [g for _, g in pairs], allow_unused=True,
                      create_graph=create_graph, retain_graph=retain_graph))


_MISSING = {'back': 'The output of the user-provided function is independent of input {i}. This is not allowed in '
                    'strict mode.',
            'back_trick': 'The gradient with respect to the input is independent of entry {i} in the grad_outputs '
                          'when using the double backward trick to compute forward mode gradients. This is not '
                          'allowed in strict mode.',
            'double_back': 'The jacobian of the user-provided function is independent of input {i}. This is not '
                           'allowed in strict mode.',
            'double_back_trick': 'The hessian of the user-provided function is independent of entry {i} in the '
                                 'grad_jacobian. This is not allowed in strict mode as it prevents from using the '
                                 'double backward trick to replace forward mode AD.'}


def _fill_in_zeros(grads, refs, strict, create_graph, stage):
    """Zeros for the gradients that are None (refused in strict mode, as is a constant one under create_graph)."""
    from ..ops.creation import zeros_like
    res = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_MISSING[stage].format(i=i))
            g = zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = 'hessian' if 'double' in stage else 'jacobian'
            raise RuntimeError(f'The {what} of the user-provided function is independent of input {i}. This is not '
                               'allowed in strict mode when create_graph=True.')
        res.append(g)
    return tuple(res)


def _grad_mode(create_graph):
    return set_grad_enabled(True if create_graph else GRAD.enabled)


def _v(v, against, is_against_tuple, create_graph, fn_name, v_none_msg):
    """``v`` as a tuple checked against ``against`` (outputs or inputs), or PyTorch's error when v is None and
    ``against`` is not a single one-element tensor."""
    if v is not None:
        _, v = _as_tuple(v, 'v', fn_name)
        v = _preprocess(v, create_graph, need_graph=False)
        _validate_v(v, against, is_against_tuple)
        return v
    if len(against) != 1 or against[0].nelement() != 1:
        raise RuntimeError(v_none_msg)
    return None


_V_OUT = 'The vector v can only be None if the user-provided function returns a single Tensor with a single element.'
_V_IN = 'The vector v can only be None if the input to the user-provided function is a single Tensor with a single ' \
        'element.'


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): a vector-Jacobian product."""
    with enable_grad():
        is_in_tuple, xs = _as_tuple(inputs, 'inputs', 'vjp')
        xs = _preprocess(xs, create_graph, need_graph=True)
        is_out_tuple, outs = _as_tuple(func(*xs), 'outputs of the user-provided function', 'vjp')
        _check_requires_grad(outs, 'outputs', strict)
        v = _v(v, outs, is_out_tuple, create_graph, 'vjp', _V_OUT)
    with _grad_mode(create_graph):
        res = _fill_in_zeros(_grad(outs, xs, v, create_graph=create_graph), xs, strict, create_graph, 'back')
    return (_unpack(_postprocess(outs, create_graph), is_out_tuple),
            _unpack(_postprocess(res, create_graph), is_in_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): a Jacobian-vector product by the double-backward trick (as PyTorch computes it)."""
    from ..ops.creation import zeros_like
    with enable_grad():
        is_in_tuple, xs = _as_tuple(inputs, 'inputs', 'jvp')
        xs = _preprocess(xs, create_graph, need_graph=True)
        v = _v(v, xs, is_in_tuple, create_graph, 'jvp', _V_IN)
        is_out_tuple, outs = _as_tuple(func(*xs), 'outputs of the user-provided function', 'jvp')
        _check_requires_grad(outs, 'outputs', strict)
        # the backward is linear in these, so their value does not matter (zeros: finite)
        us = tuple(zeros_like(o).requires_grad_(True) for o in outs)
        grad_inputs = _grad(outs, xs, us, create_graph=True)
        _check_requires_grad(grad_inputs, 'grad_inputs', strict)
    with _grad_mode(create_graph):
        res = _fill_in_zeros(_grad(grad_inputs, us, v, create_graph=create_graph), outs, strict, create_graph,
                             'back_trick')
    return (_unpack(_postprocess(outs, create_graph), is_out_tuple),
            _unpack(_postprocess(res, create_graph), is_out_tuple))


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy='reverse-mode'):
    """The Jacobian of func at inputs, shaped output.shape + input.shape (nested tuples for tuples)."""
    if strategy not in ('forward-mode', 'reverse-mode'):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your function '
                             'has more outputs than inputs, "forward-mode" tends to be more performant. Otherwise, '
                             'prefer to use "reverse-mode".')
    if strategy == 'forward-mode':
        if create_graph:
            raise NotImplementedError('torch.autograd.functional.jacobian: `create_graph=True` and '
                                      '`strategy="forward-mode"` are not supported together (yet). Please either set '
                                      '`create_graph=False` or `strategy="reverse-mode"`.')
        if strict:
            raise RuntimeError('torch.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` are '
                               'not supported together (yet). Please either set `strict=False` or '
                               '`strategy="reverse-mode"`.')
        if not vectorize:   # PyTorch's message, missing space included
            raise NotImplementedError('Computing Jacobian using forward-AD or forward-over-reverse Hessian is'
                                      'only implemented for `vectorize=True`.')
        forward_ad.refuse_nested()
    with enable_grad():
        is_in_tuple, xs = _as_tuple(inputs, 'inputs', 'jacobian')
        forward = strategy == 'forward-mode'
        # forward mode differentiates the inputs as given: its result depends on those that require grad
        keep = forward and any(x.requires_grad for x in xs)
        xs = _preprocess(xs, create_graph or keep, need_graph=True)
        with (forward_refusal.seeding(xs) if forward else contextlib.nullcontext()):
            res = func(*xs)
        is_out_tuple, outs = _as_tuple(res, 'outputs of the user-provided function', 'jacobian')
        _check_requires_grad(outs, 'outputs', strict)
        if vectorize and strict:
            raise RuntimeError('torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not '
                               'supported together. Please either set `strict=False` or `vectorize=False`.')
        if forward:   # lists of lists, as PyTorch's forward mode returns them
            with forward_refusal.converting():
                rows = _jacobian_columns(outs, xs, keep)
            rows = rows if is_in_tuple else tuple(r[0] for r in rows)
            return rows if is_out_tuple else rows[0]
        rows = tuple(_jacobian_of(i, o, xs, create_graph, strict) for i, o in enumerate(outs))
    return _unpack(tuple(_unpack(r, is_in_tuple) for r in _postprocess(rows, create_graph)), is_out_tuple)


def _jacobian_of(i, out, xs, create_graph, strict):
    """d out / d x for each input x, one reverse pass per element of ``out``."""
    from ..ops.creation import zeros, zeros_like
    from ..ops.shape import stack
    cols = [[] for _ in xs]
    flat = out.reshape(-1)
    for j in range(out.nelement()):
        vj = _grad((flat[j],), xs, retain_graph=True, create_graph=create_graph)
        for k, (g, x) in enumerate(zip(vj, xs)):
            if g is None:
                if strict:
                    raise RuntimeError(f'Output {i} of the user-provided function is independent of input {k}. This '
                                       'is not allowed in strict mode.')
                g = zeros_like(x)
            elif strict and create_graph and not g.requires_grad:
                raise RuntimeError(f'The jacobian of the user-provided function is independent of input {i}. This is '
                                   'not allowed in strict mode when create_graph=True.')
            cols[k].append(g)
    return tuple(stack(c).view(tuple(out.shape) + tuple(x.shape)) if c else
                 zeros(tuple(out.shape) + tuple(x.shape), dtype=x.dtype) for c, x in zip(cols, xs))


def _jacobian_columns(outs, xs, create_graph):
    """The Jacobian one input element at a time, J e_k by the double-backward trick: ember's stand-in for
    forward mode, whose products give a zero the sign forward mode gives it (2 * x_i * 0, not 2 * x_k * 0)."""
    from ..ops.creation import zeros, zeros_like
    from ..ops.shape import stack
    us = tuple(zeros_like(o).requires_grad_(True) for o in outs)
    grad_inputs = _grad(outs, xs, us, create_graph=True)
    blocks = [[None] * len(xs) for _ in outs]
    for k, x in enumerate(xs):
        cols = [[] for _ in outs]
        for m in range(x.nelement()):
            e = zeros(x.nelement(), dtype=x.dtype)
            e[m] = 1
            v = tuple(e.view(x.shape) if j == k else zeros_like(xj) for j, xj in enumerate(xs))
            col = _grad(grad_inputs, us, v, retain_graph=True, create_graph=create_graph)
            for i, (c, o) in enumerate(zip(col, outs)):
                cols[i].append(zeros_like(o) if c is None else c)
        for i, o in enumerate(outs):
            shape = tuple(o.shape) + tuple(x.shape)
            blocks[i][k] = stack(cols[i], dim=o.dim()).reshape(shape) if cols[i] else zeros(shape, dtype=x.dtype)
    return blocks


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy='reverse-mode'):
    """The Hessian of a scalar function: the Jacobian of its gradient."""
    is_in_tuple, xs = _as_tuple(inputs, 'inputs', 'hessian')
    if outer_jacobian_strategy not in ('forward-mode', 'reverse-mode'):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def single_output(*inp):
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, 'outputs of the user-provided function', 'hessian')
        _check_requires_grad(t_out, 'outputs', strict)
        if is_out_tuple:
            raise RuntimeError('The function given to hessian should return a single Tensor')
        if out.nelement() != 1:
            raise RuntimeError('The Tensor returned by the function given to hessian should contain a single element')
        return out.squeeze()

    def jac_func(*inp):
        if outer_jacobian_strategy == 'forward-mode':
            inp = tuple(t.requires_grad_(True) for t in inp)
        jac = jacobian(single_output, inp, create_graph=True)
        _check_requires_grad(jac, 'jacobian', strict)
        return jac

    res = jacobian(jac_func, xs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                   strategy=outer_jacobian_strategy)
    return res if is_in_tuple else res[0][0]


def _scalar_output(func, xs, strict, fn_name):
    is_out_tuple, outs = _as_tuple(func(*xs), 'outputs of the user-provided function', fn_name)
    _check_requires_grad(outs, 'outputs', strict)
    if is_out_tuple:
        raise RuntimeError(f'The function given to {fn_name} should return a single Tensor')
    if outs[0].nelement() != 1:
        raise RuntimeError(f'The Tensor returned by the function given to {fn_name} should contain a single element')
    return outs


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H)."""
    with enable_grad():
        is_in_tuple, xs = _as_tuple(inputs, 'inputs', 'vhp')
        xs = _preprocess(xs, create_graph, need_graph=True)
        v = _v(v, xs, is_in_tuple, create_graph, 'vhp', _V_IN)
        outs = _scalar_output(func, xs, strict, 'vhp')
        jac = _grad(outs, xs, create_graph=True)
        _check_requires_grad(jac, 'jacobian', strict)
    with _grad_mode(create_graph):
        res = _fill_in_zeros(_grad(jac, xs, v, create_graph=create_graph), xs, strict, create_graph, 'double_back')
    return _postprocess(outs, create_graph)[0], _unpack(_postprocess(res, create_graph), is_in_tuple)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v), by the double-backward trick (as PyTorch computes it)."""
    from ..ops.creation import zeros_like
    with enable_grad():
        is_in_tuple, xs = _as_tuple(inputs, 'inputs', 'hvp')
        xs = _preprocess(xs, create_graph, need_graph=True)
        v = _v(v, xs, is_in_tuple, create_graph, 'hvp', _V_IN)
        outs = _scalar_output(func, xs, strict, 'hvp')
        jac = _grad(outs, xs, create_graph=True)
        _check_requires_grad(jac, 'jacobian', strict)
        grad_jac = tuple(zeros_like(x).requires_grad_(True) for x in xs)
        double_back = _grad(jac, xs, grad_jac, create_graph=True)
        _check_requires_grad(jac, 'hessian', strict)
    with _grad_mode(create_graph):
        res = _fill_in_zeros(_grad(double_back, grad_jac, v, create_graph=create_graph), xs, strict, create_graph,
                             'double_back_trick')
    return _postprocess(outs, create_graph)[0], _unpack(_postprocess(res, create_graph), is_in_tuple)
