"""Write docs/SUPPORTED.md: the PyTorch names ember provides, read from ember itself so it cannot drift, each
with what tests/registry.py checks against PyTorch for it (this script imports the registry, never torch).

    python tools/supported.py            # rewrite docs/SUPPORTED.md
    python tools/supported.py --check    # exit 1 if the file is out of date (the tests run this)
"""
import importlib
import importlib.util
import inspect
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'docs', 'SUPPORTED.md')
# names ember exposes that are not PyTorch API (helpers it imports, its own modules, names PyTorch keeps
# elsewhere); tests/test_supported.py checks this set against torch itself, both ways
NOT_TORCH = set("""
torch.load_ipython_extension torch.unload_ipython_extension
torch.contiguous torch.copy_ torch.expand torch.expand_as torch.linear torch.normal_ torch.repeat torch.reshape_as
torch.rsub_ torch.to torch.type_as torch.uniform_ torch.vector_norm torch.view torch.view_as
torch.Tensor.maximum_ torch.Tensor.minimum_
torch.autograd.FunctionCtx torch.autograd.GradcheckError torch.autograd.InplaceFunction torch.autograd.Node
torch.autograd.engine torch.autograd.is_grad_enabled torch.autograd.is_inference_mode_enabled
torch.autograd.once_differentiable torch.autograd.run_backward
torch.linalg.GRAD torch.linalg.Node torch.linalg.Tensor torch.linalg.namedtuple
torch.nn.NonDynamicallyQuantizableLinear torch.nn.activation torch.nn.batchnorm torch.nn.container torch.nn.conv
torch.nn.distance torch.nn.dropout torch.nn.flatten torch.nn.instancenorm torch.nn.linear torch.nn.loss
torch.nn.module torch.nn.normalization torch.nn.padding torch.nn.pixelshuffle torch.nn.pooling
torch.nn.register_module_forward_hook torch.nn.register_module_forward_pre_hook
torch.nn.register_module_full_backward_hook torch.nn.rnn torch.nn.sparse torch.nn.transformer
""".split())
NAMESPACES = [
    ('torch', 'ember'), ('torch.Tensor', 'ember.Tensor'), ('torch.autograd', 'ember.autograd'),
    ('torch.autograd.functional', 'ember.autograd.functional'), ('torch.linalg', 'ember.linalg'),
    ('torch.nn', 'ember.nn'), ('torch.nn.functional', 'ember.nn.functional'), ('torch.nn.init', 'ember.nn.init'),
    ('torch.nn.utils', 'ember.nn.utils'), ('torch.optim', 'ember.optim'),
    ('torch.optim.lr_scheduler', 'ember.optim.lr_scheduler'), ('torch.utils.data', 'ember.utils.data'),
    ('torchvision.datasets', 'ember.vision.datasets'), ('torchvision.transforms', 'ember.vision.transforms'),
    ('torchvision.utils', 'ember.vision.utils'),
]
HIDDEN = {'annotations', 'np', 'numpy', 'math', 'os', 'sys', 'warnings', 'functools', 'itertools', 'collections',
          'numbers', 'operator', 'builtins', 'xp', 'dual', 'ops', 'backend', 'tensor', 'aliasing', 'cli', 'demo'}


def names(target):
    """Public names of a module (or the Tensor class), excluding imported helper modules."""
    mod, _, attr = target.partition('.Tensor')
    obj = importlib.import_module(mod)
    if attr == '' and target.endswith('.Tensor'):
        obj = obj.Tensor
    out = []
    for name in dir(obj):
        if name.startswith('_') and not (target.endswith('.Tensor') and name.startswith('__') and name.endswith('__')):
            continue
        if name in HIDDEN or re.fullmatch(r'\w+Backward\d+', name):   # grad_fn node classes are not API
            continue
        value = getattr(obj, name, None)
        if inspect.ismodule(value) and not value.__name__.startswith('ember'):
            continue
        out.append(name)
    if target.endswith('.Tensor'):
        out = [n for n in out if not n.startswith('__') or n in TENSOR_DUNDERS]
    return sorted(out)


TENSOR_DUNDERS = {'__add__', '__radd__', '__sub__', '__rsub__', '__mul__', '__rmul__', '__truediv__',
                  '__rtruediv__', '__floordiv__', '__mod__', '__pow__', '__rpow__', '__matmul__', '__neg__',
                  '__abs__', '__getitem__', '__setitem__', '__iadd__', '__isub__', '__imul__', '__itruediv__',
                  '__lt__', '__le__', '__gt__', '__ge__', '__eq__', '__ne__', '__and__', '__or__', '__xor__',
                  '__invert__', '__len__', '__iter__', '__bool__', '__int__', '__float__', '__index__',
                  '__format__', '__array__', '__repr__', '__hash__'}


def api_names(torch_name, ember_name):
    """The PyTorch API names ember provides in one namespace."""
    return [n for n in names(ember_name) if f'{torch_name}.{n}' not in NOT_TORCH]


def load_registry():
    """tests/registry.py, imported by path (it imports NumPy only)."""
    spec = importlib.util.spec_from_file_location('registry', os.path.join(ROOT, 'tests', 'registry.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def checked(registry):
    """{full PyTorch name: set of checks} from the registry's entries."""
    out = {}
    for op in registry.OPS:
        for full, checks in op.names().items():
            out.setdefault(full, set()).update(checks)
    return out


def _mark(checks, letters):
    return ' ' + ''.join(letters[c] for c in letters if c in checks) if checks else ''


def render():
    registry = load_registry()
    done, letters = checked(registry), registry.CHECKS
    lines = ['# What ember supports', '',
             'Generated by `python tools/supported.py` from ember itself and from the registry of checks in',
             '`tests/registry.py` (a test fails when it is out of date). Each section lists the PyTorch API names',
             'ember provides under the PyTorch name in the heading; `ember run` and `import ember as torch`',
             'resolve them. After a name, the letters say what `tests/test_registry.py` checks against PyTorch 2.13:',
             ', '.join(f'**{v}** {k}' for k, v in letters.items()) + ' (backward: gradients against PyTorch\'s',
             'and float64 finite differences; gradgrad: second derivatives by finite differences; dtypes: more than',
             'one dtype family; errors: PyTorch\'s exception type on its error cases). Names without letters are',
             'covered by the other test files only.', '']
    total = 0
    for torch_name, ember_name in NAMESPACES:
        ns = api_names(torch_name, ember_name)
        total += len(ns)
        lines += [f'## `{torch_name}` ({len(ns)})', '',
                  ', '.join(f'`{n}`{_mark(done.get(f"{torch_name}.{n}"), letters)}' for n in ns), '']
    lines.insert(2, f'{total} names in {len(NAMESPACES)} namespaces.')
    lines.insert(3, '')
    return '\n'.join(lines + coverage(registry, done))


def coverage(registry, done):
    """The closing figures: how many names each check covers, and the checks left out (gaps)."""
    listed = {f'{t}.{n}' for t, e in NAMESPACES for n in api_names(t, e)}
    mine = {n: c for n, c in done.items() if n in listed}
    ops = registry.OPS
    unsupported = sum(any(s.unsupported for s in op.samples()) for op in ops)
    lines = ['## Coverage', '',
             f'{len(mine)} of the {len(listed)} names above are in the registry ({len(ops)} entries, '
             f'{sum(len(op.samples()) for op in ops)} sample inputs). Names checked for each property:', '',
             '| check | names |', '|---|--:|']
    for c in registry.CHECKS:
        lines.append(f'| {c} | {sum(c in v for v in mine.values())} |')
    lines += ['', f'{unsupported} entries refuse some argument with an error naming it.', '',
              '### Gaps', '', 'Checks left out of the entries named, by reason (`sample:X`: that sample input):', '']
    groups = {}
    for op in ops:
        for check, reason in op.gaps.items():
            ids = groups.setdefault((check, reason), [])
            if op.id not in ids:
                ids.append(op.id)
    for (check, reason), ids in sorted(groups.items()):
        lines.append(f'- {check}, {reason}: ' + ', '.join(f'`{i}`' for i in ids))
    return lines + ['']


def main(argv):
    text = render()
    if '--check' in argv:
        with open(OUT) as f:
            if f.read() != text:
                print('docs/SUPPORTED.md is out of date: run python tools/supported.py')
                return 1
        return 0
    with open(OUT, 'w') as f:
        f.write(text)
    print(f'wrote {OUT}')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
