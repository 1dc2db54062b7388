"""Jupyter: ``%load_ext ember`` makes ``import torch`` give ember inside a running IPython kernel, and
``ember kernel install`` registers a kernel ("Python 3 (ember as torch)") that loads that extension at
start. Figures show inline as in any IPython kernel (matplotlib's inline backend is untouched)."""
import json
import os
import shutil
import sys
import tempfile

from . import aliasing

KERNEL_NAME = "ember"
DISPLAY_NAME = "Python 3 (ember as torch)"
_NEEDS_EXTRA = "ember kernel install needs the 'jupyter' extra (ipykernel, nbclient): pip install 'ember[jupyter]'"


def load_ipython_extension(ipython):
    """``%load_ext ember``: alias torch/torchvision to ember for the rest of the session, and show
    tracebacks without the aliasing machinery's frames."""
    if not getattr(ipython, "_ember_aliased", False):
        aliasing.install()
        ipython._ember_aliased = True
        if not ipython.custom_exceptions:
            ipython.set_custom_exc((Exception,), _show_traceback)
            ipython._ember_custom_exc = True


def unload_ipython_extension(ipython):
    """``%unload_ext ember``: give ``import torch`` back to the real PyTorch (if installed)."""
    if getattr(ipython, "_ember_aliased", False):
        aliasing.uninstall()
        ipython._ember_aliased = False
        if getattr(ipython, "_ember_custom_exc", False):
            ipython.set_custom_exc((), None)
            ipython._ember_custom_exc = False


def _show_traceback(shell, etype, value, tb, tb_offset=None):
    """IPython's traceback for an error in a cell, ending at the user's line (IPython's own
    ``__tracebackhide__`` never hides the last frame) and with the 'not supported' note."""
    tb = aliasing.strip_frames(tb)
    value = aliasing.explain(value.with_traceback(tb))
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)


def kernel_spec():
    """The kernel.json of the ember kernel: ipykernel on this Python, with the extension loaded at start;
    this checkout's PYTHONPATH is kept when ember is only importable through it."""
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}", "--ext=ember"],
            "display_name": DISPLAY_NAME, "language": "python", "metadata": {"debugger": True}}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.environ.get("PYTHONPATH", "")
    if root in [os.path.abspath(p) for p in path.split(os.pathsep) if p]:
        spec["env"] = {"PYTHONPATH": path}
    return spec


def install(user=True, prefix=None, name=KERNEL_NAME):
    """Register the kernel with Jupyter; returns the directory it was installed to."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager
    except ImportError:
        raise SystemExit(_NEEDS_EXTRA) from None
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "kernel.json"), "w") as f:
            json.dump(kernel_spec(), f, indent=1)
        _copy_logos(tmp)
        return KernelSpecManager().install_kernel_spec(tmp, name, user=user and prefix is None, prefix=prefix)


def _copy_logos(target):
    """Use ipykernel's Python logos for the kernel, when ipykernel ships them."""
    try:
        import ipykernel
    except ImportError:
        raise SystemExit(_NEEDS_EXTRA) from None
    resources = os.path.join(os.path.dirname(ipykernel.__file__), "resources")
    for logo in ("logo-32x32.png", "logo-64x64.png"):
        if os.path.exists(os.path.join(resources, logo)):
            shutil.copy(os.path.join(resources, logo), target)


USAGE = """usage: ember kernel install [--user | --sys-prefix | --prefix DIR] [--name NAME]

Register the Jupyter kernel "Python 3 (ember as torch)": notebooks on it get ember for `import torch`.
  --user        for this user (the default)
  --sys-prefix  in this Python environment (sys.prefix)
  --prefix DIR  under DIR/share/jupyter/kernels
  --name NAME   the kernel's name (default: ember)
"""


def main(args):
    """``ember kernel ...``; returns the exit status."""
    if args[:1] in ([], ["-h"], ["--help"]):
        print(USAGE, end="")
        return 0 if args else 2
    if args[0] != "install":
        print(f"ember: error: unknown kernel command {args[0]!r}\n{USAGE}", end="", file=sys.stderr)
        return 2
    user, prefix, name, rest = True, None, KERNEL_NAME, list(args[1:])
    while rest:
        option = rest.pop(0)
        if option == "--user":
            user, prefix = True, None
        elif option == "--sys-prefix":
            user, prefix = False, sys.prefix
        elif option in ("--prefix", "--name") and rest:
            value = rest.pop(0)
            if option == "--prefix":
                user, prefix = False, value
            else:
                name = value
        else:
            print(f"ember: error: unknown or incomplete option {option!r}\n{USAGE}", end="", file=sys.stderr)
            return 2
    path = install(user=user, prefix=prefix, name=name)
    print(f"Installed kernel {name!r} ({DISPLAY_NAME}) in {path}")
    return 0
