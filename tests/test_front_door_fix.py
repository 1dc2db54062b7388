"""Front door, lane "fix": places where ember was not PyTorch, left open by earlier lanes, each checked against
PyTorch 2.13: builtins' reprs, F's names that are torch's."""
import re
import types

import torch

import ember

_NAMESPACES = ('', 'linalg', 'special', 'fft', 'nn.functional')


def _namespace(lib, path):
    """A library's namespace by its dotted path under the top module."""
    module = lib
    for part in filter(None, path.split('.')):
        module = getattr(module, part)
    return module


def _bound_builtins(lib):
    """(namespace, name) -> the public builtin functions of a library's function namespaces."""
    found = {}
    for path in _NAMESPACES:
        module = _namespace(lib, path)
        for name in dir(module):
            value = getattr(module, name, None)
            if not name.startswith('_') and type(value) is types.BuiltinFunctionType:
                found[path, name] = value
    return found


def _unaddressed(text):
    """A repr without its address."""
    return re.sub(r' at 0x[0-9a-f]+', '', text)


# -- (1) builtins' reprs, names and qualnames are PyTorch's --------------------------------------------------------
def test_every_builtin_prints_as_pytorchs():
    theirs, ours = _bound_builtins(torch), _bound_builtins(ember)
    shared = sorted(set(theirs) & set(ours))
    assert len(shared) > 600
    for key in shared:
        t, e = theirs[key], ours[key]
        assert _unaddressed(repr(e)) == _unaddressed(repr(t)), key
        assert (e.__name__, e.__qualname__) == (t.__name__, t.__qualname__), key
    # the two kinds, by example: a static method of PyTorch's function class, a C module's function
    assert re.fullmatch(r'<built-in method tanh of type object at 0x[0-9a-f]+>', repr(ember.tanh))
    assert repr(ember.nn.functional.gelu) == '<built-in function gelu>'
    assert repr(ember.nn.functional.logsigmoid) == repr(torch.nn.functional.logsigmoid)


def test_builtins_still_call_and_pickle_after_the_repr_change():
    import pickle
    x = [0.5, -1.0, 2.0]
    for name in ('tanh', 'get_default_dtype', 'is_grad_enabled'):
        for lib in (torch, ember):
            assert getattr(lib, name) is pickle.loads(pickle.dumps(getattr(lib, name)))
    assert ember.tanh(ember.tensor(x)).tolist() == torch.tanh(torch.tensor(x)).tolist()
    assert ember.nn.functional.gelu(ember.tensor(x), approximate='tanh').tolist() == \
        torch.nn.functional.gelu(torch.tensor(x), approximate='tanh').tolist()
    assert repr(ember.get_default_dtype()) == repr(torch.get_default_dtype())
