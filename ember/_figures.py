"""Matplotlib under ``ember run``: the Agg backend, and ``plt.show()`` saving PNG files instead of
opening windows. matplotlib is optional; nothing here imports it before user code does."""
import importlib.util
import os
import sys

from ._after_import import when_imported


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
    when_imported("matplotlib.pyplot", lambda plt: setattr(plt, "show", _show_function(saver)))


def _show_function(saver):
    """The ``plt.show`` replacement for ``saver``: a plain function, as pyplot sets attributes on it."""
    def show(*args, block=None, **kwargs):
        """Save the open figures as PNG files and close them (``ember run`` opens no windows);
        ``block=False``, which ``plt.pause`` passes, leaves them open."""
        if block is not False:
            saver.save_open_figures()
    return show
