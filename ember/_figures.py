"""Matplotlib under ``ember run``: the Agg backend, and ``plt.show()`` saving PNG files instead of
opening windows. matplotlib is optional; nothing here imports it before user code does."""
import importlib.abc
import importlib.util
import os
import sys


class FigureSaver:
    """Saves every open figure to ``<directory>/<stem>_fig<N>.png``, N counting up across the run."""

    def __init__(self, directory, stem):
        self.directory, self.stem, self.count = directory, stem, 0

    def save_open_figures(self):
        """Save each open pyplot figure as PNG, print where, and close them all."""
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is None or not plt.get_fignums():
            return
        if self.directory:
            os.makedirs(self.directory, exist_ok=True)
        for num in plt.get_fignums():
            self.count += 1
            path = os.path.join(self.directory, f"{self.stem}_fig{self.count}.png")
            plt.figure(num).savefig(path)
            print(f"ember: saved figure to {path}", file=sys.stderr, flush=True)
        plt.close("all")


def install(saver):
    """Force the Agg backend and route ``plt.show`` to ``saver``, once pyplot is imported; a no-op
    when matplotlib is not installed."""
    if "matplotlib" not in sys.modules and importlib.util.find_spec("matplotlib") is None:
        return
    os.environ["MPLBACKEND"] = "Agg"
    if "matplotlib" in sys.modules:
        sys.modules["matplotlib"].use("Agg")
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].show = _show_function(saver)
    else:
        sys.meta_path.insert(0, _PyplotHook(saver))


def _show_function(saver):
    """The ``plt.show`` replacement for ``saver``: a plain function, as pyplot sets attributes on it."""
    def show(*args, block=None, **kwargs):
        """Save the open figures as PNG files and close them (``ember run`` opens no windows);
        ``block=False``, which ``plt.pause`` passes, leaves them open."""
        if block is not False:
            saver.save_open_figures()
    return show


class _PyplotHook(importlib.abc.MetaPathFinder):
    """Finder that patches ``matplotlib.pyplot.show`` right after pyplot is first imported."""

    def __init__(self, saver):
        self.saver = saver

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "matplotlib.pyplot":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _PatchingLoader(spec.loader, self.saver)
        return spec


class _PatchingLoader(importlib.abc.Loader):
    """Runs pyplot's own loader, then swaps in the saver's ``show`` and puts the real loader back."""

    def __init__(self, loader, saver):
        self.loader, self.saver = loader, saver

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        module.show = _show_function(self.saver)
