"""``ember run --check PATH``: list every torch/torchvision name a script or notebook uses that ember
lacks, in one pass and without running it. The code is parsed; imports and the attribute chains that
start at an imported torch name (``torch.x.y``, ``nn.X``, ``F.x``, names imported from torch modules)
are resolved against ember with the torch aliasing on. Methods called on tensors held in variables
(``x.is_xpu``) cannot be resolved without running the code and are not checked."""
import ast
import importlib
import os

from . import _notebook, aliasing


class Usage:
    """One torch name the code uses: its dotted name and where it first appears."""

    def __init__(self, name, where):
        self.name, self.where, self.count = name, where, 1


def torch_uses(tree, aliases):
    """The dotted torch names ``tree`` uses, in order: ``[(name, line), ...]``. ``aliases`` maps the names
    bound to torch objects so far (``{'F': 'torch.nn.functional'}``) and is updated (notebook cells share it)."""
    found = []
    local = _function_locals(tree)
    rebound = _module_rebinds(tree)
    for node in _in_order(tree, rebound):
        if id(node) in rebound:     # ``optim = torch.optim.Adam(...)``: ``optim`` no longer names torch.optim
            aliases.pop(node.id, None)
        elif isinstance(node, ast.Import):
            for a in node.names:
                if aliasing.ember_name(a.name):
                    found.append((a.name, node.lineno))
                    if a.asname:
                        aliases[a.asname] = a.name
                    else:
                        top = a.name.partition('.')[0]
                        aliases[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if aliasing.ember_name(node.module):
                found.append((node.module, node.lineno))
                for a in node.names:
                    if a.name != '*':
                        aliases[a.asname or a.name] = f'{node.module}.{a.name}'
                        found.append((f'{node.module}.{a.name}', node.lineno))
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            chain = _chain(node)
            if chain and chain[0] in aliases and chain[0] not in local.get(id(node), ()):
                found.append(('.'.join([aliases[chain[0]]] + chain[1:]), node.lineno))
    return found


def _function_locals(tree):
    """``{id(attribute node): names local to its enclosing functions}``: a function's parameters and the
    names it assigns (``def f(data): data.sort()`` uses a list, not ``torch.utils.data``)."""
    local = {}
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        args = fn.args
        names = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
        names |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
        body = fn.body if isinstance(fn.body, list) else [fn.body]
        inside = [n for stmt in body for n in ast.walk(stmt)]
        declared = {g for n in inside if isinstance(n, (ast.Global, ast.Nonlocal)) for g in n.names}
        names |= {n.id for n in inside if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        names -= declared
        for n in inside:
            if isinstance(n, ast.Attribute):
                local[id(n)] = local.get(id(n), set()) | names
    return local


def _module_rebinds(tree):
    """``{id(name node): (line, column) where its statement ends}`` for the names module-level statements
    (outside functions and classes) assign: such a name stops being an alias of what it was imported as once
    its statement has run (``optim = torch.optim.Adam(...)`` after ``import torch.optim as optim``)."""
    rebound = {}

    def visit(stmts):
        for stmt in stmts:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            end = _bound_at(stmt)
            inner = [getattr(stmt, f, []) for f in ('body', 'orelse', 'finalbody')]
            inner += [h.body for h in getattr(stmt, 'handlers', [])]
            nested = {id(n) for block in inner for s in block for n in ast.walk(s)}
            for n in ast.walk(stmt):
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and id(n) not in nested:
                    rebound[id(n)] = end
            for block in inner:
                visit(block)
    visit(tree.body if isinstance(tree, ast.Module) else [])
    return rebound


def _bound_at(stmt):
    """Where the names a module-level statement assigns take their new value: after a simple statement, after
    a for loop's iterable or a with statement's context managers (before their bodies run)."""
    if isinstance(stmt, (ast.For, ast.AsyncFor)):
        return stmt.iter.end_lineno, stmt.iter.end_col_offset
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        last = stmt.items[-1]
        last = last.optional_vars or last.context_expr
        return last.end_lineno, last.end_col_offset
    return stmt.end_lineno, stmt.end_col_offset


def _in_order(tree, rebound=None):
    """The nodes of ``tree`` in source order, outermost attribute chains only (``a.b.c``, not ``a.b``); a
    rebinding name in ``rebound`` comes where its statement ends (after the values it is assigned)."""
    inner = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            inner.add(id(node.value))
    rebound = rebound or {}
    nodes = [n for n in ast.walk(tree) if id(n) not in inner and hasattr(n, 'lineno')]
    return sorted(nodes, key=lambda n: rebound.get(id(n), (n.lineno, n.col_offset)) + (id(n) in rebound,))


def _chain(node):
    """``['a', 'b', 'c']`` for the expression ``a.b.c``; None when it does not start at a name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return [node.id] + parts[::-1]


def missing_part(name):
    """The shortest prefix of dotted torch ``name`` that ember lacks, with why, or None when ember has it
    all; stubs that import but raise when called count as missing. Call with the aliasing installed."""
    parts = name.split('.')
    path = parts[0]
    try:
        obj = importlib.import_module(path)
    except ImportError:
        return path, 'no such module'
    for part in parts[1:]:
        path = f'{path}.{part}'
        obj, why = _resolve(obj, path, part)
        if why:
            return path, why
    return None


def _resolve(obj, path, part):
    """``(getattr(obj, part), None)``, importing ``path`` when it is a submodule; ``(None, why)`` when ember
    lacks it or only stands in for it."""
    value = getattr(obj, part, _MISSING)
    if value is _MISSING and isinstance(obj, type(aliasing)):
        try:
            value = importlib.import_module(path)
        except ImportError:
            value = _MISSING
    if value is _MISSING:
        return None, 'missing'
    if getattr(value, '__ember_unsupported__', False):
        return None, 'imports, but raises when used'
    return value, None


_MISSING = object()


def check_sources(sources):
    """Missing names over ``sources``, a list of ``(code, label)``; returns ``(missing, n_names, errors)``
    where ``missing`` maps each missing name to its Usage."""
    missing, seen, errors, aliases = {}, {}, [], {}
    with aliasing.as_torch():
        for code, label in sources:
            try:
                tree = ast.parse(code)
            except SyntaxError as exc:
                errors.append(f'{label}: cannot parse ({exc.msg}, line {exc.lineno})')
                continue
            for name, line in torch_uses(tree, aliases):
                if name not in seen:
                    seen[name] = missing_part(name)
                lack = seen[name]
                if lack is None:
                    continue
                if lack in missing:
                    missing[lack].count += 1
                else:
                    missing[lack] = Usage(lack[0], f'{label}, line {line}')
    return missing, len(seen), errors


def sources_of(path):
    """``[(code, label), ...]``: the script, or the notebook's code cells with IPython magics removed."""
    if path.endswith('.ipynb'):
        cells = []
        for number, source in enumerate(_notebook.read_code_cells(path), 1):
            code, _ = _notebook.strip_magics(source)
            if code is not None:
                cells.append((code, f'cell {number}'))
        return cells
    with open(path, 'rb') as f:
        return [(f.read(), os.path.basename(path))]


def report(path, out):
    """Print what ``path`` uses that ember lacks to ``out``; returns 1 when something is missing, else 0."""
    missing, total, errors = check_sources(sources_of(path))
    for line in errors:
        print(f'ember: {line}', file=out)
    if not missing:
        print(f'{path}: ember has every torch name it uses ({total} checked)', file=out)
        return 1 if errors else 0
    print(f'{path}: {len(missing)} torch name(s) ember lacks ({total} checked):', file=out)
    width = max(len(u.name) for u in missing.values())
    for (name, why), usage in missing.items():
        more = f' (+{usage.count - 1} more)' if usage.count > 1 else ''
        print(f'  {name.ljust(width)}  {why}; first used at {usage.where}{more}', file=out)
    return 1
