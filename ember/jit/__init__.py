"""``ember.jit`` (``torch.jit``): ember has no TorchScript compiler, so ``script`` and ``trace`` hand back the
function or module itself, which computes what PyTorch's compiled version computes (silently, as PyTorch's
script is; a trace, whose branches would be fixed, is noted once per process);
the decorators and queries that only steer the compiler behave as in eager PyTorch. ``save``/``load`` round-trip a
module the way users do (``torch.jit.save(torch.jit.script(m), path)``, then ``torch.jit.load(path)(x)``) as an
ember checkpoint of the whole module (pickled: its class must be importable where it is loaded; PyTorch cannot
read the file, and ember refuses PyTorch's TorchScript archives, naming why); ``freeze`` gives an eval-mode copy
whose parameters are constants."""
import builtins
import contextlib
import functools
import inspect
import sys
import typing
import warnings
import weakref

from ..aliasing import unsupported_function
from ..futures import Future
from ..nn.modules.module import TORCHSCRIPT_ONLY, Module

__all__ = ['Attribute', 'CompilationUnit', 'Error', 'Final', 'Future', 'ScriptFunction', 'ScriptModule',
           'RecursiveScriptModule', 'TracedModule', 'TopLevelTracedModule', 'TracerWarning', 'ScriptWarning',
           'TracingCheckError', 'annotate', 'enable_onednn_fusion', 'export', 'fork', 'freeze', 'fuser', 'ignore',
           'interface', 'is_scripting', 'is_tracing', 'isinstance', 'load', 'onednn_fusion_enabled',
           'optimize_for_inference', 'optimized_execution', 'save', 'script', 'script_if_tracing', 'script_method',
           'set_fusion_strategy', 'strict_fusion', 'trace', 'trace_module', 'unused', 'wait']

Final = typing.Final
_ARCHIVES = 'ember has no TorchScript; save the state_dict (torch.save(model.state_dict(), path)) instead'
CompilationUnit = unsupported_function('torch.jit.CompilationUnit', _ARCHIVES)
# fvcore's FlopCountAnalysis counts on the graph a trace records; it imports this at import
_get_trace_graph = unsupported_function('torch.jit._get_trace_graph', 'ember has no TorchScript graphs')


def save(m, f, _extra_files=None):
    """Write module ``m`` to the path or file ``f`` so that ``torch.jit.load`` gives it back (an ember checkpoint
    of the whole module, not a TorchScript archive)."""
    _deprecated('save', '`torch.export`')
    if not builtins.isinstance(m, Module):
        raise AttributeError(f"'{type(m).__name__}' object has no attribute 'save'")
    if _extra_files:
        raise RuntimeError('torch.jit.save: _extra_files is not supported by ember (its archive is a pickled module)')
    from ..serialization import save as _save
    _once('save', 'torch.jit.save: ember has no TorchScript, so it writes an ember checkpoint of the whole module '
          '(pickled): torch.jit.load of ember reads it back, PyTorch cannot; this note is given once')
    try:
        _save(m, f)
    except (TypeError, AttributeError) as e:
        raise RuntimeError(f'torch.jit.save: ember has no TorchScript and writes the module pickled, which needs '
                           f'every class in it importable by name ({e}); define the classes at module level, or '
                           'save the state_dict (torch.save(model.state_dict(), path))') from e


def load(f, map_location=None, _extra_files=None, _restore_shapes=False):
    """The module ``torch.jit.save`` wrote to ``f`` (a path or file), in the mode it was saved in."""
    _deprecated('load', '`torch.export`')
    import os
    import zipfile
    if builtins.isinstance(f, (str, os.PathLike)) and not os.path.exists(f):
        raise ValueError(f'The provided filename {f} does not exist')
    if map_location is not None and str(map_location) != 'cpu':
        raise RuntimeError(f'torch.jit.load: ember runs on the CPU only, got map_location={map_location!r}')
    if _extra_files:
        raise RuntimeError('torch.jit.load: _extra_files is not supported by ember (its archive is a pickled module)')
    pos = f.tell() if hasattr(f, 'tell') else None
    if zipfile.is_zipfile(f):
        with zipfile.ZipFile(f) as z:
            if any(n.endswith('/constants.pkl') or '/code/' in n for n in z.namelist()):
                raise RuntimeError('torch.jit.load: this is a TorchScript archive written by PyTorch; ember has no '
                                   'TorchScript interpreter. Load the weights instead: in PyTorch, '
                                   'torch.save(torch.jit.load(path).state_dict(), "sd.pt"), then '
                                   'model.load_state_dict(torch.load("sd.pt")) in ember')
    if pos is not None:
        f.seek(pos)
    from ..serialization import load as _load
    m = _load(f, weights_only=False)
    if not builtins.isinstance(m, Module):
        raise RuntimeError('PytorchStreamReader failed locating file constants.pkl: file not found (torch.jit.load '
                           'reads what torch.jit.save wrote; this file holds a '
                           f'{type(m).__name__}: use torch.load for it)')
    return m


def freeze(mod, preserved_attrs=None, optimize_numerics=True):
    """An eval-mode copy of ``mod`` whose parameters are constants (no gradient flows into them), as PyTorch's
    frozen module computes without autograd history on them."""
    import copy
    if not builtins.isinstance(mod, Module):
        raise RuntimeError("Freezing expects a ScriptModule as input. Please use torch.jit.script or "
                           "torch.jit.trace to script your 'nn.Module'.")
    if mod.training:
        raise RuntimeError('Freezing is currently only implemented for modules in eval mode. Please call .eval() '
                           'on your module before freezing.')
    frozen = copy.deepcopy(mod)
    for p in frozen.parameters():
        p.requires_grad_(False)
    return frozen


def optimize_for_inference(mod, other_methods=None):
    """``freeze`` of an eval-mode module (PyTorch's graph rewrites leave the values as they are)."""
    return freeze(mod if not mod.training else mod.eval())


class Error(RuntimeError):
    """TorchScript's error class (for ``except`` clauses)."""


class TracerWarning(Warning):
    """PyTorch's warning class for tracing problems."""
    __module__ = 'ember.jit._trace'   # where PyTorch's classes below live (reprs, pickles): see _script, _trace


class ScriptWarning(Warning):
    """PyTorch's warning class for scripting problems."""
    __module__ = 'ember.jit._script'


class TracingCheckError(Exception):
    """PyTorch's error class for a failed trace check."""
    __module__ = 'ember.jit._trace'


class ScriptModule(Module):
    """TorchScript's module class. Subclasses (with ``@script_method`` methods) run as ordinary modules in
    ember; nothing ``script`` or ``trace`` returns is an instance."""
    __module__ = 'ember.jit._script'


class RecursiveScriptModule(ScriptModule):
    """What PyTorch's ``script`` returns for a module (ember's returns the module itself)."""
    __module__ = 'ember.jit._script'


class TracedModule(ScriptModule):
    """What PyTorch's ``trace`` returns for a module (ember's returns the module itself)."""
    __module__ = 'ember.jit._trace'


class TopLevelTracedModule(TracedModule):
    """PyTorch's top-level traced module class."""
    __module__ = 'ember.jit._trace'


class ScriptFunction:
    """What PyTorch's ``script`` returns for a function (ember's returns the function itself)."""


class Attribute(typing.NamedTuple):
    """``torch.jit.Attribute(value, type)``: a typed attribute for the compiler; in eager code it is this pair,
    as in eager PyTorch."""
    value: typing.Any
    type: typing.Any


Attribute.__module__ = 'ember.jit._script'


_NOTED = set()   # the notes given once per process ('trace', 'save')
_SCRIPTED = weakref.WeakSet()   # modules script/trace handed back (their .graph/.code refusals say why)
SCRIPTED_CODE = set()   # code objects of the functions script handed back (see scripted_caller)


def _deprecated(name, instead='`torch.compile` or `torch.export`'):
    """PyTorch 2.13's DeprecationWarning for ``torch.jit.<name>`` (seen from ember's code, so Python's default
    filters hide it, as they hide PyTorch's)."""
    if sys.version_info >= (3, 14):
        message = f'`torch.jit.{name}` is not supported in Python 3.14+ and may break. Please switch to {instead}.'
    else:
        message = f'`torch.jit.{name}` is deprecated. Please switch to {instead}.'
    warnings.warn(message, DeprecationWarning, stacklevel=2)


def _once(key, message, stacklevel=3):
    """Warn ``message`` the first time only: libraries script or trace helpers at import, and PyTorch prints
    nothing for them."""
    if key not in _NOTED:
        _NOTED.add(key)
        warnings.warn(message, UserWarning, stacklevel=stacklevel)


def _runs_eagerly(what, obj):
    """``obj`` itself: scripted code runs as ordinary Python with the compiled version's results, silently; a
    trace differs (its branches are fixed at the example inputs, ember's follow the data), noted once."""
    if builtins.isinstance(obj, Module):
        _SCRIPTED.add(obj)
    if what != 'torch.jit.script':
        _once('trace', f'{what}: ember has no TorchScript tracer, so the traced code runs as ordinary Python: '
              'data-dependent control flow follows each call\'s data (a trace keeps the example inputs\' branch); '
              'this note is given once', stacklevel=4)
    return obj


def torchscript_attribute(module, name):
    """Module ``name`` of a module script/trace handed back that only TorchScript has: ``save`` works (as
    torch.jit.save), the others (graph, code, ...) raise saying why there are none; None: not one of them."""
    if name not in TORCHSCRIPT_ONLY or module not in _SCRIPTED:
        return None
    if name == 'save':
        return lambda f, _extra_files=None: save(module, f, _extra_files)
    raise AttributeError(f"'{type(module).__name__}' object has no attribute '{name}': ember has no TorchScript, "
                         'so torch.jit.script/trace hand back the module itself, with no graph or code (it runs as '
                         'ordinary Python); .save(path) writes an ember checkpoint that PyTorch cannot load')


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """The module, function or class itself: compiled TorchScript computes the same values."""
    _deprecated('script')
    if optimize is not None:
        warnings.warn('`optimize` is deprecated and has no effect. Use `with torch.jit.optimized_execution()` '
                      'instead', FutureWarning, stacklevel=2)
    if not (builtins.isinstance(obj, Module) or callable(obj)):
        raise TypeError(f'torch.jit.script compiles a function, class or nn.Module, not {type(obj).__name__}')
    if inspect.isfunction(obj):
        SCRIPTED_CODE.add(obj.__code__)
    return _runs_eagerly('torch.jit.script', _scalars_as_annotated(obj))


def scripted_caller(package_dir):
    """Whether the nearest caller outside ``package_dir`` (ember's own frames skipped) is a function handed to
    script: compiled TorchScript calls ATen directly, past the Python bindings' own warnings (torcheval's scripted
    confusion-matrix update makes a sparse tensor and PyTorch prints no invariant-checks warning)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(package_dir):
        frame = frame.f_back
    return frame is not None and frame.f_code in SCRIPTED_CODE


def _scalars_as_annotated(fn):
    """``fn`` converting the arguments of its ``float``/``int`` parameters as a compiled TorchScript function's
    signature does (norse's ``exp_filter_step(old, new, 1)`` gets ``1.0``, so ``parameter * long`` is float); a
    function with no such parameter is handed back itself."""
    if not inspect.isfunction(fn):
        return fn
    try:
        hints = typing.get_type_hints(fn)
    except Exception:   # noqa: BLE001 (an annotation naming what is not importable here: no conversions known)
        return fn
    sig = inspect.signature(fn)
    kinds = {name: hints[name] for name in sig.parameters if hints.get(name) in (float, int)}
    if not kinds:
        return fn

    @functools.wraps(fn)
    def scripted(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        for name, kind in kinds.items():
            if name in bound.arguments:
                bound.arguments[name] = _as_scalar(fn, sig, name, kind, bound.arguments[name])
        return fn(*bound.args, **bound.kwargs)
    return scripted


def _as_scalar(fn, sig, name, kind, value):
    """``value`` as TorchScript passes it to a parameter annotated ``kind``: a bool or int (or a one-element
    tensor) becomes a float for ``float``, a bool an int for ``int``; a float for ``int`` is refused as PyTorch
    refuses it."""
    from ..tensor import Tensor
    if builtins.isinstance(value, Tensor) and value.dim() == 0:
        return kind(value.item())
    if type(value) is bool or (kind is float and type(value) is int):
        return kind(value)
    if kind is int and builtins.isinstance(value, float):
        position = list(sig.parameters).index(name)
        declared = ', '.join(f'{getattr(p.annotation, "__name__", "Tensor")} {n}' for n, p in sig.parameters.items())
        raise RuntimeError(f"{fn.__name__}() Expected a value of type 'int' for argument '{name}' but instead found "
                           f"type 'float'.\nPosition: {position}\nValue: {value!r}\nDeclaration: "
                           f"{fn.__name__}({declared})")
    return value


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None, check_tolerance=1e-05,
          strict=True, _force_outplace=False, _module_class=None, _compilation_unit=None, example_kwarg_inputs=None,
          _store_inputs=True):
    """``func`` itself (noting once that it runs eagerly), after calling it once on the example inputs as PyTorch's
    tracer does (so a function that fails on them fails here too). Unlike a trace, data-dependent control flow
    keeps following the data."""
    _deprecated('trace')
    if builtins.isinstance(func, Module):
        _deprecated('trace_method')   # (PyTorch traces a module's forward through trace_module)
    if check_trace:
        _deprecated('trace_method' if builtins.isinstance(func, Module) else 'trace')   # (its check traces again)
    if example_inputs is None and example_kwarg_inputs is None:
        raise TypeError('torch.jit.trace needs example_inputs (or example_kwarg_inputs) to call the function on')
    if not callable(func):
        raise AttributeError(f'{type(func).__name__!r} object has no attribute forward: torch.jit.trace needs a '
                             'function or an nn.Module')
    args = example_inputs if builtins.isinstance(example_inputs, tuple) else \
        (() if example_inputs is None else (example_inputs,))
    func(*args, **(example_kwarg_inputs or {}))
    return _runs_eagerly('torch.jit.trace', func)


def trace_module(mod, inputs, optimize=None, check_trace=True, check_inputs=None, check_tolerance=1e-05,
                 strict=True, _force_outplace=False, _module_class=None, _compilation_unit=None,
                 example_inputs_is_kwarg=False, _store_inputs=True):
    """``mod`` itself (noting once that it runs eagerly), after calling each named method once on its inputs."""
    _deprecated('trace_method')
    if check_trace:
        _deprecated('trace_method')   # (PyTorch's check traces again)
    if not builtins.isinstance(mod, Module):
        raise AttributeError('expected torch.nn.Module as the first argument')
    if not builtins.isinstance(inputs, dict):
        raise AttributeError('expected a dictionary of (method_name, input) pairs')
    for name, example in inputs.items():
        method = getattr(mod, name)
        if example_inputs_is_kwarg:
            method(**example)
        else:
            method(*(example if builtins.isinstance(example, tuple) else (example,)))
    return _runs_eagerly('torch.jit.trace_module', mod)


def ignore(drop=False, **kwargs):
    """Leave a function to Python: in eager code the function itself (``@ignore`` and ``@ignore(drop=True)``)."""
    if callable(drop):
        return drop
    if drop:
        warnings.warn('ignore(True) has been deprecated. TorchScript will now drop the function call on '
                      'compilation. Use torch.jit.unused now. {}', FutureWarning, stacklevel=2)
    return lambda fn: fn


def unused(fn):
    """Mark a method the compiler skips: in eager code the method itself."""
    return fn


def _overload(func):
    """Declare one TorchScript signature of a function defined again below it (PyG's ``utils`` declare their
    typed variants this way): eager code calls the final definition, so the declaration is returned as is."""
    return func


def _overload_method(func):
    """``_overload`` for a method declared inside a class body."""
    return func


def export(fn):
    """Mark a method to compile: in eager code the method itself."""
    return fn


def script_method(fn):
    """A ``ScriptModule`` method to compile: in eager code the method itself."""
    _deprecated('script_method')
    return fn


def interface(obj):
    """A TorchScript interface type: in eager code the class itself."""
    return obj


def script_if_tracing(fn):
    """Compile ``fn`` only when tracing: in eager code the function itself."""
    return fn


def annotate(the_type, the_value):
    """A type hint for the compiler: returns ``the_value``, as in eager PyTorch."""
    return the_value


def is_scripting():
    """False: ember code never runs inside TorchScript."""
    return False


def is_tracing():
    """False: ember never traces."""
    return False


def isinstance(obj, target_type):
    """``isinstance`` that also understands typing containers (``List[int]``, ``Dict[str, Tensor]``,
    ``Optional[T]``, ``Tuple[...]``), checking the elements, as TorchScript's refinement does in eager code."""
    origin, args = typing.get_origin(target_type), typing.get_args(target_type)
    if origin is None:
        return builtins.isinstance(obj, target_type)
    if origin is typing.Union:
        return any(isinstance(obj, a) for a in args)
    if origin in (list, set, frozenset):
        return builtins.isinstance(obj, origin) and all(isinstance(x, args[0]) for x in obj)
    if origin is dict:
        return builtins.isinstance(obj, dict) and all(isinstance(k, args[0]) and isinstance(v, args[1])
                                                      for k, v in obj.items())
    if origin is tuple:
        return (builtins.isinstance(obj, tuple) and len(obj) == len(args)
                and all(isinstance(x, a) for x, a in zip(obj, args)))
    return builtins.isinstance(obj, origin)


def fork(func, *args, **kwargs):
    """Run ``func(*args, **kwargs)`` (at once, in this thread) and return a ``Future`` holding its result."""
    warnings.warn('`torch.jit.fork` is deprecated. Please use `torch.compile` instead.', DeprecationWarning)
    fut = Future()
    fut.set_result(func(*args, **kwargs))
    return fut


def wait(future):
    """The value of a ``fork``'s ``Future``."""
    warnings.warn('`torch.jit.wait` is deprecated. Please use `torch.compile` instead.', DeprecationWarning)
    return future.wait()


_FUSION = {'strategy': [('STATIC', 2), ('DYNAMIC', 10)], 'onednn': False}


def set_fusion_strategy(strategy):
    """Remember a fusion strategy for compiled code (ember compiles none) and return the previous one."""
    previous, _FUSION['strategy'] = _FUSION['strategy'], list(strategy)
    return previous


def enable_onednn_fusion(enabled):
    """Remember the oneDNN fusion switch (it only affects compiled code, which ember has none of)."""
    _FUSION['onednn'] = bool(enabled)


def onednn_fusion_enabled():
    """The oneDNN fusion switch last set."""
    return _FUSION['onednn']


@contextlib.contextmanager
def optimized_execution(should_optimize):
    """Switch TorchScript's optimizations inside the block: nothing to switch in ember."""
    yield


@contextlib.contextmanager
def fuser(name):
    """Choose TorchScript's fuser inside the block ('fuser0', 'fuser1', 'fuser2', 'fuser3', 'none')."""
    if name not in ('fuser0', 'fuser1', 'fuser2', 'fuser3', 'none'):
        raise Exception(f'unrecognized fuser option (name: {name})')  # noqa: TRY002 (PyTorch's exception type)
    yield


class strict_fusion:
    """Context manager asserting that compiled code in it fuses: no compiled code in ember, so nothing to check."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


from . import _script, _trace  # noqa: E402,F401 (PyTorch's submodules, the homes its classes above name)
