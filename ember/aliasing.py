"""Make ``import torch`` (and ``torchvision``, ``functorch``) resolve to ember's modules.

``as_torch()`` scopes the aliasing to a ``with`` block; ``install()``/``uninstall()`` switch it on and
off for a whole program, as ``ember run`` does. Only the standard library is imported here, so ember's
subpackages load only when code imports them through the alias.
"""
import contextlib
import functools
import importlib
import importlib.util
import os
import re
import sys
import types
from opcode import opmap

PREFIXES = {"torch": "ember", "torchvision": "ember.vision", "functorch": "ember.functorch"}
# ember modules that are not the torch module of the same name. ``ember.ops`` itself is ``torch.ops`` (its
# functions and submodules are ember's ops, any other name a torch.ops namespace: ember/_torch_ops.py), its
# submodules are ember's own.
INTERNAL = ("ember.ops.", "ember.backend", "ember.tensor", "ember.cli", "ember.aliasing", "ember.demo",
            "ember.autograd.dual")

_IMPORT_FROM = opmap["IMPORT_FROM"]
_CANNOT_IMPORT = r"cannot import name '(\w+)' from '([\w.]+)'"   # compiled by re on first use
_SAVED = []  # one dict of set-aside torch/torchvision sys.modules entries per active install()
_PATCHED = {}  # ember modules given the module_getattr ``__getattr__`` while aliasing is on
_RENAMED = {}  # class -> its ember ``__module__``, for the classes ``_torch_module_names`` renamed
# The bases whose subclasses carry their torch module while aliasing is on: (module, class name).
_PICKLED_BY_NAME = (("ember.nn.modules.module", "Module"), ("ember.optim.optimizer", "Optimizer"),
                    ("ember.optim.lr_scheduler", "LRScheduler"))


# Underscored modules that are torch's own names (torch._dynamo), not ember internals.
TORCH_PRIVATE = {"ember._dynamo", "ember._dynamo.config", "ember._inductor", "ember._inductor.config", "ember._functorch", "ember._functorch.config", "ember._functorch.vmap", "ember._guards", "ember._subclasses", "ember._subclasses.fake_tensor", "ember._dynamo._trace_wrapped_higher_order_op", "ember._dynamo.eval_frame", "ember._C", "ember._C._functorch", "ember.utils.data._utils", "ember.utils.data._utils.collate",
                 "ember.utils.data._utils.pin_memory", "ember.utils.data._utils.worker",
                 "ember.utils._foreach_utils", "ember.utils._contextlib", "ember.utils._pytree", "ember.utils._python_dispatch",
                 "ember.vision.models._utils", "ember.vision.models._api", "ember.fx._symbolic_trace",
                 "ember.__config__", "ember._utils", "ember._tensor_str", "ember.distributed.tensor._utils",
                 "ember.distributed._functional_collectives",
                 "ember.distributed._composable", "ember.distributed._composable.fsdp", "ember.distributed._tensor",
                 "ember.distributed._tensor.experimental", "ember.distributed._tensor.device_mesh",
                 "ember.nn.utils._per_sample_grad", "ember.nn.utils._named_member_accessor",
                 "ember.jit._script", "ember.jit._trace", "ember._higher_order_ops"} | {
    "ember._higher_order_ops." + m for m in ("cond", "while_loop", "scan", "map", "associative_scan")}


def ember_name(name):
    """The ember module name for torch module ``name`` (``torch.nn`` -> ``ember.nn``), else None."""
    top, dot, rest = name.partition(".")
    if top not in PREFIXES:
        return None
    return PREFIXES[top] + dot + rest


def torch_name(name):
    """The torch name of public ember module ``name`` (``ember.vision.datasets`` ->
    ``torchvision.datasets``); None for internal or private modules."""
    parts = name.split(".")
    private = any(p.startswith("_") for p in parts) and name not in TORCH_PRIVATE
    if parts[0] != "ember" or private:
        return None
    if parts[:2] == ["ember", "vision"]:
        return ".".join(["torchvision"] + parts[2:])
    if parts[:2] == ["ember", "functorch"]:
        return ".".join(["functorch"] + parts[2:])
    if any(name == m or name.startswith(m if m.endswith(".") else m + ".") for m in INTERNAL):
        return None
    return ".".join(["torch"] + parts[1:])


def unsupported(name, detail):
    """The message for a torch feature ember lacks."""
    return f"{name} is not supported by ember yet ({detail})"


def unsupported_function(name, detail="ember has no implementation of it"):
    """A function that stands for torch's ``name`` so that it imports, and raises NotImplementedError
    saying it is not supported by ember yet when called."""
    message = unsupported(name, detail)

    def not_supported(*args, **kwargs):
        __tracebackhide__ = True  # noqa: F841 (IPython hides this frame)
        raise NotImplementedError(message)
    not_supported.__name__ = not_supported.__qualname__ = name.rpartition(".")[2]
    not_supported.__doc__ = f"Not supported by ember yet: calling it raises NotImplementedError ({name})."
    not_supported.__ember_unsupported__ = True  # ``ember run --check`` lists it
    return not_supported


def missing_attribute(module_name, name):
    """Raise the error for a missing ``module_name.name`` (see ``missing_attribute_error``)."""
    __tracebackhide__ = True  # noqa: F841 (IPython hides this frame)
    raise missing_attribute_error(module_name, name)


def missing_attribute_error(module_name, name):
    """The error for a missing ``module_name.name``: an AttributeError saying the torch feature is not
    supported by ember yet, or an ImportError in ``from ... import name`` (for which Python would
    replace an AttributeError's message by a generic one)."""
    module = sys.modules.get(module_name)
    plain = f"module {module_name!r} has no attribute {name!r}"
    alias = torch_name(module_name)
    if alias is None or name.startswith("__") or _initializing(module):
        return _attribute_error(plain, name, module)
    message = unsupported(f"{alias}.{name}", plain)
    if _in_from_import():
        return ImportError(message, name=module_name)
    return _attribute_error(message, name, module)


def strip_frames(tb):
    """The traceback ``tb`` without the frames of this module (the aliasing machinery), so that a
    traceback ends at the user's line."""
    head = prev = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename != __file__:
            if prev is None:
                head = tb
            else:
                prev.tb_next = tb
            prev = tb
        tb = tb.tb_next
    if prev is not None:
        prev.tb_next = None
    return head


def explain(exc):
    """Add a 'not supported by ember yet' note to an ImportError about a torch feature whose message
    Python wrote itself (``import torch.cuda.amp``: 'torch.cuda' is not a package); returns ``exc``."""
    name = _missing_torch_name(exc) if isinstance(exc, ImportError) else None
    if name and "not supported by ember yet" not in str(exc) and hasattr(exc, "add_note"):
        exc.add_note(f"{name} is not supported by ember yet")
    return exc


def _missing_torch_name(exc):
    """The torch name an ImportError is about, or None when it is not about torch."""
    match = re.match(_CANNOT_IMPORT, str(exc))
    if match:
        alias = torch_name(match[2])
        return alias and f"{alias}.{match[1]}"
    return exc.name if exc.name and ember_name(exc.name) else None


def module_getattr(module_name, name):
    """Module ``__getattr__`` for ember packages: import a public submodule, or one of torch's own underscored ones
    (``torch._dynamo``, which PyTorch loads on first access too), on first access (as ``torch.nn`` works after
    ``import torch``), else raise ``missing_attribute``. While aliasing is on, a private submodule of the ember
    and ember.vision packages too: they are then named torch and torchvision (``_name_tops``), and ember's own
    ``from . import _x`` there would otherwise ask the import system for torch._x."""
    sub = f"{module_name}.{name}"
    if (not name.startswith("_") or sub in TORCH_PRIVATE
            or (_SAVED and module_name in _RENAMED_PACKAGES and not name.startswith("__"))):
        if sub in sys.modules or _find_spec(sub) is not None:
            module = importlib.import_module(sub)
            if _SAVED:
                _patch_getattrs()
            return module
    __tracebackhide__ = True  # noqa: F841 (IPython hides this frame)
    raise missing_attribute_error(module_name, name)


# The submodules ``dir(torch)`` and ``dir(torch.autograd)`` list (torch imports them with the package); ember
# loads its own on first access, so ``module_dir`` lists those it has without importing them. Not fx or overrides: importing
# ember.fx or ember.overrides rewraps ember's functions, so code looping getattr over dir(ember) would change them.
_TORCH_SUBMODULES = {
    "ember": ("accelerator", "amp", "ao", "autograd", "compiler", "cpu", "cuda", "distributed", "distributions",
              "export", "fft", "func", "functional", "futures", "hub", "jit", "library", "linalg", "masked",
              "monitor", "mps", "mtia", "multiprocessing", "nested", "nn", "optim", "package",
              "profiler", "quantization", "quasirandom", "random", "return_types", "serialization", "signal",
              "sparse", "special", "storage", "testing", "torch_version", "types", "utils", "version", "xpu"),
    "ember.autograd": ("anomaly_mode", "forward_ad", "function", "functional", "grad_mode", "graph", "profiler",
                       "profiler_legacy", "profiler_util"),
}


def module_dir(module_name):
    """Module ``__dir__`` for ember packages: the module's names plus the submodules PyTorch's counterpart lists
    that ember has (found, not imported)."""
    names = set(vars(sys.modules[module_name]))
    names.update(n for n in _TORCH_SUBMODULES.get(module_name, ())
                 if f"{module_name}.{n}" in sys.modules or _find_spec(f"{module_name}.{n}") is not None)
    return sorted(names)


def install():
    """Alias torch/torchvision to ember until the matching ``uninstall()``; calls may nest."""
    _SAVED.append(_take_aliased_modules())
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    try:
        _patch_getattrs()
        _patch_spawn()
    except BaseException:   # undone, so that a failed install leaves ember unaliased (and named ember)
        uninstall()
        raise


SPAWN_MAIN_VAR = "EMBER_SPAWN_MAIN"


def _patch_spawn():
    """Make processes that multiprocessing spawns while aliasing is on start aliased too: their main module
    becomes ``ember._spawn_main``, which installs the alias and then runs the user's script (passed in the
    environment). Without this a spawned DataLoader worker re-imports the script with a plain ``import
    torch`` and fails, or gets a real torch."""
    spawn = sys.modules.get("multiprocessing.spawn") or importlib.import_module("multiprocessing.spawn")
    if getattr(spawn.get_preparation_data, "_ember", False):
        return
    original = spawn.get_preparation_data

    def get_preparation_data(name):
        data = original(name)
        if is_installed():
            path = data.pop("init_main_from_path", None) or ""
            if "init_main_from_name" not in data:
                os.environ[SPAWN_MAIN_VAR] = path
                data["init_main_from_name"] = "ember._spawn_main"
        return data

    get_preparation_data._ember = True
    spawn.get_preparation_data = get_preparation_data


def uninstall():
    """Undo the latest ``install()``: put back the torch/torchvision ``sys.modules`` entries it set aside."""
    if not _SAVED:
        raise RuntimeError("ember.aliasing.uninstall() called without a matching install()")
    _take_aliased_modules()
    sys.modules.update(_SAVED.pop())
    if not _SAVED:
        if _FINDER in sys.meta_path:
            sys.meta_path.remove(_FINDER)
        _unpatch_getattrs()


def is_installed():
    """Whether torch imports currently resolve to ember."""
    return bool(_SAVED)


@contextlib.contextmanager
def as_torch():
    """``with as_torch(): import torch`` gives ember; ``sys.modules`` is restored on exit. Yields ember."""
    install()
    try:
        yield sys.modules["ember"]
    except ImportError as exc:
        explain(exc)
        raise
    finally:
        if not sys.is_finalizing():     # a block entered and never left is closed at exit, after sys.meta_path
            uninstall()


class _TorchFinder:
    """``sys.meta_path`` finder that answers torch/torchvision imports with ember's modules (the import system
    needs only ``find_spec``; importlib.abc's base classes took 0.4 ms of ``import ember``)."""

    def find_spec(self, fullname, path=None, target=None):
        __tracebackhide__ = True  # noqa: F841 (IPython hides this frame)
        target_name = ember_name(fullname)
        if target_name is None:
            return None
        if torch_name(target_name) != fullname:
            raise ModuleNotFoundError(unsupported(fullname, "ember has no counterpart of it"),
                                      name=fullname)
        if not _exists(target_name):
            raise ModuleNotFoundError(unsupported(fullname, f"ember has no module {target_name}"),
                                      name=fullname)
        return importlib.util.spec_from_loader(fullname, _AliasLoader(target_name))


class _AliasLoader:
    """Loader that replaces the placeholder module with the ember module, so both names share it."""

    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        sys.modules[module.__name__] = _import(self.target)
        _patch_getattrs()


_FINDER = _TorchFinder()


def _import(name):
    """Import ember module ``name``, also accepting a module object its parent holds as an attribute."""
    parent, _, child = name.rpartition(".")
    held = vars(importlib.import_module(parent)).get(child) if parent else None
    return held if isinstance(held, types.ModuleType) else importlib.import_module(name)


def _exists(name):
    """Whether ember module ``name`` exists, as a submodule or a module-valued attribute of its parent."""
    if name in sys.modules or _find_spec(name) is not None:
        return True
    parent, _, child = name.rpartition(".")
    return parent in sys.modules and isinstance(vars(sys.modules[parent]).get(child), types.ModuleType)


def _find_spec(name):
    """``importlib.util.find_spec`` that answers None when the parent is not a package."""
    try:
        return importlib.util.find_spec(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return None
    except ValueError:
        return None


def _take_aliased_modules():
    """Remove and return the torch/torchvision entries of ``sys.modules``."""
    names = [n for n in sys.modules if n.partition(".")[0] in PREFIXES]
    return {n: sys.modules.pop(n) for n in names}


def imported():
    """While aliasing is on, patch what ember imported by itself, as an aliased import is: torch.compile loads its
    wrapper's module on first use, and ``type(torch.compile(model))`` prints torch._dynamo.eval_frame's class."""
    if _SAVED:
        _patch_getattrs()


def _patch_getattrs():
    """Give each loaded public ember module without a ``__getattr__`` one that raises the clear error, and the
    classes just loaded their torch module (``_torch_module_names``)."""
    for name, module in list(sys.modules.items()):
        if (isinstance(module, types.ModuleType) and getattr(module, "__name__", None) == name
                and torch_name(name) is not None and "__getattr__" not in vars(module)):
            module.__getattr__ = functools.partial(module_getattr, name)
            _PATCHED[name] = module
    _torch_module_names()
    _name_tops("torch")


_RENAMED_PACKAGES = ("ember", "ember.vision")   # the packages among _name_tops' modules


def _name_tops(which):
    """Give the loaded top modules (ember, ember.vision, ember.functorch) their torch names (``which`` "torch")
    or their own back ("ember"): ``torch.__name__`` is "torch" in PyTorch, and pyro's import asserts it
    (pyro/distributions/torch_patch.py). ``__spec__.name`` keeps the ember name."""
    for top, target in PREFIXES.items():
        module = sys.modules.get(target)
        if module is not None:
            module.__name__ = top if which == "torch" else target


def _torch_module_names():
    """Give ember's Module, Optimizer and LRScheduler classes their torch module (``torch.optim.rmsprop``) while
    aliasing is on: a pickle names a class by its ``__module__``, and one written by an aliased program must load
    in PyTorch (stable-baselines3's saved A2C holds th.optim.RMSprop, pickled by cloudpickle). Under the alias
    that name imports the same ember module, so ember reads it too."""
    pending = [vars(sys.modules[m])[c] for m, c in _PICKLED_BY_NAME if m in sys.modules]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        name = cls.__module__
        module = sys.modules.get(name)
        if (cls in _RENAMED or not name.startswith("ember.") or torch_name(name) is None
                or getattr(module, cls.__qualname__, None) is not cls):
            continue
        _RENAMED[cls] = name
        cls.__module__ = torch_name(name)
        # cloudpickle pickles a class by value unless sys.modules holds its module under that name
        sys.modules.setdefault(cls.__module__, module)


def _restore_module_names():
    """Put back the ember ``__module__`` of the classes ``_torch_module_names`` renamed."""
    for cls, name in _RENAMED.items():
        cls.__module__ = name
    _RENAMED.clear()


def _unpatch_getattrs():
    """Remove the ``__getattr__`` functions ``_patch_getattrs`` added."""
    for name, module in _PATCHED.items():
        patched = vars(module).get("__getattr__")
        if isinstance(patched, functools.partial) and patched.func is module_getattr:
            del module.__getattr__
    _PATCHED.clear()
    _restore_module_names()
    _name_tops("ember")


def _initializing(module):
    """Whether ``module`` is still executing (a miss there is a circular import, not a missing feature)."""
    return bool(getattr(getattr(module, "__spec__", None), "_initializing", False))


def _in_from_import():
    """Whether the attribute lookup comes from a ``from module import name`` statement, whose
    AttributeError Python would replace by a generic 'cannot import name' ImportError."""
    frame = sys._getframe(1)
    while frame is not None and (frame.f_globals.get("__name__") == __name__
                                 or frame.f_code.co_name == "__getattr__"):
        frame = frame.f_back
    if frame is None or frame.f_lasti < 0:
        return False
    code = frame.f_code.co_code
    return frame.f_lasti < len(code) and code[frame.f_lasti] == _IMPORT_FROM


def _attribute_error(message, name, module):
    """An AttributeError carrying ``name`` and ``obj`` as Python's own does."""
    error = AttributeError(message)
    error.name, error.obj = name, module
    return error
