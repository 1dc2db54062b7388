"""Warnings attributed to the caller's line, as PyTorch's C++ warnings are: they point at the Python frame that
called into torch, while a fixed ``stacklevel`` in ember points at whichever of ember's own frames (wrappers,
out= forms, the ``ember run`` loader) happens to sit at that depth."""
import os
import sys
import warnings

_ROOT = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _in_ember(frame):
    """Whether ``frame`` runs ember's code: a file of the package, or code ember generated (exec'd wrappers
    such as nn.functional's, whose file is '<string>') in one of its modules."""
    name = frame.f_globals.get('__name__') or ''
    return frame.f_code.co_filename.startswith(_ROOT) or name == 'ember' or name.startswith('ember.')


_WARNED_ONCE = set()


# where PyTorch 2.13's CPU wheel was built: its C++ warnings (TORCH_WARN) end with the source line that raised them
_BUILT_AT = '/__w/pytorch/pytorch/'


def warn_user(message, category=UserWarning, once=False, internally=None):
    """``warnings.warn`` at the first frame outside the ember package (``once``: only the first time in the
    process, whatever the warning filters, as PyTorch's TORCH_WARN_ONCE); ``internally``: the PyTorch source
    'file:line' of a warning PyTorch raises from C++, whose message then ends as PyTorch's, with
    " (Triggered internally at ...)"."""
    if once:
        if message in _WARNED_ONCE:
            return
        _WARNED_ONCE.add(message)
    if internally is not None:
        message = f'{message} (Triggered internally at {_BUILT_AT}{internally}.)'
    frame, level = sys._getframe(1), 2
    while frame is not None and _in_ember(frame):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
