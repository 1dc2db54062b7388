"""``torch.library``: Python-defined operators, reached as ``torch.ops.<ns>.<op>`` (ember/_torch_ops.py).

``custom_op`` wraps a function as an operator whose kernel runs below autograd, differentiable once a formula is
given with ``register_autograd``; ``Library.define``/``impl`` (and the module-level ``define``/``impl``) declare an
operator by its schema and give it a kernel. ember has one backend, so a kernel for any dispatch key that runs
on CPU tensors (CPU, CompositeImplicitAutograd, CompositeExplicitAutograd...) is the operator's; fake (meta)
kernels are kept but never needed. Operators of PyTorch's own namespaces (aten) cannot be overridden.
"""
import inspect

from . import _torch_ops
from .autograd.function import Function

__all__ = ['Library', 'impl', 'define', 'custom_op', 'triton_op', 'register_autograd', 'register_fake', 'register_kernel',
           'impl_abstract', 'infer_schema', 'get_ctx']

_DEF_NAMESPACES = set()   # namespaces a Library(ns, 'DEF') owns (PyTorch allows one)
_OPS = {}                 # 'ns::name.overload' -> _Operator
_KINDS = ('DEF', 'IMPL', 'FRAGMENT')
_META_KEYS = ('meta', 'Meta')


class _Operator:
    """One operator overload: its kernel, autograd formula and fake kernel; calling it dispatches."""

    def __init__(self, ns, name, overload, params=None, schema=''):
        self.ns, self.name, self.overload, self.params, self.schema = ns, name, overload, params, schema
        self.kernel = self.fake = self.backward = self.setup_context = self.autograd_kernel = None
        self._function, self.devices = None, None

    @property
    def dotted(self):
        return f'{self.ns}.{self.name}.{self.overload}'

    def __call__(self, *args, **kwargs):
        if self.autograd_kernel is not None:   # an Autograd/AutogradCPU kernel differentiates itself
            return self.autograd_kernel(*args, **kwargs)
        if self.kernel is None:
            where = (f'its kernel is for device types {self.devices!r} only, and ember runs on the CPU; register '
                     "a CPU kernel with register_kernel('cpu')" if self.devices is not None else
                     'no kernel was registered for it (torch.library.impl or Library.impl)')
            raise NotImplementedError(f"Could not run '{self.ns}::{self.name}' with arguments from the 'CPU' "
                                      f"backend. This could be because the operator doesn't exist for this backend: "
                                      f'{where}.')
        if self.params is None:   # a schema-defined op: its kernel is called as PyTorch code calls it
            return self.kernel(*args, **kwargs)
        bound = self.params.bind(*args, **kwargs)
        bound.apply_defaults()
        return self._autograd().apply(*bound.arguments.values())

    @property
    def keyword_only(self):
        """The names of the keyword-only parameters (PyTorch passes them to ``setup_context`` apart)."""
        return [p.name for p in self.params.parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]

    def run_kernel(self, *inputs):
        """The kernel on inputs in signature order, keyword-only ones passed by name."""
        positional, named = [], {}
        for value, param in zip(inputs, self.params.parameters.values()):
            if param.kind is inspect.Parameter.KEYWORD_ONLY:
                named[param.name] = value
            else:
                positional.append(value)
        return self.kernel(*positional, **named)

    def _autograd(self):
        """The autograd.Function that runs the kernel below autograd and differentiates by the registered formula
        (PyTorch's node name: GeneratedBackwardFor_<ns>_<op>_<overload>Backward)."""
        if self._function is None:
            op = self
            self._function = type(f'GeneratedBackwardFor_{self.ns}_{self.name}_{self.overload}', (Function,), {
                'forward': staticmethod(lambda *inputs: op.run_kernel(*inputs)),
                'setup_context': staticmethod(lambda ctx, inputs, output: op.set_up(ctx, inputs, output)),
                'backward': staticmethod(lambda ctx, *grads: op.gradients(ctx, grads)),
            })
        return self._function

    def set_up(self, ctx, inputs, output):
        """The user's ``setup_context``: the positional inputs, and the keyword-only ones by name if any."""
        if self.setup_context is None:
            return
        names = self.keyword_only
        positional = inputs[:len(inputs) - len(names)]
        if names:
            self.setup_context(ctx, positional, output,
                               keyword_only_inputs=dict(zip(names, inputs[len(positional):])))
        else:
            self.setup_context(ctx, positional, output)

    def gradients(self, ctx, grads):
        """The user's backward: one gradient per positional input (none for keyword-only ones)."""
        if self.backward is None:
            raise RuntimeError(f'Trying to backward through {self.dotted} but no autograd formula was registered. '
                               'Please use register_autograd to add one.')
        out = self.backward(ctx, *grads)
        return (out if isinstance(out, tuple) else (out,)) + (None,) * len(self.keyword_only)


def _parse_name(qualname, what):
    """``'ns::name.overload'`` -> (ns, name, overload)."""
    ns, sep, rest = qualname.partition('::')
    if not sep or not ns or not rest:
        raise ValueError(f'{what}: expected a qualified name "namespace::name", got {qualname!r}')
    name, _, overload = rest.partition('.')
    return ns, name, overload or 'default'


def _register(op):
    key = f'{op.ns}::{op.name}.{op.overload}'
    if key in _OPS:
        raise RuntimeError(f'Tried to register an operator ({op.ns}::{op.schema or op.name}) with the same name and '
                           'overload name multiple times. Each overload\'s schema should only be registered with a single call '
                           'to def().')
    _OPS[key] = op
    _torch_ops.define(op.ns, op.name, op.overload, op)
    return op


def _lookup(op, what):
    """The _Operator that ``op`` (a qualified name, an OpOverload or a CustomOpDef) names."""
    if isinstance(op, CustomOpDef):
        return op._op
    if isinstance(op, _torch_ops.OpOverload):
        op = f'{op.namespace}::{op.overloadpacket.__name__}.{op._overloadname}'
    ns, name, overload = _parse_name(op, what)
    found = _OPS.get(f'{ns}::{name}.{overload}')
    if found is None:
        if ns in ('aten', 'prims', 'prim'):
            raise NotImplementedError(f'{what}({op!r}): PyTorch\'s own operators are ember\'s functions and cannot '
                                      'be given other kernels or formulas; this is not supported by ember yet')
        raise RuntimeError(f'{what}: operator {ns}::{name}.{overload} does not exist; define it first '
                           '(torch.library.custom_op, torch.library.define or Library.define)')
    return found


def infer_schema(prototype_function, /, *, mutates_args, op_name=None):
    """PyTorch's check that the operator's every parameter is annotated; returns the signature's text."""
    sig = inspect.signature(prototype_function)
    for param in sig.parameters.values():
        if param.annotation is inspect.Parameter.empty:
            raise ValueError(f'infer_schema(func): Parameter {param.name} must have a type annotation. Got func '
                             f'with signature {sig})')
    return str(sig)


class CustomOpDef:
    """What ``custom_op`` returns: calls the operator; its ``register_*`` methods add a formula or kernels."""

    def __init__(self, ns, name, fn):
        self._namespace, self._name, self._init_fn = ns, name, fn
        self._op = _register(_Operator(ns, name, 'default', inspect.signature(fn)))
        self._op.kernel = fn
        self.__name__ = name

    def __call__(self, *args, **kwargs):
        return self._op(*args, **kwargs)

    def __repr__(self):
        return f'<CustomOpDef({self._namespace}::{self._name})>'

    @property
    def _opoverload(self):
        return getattr(getattr(_torch_ops.namespace(self._namespace), self._name), 'default')

    def register_autograd(self, backward, /, *, setup_context=None):
        """Differentiate the operator by ``backward(ctx, *grads)``, after ``setup_context(ctx, inputs, output)``."""
        self._op.backward, self._op.setup_context = backward, setup_context

    def register_fake(self, fn, /):
        """Keep the fake (meta) kernel; ember never runs without real data, so it is not called."""
        self._op.fake = fn
        return fn

    def register_kernel(self, device_types, fn=None, /):
        """Replace the kernel (``device_types``: 'cpu' or None, ember's one device); usable as a decorator."""
        def register(f):
            if _runs_on_cpu(device_types):
                self._op.kernel = f
            return f
        return register if fn is None else register(fn)


def _runs_on_cpu(device_types):
    """Whether a kernel declared for ``device_types`` (a name, a list of names, or None for every device) serves
    CPU tensors: one declared for other devices only is kept by PyTorch for them, which ember does not have."""
    types = [device_types] if isinstance(device_types, str) or device_types is None else list(device_types)
    return any(t in (None, 'cpu') for t in types)


def custom_op(name, fn=None, /, *, mutates_args, device_types=None, schema=None, tags=None):
    """``torch.library.custom_op``: make ``fn`` the operator ``torch.ops.<ns>.<name>`` (a decorator without
    ``fn``). ``mutates_args`` is taken as declared; ember does not check it. An operator for other devices than the
    CPU (``device_types='cuda'``) is defined without a kernel, and calling it raises, as in PyTorch's CPU build."""
    def wrap(f):
        ns, op_name, _ = _parse_name(name, 'custom_op')
        if schema is None:
            infer_schema(f, mutates_args=mutates_args)
        made = CustomOpDef(ns, op_name, f)
        if not _runs_on_cpu(device_types):
            made._op.kernel, made._op.devices = None, device_types
        return made
    return wrap if fn is None else wrap(fn)


def triton_op(name, fn=None, /, *, mutates_args, schema=None):
    """``torch.library.triton_op``: a custom operator whose body calls triton kernels through ``wrap_triton``;
    ember has no triton, so it is ``custom_op`` over the body (spikingjelly defines its neuron ops with it, and
    gives them CPU kernels)."""
    return custom_op(name, fn, mutates_args=mutates_args, schema=schema)


def register_autograd(op, backward, /, *, setup_context=None, lib=None):
    """Give operator ``op`` (a name, OpOverload or CustomOpDef) the autograd formula ``backward``."""
    found = _lookup(op, 'register_autograd')
    if found.params is None:
        raise NotImplementedError(f'register_autograd({op!r}): formulas for operators defined by a schema '
                                  '(Library.define) are not supported by ember yet; use torch.library.custom_op')
    found.backward, found.setup_context = backward, setup_context


def register_fake(op, func=None, /, *, lib=None, _stacklevel=1, allow_override=True):
    """Keep ``op``'s fake (meta) kernel (never called by ember); a decorator without ``func``."""
    def register(f):
        _lookup(op, 'register_fake').fake = f
        return f
    return register if func is None else register(func)


impl_abstract = register_fake


def register_kernel(op, device_types, func=None, /, *, lib=None):
    """Replace ``op``'s kernel for ``device_types`` (kept only if it serves the CPU); a decorator without ``func``."""
    def register(f):
        if _runs_on_cpu(device_types):
            _lookup(op, 'register_kernel').kernel = f
        return f
    return register if func is None else register(func)


def get_ctx():
    raise NotImplementedError('torch.library.get_ctx is not supported by ember yet (it serves fake kernels, which '
                              'ember never runs)')


def _schema_name(schema):
    """The ``name`` or ``name.overload`` a schema ``name.overload(args) -> out`` declares."""
    head = schema.partition('(')[0].strip()
    if not head or not schema.strip().startswith(head) or '(' not in schema:
        raise RuntimeError(f'Expected a schema "name(arguments) -> returns", got {schema!r}')
    return head


class Library:
    """``torch.library.Library(ns, kind)``: 'DEF' owns the namespace (one per namespace), 'FRAGMENT' adds to it,
    'IMPL' gives kernels to its operators."""

    def __init__(self, ns, kind, dispatch_key=''):
        if kind not in _KINDS:
            raise ValueError(f'Unsupported kind: {kind}')
        if kind == 'DEF' and ns in _DEF_NAMESPACES:
            raise RuntimeError(f'Only a single TORCH_LIBRARY can be used to register the namespace {ns}; please put '
                               'all of your definitions in a single TORCH_LIBRARY block.')
        if kind == 'DEF':
            _DEF_NAMESPACES.add(ns)
        self.ns, self.kind, self.dispatch_key = ns, kind, dispatch_key
        self._defined = []

    def __repr__(self):
        return f'Library(kind={self.kind}, ns={self.ns}, dispatch_key={self.dispatch_key})>'

    def define(self, schema, alias_analysis='', *, tags=()):
        """Declare the operator ``schema`` names (``"name.overload(Tensor x) -> Tensor"``); returns its name
        (without the overload, as PyTorch)."""
        if self.kind == 'IMPL':
            raise RuntimeError('define() cannot be called on a Library of kind IMPL')
        head = _schema_name(schema)
        name, _, overload = head.partition('.')
        self._defined.append(_register(_Operator(self.ns, name, overload or 'default', schema=schema.strip())))
        return name

    def impl(self, op_name, fn, dispatch_key='', *, with_keyset=False, allow_override=True):
        """Make ``fn`` the kernel of ``op_name`` (in this library's namespace, or an OpOverload)."""
        if with_keyset:
            raise NotImplementedError('Library.impl(with_keyset=True) is not supported by ember yet (it has no '
                                      'dispatch key sets)')
        qualname = op_name if isinstance(op_name, _torch_ops.OpOverload) else f'{self.ns}::{op_name}'
        _give_kernel(_lookup(qualname, 'Library.impl'), dispatch_key or self.dispatch_key, fn)

    def _destroy(self):
        """Remove the operators this library defined (PyTorch does so when the Library is collected)."""
        for op in self._defined:
            _OPS.pop(f'{op.ns}::{op.name}.{op.overload}', None)
            _torch_ops.undefine(op.ns, op.name, op.overload)
        self._defined = []
        if self.kind == 'DEF':
            _DEF_NAMESPACES.discard(self.ns)


def _give_kernel(op, key, fn):
    """``fn`` as ``op``'s kernel for dispatch key ``key``: the fake one for Meta, the one that differentiates
    itself for Autograd/AutogradCPU (it runs instead of the registered formula, as PyTorch dispatches CPU tensors),
    the kernel for the CPU and the composite keys; one for another device (spikingjelly's 'CUDA') is never reached
    on ember's one device, so it is not kept."""
    if key in _META_KEYS:
        op.fake = fn
    elif key in ('Autograd', 'AutogradCPU'):
        op.autograd_kernel = fn
    elif key in ('', 'CPU') or key.startswith('Composite'):
        op.kernel = fn


_FRAGMENTS = {}   # ns -> the FRAGMENT Library the module-level define() uses


def define(qualname, schema, *, lib=None, tags=()):
    """Declare operator ``qualname`` (``"ns::name"``) with ``schema`` (``"(Tensor x) -> Tensor"``)."""
    ns, name, overload = _parse_name(qualname, 'define')
    if lib is None:
        lib = _FRAGMENTS.setdefault(ns, Library(ns, 'FRAGMENT'))
    head = name if overload == 'default' else f'{name}.{overload}'
    lib.define(head + schema)


def impl(qualname, types, func=None, *, lib=None):
    """Make ``func`` the kernel of ``qualname`` for device ``types`` ('cpu', 'CPU', 'default'...); a decorator
    without ``func``."""
    keys = [types] if isinstance(types, str) else list(types)

    def register(f):
        for key in keys:
            if key in _META_KEYS:
                _lookup(qualname, 'impl').fake = f
            elif key.lower() in ('cpu', 'default') or key.startswith('Composite'):
                _lookup(qualname, 'impl').kernel = f
            else:
                raise NotImplementedError(f'torch.library.impl({qualname!r}, {key!r}): kernels for {key} are not '
                                          'supported by ember yet (ember runs on the CPU only)')
        return f
    return register if func is None else register(func)
