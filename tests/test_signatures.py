"""Signature parity with PyTorch (issue 10): no public ember callable swallows keywords a user typed.

Every PyTorch parameter an ember callable lacks must be refused, and a Python signature without a
``**kwargs`` catch-all refuses it by itself (TypeError naming the keyword). So the test checks, over
ember's torch namespace, Tensor methods, nn.functional, nn modules, optim, linalg and autograd:
1. no ``**kwargs`` that the function never reads (a keyword that vanishes);
2. every callable with a ``**kwargs`` is a known forwarder that hands them to a strict function;
3. each parameter PyTorch's signature has (``torch.overrides.get_testing_overrides()`` for torch
   functions and Tensor methods, ``inspect.signature`` for Python-level modules) is either taken by
   ember under the same name or refused with TypeError -- and the count of taken ones does not fall.
Functions PyTorch's overrides table leaves out (the factories: rand, randn, randint, zeros, arange, ...) are
compared with the signature on the first line of PyTorch's docstring."""
import dis
import inspect
import types

import pytest
import torch
import torch.nn.functional as TF
import torch.overrides

import ember
import ember.nn.functional as EF
from ember._builtin import function

_EXCLUDED_MODULES = ()
_EXCLUDED_NAMES = set()

# **kwargs that PyTorch's own signature has too, or that hand every keyword on to a strict function
_FORWARDERS = {
    'nn.Identity': 'PyTorch: "any argument (unused)"',
    'autograd.Function': 'PyTorch: Function(*args, **kwargs)',
    'autograd.function.InplaceFunction': 'PyTorch: Function(*args, **kwargs)',
    'autograd.NestedIOFunction': 'PyTorch: Function(*args, **kwargs)',
}


def _function(obj):
    f = obj.__dict__.get('__init__') if isinstance(obj, type) else function(obj)   # (a builtin's function)
    if isinstance(f, (staticmethod, classmethod)):
        f = f.__func__
    if not callable(f) or isinstance(f, property):
        return None
    f = inspect.unwrap(f)
    if not isinstance(f, types.FunctionType) or (f.__module__ or '').startswith(_EXCLUDED_MODULES):
        return None
    return f


def _kwargs_name(f):
    co = f.__code__
    if not co.co_flags & inspect.CO_VARKEYWORDS:
        return None
    return co.co_varnames[co.co_argcount + co.co_kwonlyargcount + bool(co.co_flags & inspect.CO_VARARGS)]


def _public():
    """(label, ember function) for every public callable in the namespaces PyTorch code reaches."""
    spaces = [('torch', ember), ('Tensor', ember.Tensor), ('F', EF), ('nn', ember.nn), ('optim', ember.optim),
              ('linalg', ember.linalg), ('autograd', ember.autograd)]
    out = {}
    for prefix, ns in spaces:
        for name in dir(ns):
            if name.startswith('_') or name in _EXCLUDED_NAMES:
                continue
            f = _function(getattr(ns, name, None))
            if f is not None:
                out[f'{prefix}.{name}'] = f
    return out


PUBLIC = _public()


def test_no_catch_all_swallows_keywords():
    swallowed = []
    for label, f in PUBLIC.items():
        name = _kwargs_name(f)
        if name and not any(i.argval == name and i.opname.startswith(('LOAD_FAST', 'LOAD_DEREF', 'LOAD_CLOSURE'))
                            for i in dis.get_instructions(f)) and label not in _FORWARDERS:
            swallowed.append(f'{label} ({f.__code__.co_filename}:{f.__code__.co_firstlineno})')
    assert not swallowed, 'these drop unknown keywords silently:\n' + '\n'.join(swallowed)


def test_swallowing_keywords_would_be_caught():
    """The check above sees a **kwargs that is never read (and passes one that is forwarded)."""
    def drops(x, **kw):
        return x

    def forwards(x, **kw):
        return ember.zeros(x, **kw)
    assert _kwargs_name(drops) == 'kw'
    assert not any(i.argval == 'kw' and i.opname.startswith('LOAD_FAST') for i in dis.get_instructions(drops))
    assert any(i.argval == 'kw' and i.opname.startswith('LOAD_FAST') for i in dis.get_instructions(forwards))
    with pytest.raises(TypeError, match='requries_grad'):
        forwards(2, requries_grad=True)


def _torch_pairs():
    """(label, PyTorch signature, ember callable) for torch functions, Tensor methods and F."""
    pairs = []
    for fn, lam in torch.overrides.get_testing_overrides().items():
        name = getattr(fn, '__name__', None)
        if not name or name.startswith('_') or name in _EXCLUDED_NAMES:
            continue
        if getattr(torch, name, None) is fn:
            pairs.append((f'torch.{name}', lam, getattr(ember, name, None)))
        elif getattr(torch.Tensor, name, None) is fn:
            pairs.append((f'Tensor.{name}', lam, getattr(ember.Tensor, name, None)))
    covered = {label for label, _, _ in pairs}
    for name in dir(ember):
        sig = _doc_signature(getattr(torch, name, None), name)
        if sig is not None and f'torch.{name}' not in covered and not name.startswith('_'):
            pairs.append((f'torch.{name}', sig, getattr(ember, name)))
    for name in dir(TF):
        tf = getattr(TF, name)
        if not name.startswith('_') and callable(tf) and not isinstance(tf, type) and name not in _EXCLUDED_NAMES:
            pairs.append((f'F.{name}', tf, getattr(EF, name, None)))
    out = []
    for label, tf, ef in pairs:
        f = _function(ef) if ef is not None else None
        if f is None:
            continue
        try:
            out.append((label, tf if isinstance(tf, inspect.Signature) else inspect.signature(tf),
                        inspect.signature(f), f))
        except (TypeError, ValueError):
            continue
    return out


def _doc_signature(fn, name):
    """The signature on the first line of a PyTorch builtin's docstring (``rand(*size, *, generator=None,
    out=None, ...) -> Tensor``), as an inspect.Signature; None when there is none."""
    line = (getattr(fn, '__doc__', None) or '').strip().split('\n')[0].replace('\\', '')
    if not callable(fn) or not line.startswith(name + '(') or ')' not in line:
        return None
    body = line[len(name) + 1:line.rindex(')')]
    params, kind, depth, tok = [], inspect.Parameter.POSITIONAL_OR_KEYWORD, 0, ''
    for ch in body + ',':
        depth += ch in '[(' and 1 or ch in '])' and -1 or 0
        if ch != ',' or depth:
            tok += ch
            continue
        tok, t = '', tok.strip()
        if t == '*':
            kind = inspect.Parameter.KEYWORD_ONLY
            continue
        p_kind = (inspect.Parameter.VAR_KEYWORD if t.startswith('**') else
                  inspect.Parameter.VAR_POSITIONAL if t.startswith('*') else kind)
        pname = t.lstrip('*').split('=')[0].split(':')[0].strip()
        if p_kind == inspect.Parameter.VAR_POSITIONAL:
            kind = inspect.Parameter.KEYWORD_ONLY
        if pname.isidentifier() and not pname.startswith('_') and pname not in (p.name for p in params):
            params.append(inspect.Parameter(pname, p_kind))
    return inspect.Signature(params, __validate_parameters__=False)


PAIRS = _torch_pairs()
_SKIP_KINDS = (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)


def test_pytorch_parameters_are_taken_or_refused():
    """A PyTorch parameter ember lacks is refused by Python itself unless a **kwargs could take it; then
    the callable must forward them (test above) to a function that refuses what it does not know."""
    unclear = []
    taken = 0
    for label, ts, es, f in PAIRS:
        ekinds = {p.kind for p in es.parameters.values()}
        for name, p in ts.parameters.items():
            if p.kind in _SKIP_KINDS or name == 'self':
                continue
            if name in es.parameters:
                taken += 1
            elif inspect.Parameter.VAR_KEYWORD in ekinds and label not in _FORWARDERS and not _forwards(f):
                unclear.append(f'{label}: {name}')
    assert not unclear, 'accepted by a catch-all without being forwarded:\n' + '\n'.join(unclear)
    assert taken >= 1450, f'only {taken} PyTorch parameters are taken by name'


def _forwards(f):
    name = _kwargs_name(f)
    return any(i.argval == name and i.opname.startswith(('LOAD_FAST', 'LOAD_DEREF')) for i in dis.get_instructions(f))


@pytest.mark.parametrize('call', [
    lambda L: L.zeros(2, requries_grad=True), lambda L: L.ones(2).new_ones(2, devcie='cpu'),
    lambda L: L.ones(2).to(L.float64, non_blockin=True), lambda L: L.ones(2).sum(dimm=0),
    lambda L: L.ones(2).add_(1, alpah=2), lambda L: L.nn.functional.relu(L.ones(2), inplce=True),
    lambda L: L.cat([L.ones(2)], dimm=0), lambda L: L.full_like(L.ones(2), 1, requries_grad=True),
])
def test_misspelt_keywords_raise_type_error_like_pytorch(call):
    for lib in (ember, torch):
        with pytest.raises(TypeError):
            call(lib)
