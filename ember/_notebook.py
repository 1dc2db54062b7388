"""Run a Jupyter notebook's code cells as plain Python, as ``ember run`` does: IPython magics, ``!`` shell
lines and ``obj?`` help requests are skipped with a note, and a cell's last expression is shown as Jupyter
would."""
import ast
import io
import json
import linecache
import re
import sys
import tokenize

# Cell magics whose body is Python: the body runs, the magic line is skipped.
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun"}
# IPython's help syntax: ``obj?``, ``obj??``, ``?obj`` and wildcard searches such as ``torch.*Tensor?``.
_HELP = re.compile(r"(\?\??[A-Za-z_*][\w.*]*|[A-Za-z_*][\w.*]*\?\??)\s*(#.*)?")
_LAYOUT_TOKENS = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                  tokenize.ENDMARKER}


def read_code_cells(path):
    """The sources of the code cells of notebook ``path``, in order (nbformat 4 JSON); ValueError says
    what is wrong with a file that is not one."""
    with open(path, encoding="utf-8") as f:
        notebook = json.load(f)
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise ValueError(f"{path} is not an nbformat 4 notebook (no 'cells' list)")
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict):
            raise ValueError(f"cell {number} is a JSON {type(cell).__name__}, not an object")
    return [_source(cell, number) for number, cell in enumerate(cells, 1) if cell.get("cell_type") == "code"]


def _source(cell, number):
    """A cell's source text (stored as one string or a list of lines)."""
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    if not isinstance(source, str):
        raise ValueError(f"cell {number}'s source is not a string or a list of strings")
    return source


def strip_magics(source):
    """``(code, skipped)``: the cell with its magic and shell lines made into ``pass`` (so line numbers
    hold), or None for code when a non-Python cell magic (``%%bash``...) takes the whole cell."""
    lines = source.splitlines(True)
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        magic = lines[first].strip()
        if (magic[2:].split() or [""])[0] not in PYTHON_CELL_MAGICS:
            return None, [magic]
        lines[first] = "\n"
        skipped = [magic]
    else:
        skipped = []
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if (stripped[:1] in ("%", "!") and not stripped.startswith("!=") or _HELP.fullmatch(stripped.rstrip())
                and "?" in stripped.split("#")[0]) and _starts_statement(lines[:i]):
            indent = line[:len(line) - len(stripped)]
            lines[i] = indent + _timed_statement(stripped) + "\n"
            skipped.append(stripped.rstrip())
    return "".join(lines), skipped


def run_cell(source, filename, namespace):
    """Execute one cell in ``namespace``, compiled under ``filename`` so tracebacks name the cell,
    and print its last expression's repr unless it is None or the cell ends with ``;``."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    code, skipped = strip_magics(source)
    for magic in skipped:
        _note(f"ember: skipped IPython magic: {magic} ({filename})")
    if code is None:
        return
    tree = compile(code, filename, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)  # no ast.py frame on errors
    shown = tree.body.pop() if _shows_last_expression(tree, code) else None
    exec(compile(tree, filename, "exec", dont_inherit=True), namespace)
    if shown is not None:
        value = eval(compile(ast.Expression(shown.value), filename, "eval", dont_inherit=True), namespace)
        if value is not None:
            print(repr(value))


def display(*objs, **kwargs):
    """Stand-in for IPython's ``display``: prints each object's repr."""
    for obj in objs:
        print(repr(obj))


def _shows_last_expression(tree, code):
    """Whether the cell ends in an expression statement not silenced by a trailing ``;``."""
    if not tree.body or not isinstance(tree.body[-1], ast.Expr):
        return False
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(code).readline) if t.type not in _LAYOUT_TOKENS]
    return not (tokens and tokens[-1].string == ";")


def _timed_statement(line):
    """The statement a ``%time``/``%timeit`` line times (run once), else ``pass``."""
    magic, _, rest = line.strip().partition(" ")
    rest = rest.strip()
    return rest if magic in ("%time", "%timeit") and rest and not rest.startswith("-") else "pass"


def _starts_statement(previous_lines):
    """Whether a line after ``previous_lines`` begins a statement (not inside brackets, a string or
    a backslash continuation), so a leading ``%`` or ``!`` there is IPython syntax."""
    try:
        for _ in tokenize.generate_tokens(io.StringIO("".join(previous_lines)).readline):
            pass
    except tokenize.TokenError:
        return False
    except SyntaxError:
        return True
    return True


def _note(message):
    """Print a note on stderr, after flushing stdout so the two stay in order on a terminal."""
    sys.stdout.flush()
    print(message, file=sys.stderr, flush=True)
