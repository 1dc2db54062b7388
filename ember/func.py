"""``torch.func``: function transforms (grad, vjp, jvp, jacrev, jacfwd, hessian, vmap) and functional_call.

PyTorch builds these on functorch's batching and dual-level machinery; ember builds them on its reverse-mode
autograd. A transform differentiates fresh aliases of its inputs, with ``create_graph`` when an input already
takes part in an outer graph (an enclosing transform, or a tensor requiring grad), so transforms nest and the
results are differentiable exactly when PyTorch's are. ``vmap`` calls the function once per batch entry and
stacks the results: the values are PyTorch's, and so are ``randomness='error'`` and ``'same'``; with
``'different'`` each entry draws its own numbers, in another order than PyTorch's batched draw. ``jvp``, ``jacfwd``
(so ``hessian``) and ``linearize`` are forward-mode transforms in PyTorch: an op without a forward formula there
raises its NotImplementedError here too (``autograd.forward_refusal``), and ``jacfwd`` checks ``randomness`` as
the vmap over the basis it is there. Inside vmap, BatchNorm in training mode refuses running statistics that are
not mapped over (PyTorch's error; ``replace_all_batch_norm_modules_`` drops them), and randomness='error' tells a
draw from a reseed by the generator's draw count."""
import contextlib
import functools
import re

from . import random as _random
from .autograd import _TRANSFORMS, forward_ad as _forward_ad, forward_refusal as _forward_refusal, \
    grad as _autograd_grad
from .autograd.grad_mode import GRAD, enable_grad
from .ops.creation import zeros_like
from .ops.shape import stack
from .tensor import Tensor
from .utils._pytree import tree_flatten, tree_unflatten

__all__ = ['functional_call', 'grad', 'grad_and_value', 'vjp', 'jvp', 'linearize', 'jacrev', 'jacfwd', 'hessian',
           'vmap', 'stack_module_state', 'replace_all_batch_norm_modules_', 'functionalize', 'debug_unwrap']


def _tensor_leaves(tree, api='transform API'):
    leaves, spec = tree_flatten(tree)
    for x in leaves:
        if not isinstance(x, Tensor):
            raise ValueError(f'Thing passed to {api} must be Tensor, got {type(x)}')
    return leaves, spec


def _output_leaves(out, api):
    """The tensors ``f`` returned, or PyTorch's RuntimeError (functorch's assert_non_empty_tensor_output) for an
    output of None or of something that is not a tensor."""
    leaves, spec = tree_flatten(out)
    if not leaves or (len(leaves) == 1 and leaves[0] is None):
        raise RuntimeError(f'{api}: Expected f to be a function that has non-empty output (got output = {leaves})')
    for x in leaves:
        if not isinstance(x, Tensor):
            raise RuntimeError(f'{api}: expected f(*primals) to return only tensors, got unsupported type {type(x)}')
    return leaves, spec


# --- differentiation -------------------------------------------------------------------------------------------

@contextlib.contextmanager
def _inside(reverse=False):
    """While a transform runs the user's function: autograd.backward refuses there, as PyTorch's does; a
    ``reverse``-mode one (grad, vjp, jacrev) is also counted apart, for module backward hooks to refuse."""
    _TRANSFORMS[0] += 1
    _TRANSFORMS[1] += reverse
    try:
        yield
    finally:
        _TRANSFORMS[0] -= 1
        _TRANSFORMS[1] -= reverse


def _outer(leaves):
    """Whether the transform's results must stay differentiable: an input already takes part in a graph."""
    return GRAD.enabled and any(x.requires_grad for x in leaves)


def _fresh(leaves, outer):
    """Aliases of ``leaves`` to differentiate against: views of inputs in an outer graph (so results reach
    them), detached copies requiring grad otherwise."""
    return [x.view_as(x) if outer and x.requires_grad else x.detach().requires_grad_() for x in leaves]


_NO_DERIVATIVE = re.compile(r"the derivative for '.*' is not implemented\.")


def _grads(outputs, inputs, grad_outputs, outer, retain_graph=None):
    """d(outputs)/d(inputs) with zeros for inputs the outputs do not reach."""
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if not pairs:
        res = [None] * len(inputs)
    else:
        try:
            res = _autograd_grad([o for o, _ in pairs], inputs, [g for _, g in pairs], retain_graph=retain_graph,
                                 create_graph=outer, allow_unused=True)
        except RuntimeError as e:   # PyTorch's transforms raise a missing derivative's error as NotImplementedError
            if _NO_DERIVATIVE.fullmatch(str(e)):
                raise NotImplementedError(str(e)) from None
            raise
    return [zeros_like(x) if g is None else g for g, x in zip(res, inputs)]


def _detach(tree, outer):
    if outer:
        return tree
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([x.detach() if isinstance(x, Tensor) else x for x in leaves], spec)


def _argnums(argnums, args):
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    for n in nums:
        if not isinstance(n, int):
            raise RuntimeError(f'argnums must be int or Tuple[int, ...], got: {type(n)}')
        if not -len(args) <= n < len(args):
            raise RuntimeError(f'Got argnum={n}, but only {len(args)} positional inputs')
    return tuple(n % len(args) for n in nums)


def _split_aux(out, has_aux, api):
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f'{api}(f)(*args): output of function f should be a tuple: (output, aux) if has_aux is True')
    return out


def _prepare(args, argnums):
    """(new args with fresh aliases at ``argnums``, their flat fresh leaves, per-argnum specs, outer)."""
    nums = _argnums(argnums, args)
    flat, specs, counts = [], [], []
    for n in nums:
        leaves, spec = _tensor_leaves(args[n])
        flat += leaves
        specs.append(spec)
        counts.append(len(leaves))
    outer = _outer(flat)
    fresh = _fresh(flat, outer)
    new_args, it = list(args), iter(fresh)
    for n, spec, c in zip(nums, specs, counts):
        new_args[n] = tree_unflatten([next(it) for _ in range(c)], spec)
    return new_args, fresh, specs, counts, outer


def _per_argnum(flat, specs, counts, argnums):
    """Flat per-leaf results regrouped into each argnum's structure; a tuple when argnums is one."""
    out, i = [], 0
    for spec, c in zip(specs, counts):
        out.append(tree_unflatten(flat[i:i + c], spec))
        i += c
    return tuple(out) if isinstance(argnums, tuple) else out[0]


def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning (the gradient of ``func``'s scalar output w.r.t. its ``argnums`` inputs, the
    output), with ``(output, aux)`` in place of the output when ``has_aux``."""
    def wrapper(*args, **kwargs):
        new_args, fresh, specs, counts, outer = _prepare(args, argnums)
        with enable_grad():
            with _inside(reverse=True):
                res = func(*new_args, **kwargs)
            out, aux = _split_aux(res, has_aux, 'grad_and_value')
            if not isinstance(out, Tensor):
                raise RuntimeError(f'grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got {type(out)}')
            if out.dim() != 0:
                raise RuntimeError(f'grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got '
                                   f'tensor with {out.dim()} dims. Maybe you wanted to use the vjp or jacrev APIs '
                                   f'instead?')
            gs = _grads([out], fresh, [None], outer)
        grads = _per_argnum(gs, specs, counts, argnums)
        value = _detach(out, outer)
        return grads, ((value, _detach(aux, outer)) if has_aux else value)
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """A function returning the gradient of ``func``'s scalar output w.r.t. its ``argnums`` inputs (and
    ``func``'s aux output when ``has_aux``)."""
    gv = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        grads, value = gv(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads
    return wrapper


def vjp(func, *primals, has_aux=False):
    """(func(*primals), vjp_fn[, aux]): vjp_fn(cotangents) gives the vector-Jacobian product with each primal."""
    flat, specs, counts = [], [], []
    for p in primals:
        leaves, spec = _tensor_leaves(p)
        flat += leaves
        specs.append(spec)
        counts.append(len(leaves))
    outer = _outer(flat)
    fresh = _fresh(flat, outer)
    it = iter(fresh)
    new = [tree_unflatten([next(it) for _ in range(c)], s) for s, c in zip(specs, counts)]
    with enable_grad():
        with _inside(reverse=True):
            res = func(*new)
        out, aux = _split_aux(res, has_aux, 'vjp')
    out_leaves, out_spec = _output_leaves(out, 'vjp(f, *primals)')

    def vjp_fn(cotangents, *, retain_graph=True, create_graph=None):
        cts, ct_spec = tree_flatten(cotangents)
        for c in cts:
            if c is not None and not isinstance(c, Tensor):   # PyTorch's message (from autograd.grad)
                raise TypeError(f'gradients can be either Tensors or None, but got {type(c).__name__}')
        if ct_spec != out_spec:
            raise RuntimeError('Expected pytree structure of cotangents to be the same as pytree structure of '
                               'outputs to the function')
        for o, c in zip(out_leaves, cts):
            if c is not None and tuple(o.shape) != tuple(c.shape):
                raise RuntimeError(f'Mismatch in shape: grad_output[0] has a shape of {tuple(c.shape)} and output[0] '
                                   f'has a shape of {tuple(o.shape)}.')
        deep = outer or _outer([c for c in cts if c is not None]) if create_graph is None else create_graph
        with enable_grad():
            gs = _grads(out_leaves, fresh, cts, deep, retain_graph=retain_graph)
        return _per_argnum(gs, specs, counts, tuple(range(len(primals))))

    res = (_detach(out, outer), vjp_fn)
    return res + (_detach(aux, outer),) if has_aux else res


def _jvp_leaves(tree, what):
    leaves, spec = tree_flatten(tree)
    for x in leaves:
        if not isinstance(x, Tensor):
            raise RuntimeError(f'jvp(f, primals, tangents): Expected {what} to only contain Tensors, got {type(x)}')
    return leaves, spec


def _check_dual(primal, tangent=None):
    """PyTorch's make_dual refusals (a ValueError): forward AD carries tangents of floating or complex tensors only."""
    for what, x in (('primal', primal), ('tangent', tangent)):
        if x is not None and not (x.is_floating_point() or x.is_complex()):
            raise ValueError(f'Expected {what} to be floating point or complex, but got: {x.dtype}')


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), the Jacobian-vector product with ``tangents``), computed as the gradient of a
    vector-Jacobian product w.r.t. its (linear) cotangent."""
    if not isinstance(primals, tuple):
        raise RuntimeError('jvp(f, primals, tangents): Expected primals to be a tuple. E.g. it should be valid to '
                           'call f(*primals).')
    if not isinstance(tangents, tuple):
        raise RuntimeError('jvp(f, primals, tangents): Expected tangents to be a tuple. E.g. it should be valid to '
                           'call f(*primals).')
    flat, spec = _jvp_leaves(primals, 'primals')
    tan, tan_spec = _jvp_leaves(tangents, 'tangents')
    if tan_spec != spec:
        raise RuntimeError('jvp(f, primals, tangents): Expected primals and tangents to have the same python '
                           'structure. For example, if primals is a tuple of 3 tensors, tangents also must be.')
    for p, t in zip(flat, tan):
        _check_dual(p, t)
    _forward_ad.refuse_nested()
    outer = _outer(flat) or _outer(tan)
    fresh = _fresh(flat, outer)
    with enable_grad(), _forward_refusal.converting():
        with _forward_refusal.seeding(fresh):
            with _inside():
                res = func(*tree_unflatten(fresh, spec))
        out, aux = _split_aux(res, has_aux, 'jvp')
        out_leaves, out_spec = _output_leaves(out, 'jvp(f, primals, tangents)')
        if strict and not all(o.requires_grad for o in out_leaves):
            raise RuntimeError('jvp(f, primals, tangents, strict=True): The output of f is independent of the inputs. '
                               'This is not allowed with strict=True.')
        us = [zeros_like(o).requires_grad_() for o in out_leaves]
        with _forward_refusal.seeding(fresh):    # (the vjp's graph: a refused node's forward formula, _activation)
            vj = _grads(out_leaves, fresh, us, True)
        keep = [(g, t) for g, t in zip(vj, tan) if g.requires_grad]
        if keep:
            jv = _grads([g for g, _ in keep], us, [t for _, t in keep], outer)
        else:
            jv = [zeros_like(o) for o in out_leaves]
    res = (_detach(out, outer), _detach(tree_unflatten(jv, out_spec), outer))
    return res + (_detach(aux, outer),) if has_aux else res


def linearize(func, *primals):
    """(func(*primals), jvp_fn): ``jvp_fn(*tangents)`` is func's Jacobian-vector product at ``primals`` for
    tangents shaped as the primals. PyTorch traces the forward-mode graph once and replays it; ember runs
    ``jvp`` at the same primals on each call (the same values)."""
    flat, spec = tree_flatten(primals)
    for p in flat:
        if isinstance(p, Tensor):
            _check_dual(p)
    with _inside():
        output = func(*primals)
    meta = [(p.shape, p.dtype) for p in flat]

    def jvp_fn(*tangents):
        flat_t, tspec = tree_flatten(tangents)
        if tspec != spec:
            raise RuntimeError(f'Expected the tangents {tspec} to have the same argspec as the primals {spec}')
        for idx, (t, (shape, dtype)) in enumerate(zip(flat_t, meta)):
            if tuple(t.shape) != tuple(shape):
                raise RuntimeError(f"tangent:{idx} with shape {t.shape} in flattened pytree doesn't match the "
                                   f'shape {shape} of the corresponding primal.')
            if t.dtype != dtype:
                raise RuntimeError(f"tangent:{idx} with dtype {t.dtype} in flattened pytree doesn't match the "
                                   f'dtype {dtype} of the corresponding primal.')
        return jvp(func, primals, tangents)[1]

    return output, jvp_fn


_TRANSFORM_OF = {'jacrev': 'vjp(f, *primals)', 'jacfwd': 'jvp(f, primals, tangents)'}   # PyTorch's wording


def _block_dtype(block, out, api):
    """A Jacobian block in PyTorch's dtype: jacrev's rows are gradients (the input's dtype), jacfwd's columns
    are pushed-forward tangents (the output's dtype: an f32 input of an f64 output gives an f64 block)."""
    if api == 'jacfwd' and out.dtype != block.dtype and out.is_floating_point() and block.is_floating_point():
        return block.to(out.dtype)
    return block


def _jacobian(func, argnums, has_aux, api, randomness='different'):
    def wrapper(*args, **kwargs):
        if api == 'jacfwd':
            _forward_ad.refuse_nested()
        new_args, fresh, specs, counts, outer = _prepare(args, argnums)
        forward = _forward_refusal.converting() if api == 'jacfwd' else contextlib.nullcontext()
        with enable_grad(), forward:
            seeds = _forward_refusal.seeding(fresh) if api == 'jacfwd' else contextlib.nullcontext()
            with _random_guard(randomness)(0), seeds:   # jacfwd vmaps over the basis: its randomness check
                with _inside(reverse=api == 'jacrev'):
                    res = func(*new_args, **kwargs)
            out, aux = _split_aux(res, has_aux, api)
            out_leaves, out_spec = _output_leaves(out, _TRANSFORM_OF[api])
            jacs = []
            for o in out_leaves:
                flat_o = o.reshape(-1)
                rows = [_grads([flat_o[i]], fresh, [None], outer, retain_graph=True) for i in range(flat_o.numel())]
                cols = []
                for j, x in enumerate(fresh):
                    col = stack([r[j] for r in rows]) if rows else x.new_zeros((0,) + tuple(x.shape))
                    cols.append(_block_dtype(col.reshape(tuple(o.shape) + tuple(x.shape)), o, api))
                jacs.append(_per_argnum(cols, specs, counts, argnums))
        res = _detach(tree_unflatten(jacs, out_spec), outer)
        return (res, _detach(aux, outer)) if has_aux else res
    return wrapper


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """A function returning the Jacobian of ``func`` w.r.t. its ``argnums`` inputs (output shape + input
    shape per pair), one reverse pass per output element."""
    if chunk_size is not None and not (isinstance(chunk_size, int) and chunk_size > 0):
        raise ValueError('jacrev: `chunk_size` should be greater than 0.')
    return _jacobian(func, argnums, has_aux, 'jacrev')


def jacfwd(func, argnums=0, has_aux=False, *, randomness='error'):
    """``jacrev``'s Jacobian (PyTorch computes it in forward mode; the values agree to rounding)."""
    _check_randomness(randomness)
    return _jacobian(func, argnums, has_aux, 'jacfwd', randomness)


def hessian(func, argnums=0):
    """A function returning the Hessian of ``func`` w.r.t. its ``argnums`` inputs."""
    return jacfwd(jacrev(func, argnums), argnums)


# --- vmap ------------------------------------------------------------------------------------------------------

def _check_randomness(randomness):
    if randomness not in ('error', 'different', 'same'):
        raise RuntimeError(f'Only allowed values for randomness are \'error\', \'different\', or \'same\'. Got '
                           f'{randomness}')


def _fn_name(func):
    return getattr(func, '__name__', repr(func))


def _in_dims_per_leaf(in_dims, args, name):
    """One in_dim per leaf of ``args``: an int broadcasts; a tuple follows args' structure down to leaves."""
    def spread(dims, tree):
        if dims is None or isinstance(dims, int):
            return [dims] * len(tree_flatten(tree)[0])
        same_kind = (isinstance(dims, tuple) and isinstance(tree, tuple)) or (isinstance(dims, list) and
                                                                           isinstance(tree, list))
        if same_kind and len(dims) == len(tree):   # PyTorch's tree specs: a list matches a list, a tuple a tuple
            return [d for sub, t in zip(dims, tree) for d in spread(sub, t)]
        if isinstance(dims, dict) and isinstance(tree, dict) and set(dims) == set(tree):
            return [d for k in tree for d in spread(dims[k], tree[k])]
        raise ValueError(f'vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with the '
                         f'structure of `inputs`.')
    if not isinstance(in_dims, (int, tuple)):
        raise ValueError(f'vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to be int or a '
                         f'(potentially nested) tuple matching the structure of inputs, got: {type(in_dims)}.')
    return spread(in_dims, tuple(args))


def _batch_size(leaves, dims, name, in_dims):
    sizes = []
    for x, d in zip(leaves, dims):
        if d is None:
            continue
        if not isinstance(x, Tensor):
            raise ValueError(f'vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for an input but the '
                             f'input is of type {type(x)}. We cannot vmap over non-Tensor arguments, please use None '
                             f'as the respective in_dim')
        if not -x.dim() <= d < x.dim():
            raise ValueError(f'vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for some input, but '
                             f'that input is a Tensor of dimensionality {x.dim()} so expected in_dim to satisfy '
                             f'-{x.dim()} <= in_dim < {x.dim()}.')
        sizes.append(x.shape[d])
    if not sizes:
        raise ValueError(f'vmap({name}, in_dims={in_dims}, ...)(<inputs>): at least one input must be a Tensor '
                         f'mapped over a dimension (in_dims must not be None for all of them)')
    if any(s != sizes[0] for s in sizes):
        raise ValueError(f'vmap: Expected all tensors to have the same size in the mapped dimension, got sizes '
                         f'{sizes} for the mapped dimension')
    return sizes[0]


BATCHED = []   # per running vmap (innermost last): ids of the tensors it maps over, whose entries are views of them


def is_batched(t):
    """Inside vmap, whether ``t`` is (a view of) a tensor the innermost vmap maps over: PyTorch's BatchedTensor."""
    return bool(BATCHED) and t is not None and id(t._base if t._base is not None else t) in BATCHED[-1]


def _random_guard(randomness, generators=()):
    """A per-call context: 'error' raises PyTorch's error when the call drew random numbers; 'same' replays the
    first call's random state in every call. Both watch the default generator and ``generators``, those passed
    to the mapped function (curvlinops' MC Fisher samples with its own, under randomness='same')."""
    gens = [_random.default_generator] + [g for g in generators if g is not _random.default_generator]
    start = [g.get_state() for g in gens]

    def restore():
        for g, st in zip(gens, start):
            g.set_state(st)

    @contextlib.contextmanager
    def guard(i):
        if randomness == 'same':
            restore()
        counts = [(g._draws, g._reseeds) for g in gens]
        yield
        if randomness == 'error' and any(
                g._draws != draws or (g._reseeds == reseeds and not g.get_state().equal(st))
                for g, (draws, reseeds), st in zip(gens, counts, start)):
            restore()
            raise RuntimeError("vmap: called random operation while in randomness error mode. Please either use the "
                               "'same' or 'different' randomness flags on vmap or perform the randomness operation "
                               "out of vmap")
    return guard


def vmap(func, in_dims=0, out_dims=0, randomness='error', *, chunk_size=None):
    """``func`` mapped over a dimension of its inputs (``in_dims``), its outputs stacked along ``out_dims``."""
    _check_randomness(randomness)
    if chunk_size is not None and not (isinstance(chunk_size, int) and chunk_size > 0):
        raise ValueError(f'vmap: chunk_size should be None or greater than 0. (got {chunk_size})')
    name = _fn_name(func)

    def wrapper(*args, **kwargs):
        leaves, spec = tree_flatten(tuple(args))
        dims = _in_dims_per_leaf(in_dims, args, name)
        n = _batch_size(leaves, dims, name, in_dims)
        guard = _random_guard(randomness, [x for x in leaves + tree_flatten(kwargs)[0]
                                           if isinstance(x, _random.Generator)])
        results = []
        bases = {id(x._base if x._base is not None else x) for x, d in zip(leaves, dims) if d is not None}
        for i in range(n):
            sliced = [x if d is None else x.select(d, i) for x, d in zip(leaves, dims)]
            BATCHED.append(bases)
            try:
                with guard(i), _inside():
                    results.append(func(*tree_unflatten(sliced, spec), **kwargs))
            finally:
                BATCHED.pop()
        return _stack_outputs(results, out_dims, name)
    return wrapper


def _same_tensor(a, b):
    """Whether two entries' outputs agree: an output that differs across the batch is batched in PyTorch, which
    out_dim None refuses (ember maps entry by entry, so it tells a batched output by its values)."""
    if not (isinstance(b, Tensor) and a.shape == b.shape and a.dtype == b.dtype):
        return False
    x, y = a._data, b._data
    return bool(((x == y) | ((x != x) & (y != y))).all())   # NaN where NaN agrees too


def _stack_outputs(results, out_dims, name):
    first, spec = tree_flatten(results[0])
    if isinstance(out_dims, int) or out_dims is None:
        odims = [out_dims] * len(first)
    else:
        odims = _in_dims_per_leaf(out_dims if isinstance(out_dims, tuple) else (out_dims,),
                                  results[0] if isinstance(results[0], tuple) else (results[0],), name)
    columns = list(zip(*(tree_flatten(r)[0] for r in results)))
    out = []
    for col, d in zip(columns, odims):
        if d is None:
            if isinstance(col[0], Tensor) and any(c is not col[0] and not _same_tensor(c, col[0]) for c in col[1:]):
                raise ValueError(f'vmap({name}, ...): `{name}` can not return a BatchedTensor when out_dim is None')
            out.append(col[0])
            continue
        if not isinstance(col[0], Tensor):
            raise ValueError(f'vmap({name}, ...): `{name}` must only return Tensors, got type {type(col[0])}. Did you '
                             f'mean to set out_dims= to None for output?')
        out.append(stack(col, d if d >= 0 else d + col[0].dim() + 1))
    return tree_unflatten(out, spec)


# --- modules ---------------------------------------------------------------------------------------------------

def _untie(module, given):
    """``given`` with each tied parameter/buffer's value given to all its names (PyTorch's tie_weights)."""
    names = {}
    for n, t in list(module.named_parameters(remove_duplicate=False)) + list(module.named_buffers(remove_duplicate=False)):
        names.setdefault(id(t), set()).add(n)
    tied = {n: group for group in names.values() if len(group) > 1 for n in group}
    out = dict(given)
    for n in given:
        if n not in tied:
            continue
        group = tied[n]
        if len(group & set(given)) > 1 and len({id(given[k]) for k in group if k in given}) != 1:
            raise ValueError(f'functional_call got multiple values for keys {sorted(group)}, which are tied. '
                             f'Consider using tie_weights=False')
        for k in group:
            out[k] = given[n]
    return out


def _swap(module, name, value):
    """Put ``value`` under dotted ``name`` (a parameter, buffer or plain attribute); returns the old entry."""
    *path, attr = name.split('.')
    mod = module.get_submodule('.'.join(path)) if path else module
    for store in ('_parameters', '_buffers'):
        d = mod.__dict__[store]
        if attr in d:
            old = d[attr]
            d[attr] = value
            return mod, store, attr, old
    old = mod.__dict__.get(attr, _MISSING)
    object.__setattr__(mod, attr, value)
    return mod, None, attr, old


_MISSING = object()


def _restore(mod, store, attr, old):
    if store is not None:
        mod.__dict__[store][attr] = old
    elif old is _MISSING:
        del mod.__dict__[attr]
    else:
        object.__setattr__(mod, attr, old)


def _functional_call(module, parameters_and_buffers, args=None, kwargs=None, *, tie_weights=True, strict=False):
    given = _untie(module, parameters_and_buffers) if tie_weights else parameters_and_buffers
    if strict:
        valid = {n for n, _ in module.named_parameters(remove_duplicate=False)}
        valid |= {n for n, _ in module.named_buffers(remove_duplicate=False)}
        missing, unexpected = sorted(valid - set(given)), sorted(set(given) - valid)
        msgs = []
        if unexpected:
            msgs.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
        if missing:
            msgs.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
        if msgs:
            raise RuntimeError('Error(s) in reparametrizing for {}:\n\t{}'.format(module._get_name(), '\n\t'.join(msgs)))
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    swapped = []
    try:
        for name, value in given.items():
            swapped.append(_swap(module, name, value))
        return module(*args, **(kwargs or {}))
    finally:
        for entry in reversed(swapped):
            _restore(*entry)


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """``module(*args, **kwargs)`` with its parameters and buffers replaced, for this call only, by the tensors
    of ``parameter_and_buffer_dicts`` (a dict, or a sequence of dicts with distinct keys)."""
    if isinstance(parameter_and_buffer_dicts, dict):
        given = parameter_and_buffer_dicts
    elif isinstance(parameter_and_buffer_dicts, (tuple, list)):
        if not all(isinstance(d, dict) for d in parameter_and_buffer_dicts):
            raise ValueError('Expected all elements of parameter_and_buffer_dicts to be dictionaries')
        counts = {}
        for d in parameter_and_buffer_dicts:
            for k in d:
                counts[k] = counts.get(k, 0) + 1
        repeated = [k for k, c in counts.items() if c > 1]
        if repeated:
            raise ValueError(f'{repeated} appeared in multiple dictionaries; behavior of functional call is ambiguous')
        given = {k: v for d in parameter_and_buffer_dicts for k, v in d.items()}
    else:
        raise ValueError(f'Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, but got '
                         f'{type(parameter_and_buffer_dicts)}')
    return _functional_call(module, given, args, kwargs, tie_weights=tie_weights, strict=strict)


def stack_module_state(models):
    """(params, buffers): each name's tensors from ``models`` (same class and mode) stacked on a new first dim;
    stacked parameters are fresh leaves requiring grad."""
    if len(models) == 0:
        raise RuntimeError('stack_module_state: Expected at least one model, got 0.')
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError('stack_module_state: Expected all models to have the same training/eval mode.')
    if not all(type(m) is type(models[0]) for m in models):
        raise RuntimeError('stack_module_state: Expected all models to be of the same class.')

    def stacked(tensors, name):
        req = [t.requires_grad for t in tensors]
        if any(req) and not all(req):
            raise RuntimeError(f'Expected {name} from each model to have the same .requires_grad')
        res = stack(tensors)
        return res.detach().requires_grad_() if all(req) else res
    all_params = [dict(m.named_parameters()) for m in models]
    all_buffers = [dict(m.named_buffers()) for m in models]
    params = {k: stacked(tuple(p[k] for p in all_params), k) for k in all_params[0]}
    buffers = {k: stacked(tuple(b[k] for b in all_buffers), k) for k in all_buffers[0]}
    return params, buffers


def replace_all_batch_norm_modules_(root):
    """``root`` with every BatchNorm module in it made to keep no running statistics (running_mean, running_var
    and num_batches_tracked None, track_running_stats False), in place: vmap then accepts it in training mode."""
    from .nn.modules.batchnorm import _BatchNorm
    for m in [root] + list(root.modules()):
        if isinstance(m, _BatchNorm) and m.track_running_stats:
            m.running_mean = m.running_var = m.num_batches_tracked = None
            m.track_running_stats = False
    return root


def functionalize(func, *, remove='mutations'):
    """``func`` with its mutations removed, as PyTorch's functionalize: the same results, and inputs it mutates
    are mutated as before (PyTorch copies the new values back); ember runs ``func`` itself."""
    if remove not in ('mutations', 'mutations_and_views'):
        raise RuntimeError(f"functionalize(f, remove='mutations'): received invalid argument for remove={remove}. "
                           "Valid options are:\n     remove='mutations': all inplace and out= operators will be "
                           "removed from the program, and replaced with their out-of-place equivalents.\n     "
                           "remove='mutations_and_views': In addition to the above, all aliasing operators {view} "
                           "will be replaced with their non-aliasing counterparts, {view}_copy.\n")
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)
    return wrapper


def debug_unwrap(tensor, *, recurse=True):
    """The tensor inside a transform's wrapper; ember's transforms pass plain tensors, so ``tensor`` itself."""
    return tensor
