"""Real PyTorch libraries under the alias against PyTorch (session 47, lane realP): einx, jaxtyping with beartype,
tensordict and others on tiny inputs; each defect found is reduced here to the lines that found it (the libraries
themselves are not needed)."""
import gc
import importlib
import pickle

import pytest
import torch

import ember
from ember import aliasing
from helpers import run_both


def _aliased(name):
    """Module ``name`` as a script importing it under the alias gets it."""
    with aliasing.as_torch():
        return importlib.import_module(name)


# -- tensordict 0.15 (tensordict/utils.py, __init__.py): ``from torch._C._functorch import is_batchedtensor, ...``
# at import; ember's torch._C was a plain module, so the import failed ('torch._C' is not a package).
@pytest.mark.parametrize('name', ['is_batchedtensor', 'is_gradtrackingtensor', 'is_functionaltensor',
                                  'is_functorch_wrapped_tensor', 'maybe_get_level'])
def test_functorch_queries_on_plain_tensors(name):
    """Each query answers for a plain tensor as PyTorch's, and refuses a non-tensor with a TypeError."""
    ours, real = getattr(_aliased('torch._C._functorch'), name), getattr(importlib.import_module('torch._C._functorch'),
                                                                          name)
    assert ours(ember.ones(2)) == real(torch.ones(2))
    with pytest.raises(TypeError) as e_real:
        real(3)
    with pytest.raises(TypeError) as e_ours:
        ours(3)
    assert str(e_ours.value).splitlines()[0] == str(e_real.value).splitlines()[0]


def test_functorch_wrapper_calls_refuse_by_name():
    """tensordict imports _add_batch_dim, _remove_batch_dim and get_unwrapped at load; calling one refuses clearly."""
    mod = _aliased('torch._C._functorch')
    for name in ('_add_batch_dim', '_remove_batch_dim', 'get_unwrapped'):
        with pytest.raises(NotImplementedError, match=f'torch._C._functorch.{name} is not supported by ember'):
            getattr(mod, name)(ember.ones(2), 0, 1)
    assert _aliased('torch._C')._functorch is mod


# -- tensordict's utils.py: ``from torch.utils.data._utils.worker import _generate_state`` -------------------------
@pytest.mark.parametrize('seed,worker', [(0, 0), (1, 3), (2 ** 40 + 5, 1), (2 ** 64 - 1, 7)])
def test_worker_generate_state(seed, worker):
    """The four words PyTorch seeds a DataLoader worker's NumPy with, a list of Python ints as PyTorch's."""
    from torch.utils.data._utils.worker import _generate_state as real
    ours = _aliased('torch.utils.data._utils.worker')._generate_state(seed, worker)
    assert ours == real(seed, worker) and all(type(w) is int for w in ours)


# -- tensordict's utils.py: ``from torch.utils.weak import WeakIdKeyDictionary`` -----------------------------------
def _weak_dictionary_story(lib, weak):
    """Tensors (unhashable by value) key the dictionary by identity; an entry goes when its key is collected."""
    a, b = lib.ones(2), lib.ones(2)
    d = weak.WeakIdKeyDictionary()
    d[a] = 'a'
    d[b] = 'b'
    seen = [d[a], d[b], a in d, lib.ones(2) in d, len(d), sorted(d.values()), d.get(lib.zeros(1), 'none')]
    del b
    gc.collect()
    seen += [len(d), list(d.values()), [k is a for k in d]]
    ref = weak.WeakIdRef(a)
    seen += [ref() is a, hash(ref) == id(a), ref == weak.WeakIdRef(a), weak.TensorWeakRef(a)() is a]
    seen += [weak.WeakTensorKeyDictionary is weak.WeakIdKeyDictionary, sorted(weak.__all__)]
    return seen


def test_weak_id_key_dictionary():
    assert _weak_dictionary_story(ember, _aliased('torch.utils.weak')) == \
        _weak_dictionary_story(torch, importlib.import_module('torch.utils.weak'))


# -- tensordict's utils.py lists torch.qint32, qint8, quint4x2 and quint8 among its dtypes at import --------------
@pytest.mark.parametrize('name', ['qint8', 'quint8', 'qint32', 'quint4x2', 'quint2x4'])
def test_quantized_dtypes_named(name):
    """The quantized dtypes exist with PyTorch's repr, itemsize and flags and pickle to themselves; is_signed raises
    as PyTorch's; making a tensor of one refuses (ember has no quantized tensors; PyTorch's zeros has no kernel)."""
    run_both(lambda lib: [repr(getattr(lib, name)), getattr(lib, name).itemsize,
                          getattr(lib, name).is_floating_point, getattr(lib, name).is_complex,
                          repr(getattr(lib, name).to_real()),
                          pickle.loads(pickle.dumps(getattr(lib, name))) is getattr(lib, name)])
    run_both(lambda lib: getattr(lib, name).is_signed, message=True)
    with pytest.raises(NotImplementedError):
        torch.zeros(2, dtype=getattr(torch, name))
    with pytest.raises(NotImplementedError, match=f'torch.{name} tensors are not supported by ember'):
        ember.zeros(2, dtype=getattr(ember, name))


# -- tensordict's _utils_options.py: ``from torch.utils._contextlib import _DecoratorContextManager``; found with it:
# ember's grad modes decorating a generator function left the mode on only while the generator object was made.
def _generator_modes(lib):
    @lib.no_grad()
    def a():
        yield lib.is_grad_enabled()
        yield lib.is_grad_enabled()

    @lib.no_grad
    def b():
        got = yield lib.is_grad_enabled()
        yield got

    @lib.inference_mode()
    def c():
        yield lib.is_inference_mode_enabled()

    @lib.set_grad_enabled(False)
    def d():
        try:
            yield lib.is_grad_enabled()
        except ValueError:
            yield 'caught', lib.is_grad_enabled()

    gen_b, gen_d = b(), d()
    return [list(a()), next(gen_b), gen_b.send(5), list(c()), next(gen_d), gen_d.throw(ValueError),
            lib.is_grad_enabled()]


def test_grad_mode_decorated_generators():
    run_both(_generator_modes)


def _decorator_context_manager_story(contextlib):
    log = []

    class Mode(contextlib._NoParamDecoratorContextManager):
        def __enter__(self):
            log.append('enter')

        def __exit__(self, *exc):
            log.append('exit')

    @Mode
    def f():
        return 3

    @Mode()
    def g():
        yield 1
        yield 2

    out = [f(), list(g())]
    for ctx, fn in ((Mode(), f), (lambda: Mode(), Mode)):
        try:
            contextlib.context_decorator(ctx, fn)
        except (AssertionError, RuntimeError) as e:
            out.append((type(e).__name__, str(e).split(' at 0x')[-1][-60:]))
    return out + log


def test_decorator_context_manager():
    """A subclass of _NoParamDecoratorContextManager decorates with or without parentheses, generators per step;
    context_decorator refuses an ambiguous context and a class, in PyTorch's words."""
    assert _decorator_context_manager_story(_aliased('torch.utils._contextlib')) == \
        _decorator_context_manager_story(importlib.import_module('torch.utils._contextlib'))


def test_grad_mode_decorating_a_class_warns():
    import warnings
    seen = []
    for lib in (torch, ember):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')

            @lib.no_grad()
            class A:
                def __init__(self):
                    self.g = lib.is_grad_enabled()
        seen.append((A().g, [(w.category, str(w.message)) for w in caught]))
    assert seen[0] == seen[1] and seen[0][1]


# -- tensordict's import-time names: torch.utils._pytree's list/tuple flatten functions (it registers its LinkedList
# with them), Context, is_structseq_instance and _broadcast_to_and_flatten; _python_dispatch's
# is_traceable_wrapper_subclass; torch._utils' device helpers; torch._functorch.vmap's helpers ----------------------
def _pytree_story(lib, pytree):
    out = [pytree._list_flatten([1, 2]), pytree._list_unflatten([1, 2], None), pytree._tuple_flatten((1, 2)),
           pytree._tuple_unflatten([1, 2], None), pytree._list_flatten_with_keys([5, 6]),
           pytree._tuple_flatten_with_keys((5,)), pytree.Context is __import__('typing').Any,
           pytree.is_structseq_instance(lib.max(lib.ones(2, 2), 0)), pytree.is_structseq_instance((1, 2))]
    for prefix, full in [(0, (1, [2, 3])), ((0, 1), (1, [2, 3])), ((0, [1, 2]), (1, [2, 3])), ((0,), (1, 2)),
                         ({'a': 1}, {'a': (1, 2)}), ({'b': 1}, {'a': 1}), ([0, None], [1, (2, 3)])]:
        out.append(pytree._broadcast_to_and_flatten(prefix, pytree.tree_structure(full)))

    class Box(list):
        pass
    pytree.register_pytree_node(Box, pytree._list_flatten, pytree._list_unflatten)
    try:
        leaves, spec = pytree.tree_flatten(Box([lib.ones(1), 2]))
        out += [len(leaves), type(pytree.tree_unflatten(leaves, spec)).__name__]
    finally:
        pytree.SUPPORTED_NODES.pop(Box)
    return out


def test_pytree_helpers():
    assert repr(_pytree_story(ember, _aliased('torch.utils._pytree'))) == \
        repr(_pytree_story(torch, importlib.import_module('torch.utils._pytree')))


def _wrapper_subclass_story(lib, dispatch):
    class Plain(lib.Tensor):
        pass

    class Wrapper(lib.Tensor):
        def __tensor_flatten__(self):
            return [], None

        @staticmethod
        def __tensor_unflatten__(inner, ctx, size, stride):
            return None
    return [dispatch.is_traceable_wrapper_subclass(x) for x in (lib.ones(1), lib.ones(1).as_subclass(Plain),
                                                               lib.ones(1).as_subclass(Wrapper), 3)] + \
        [dispatch.is_traceable_wrapper_subclass_type(c) for c in (lib.Tensor, Plain, Wrapper)]


def test_is_traceable_wrapper_subclass():
    assert _wrapper_subclass_story(ember, _aliased('torch.utils._python_dispatch')) == \
        _wrapper_subclass_story(torch, importlib.import_module('torch.utils._python_dispatch'))


def test_device_helpers():
    ours, real = _aliased('torch._utils'), importlib.import_module('torch._utils')
    assert ours._get_available_device_type() == real._get_available_device_type()
    assert ours._get_device_module('cpu') is ember.cpu
    with pytest.raises(RuntimeError, match="Device 'foo' does not have a corresponding module registered as"):
        ours._get_device_module('foo')
    with pytest.raises(RuntimeError, match="Device 'foo' does not have a corresponding module registered as"):
        real._get_device_module('foo')


def test_functorch_vmap_helpers():
    ours, real = _aliased('torch._functorch.vmap'), importlib.import_module('torch._functorch.vmap')
    import functools
    for f in (len, functools.partial(len), ember.nn.ReLU()):
        assert ours._get_name(f) == real._get_name(torch.nn.ReLU() if isinstance(f, ember.nn.Module) else f)
    assert ours._maybe_remove_batch_dim('f', 3, 1, 2, None) == real._maybe_remove_batch_dim('f', 3, 1, 2, None)
    with pytest.raises(ValueError) as e_real:
        real._maybe_remove_batch_dim('f', 3, 1, 2, 0)
    with pytest.raises(ValueError) as e_ours:
        ours._maybe_remove_batch_dim('f', 3, 1, 2, 0)
    assert str(e_ours.value) == str(e_real.value)
    assert ours._broadcast_to_and_flatten is _aliased('torch.utils._pytree')._broadcast_to_and_flatten
    assert ours.tree_flatten is _aliased('torch.utils._pytree').tree_flatten and ours.Tensor is ember.Tensor


# -- tensordict's ``TensorDict.to_module`` swaps parameters with torch.nn.utils._named_member_accessor.swap_tensor ----
def _swap_story(lib, accessor):
    lib.manual_seed(0)
    m = lib.nn.Linear(2, 1)
    m.register_buffer('buf', lib.zeros(1))
    m.plain = lib.ones(1)
    new_w = lib.nn.Parameter(lib.zeros(1, 2))
    out = [accessor.swap_tensor(m, 'weight', new_w).shape, m.weight is new_w,
           accessor.swap_tensor(m, 'buf', lib.ones(1)).tolist(), m.buf.tolist(),
           accessor.swap_tensor(m, 'plain', lib.zeros(2)).tolist(), m.plain.tolist(),
           accessor.swap_tensor(m, 'ghost', lib.ones(1), allow_missing=True) is accessor._MISSING,
           accessor.swap_tensor(m, 'bias', accessor._MISSING).shape, 'bias' in m._parameters]
    accessor.set_tensor(m, 'buf', lib.full((1,), 7.0))
    seq = lib.nn.Sequential(lib.nn.ReLU())
    out += [m.buf.tolist(), type(accessor.swap_submodule(seq, '0', lib.nn.Tanh())).__name__, type(seq[0]).__name__]
    for call in (lambda: accessor.swap_tensor(m, 'a.b', lib.ones(1)), lambda: accessor.swap_tensor(m, '', lib.ones(1)),
                 lambda: accessor.swap_tensor(m, 'nothing', lib.ones(1)), lambda: accessor.swap_tensor(m, 'x', 3),
                 lambda: accessor.swap_tensor(3, 'x', lib.ones(1)), lambda: accessor.swap_submodule(seq, '5', seq),
                 lambda: accessor.swap_submodule(seq, 'a.b', seq)):
        try:
            call()
        except Exception as e:   # noqa: BLE001 - the error is compared
            out.append((type(e).__name__, str(e).split(' object at ')[0]))
    return [list(x) if isinstance(x, (torch.Size, ember.Size)) else x for x in out]


def test_named_member_accessor_swaps():
    assert _swap_story(ember, _aliased('torch.nn.utils._named_member_accessor')) == \
        _swap_story(torch, importlib.import_module('torch.nn.utils._named_member_accessor'))


# -- tensordict's functional_modules reads torch.nn.modules.module._global_parameter_registration_hooks; the
# registration hooks it holds (register_module_parameter/buffer/module_registration_hook) ran nowhere in ember ------
def _registration_story(lib):
    module = importlib.import_module(lib.nn.Module.__module__) if lib is torch else ember.nn.modules.module
    log = []

    def on_param(m, n, p):
        log.append(('p', type(m).__name__, n, tuple(p.shape)))
        return lib.nn.Parameter(p.detach() * 2) if n == 'weight' else None

    def on_buffer(m, n, b):
        log.append(('b', type(m).__name__, n, tuple(b.shape)))

    def on_module(m, n, c):
        log.append(('m', type(m).__name__, n, type(c).__name__))
        return lib.nn.Identity() if isinstance(c, lib.nn.ReLU) else None
    handles = [module.register_module_parameter_registration_hook(on_param),
               module.register_module_buffer_registration_hook(on_buffer),
               module.register_module_module_registration_hook(on_module)]
    try:
        lib.manual_seed(0)
        net = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.ReLU(), lib.nn.BatchNorm1d(3))
        net.extra = lib.nn.Tanh()
        net[0].register_buffer('buf', lib.ones(1))
        net[0].bias = lib.nn.Parameter(lib.zeros(3))
        out = [log[:], [type(c).__name__ for c in net], net[0].weight.detach(), len(module._global_parameter_registration_hooks)]
    finally:
        for h in handles:
            h.remove()
    log.clear()
    lib.nn.Linear(1, 1)
    return out + [log, len(module._global_parameter_registration_hooks)]


def test_module_registration_hooks():
    run_both(_registration_story)


# -- tensordict: ``torch.stack([td, td], 0)`` and ``torch.cat`` of TensorDicts go to TensorDict.__torch_function__;
# ember raised 'expected Tensor as element 0' as its namespaces dispatch only once a trigger installed them -------
def test_stack_and_cat_ask_tensor_likes():
    import subprocess
    import sys
    code = '''
import ember
class Like:
    def __init__(self, n):
        self.n = n
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        items, dim = args[0], (args[1] if len(args) > 1 else (kwargs or {}).get('dim', 0))
        return (func.__name__, [i.n for i in items], dim)
print(ember.stack([Like(1), Like(2)], 1), ember.cat((Like(3), Like(4))))
try:
    ember.stack([object()])
except TypeError as e:
    print(e)
'''
    # a fresh process: dispatch not yet installed by another test's trigger, the case the fix is for
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    with pytest.raises(TypeError) as e_real:
        torch.stack([object()])
    assert out.splitlines() == ["('stack', [1, 2], 1) ('cat', [3, 4], 0)", str(e_real.value)]


# -- tensordict's to_module asks torch._C._is_alias_of(value, current) before swapping a parameter -----------------
def test_is_alias_of():
    def fn(lib):
        a = lib.ones(4)
        x = lib.ones(3, 4).t()
        return [lib._C._is_alias_of(p, q) for p, q in [(a, a[1:]), (a, a.clone()), (a[1:], a.view(2, 2)),
                                                       (a[:2], a[2:]), (x, x.contiguous()), (x, x[0]), (a, 3),
                                                       (3, a)]]
    run_both(fn)


# -- tensordict's NormalParamExtractor + ProbabilisticTensorDictModule: the Normal's loc printed grad_fn=ExpandBackward0
# (PyTorch: SplitBackward0), as broadcast_tensors expanded even a tensor already of the broadcast shape ---------------
def test_broadcast_tensors_returns_tensors_already_of_the_shape():
    def fn(lib):
        x = lib.randn(5, 4, requires_grad=True)
        loc, scale = (x * 1).chunk(2, -1)
        a, b = lib.broadcast_tensors(loc, scale)
        c, d = lib.broadcast_tensors(lib.ones(5, 1, requires_grad=True), loc)
        from_dist = lib.distributions.Normal(loc, scale.exp()).loc
        return [a is loc, b is scale, d is loc, c.grad_fn.name(), a.grad_fn.name(), from_dist is loc,
                from_dist.grad_fn.name(), lib.broadcast_tensors(loc)[0] is loc]
    run_both(fn)


# -- tensordict's arithmetic (``td + 1``) asks torch._C._is_torch_function_mode_enabled() --------------------------
def test_is_torch_function_mode_enabled():
    def story(lib):
        f = lib._C._is_torch_function_mode_enabled
        out = [f()]
        with lib.overrides.TorchFunctionMode():
            out.append(f())
            with lib._C.DisableTorchFunction():
                out.append(f())
            with lib._C.DisableTorchFunctionSubclass():
                out.append(f())
        return out + [f()]
    assert story(ember) == story(torch)


# -- tensordict's TensorDict.max(dim=0): ``from torch.return_types import max`` (ember's return_types was no module),
# ``max((values, indices))`` (PyTorch's structseq call: one 2-sequence) and the class's ``__match_args__`` ------------
def test_return_types_module_and_structseq_protocol():
    def fn(lib):
        with aliasing.as_torch() if lib is ember else __import__('contextlib').nullcontext():
            rt = importlib.import_module('torch.return_types')
        out = []
        for name in ('max', 'min', 'sort', 'topk', 'kthvalue', 'median', 'mode', 'cummax', 'cummin', 'aminmax',
                     'frexp'):
            cls = getattr(rt, name)
            out.append((name, cls.__match_args__, cls.n_fields, cls.n_sequence_fields, cls.n_unnamed_fields))
        r = rt.max([lib.ones(1), lib.zeros(1)])
        out += [isinstance(lib.max(lib.ones(2, 2), 0), rt.max), r.values, r.indices, repr(r)]
        match lib.max(lib.tensor([[1., 3.], [2., 0.]]), 0):
            case rt.max(values=v, indices=i):
                out += [v, i]
        match lib.aminmax(lib.arange(4.)):
            case rt.aminmax(min=lo, max=hi):
                out += [lo, hi]
        try:
            rt.topk([1])
        except TypeError as e:
            out.append(str(e))
        return out
    run_both(fn)
