"""The ``ember`` command: ``ember run PATH [ARGS...]`` runs unchanged PyTorch code (a script or a
notebook) on ember; also ``ember demo`` and ``ember --version``."""
import builtins
import importlib
import os
import sys
import traceback
import types

from . import _figures, _notebook, aliasing

USAGE = """\
usage: ember run [--figures DIR] PATH [ARGS...]
       ember run --nproc-per-node N [--nnodes M --node-rank K --master-addr HOST --master-port PORT]
                 [--standalone] PATH [ARGS...]
       ember run --check PATH
       ember demo [ARGS...]
       ember kernel install [--user | --sys-prefix | --prefix DIR] [--name NAME]
       ember --version

  run      run a Python script (.py) or Jupyter notebook (.ipynb) with `import torch` and
           `import torchvision` giving ember; sys.argv is [PATH, ARGS...]. plt.show() saves
           the open figures as PNG files next to PATH (or in --figures DIR). With --check,
           list every torch name PATH uses that ember lacks, without running it.
           With --nproc-per-node N, start N processes of it as torchrun does (RANK, LOCAL_RANK,
           WORLD_SIZE, MASTER_ADDR, MASTER_PORT set); under mpirun/mpiexec, each MPI rank runs it
           with those variables taken from MPI (see docs/DISTRIBUTED.md).
  demo     run ember's demo.
  kernel   register the Jupyter kernel "Python 3 (ember as torch)" (needs the jupyter extra).
"""


class UsageError(Exception):
    """A bad command line: reported with the usage text, exit status 2."""


def main(argv=None):
    """Entry point of the ``ember`` console script and ``python -m ember``; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        return _dispatch(argv)
    except UsageError as exc:
        print(f"ember: error: {exc}\n{USAGE}", end="", file=sys.stderr)
        return 2


def _dispatch(argv):
    """Run the subcommand named by ``argv[0]``."""
    if not argv:
        raise UsageError("a command is required")
    command, rest = argv[0], argv[1:]
    if command in ("-h", "--help"):
        print(USAGE, end="")
        return 0
    if command in ("-V", "--version"):
        version = importlib.import_module('ember.version')
        print(f"ember {version._ember_version} (PyTorch {version._pytorch_api} API)")
        return 0
    if command == "run":
        if rest[:1] == ["--check"]:
            return _check(rest[1:])
        from .distributed import run as launcher
        if launcher.is_launch(rest):
            return launcher.main(rest)
        launcher.export_mpi_ranks()
        parsed = _parse_run(rest)
        if parsed is None:
            print(USAGE, end="")
            return 0
        return run_path(*parsed)
    if command == "demo":
        return _demo(rest)
    if command == "kernel":
        from . import _jupyter
        return _jupyter.main(rest)
    raise UsageError(f"unknown command {command!r}")


def _parse_run(args):
    """``(path, script_args, figures_dir)`` from ``run``'s arguments (options end at PATH), or None
    when help is asked for."""
    args, figures = list(args), None
    while args and args[0].startswith("-"):
        option = args.pop(0)
        if option == "--":
            break
        if option in ("-h", "--help"):
            return None
        if option == "--figures" and args:
            figures = args.pop(0)
        elif option.startswith("--figures="):
            figures = option.partition("=")[2]
        else:
            raise UsageError(f"unknown or incomplete option {option!r} for run")
    if not args:
        raise UsageError("run needs a PATH")
    return args[0], args[1:], figures


def run_path(path, args=(), figures=None):
    """Run the script or notebook ``path`` as ``python path args`` would, with torch aliased to ember,
    and return the exit status. It takes over the interpreter (``sys.argv``, ``sys.path[0]``,
    ``__main__``) and leaves it so, like ``python`` does; SystemExit passes through."""
    if not path.endswith((".py", ".ipynb")):
        raise UsageError(f"PATH must be a .py script or a .ipynb notebook, got {path!r}")
    try:
        source = _read(path)
    except OSError as exc:
        print(f"ember: can't open file {os.path.abspath(path)!r}: [Errno {exc.errno}] {exc.strerror}",
              file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"ember: can't read notebook {path!r}: {exc}", file=sys.stderr)
        return 2
    saver = _prepare(path, args, figures)
    namespace = sys.modules["__main__"].__dict__
    try:
        if path.endswith(".ipynb"):
            _run_notebook(path, source, namespace, saver)
        else:
            exec(compile(source, os.path.abspath(path), "exec", dont_inherit=True), namespace)
    except Exception as exc:
        _print_exception(exc)
        _note_distributed_failure()
        return 1
    return 0


def _note_distributed_failure():
    """Tell torch.distributed, when in use, that this rank failed (it then skips MPI's finalize barrier)."""
    mpi = sys.modules.get("ember.distributed._mpi")
    if mpi is not None:
        mpi.note_failure()


def _read(path):
    """The script's bytes (compile honours its encoding cookie) or the notebook's code cells."""
    if path.endswith(".ipynb"):
        return _notebook.read_code_cells(path)
    with open(path, "rb") as f:
        return f.read()


def _prepare(path, args, figures):
    """Set up the interpreter as ``python path`` would, alias torch, and route figures to files;
    returns the FigureSaver."""
    sys.argv[:] = [path, *args]
    script_dir = os.path.dirname(os.path.realpath(path))
    if sys.path:
        sys.path[0] = script_dir
    else:
        sys.path.append(script_dir)
    sys.modules["__main__"] = _main_module(path)
    aliasing.install()
    stem = os.path.splitext(os.path.basename(path))[0]
    saver = _figures.FigureSaver(figures if figures is not None else os.path.dirname(path), stem)
    _figures.install(saver)
    return saver


def _main_module(path):
    """A fresh ``__main__`` module for the user's code, with ``__file__`` set."""
    module = types.ModuleType("__main__")
    module.__file__ = os.path.abspath(path)
    module.__builtins__ = builtins
    module.__cached__ = None
    return module


def _run_notebook(path, cells, namespace, saver):
    """Run the code cells in order in one namespace; figures left open by a cell are saved after it,
    as Jupyter's inline backend shows them."""
    namespace.setdefault("display", _notebook.display)
    for number, source in enumerate(cells, 1):
        _notebook.run_cell(source, f"{path}:cell {number}", namespace)
        saver.save_open_figures()


_RUNNER_FILES = {os.path.abspath(__file__), os.path.abspath(_notebook.__file__)}


def _print_exception(exc):
    """Print ``exc``'s traceback as Python would for an uncaught exception, without ember's runner frames."""
    tb = aliasing.strip_frames(exc.__traceback__)
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) in _RUNNER_FILES:
        tb = tb.tb_next
    exc = aliasing.explain(exc.with_traceback(tb))
    if sys.excepthook is sys.__excepthook__:
        traceback.print_exception(type(exc), exc, tb)  # reads notebook cells from linecache
    else:
        sys.excepthook(type(exc), exc, tb)


def _check(args):
    """``ember run --check PATH``: report the torch names PATH uses that ember lacks; 1 if any."""
    if len(args) != 1 or not args[0].endswith((".py", ".ipynb")):
        raise UsageError("run --check needs one PATH, a .py script or a .ipynb notebook")
    from . import _usage_check as check
    try:
        return check.report(args[0], sys.stdout)
    except (OSError, ValueError) as exc:
        print(f"ember: can't read {args[0]!r}: {exc}", file=sys.stderr)
        return 2


def _demo(argv):
    """``ember demo``: hand over to ``ember.demo.main(argv)`` when that module provides it."""
    try:
        demo = importlib.import_module("ember.demo")
    except ModuleNotFoundError as exc:
        if exc.name != "ember.demo":
            raise
        demo = None
    if not callable(getattr(demo, "main", None)):
        print("ember: the demo is not available in this version of ember", file=sys.stderr)
        return 1
    status = demo.main(argv)
    return 0 if status is None else status
