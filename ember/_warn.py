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


def warn_user(message, category=UserWarning, once=False, internally=None, inside=None):
    """``warnings.warn`` at the first frame outside the ember package (``once``: only the first time in the
    process, whatever the warning filters, as PyTorch's TORCH_WARN_ONCE); ``internally``: the PyTorch source
    'file:line' of a warning PyTorch raises from C++, whose message then ends as PyTorch's, with
    " (Triggered internally at ...)". ``inside``: PyTorch warns from its own Python code (torch.meshgrid's
    wrapper in torch/functional.py, nn's loss classes), so at ember's frame ``inside`` levels above the caller
    (0: the caller's line): one location, which Python's default filter shows once, as it shows PyTorch's."""
    if once:
        if message in _WARNED_ONCE:
            return
        _WARNED_ONCE.add(message)
    if internally is not None:
        message = f'{message} (Triggered internally at {_BUILT_AT}{internally}.)'
    if inside is not None:
        warnings.warn(message, category, stacklevel=2 + inside)
        return
    frame, level = sys._getframe(1), 2
    while frame is not None and _in_ember(frame):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


_GATE_FILES = frozenset(os.path.join(os.path.dirname(os.path.abspath(__file__)), f) for f in ('_torch_function.py',
                                                                                           '_shell.py'))


def _module_call_frames(parent, frame):
    """How many of PyTorch's frames stepping from ``frame`` up to ``parent`` stands for: nn.Module's call is
    ``_wrapped_call_impl`` and ``_call_impl`` in PyTorch (with hooks, ``_call_impl`` runs forward from an inner
    function), ember's ``__call__`` alone (with hooks, ``__call__`` and ``_call_impl``)."""
    code = parent.f_code
    if code.co_filename in _GATE_FILES:   # a wrapper ember puts on its functions only once a program needs it
        return 0                          # (__torch_function__ dispatch, shell-dtype gates): PyTorch's are in C
    if not (code.co_filename.endswith(os.path.join('nn', 'modules', 'module.py')) and _in_ember(parent)):
        return 1
    if code.co_name == '_call_impl':
        return 2
    return 2 if code.co_name == '__call__' and frame.f_code.co_name != '_call_impl' else 1


def warn_at_level(message, stacklevel, category=UserWarning):
    """``warnings.warn`` at PyTorch's ``stacklevel`` counted from this function's caller (1: the caller, as
    PyTorch's ``_get_softmax_dim``; nn.Softmax's 5 lands on its module call, so that one location, printed once
    under the default filters, serves every module, as PyTorch's _wrapped_call_impl line does)."""
    frame, steps = sys._getframe(1), stacklevel - 1
    while steps > 0 and frame.f_back is not None:
        steps -= _module_call_frames(frame.f_back, frame)
        frame = frame.f_back
    level, f = 1 + max(steps, 0), sys._getframe(0)   # past the outermost frame: Python's 'sys', line 1
    while f is not None and f is not frame:
        f, level = f.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
