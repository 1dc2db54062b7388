"""``torch.ops``' operator objects: namespaces (``torch.ops.aten``), overload packets (``torch.ops.aten.mm``) and
overloads (``torch.ops.aten.mm.default``), which call ember's op of the same name.

Under the torch alias ``torch.ops`` is the package ``ember.ops``: ember's ops are its functions and
submodules, and any other name is a namespace, as in PyTorch, where ``torch.ops.<anything>`` is one. The
names of aten's operators and overloads come from PyTorch's dispatcher (ember/data/aten_ops.txt, written
by tools/aten_ops.py), so ``hasattr`` answers as in PyTorch and an op ember lacks fails only when called.
Operators of other namespaces are those defined with ``torch.library``; C++ operator libraries
(``torch.ops.load_library``) cannot be loaded.
"""
import importlib
import os
import types

from .aliasing import unsupported

_TABLE = os.path.join(os.path.dirname(__file__), 'data', 'aten_ops.txt')
_NAMESPACES = {}   # name -> OpNamespace, each made once so that its packets are the same objects every time
_DEFINED = {}      # (namespace, op) -> {overload: function}: the operators torch.library defined
loaded_libraries = set()   # the C++ libraries load_library loaded: always empty in ember


def namespace(name):
    """The ``torch.ops.<name>`` namespace (made on first use, as PyTorch makes it)."""
    ns = _NAMESPACES.get(name)
    if ns is None:
        ns = _NAMESPACES[name] = OpNamespace(name)
    return ns


def has_operators(ns):
    """Whether torch.library defined operators in namespace ``ns``."""
    return any(space == ns for space, _ in _DEFINED)


def load_library(path):
    """Refuse ``torch.ops.load_library``: its libraries are C++ code built against PyTorch's dispatcher. Raises
    OSError, as PyTorch does for a library it cannot load, so code that falls back on one (``except OSError``)
    takes its pure-Python path."""
    raise OSError(f'Could not load this library: {path} ({unsupported("torch.ops.load_library", "ember runs no C++ operator libraries built against PyTorch; define Python operators with torch.library.custom_op instead")})')


def import_module(module):
    """Import the Python module that defines operators (with torch.library), as ``torch.ops.import_module``."""
    importlib.import_module(module)


def define(ns, op, overload, fn):
    """Make ``fn`` the ``torch.ops.<ns>.<op>.<overload>`` operator (torch.library's definitions land here)."""
    _DEFINED.setdefault((ns, op), {})[overload] = fn
    space = _NAMESPACES.get(ns)
    if space is not None:
        vars(space).pop(op, None)   # a packet cached before this overload existed is made again


def undefine(ns, op, overload):
    """Remove the ``torch.ops.<ns>.<op>.<overload>`` operator (a torch.library Library destroyed)."""
    overloads = _DEFINED.get((ns, op), {})
    overloads.pop(overload, None)
    if not overloads:
        _DEFINED.pop((ns, op), None)
    space = _NAMESPACES.get(ns)
    if space is not None:
        vars(space).pop(op, None)


class OpNamespace(types.ModuleType):
    """``torch.ops.<name>``: its operators are attributes (``torch.ops.aten.mm``), each made once."""

    def __init__(self, name):
        super().__init__(f'torch.ops.{name}')
        self.__file__ = 'torch.ops'   # PyTorch's repr: <module 'torch.ops.aten' from 'torch.ops'>
        self.name = name

    def __getattr__(self, op):
        overloads = None if op.startswith('__') else _overloads(self.name, op)
        if overloads is None:
            raise AttributeError(f"'_OpNamespace' '{self.name}' object has no attribute '{op}'" + _hint(self.name))
        packet = OpOverloadPacket(self.name, op, overloads)
        setattr(self, op, packet)
        return packet


def _overloads(ns, op):
    """The overload names of operator ``ns::op``, or None when there is no such operator."""
    if (ns, op) in _DEFINED:
        return tuple(_DEFINED[ns, op])
    return _aten_table().get(op) if ns == 'aten' else None


def _hint(ns):
    """Why an operator of namespace ``ns`` is missing in ember, where PyTorch could have had it."""
    if ns == 'aten':
        return ''
    return (f' (ember has torch.ops.aten and the operators defined with torch.library; torch.ops.{ns} operators '
            'from C++ libraries cannot be loaded: torch.ops.load_library is not supported by ember)')


_ATEN = []   # [the aten table], read on first use


def _aten_table():
    """{op: (overload names)} of PyTorch's aten operators."""
    if not _ATEN:
        with open(_TABLE) as f:
            _ATEN.append({name: tuple(ovs) for name, *ovs in (line.split() for line in f)})
    return _ATEN[0]


class OpOverloadPacket:
    """``torch.ops.<ns>.<op>``: its overloads are attributes; calling it calls the op."""

    def __init__(self, ns, op, overloads):
        self._ns, self.__name__, self._overload_names = ns, op, overloads
        self._qualified_op_name = f'{ns}::{op}'
        self._cache = {}

    def overloads(self):
        return list(self._overload_names)

    def __getattr__(self, overload):
        if overload.startswith('_') or overload not in self._overload_names:
            raise AttributeError(f"The underlying op of '{self}' has no overload name '{overload}'")
        made = self._cache.get(overload)
        if made is None:
            made = self._cache[overload] = OpOverload(self, overload)
        return made

    def __call__(self, *args, **kwargs):
        return _plain(_implementation(self._ns, self.__name__, None)(*args, **kwargs))

    def __deepcopy__(self, memo):
        """The op itself, as PyTorch's (ptflops deep-copies a table keyed by ops)."""
        return self

    def __str__(self):
        return f'{self._ns}.{self.__name__}'

    def __repr__(self):
        return f"<OpOverloadPacket(op='{self}')>"


class OpOverload:
    """``torch.ops.<ns>.<op>.<overload>``: the one operator PyTorch code names (and keys tables by)."""

    def __init__(self, packet, overload):
        self.overloadpacket, self._overloadname, self.namespace = packet, overload, packet._ns
        self.__name__ = f'{packet.__name__}.{overload}'

    def name(self):
        return self.overloadpacket._qualified_op_name + ('' if self._overloadname == 'default' else
                                                          f'.{self._overloadname}')

    def __call__(self, *args, **kwargs):
        packet = self.overloadpacket
        return _plain(_implementation(packet._ns, packet.__name__, self._overloadname)(*args, **kwargs))

    def __deepcopy__(self, memo):
        return self

    def __str__(self):
        return f'{self.overloadpacket}.{self._overloadname}'

    def __repr__(self):
        return f"<OpOverload(op='{self.overloadpacket}', overload='{self._overloadname}')>"


def _implementation(ns, op, overload):
    """The function that computes ``ns::op`` (``overload``; None for the packet): a torch.library definition, or
    for aten ember's op of that name (an aten-only op from ``_ATEN_ONLY``, else torch's function, else the
    Tensor method, as the in-place ``add_``)."""
    defined = _DEFINED.get((ns, op))
    if defined is not None:
        return defined.get(overload) or next(iter(defined.values()))
    import ember
    fn = _ATEN_ONLY.get(op) or _public(ember, op) or _public(ember.Tensor, op)
    if fn is None:
        return _missing(f'torch.ops.{ns}.{op}')
    return fn


def _plain(out):
    """An operator's result: several tensors as a plain tuple (aten's ``max.dim`` gives no named tuple)."""
    return tuple(out) if isinstance(out, tuple) and type(out) is not tuple else out


def _public(owner, name):
    """``owner.name`` when it is a function (not a class or a module), else None."""
    fn = getattr(owner, name, None) if not name.startswith('_') else None
    return fn if callable(fn) and not isinstance(fn, type) else None


def _missing(name):
    def missing(*args, **kwargs):
        raise NotImplementedError(unsupported(name, 'ember has no implementation of this aten operator'))
    return missing


def _slice(self, dim=0, start=None, end=None, step=1):
    """``aten.slice.Tensor``: ``self[start:end:step]`` along ``dim``."""
    return self[(slice(None),) * (dim % max(self.dim(), 1)) + (slice(start, end, step),)]


def _index(self, indices):
    """``aten.index.Tensor``: advanced indexing by a list of index tensors (None for a whole dimension)."""
    return self[tuple(slice(None) if i is None else i for i in indices)]


def _to_copy(self, *, dtype=None, layout=None, device=None, pin_memory=None, non_blocking=False,
             memory_format=None):
    """``aten._to_copy``: a copy of ``self`` converted to ``dtype``/``device`` (what ``Tensor.to`` computes)."""
    if layout is not None or pin_memory:
        raise NotImplementedError(unsupported('torch.ops.aten._to_copy', 'layout and pin_memory arguments'))
    kwargs = {} if memory_format is None else {'memory_format': memory_format}
    return self.to(device=device, dtype=dtype, non_blocking=non_blocking, copy=True, **kwargs)


# aten operators that have no torch function or Tensor method of the same name
_ATEN_ONLY = {'slice': _slice, 'index': _index, '_to_copy': _to_copy,
              'alias': lambda self: self.view_as(self), '_pin_memory': lambda self, device=None: self.pin_memory(),
              '_softmax': lambda self, dim, half_to_float: self.softmax(dim),
              '_log_softmax': lambda self, dim, half_to_float: self.log_softmax(dim)}
