"""The argument-type probe: every public op that ember and PyTorch share (``torch.*``, Tensor methods,
``nn.functional``, ``linalg``, ``special``, ``fft``) called with a non-Tensor (int, str, list, None, ndarray) in each
Tensor position of its PyTorch signature, written as the source a user writes (``t.dot(1)``, ``torch.dot(t, 1)``).
tests/test_arg_errors.py compares the exception type and first line of each case with PyTorch's;
``python tests/arg_cases.py`` prints the differences by class."""
import collections
import inspect
import json
import linecache
import os
import re
import subprocess
import sys
import warnings

import numpy as np
import torch

BADS = {'int': '1', 'str': "'a'", 'list': '[1.0, 2.0]', 'None': 'None', 'ndarray': 'np.ones(2, np.float32)'}
SURFACES = (('torch', 'torch', ''), ('linalg', 'torch.linalg', 'linalg_'), ('special', 'torch.special', 'special_'),
            ('fft', 'torch.fft', 'fft_'), ('F', 'torch.nn.functional', ''))
_ARG = re.compile(r'(\S+?)(?:\(\w!?\))?(\??) (\w+)(=\S+)?')
# required parameters of nn.functional's Python functions, typed by annotation or by name
_TENSOR_NAMES = {'input', 'target', 'weight', 'other', 'tensor', 'x1', 'x2', 'anchor', 'positive', 'negative',
                 'log_probs', 'targets', 'input1', 'input2', 'var', 'grid', 'theta', 'indices', 'offsets', 'src',
                 'index', 'mask', 'query', 'key', 'value', 'labels', 'running_mean', 'running_var'}
_INT_NAMES = {'dim', 'kernel_size', 'groups', 'num_classes', 'output_size', 'upscale_factor', 'downscale_factor'}
_SHAPE_NAMES = {'normalized_shape', 'pad', 'size', 'shape'}


def _fill(ty, name):
    """Source for a plausible value of an argument of schema type ``ty`` named ``name``."""
    if ty.startswith('Tensor') and ty.endswith('[]'):
        return '[torch.ones(2, 2), torch.ones(2, 2)]'
    table = {'Tensor': 'torch.ones(2, 2)', 'int': '0' if 'dim' in name else '1', 'SymInt': '1', 'float': '0.5',
             'float[]': '[0.5]', 'bool': 'False', 'bool[]': '[False]', 'Scalar': '1', 'ScalarType': 'torch.float32',
             'str': "'sum'" if 'reduc' in name else "'none'", 'Generator': 'None'}
    if ty.startswith(('int[', 'SymInt[')):
        return '[1]'
    return table[ty]


def _parse(schema):
    """The positional parameters of an aten schema: [(type, name, has_default)], or None when unreadable."""
    s = str(schema)
    body = s[s.index('(') + 1:s.rindex(') ->')]
    out = []
    for part in [p.strip() for p in re.split(r',\s*(?![^\[]*\])', body) if p.strip()]:
        if part == '*':
            break
        m = _ARG.fullmatch(part)
        if not m:
            return None
        out.append((m[1] + ('?' if m[2] else ''), m[3], m[4] is not None))
    return out


def _plan(aten, method):
    """The positional parameters of the op's overload with the most required Tensor parameters."""
    try:
        schemas = torch._C._jit_get_schemas_for_operator('aten::' + aten)
    except RuntimeError:
        return None
    plans = []
    for s in schemas:
        if s.overload_name.endswith('out') or 'Dimname' in str(s) or 'dimname' in s.overload_name:
            continue
        p = _parse(s)
        if p is None or (method and (not p or p[0][1] != 'self')):
            continue
        p = p[1:] if method else p
        try:
            [_fill(t.rstrip('?'), n) for t, n, _ in p]
        except KeyError:
            continue
        plans.append(p)
    return max(plans, key=lambda p: (sum(t == 'Tensor' and not d for t, n, d in p), -len(p)), default=None)


def _python_plan(fn):
    """A plan from a Python function's signature: its required parameters, typed by annotation or name."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    plan = []
    for prm in sig.parameters.values():
        if prm.kind not in (prm.POSITIONAL_ONLY, prm.POSITIONAL_OR_KEYWORD) or prm.default is not prm.empty:
            break
        ann = str(prm.annotation)
        if 'Tensor' in ann or prm.name in _TENSOR_NAMES:
            ty = 'Tensor[]' if 'List' in ann or 'list' in ann else 'Tensor'
        elif 'int' in ann or prm.name in _INT_NAMES:
            ty = 'int'
        elif 'float' in ann:
            ty = 'float'
        elif prm.name in _SHAPE_NAMES:
            ty = 'int[1]'
        else:
            return None
        plan.append((ty, prm.name, False))
    return plan or None


def _ops(ember):
    """(surface, callee source, plan) for each op both libraries have."""
    out = []
    for name in sorted(dir(torch.Tensor)):
        if not name.startswith('_') and hasattr(ember.Tensor, name) and callable(getattr(torch.Tensor, name)):
            plan = _plan(name, True)
            if plan:
                out.append(('method', name, 't.' + name, plan))
    for surface, path, prefix in SURFACES:
        mod, emod = eval(path, {'torch': torch}), eval(path, {'torch': ember})
        for name in sorted(dir(mod)):
            fn = getattr(mod, name)
            if name.startswith('_') or not callable(fn) or isinstance(fn, type) or not hasattr(emod, name):
                continue
            plan = _plan(prefix + name, False) or (_python_plan(fn) if surface == 'F' else None)
            if plan:
                out.append((surface, name, f'{path}.{name}', plan))
    return out


def cases():
    """[(surface, op, Tensor parameter, bad kind, expression)], one per bad value in each Tensor position."""
    import ember
    out = []
    for surface, name, callee, plan in _ops(ember):
        tensors = [i for i, (t, n, d) in enumerate(plan) if t == 'Tensor']
        needed = max(tensors + [i for i, (t, n, d) in enumerate(plan) if not d], default=-1) + 1
        for i in tensors:
            for kind, bad in BADS.items():
                args = [bad if j == i else _fill(t.rstrip('?'), n) for j, (t, n, d) in enumerate(plan[:needed])]
                out.append((surface, name, plan[i][1], kind, f'{callee}({", ".join(args)})'))
    return out


def outcome(lib, expr):
    """(exception type name, first line of its message) of ``expr`` run as user code on ``lib``; ('ok', '')."""
    filename = f'<arg case {expr}>'
    linecache.cache[filename] = (len(expr), None, [expr + '\n'], filename)   # the source a user's call has
    code = compile(expr, filename, 'eval')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        try:
            eval(code, {'torch': lib, 'np': np, 't': lib.ones(2, 2)})
        except Exception as e:
            return type(e).__name__, (str(e).splitlines() or [''])[0]
    return 'ok', ''


def kind_of(torch_out, ember_out):
    """The class of a difference (None when the outcomes agree)."""
    (tt, tm), (et, em) = torch_out, ember_out
    if (tt, tm) == (et, em):
        return None
    if tt == 'ok' or et == 'ok':
        return f'{"torch" if tt == "ok" else "ember"} runs, the other raises {et if tt == "ok" else tt}'
    if et == 'AttributeError' and tt != et:
        return 'ember raises AttributeError'
    if tt != et:
        return f'torch raises {tt}, ember {et}'
    if 'invalid combination' in tm:
        return 'torch: invalid combination of arguments, ember: another message'
    if 'must be' in tm and 'must be' in em:
        return 'same error, another position or argument name'
    return f'both {tt}, another message'


def differences_apart(exprs):
    """{expression: (PyTorch's outcome, ember's)} for those of ``exprs`` that differ, run in a process of their own:
    the cases warn once where one library runs past what the other refuses, which must not reach other tests."""
    import ember
    root = os.path.dirname(os.path.dirname(os.path.abspath(ember.__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get('PYTHONPATH', '')]))
    run = subprocess.run([sys.executable, os.path.abspath(__file__), '--json'], input=json.dumps(list(exprs)),
                         capture_output=True, text=True, env=env, check=True)
    return {x: tuple(map(tuple, d)) for x, d in json.loads(run.stdout).items()}


def _json_main():
    import ember
    out = {}
    for expr in json.load(sys.stdin):
        t, e = outcome(torch, expr), outcome(ember, expr)
        if kind_of(t, e):
            out[expr] = (t, e)
    json.dump(out, sys.stdout)


if __name__ == '__main__' and '--json' in sys.argv:
    _json_main()
elif __name__ == '__main__':
    import ember
    by = collections.defaultdict(list)
    every = cases()
    for c in every:
        k = kind_of(outcome(torch, c[-1]), outcome(ember, c[-1]))
        if k:
            by[k].append(c)
    print(f'{len(every)} cases, {sum(map(len, by.values()))} differ')
    for k, cs in sorted(by.items(), key=lambda kv: -len(kv[1])):
        names = sorted({f'{c[0]}.{c[1]}' for c in cs})
        print(f'\n== {k}: {len(cs)} cases, {len(names)} ops\n  ', ' '.join(names if '-v' in sys.argv else names[:60]))
