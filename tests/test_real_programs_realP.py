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
