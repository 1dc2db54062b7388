"""Tensor subclasses and the ``__torch_function__`` protocol against PyTorch: the extending notes' examples
(ScalarTensor with HANDLED_FUNCTIONS/implements, LoggingTensor, MetadataTensor, a subclass that survives ops),
result types, dispatch order, NotImplemented and the TypeErrors, the disabling context managers, torch.overrides'
helpers, repr, pickling and autograd through subclass ops (gradients against PyTorch's and finite differences)."""
import copy
import functools
import io
import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

import ember
import ember.overrides
from tests.helpers import check, check_gradients

LIBS = (torch, ember)


def _values(x):
    """A comparable summary of a result: tensors by class name, dtype, values and grad_fn name."""
    if isinstance(x, (torch.Tensor, ember.Tensor)):
        return (type(x).__name__, str(x.dtype), np.round(x.detach().numpy(), 5).tolist() if x.dtype.is_floating_point else x.tolist(),
                x.grad_fn.name() if x.grad_fn is not None else None)
    if isinstance(x, (tuple, list)):
        return (type(x).__name__, [_values(v) for v in x])
    return x


def _same(fn):
    """``fn(lib)`` gives the same summary on both libraries."""
    t, e = fn(torch), fn(ember)
    assert _values(e) == _values(t)
    return e


def _subclass(lib, name='MyTensor'):
    return type(name, (lib.Tensor,), {})


# -- a subclass that survives ops ----------------------------------------------------------------------------
OPS = {
    'add': lambda L, x: x + 1,
    'radd': lambda L, x: 2 + x,
    'rsub_plain': lambda L, x: L.ones(3) - x,
    'mul_plain': lambda L, x: x * L.arange(3.0),
    'method': lambda L, x: x.exp().sum(),
    'torch_fn': lambda L, x: L.add(x, 1, alpha=2),
    'functional': lambda L, x: L.nn.functional.relu(x),
    'linalg': lambda L, x: L.linalg.vector_norm(x),
    'index': lambda L, x: x[1:],
    'max_dim': lambda L, x: L.max(x.reshape(1, 3), 1),
    'split': lambda L, x: x.split(2),
    'cat_plain': lambda L, x: L.cat([L.zeros(1), x]),
    'inplace': lambda L, x: x.clone().add_(1),
    'detach': lambda L, x: x.detach(),
    'T': lambda L, x: x.reshape(1, 3).T,
    'comparison': lambda L, x: x > 0,
    'item': lambda L, x: x.sum().item(),
    'shape': lambda L, x: tuple(x.shape),
}


@pytest.mark.parametrize('op', sorted(OPS))
def test_subclass_survives_ops(op):
    def run(L):
        x = L.tensor([1.0, -2.0, 3.0], requires_grad=True).as_subclass(_subclass(L))
        return OPS[op](L, x)
    _same(run)


def test_construction_and_isinstance():
    def run(L):
        M = _subclass(L)
        m = M([1.0, 2.0])
        p = L.Tensor._make_subclass(M, L.ones(2), True)
        return (type(m).__name__, isinstance(m, L.Tensor), isinstance(m + 1, M), type(m + 1) is M, m, p,
                p.is_leaf, p.requires_grad, L.is_tensor(m))
    _same(run)


def test_subclass_new_with_extra_arguments():
    """``super().__new__(cls, data)`` makes the data, whatever the subclass's ``__init__`` takes (a tag here)."""
    def run(L):
        class Tagged(L.Tensor):
            @staticmethod
            def __new__(cls, data, tag):
                return super().__new__(cls, data)

            def __init__(self, data, tag):
                self.tag = tag
        t = Tagged([1.0, 2.0], 'a')
        return t, t.tag, type(t * 2).__name__, getattr(t * 2, 'tag', None)
    _same(run)


def test_parameter_keeps_its_own_rules():
    def run(L):
        p = L.nn.Parameter(L.ones(2))
        return type(p * 2).__name__, type(p.detach()).__name__, p * 2
    _same(run)


def test_repr_and_print():
    for L in LIBS:
        M = _subclass(L)
        x = L.tensor([[1.5, -2.0], [3.0, 4.25]], requires_grad=True)
        y = x.as_subclass(M)
        z = L.tensor([1, 2], dtype=L.int32).as_subclass(M)
        if L is torch:
            expected = (repr(y), repr(y * 2), str(z), repr(y.detach()))
        else:
            assert (repr(y), repr(y * 2), str(z), repr(y.detach())) == expected


def test_grad_fn_graph_shape():
    """Each op result passes through AliasBackward0 (``_convert``'s as_subclass), as in PyTorch."""
    def run(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = x.as_subclass(_subclass(L))
        z = (y * y).sum()
        names, node = [], z.grad_fn
        while node is not None:
            names.append(node.name())
            nxt = [f for f, _ in node.next_functions if f is not None]
            node = nxt[0] if nxt else None
        return names, x.is_leaf, y.is_leaf
    _same(run)


def test_autograd_through_subclass_ops():
    def fn(L, a, b):
        M = _subclass(L)
        x, w = a.as_subclass(M), b.as_subclass(M)
        out = L.tanh(x @ w).sum(0) * 2 + x.exp().mean()
        assert type(out) is M
        return out
    check(fn, (3, 4), (4, 2))


def test_autograd_through_torch_function_wrapper():
    """A subclass that unwraps, computes on plain tensors and rewraps: gradients flow through its data."""
    def fn(L, a):
        class Wrapped(L.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                with L._C.DisableTorchFunctionSubclass():
                    out = func(*args, **(kwargs or {}))
                return out.as_subclass(cls) if isinstance(out, L.Tensor) else out
        x = a.as_subclass(Wrapped)
        out = L.sigmoid(x) * x
        assert type(out) is Wrapped
        return out
    check(fn, (5,))


def test_finite_differences_subclass_in_float64():
    arrays = [np.random.default_rng(3).standard_normal((2, 3))]
    check_gradients(lambda L, a: (a.as_subclass(_subclass(L)) ** 3).sum(1), arrays, [True])


# -- the extending notes' examples ----------------------------------------------------------------------------
def _scalar_tensor(L):
    """The notes' ScalarTensor, verbatim but for ``torch`` -> ``L``."""
    HANDLED_FUNCTIONS = {}

    class ScalarTensor(object):
        def __init__(self, N, value):
            self._N = N
            self._value = value

        def __repr__(self):
            return "ScalarTensor(N={}, value={})".format(self._N, self._value)

        def tensor(self):
            return self._value * L.eye(self._N)

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            if kwargs is None:
                kwargs = {}
            if func not in HANDLED_FUNCTIONS or not all(
                issubclass(t, (L.Tensor, ScalarTensor))
                for t in types
            ):
                return NotImplemented
            return HANDLED_FUNCTIONS[func](*args, **kwargs)

    def implements(torch_function):
        """Register a torch function override for ScalarTensor"""
        def decorator(func):
            functools.update_wrapper(func, torch_function)
            HANDLED_FUNCTIONS[torch_function] = func
            return func
        return decorator

    @implements(L.mean)
    def mean(input):
        return float(input._value) / input._N

    def ensure_tensor(data):
        if isinstance(data, ScalarTensor):
            return data.tensor()
        return L.as_tensor(data)

    @implements(L.add)
    def add(input, other):
        try:
            if input._N == other._N:
                return ScalarTensor(input._N, input._value + other._value)
            else:
                raise ValueError("Shape mismatch!")
        except AttributeError:
            return L.add(ensure_tensor(input), ensure_tensor(other))

    return ScalarTensor, mean


def test_scalar_tensor_example():
    def run(L):
        ScalarTensor, mean = _scalar_tensor(L)
        d = ScalarTensor(5, 2)
        s = L.add(d, d)
        return (repr(d), L.mean(d), mean.__name__, repr(s), L.add(d, L.ones(5, 5)) if True else None,
                L.add(L.ones(5, 5), d))
    _same(run)


def test_scalar_tensor_unhandled_function_errors():
    messages = []
    for L in LIBS:
        ScalarTensor, _ = _scalar_tensor(L)
        with pytest.raises(TypeError) as info:
            L.mul(ScalarTensor(5, 2), 2)
        messages.append(str(info.value).replace('ember', 'torch'))
    assert messages[0].split(':')[0] == messages[1].split(':')[0]


def _logging_tensor(L, log):
    class LoggingTensor(L.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            # NOTE: Logging calls Tensor.__repr__, so we can't log __repr__ without infinite recursion
            if func is not L.Tensor.__repr__:
                log.append(func.__name__)
            if kwargs is None:
                kwargs = {}
            return super().__torch_function__(func, types, args, kwargs)
    return LoggingTensor


def test_logging_tensor_example():
    def run(L):
        log = []
        LoggingTensor = _logging_tensor(L, log)
        t = LoggingTensor([1.0, -2.0, 3.0])
        out = [t + 1, L.mean(t), t.sum(), L.nn.functional.relu(t), t * t, t.shape, repr(t), L.cat([t, t]),
               t.neg_()]
        return log, out
    _same(run)


def test_metadata_tensor_example():
    def run(L):
        class MetadataTensor(object):
            def __init__(self, data, metadata=None, **kwargs):
                self._t = L.as_tensor(data, **kwargs)
                self._metadata = metadata

            def __repr__(self):
                return "Metadata:\n{}\n\ndata:\n{}".format(self._metadata, self._t)

            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                if kwargs is None:
                    kwargs = {}
                metadatas = tuple(a._metadata for a in args if hasattr(a, '_metadata'))
                args = [getattr(a, '_t', a) for a in args]
                assert len(metadatas) > 0
                ret = func(*args, **kwargs)
                return MetadataTensor(ret, metadata=metadatas[0])

        metadata = {'owner': 'Ministry of Silly Walks'}
        m = MetadataTensor([[1, 2], [3, 4]], metadata=metadata)
        t = L.tensor([[1, 2], [1, 2]])
        r = L.add(t, m)
        return repr(r), r._t, r._metadata
    _same(run)


# -- dispatch order, NotImplemented, errors ---------------------------------------------------------------------
def _order_classes(L, calls):
    class A(L.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            calls.append(('A', [t.__name__ for t in types]))
            return NotImplemented

    class B(A):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            calls.append(('B', [t.__name__ for t in types]))
            return NotImplemented

    class Like:
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            calls.append(('Like', [t.__name__ for t in types]))
            return 'Like handled' if func is L.add else NotImplemented
    return A, B, Like


def test_dispatch_order_and_notimplemented():
    def run(L):
        calls = []
        A, B, Like = _order_classes(L, calls)
        a, b = L.ones(1).as_subclass(A), L.ones(1).as_subclass(B)
        results = [L.add(a, Like()), L.add(Like(), b)]
        for f in (lambda: L.mul(a, b), lambda: L.cat([a, b]), lambda: a.mul(2), lambda: L.nn.functional.relu(b)):
            with pytest.raises(TypeError) as info:
                f()
            results.append(str(info.value).replace('test_torch_function.', ''))
        return calls, results
    e = run(ember)
    t = run(torch)
    assert e[0] == t[0]
    for es, ts in zip(e[1], t[1]):
        assert es.replace('<locals>', '') == ts.replace('<locals>', '')


def test_plain_tensor_with_a_tensor_like_operand():
    """``plain + like`` and ``plain.add(like)`` reach the Tensor-like as ``Tensor.add`` (PyTorch's C++ name)."""
    def run(L):
        class Named:
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                return func.__name__, [type(a).__name__ for a in args]
        return L.ones(1) + Named(), L.ones(1).add(Named()), L.ones(1) * Named(), L.ones(1).mul(Named())
    _same(run)


def test_operator_notimplemented_gives_python_error():
    def run(L):
        class N(L.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                return NotImplemented
        n = L.ones(1).as_subclass(N)
        with pytest.raises(TypeError) as info:
            n + 1
        return str(info.value)
    _same(run)


def test_as_subclass_errors():
    messages = []
    for L in LIBS:
        with pytest.raises(TypeError) as info:
            L.ones(1).as_subclass(int)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_disable_torch_function_contexts():
    def run(L):
        M = _subclass(L)
        x = L.ones(2).as_subclass(M)
        calls = []
        _, _, Like = _order_classes(L, calls)
        with L._C.DisableTorchFunctionSubclass():
            inner = (type(x + 1).__name__, type(L.add(x, 1)).__name__, L._C._is_torch_function_enabled())
            with pytest.raises(TypeError):
                L.add(Like(), 1)
        with L._C.DisableTorchFunction():
            with pytest.raises(TypeError):
                L.add(Like(), 1)
        return inner, type(x + 1).__name__, L._C._is_torch_function_enabled(), calls
    _same(run)


def test_disabled_torch_function_impl_opts_out():
    def run(L):
        class Plain(L.Tensor):
            __torch_function__ = L._C._disabled_torch_function_impl
        x = L.ones(2).as_subclass(Plain)
        return type(x + 1).__name__, type(L.add(x, 1)).__name__, L.overrides.has_torch_function((x,))
    _same(run)


# -- torch.overrides helpers ------------------------------------------------------------------------------------
def test_overrides_helpers():
    def run(L):
        M = _subclass(L)
        calls = []
        _, _, Like = _order_classes(L, calls)
        o = L.overrides
        x = L.ones(1).as_subclass(M)
        return (o.has_torch_function((L.ones(1),)), o.has_torch_function((x,)), o.has_torch_function((Like(),)),
                o.has_torch_function((L.nn.Parameter(L.ones(1)),)), o.is_tensor_like(L.ones(1)),
                o.is_tensor_like(Like()), o.is_tensor_like(3), o.is_tensor_like(L.Tensor),
                o.resolve_name(L.add), o.resolve_name(L.Tensor.add), o.resolve_name(L.nn.functional.relu),
                o.is_tensor_method_or_property(L.Tensor.add), o.is_tensor_method_or_property(L.add),
                o.is_tensor_method_or_property(L.Tensor.shape.__get__))
    _same(run)


def test_handle_and_wrap_torch_function():
    def run(L):
        calls = []
        _, _, Like = _order_classes(L, calls)
        o = L.overrides

        class Named:
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                return func.__name__

        def dispatcher(a, b=None):
            return (a, b)

        @o.wrap_torch_function(dispatcher)
        def func(a, b=None):
            return 'plain'

        def public(a):
            if o.has_torch_function((a,)):
                return o.handle_torch_function(public, (a,), a)
            return 'plain'
        with pytest.raises(TypeError) as info:
            public(Like())
        return func(1), func(Named()), func(1, Named()), public(1), public(Named()), \
            str(info.value).split(' on types')[0].split('.')[-1], calls
    _same(run)


def test_overridable_and_testing_overrides():
    for L in LIBS:
        o = L.overrides
        table = o.get_overridable_functions()
        assert L.add in table[L] and L.Tensor.add in table[L.Tensor]
        assert L.nn.functional.relu in table[L.nn.functional]
        over = o.get_testing_overrides()
        assert over[L.add](L.ones(1), L.ones(1)) == -1
        assert L.Tensor.__torch_function__ in o.get_ignored_functions()
        assert L.Tensor.as_subclass in o.get_ignored_functions()


# -- pickling, copying, saving -----------------------------------------------------------------------------------
class PickledTensor(torch.Tensor):
    pass


class EmberPickledTensor(ember.Tensor):
    pass


@pytest.mark.parametrize('lib_cls', [(torch, PickledTensor), (ember, EmberPickledTensor)])
def test_pickle_and_deepcopy_keep_subclass(lib_cls):
    L, cls = lib_cls
    x = L.tensor([1.0, 2.0], requires_grad=True).detach().as_subclass(cls).requires_grad_()
    x.note = 'kept'
    y = pickle.loads(pickle.dumps(x))
    assert type(y) is cls and y.note == 'kept' and y.requires_grad and y.tolist() == [1.0, 2.0]


def test_deepcopy_of_subclass():
    """PyTorch deep-copies a subclass instance only when its ``new_empty`` keeps the subclass."""
    def run(L):
        class WithNewEmpty(L.Tensor):
            def new_empty(self, *args, **kwargs):
                return L.Tensor.new_empty(self, *args, **kwargs).as_subclass(type(self))
        x = L.tensor([1.0, 2.0]).as_subclass(WithNewEmpty)
        x.note = 'kept'
        y = copy.deepcopy(x)
        with pytest.raises(RuntimeError) as info:
            copy.deepcopy(L.ones(1).as_subclass(_subclass(L)))
        return y, y.note, str(info.value)
    _same(run)


def test_pickled_subclass_same_as_torch():
    t = pickle.loads(pickle.dumps(torch.tensor([1.0, 2.0]).as_subclass(PickledTensor)))
    e = pickle.loads(pickle.dumps(ember.tensor([1.0, 2.0]).as_subclass(EmberPickledTensor)))
    assert repr(e).replace('EmberPickledTensor', 'PickledTensor') == repr(t)


def test_torch_save_of_subclass_values():
    """torch.save of a subclass instance keeps its class and values: loaded back with weights_only=False, as in
    PyTorch (whose default weights_only=True refuses the class: see test_real_programs_med)."""
    buf = io.BytesIO()
    ember.save({'w': ember.tensor([1.0, 2.0]).as_subclass(EmberPickledTensor)}, buf)
    buf.seek(0)
    loaded = ember.load(buf, weights_only=False)
    assert type(loaded['w']) is EmberPickledTensor and loaded['w'].tolist() == [1.0, 2.0]


def test_dispatch_through_a_profiler_session():
    """The profiler's timing wrappers over torch functions leave dispatch and resolve_name as they were."""
    def run(L):
        x = L.ones(2).as_subclass(_subclass(L))
        with L.profiler.profile():
            inside = (L.add(x, 1), L.overrides.resolve_name(L.add))
        return inside, L.add(x, 1), L.overrides.resolve_name(L.add)
    _same(run)


# -- Tensor-likes that are not Tensors, in a fresh process -------------------------------------------------------
# torch.* dispatches to them without torch.overrides imported (the test modules import it, which switches ember's
# dispatch on, so the program runs in a process of its own): the torch.overrides docs' ScalarTensor
# (DiagonalTensor) and linear_operator's pattern (every function it meets, by its torch name)
_TENSOR_LIKE_PROGRAM = '''import importlib
import json
import sys

torch = importlib.import_module(sys.argv[1])
out = {}

HANDLED = {}


def implements(fn):
    def deco(f):
        HANDLED[fn] = f
        return f
    return deco


class ScalarTensor(object):
    def __init__(self, N, value):
        self._N, self._value = N, value

    def __repr__(self):
        return f"ScalarTensor(N={self._N}, value={self._value})"

    def tensor(self):
        return self._value * torch.eye(self._N)

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func not in HANDLED or not all(issubclass(t, (torch.Tensor, ScalarTensor)) for t in types):
            return NotImplemented
        return HANDLED[func](*args, **kwargs)


@implements(torch.mean)
def mean(input):
    return float(input._value) / input._N


@implements(torch.add)
def add(input, other):
    dense = lambda v: v.tensor() if isinstance(v, ScalarTensor) else v
    return torch.add(dense(input), dense(other))


d = ScalarTensor(3, 2.0)
out['mean'] = torch.mean(d)
out['add'] = torch.add(d, torch.ones(3, 3)).tolist()
out['radd'] = torch.add(torch.ones(3, 3), d).tolist()
try:
    torch.mul(d, 2)
except TypeError as e:
    out['unhandled'] = str(e).split(':')[0].replace('ember', 'torch')


class Operator:
    # linear_operator's pattern: each torch function it meets recorded by name, abs handled, the rest dense
    seen = []

    def __init__(self, diag):
        self.diag = diag

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        cls.seen.append((func.__name__, func is getattr(torch, func.__name__, None)))
        dense = lambda x: x.diag.diag_embed() if isinstance(x, Operator) else x
        a = [[dense(v) for v in x] if isinstance(x, list) else dense(x) for x in args]
        if func is torch.abs:
            return Operator(args[0].diag.abs())
        return func(*a, **(kwargs or {}))


op = Operator(torch.tensor([1.0, -2.0, 3.0]))
t = torch.arange(9.0).reshape(3, 3)
out['matmul'] = torch.matmul(op, t).tolist()
out['matmul_r'] = torch.matmul(t, op).tolist()
out['abs'] = torch.abs(op).diag.tolist()
out['add_op'] = torch.add(op, t).tolist()
out['sum'] = torch.sum(op).item()
out['cat'] = torch.cat([t, op]).tolist()
out['relu'] = torch.nn.functional.relu(op).tolist()
out['norm'] = torch.linalg.norm(op).item()
out['seen'] = Operator.seen
out['overrides_imported'] = sys.argv[1] + '.overrides' in sys.modules
print(json.dumps(out))
'''


def _run_program(lib, code):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get('PYTHONPATH', ''))
    done = subprocess.run([sys.executable, '-c', code, lib], capture_output=True, text=True, cwd=root, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_tensor_likes_without_torch_overrides():
    theirs, ours = (_run_program(lib, _TENSOR_LIKE_PROGRAM) for lib in ('torch', 'ember'))
    assert ours.pop('overrides_imported') is False
    theirs.pop('overrides_imported')
    assert ours == theirs


def test_plain_programs_keep_the_plain_functions():
    """Classes without __torch_function__ (and modes) leave the torch functions plain and the class builder
    wrapped; the first Tensor-like class installs dispatch and puts the builtin class builder back."""
    code = ("import builtins, json, sys, ember, ember.nn, ember.optim\n"
            "from ember import _torch_function as T\n"
            "class Net(ember.nn.Module):\n    pass\n"
            "class A:\n    pass\n"
            "before = (bool(T._INSTALLED), builtins.__build_class__ is T._WATCH[0])\n"
            "class Like:\n    def __torch_function__(self, func, types, args=(), kwargs=None):\n        return 1\n"
            "after = (bool(T._INSTALLED), builtins.__build_class__ is T._WATCH[0], ember.abs(Like()))\n"
            "print(json.dumps([before, after]))\n")
    assert _run_program('ember', code) == [[False, False], [True, True, 1]]
