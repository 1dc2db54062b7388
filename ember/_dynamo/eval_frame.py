"""``torch.compile`` without a compiler. ember runs every function and module as written; ``compile`` refuses the
options PyTorch refuses and wraps a module as PyTorch does, so a compiled model's ``state_dict`` has PyTorch's
``_orig_mod.`` keys and its checkpoints load in either library."""
from ..nn.modules.module import Module
from .exc import InvalidBackend

MODES = ('default', 'lite', 'reduce-overhead', 'max-autotune-no-cudagraphs', 'max-autotune')
# PyTorch's registered backends with their tags (list_backends leaves out 'debug' and 'experimental' ones)
BACKEND_TAGS = {'inductor': (), 'cudagraphs': (), 'openxla': (), 'tvm': (), 'openxla_eval': ('experimental',),
                **{name: ('debug',) for name in (
                    'eager', 'aot_eager', 'aot_eager_decomp_partition', 'aot_eager_decomp_partition_crossref',
                    'aot_eager_decomp_partition_with_mode', 'aot_eager_default_partitioner', 'aot_ts', 'ts',
                    'eager_debug', 'eager_noexcept', 'pre_dispatch_eager', 'invoke_subgraph',
                    'dynamo_minifier_backend', 'dynamo_accuracy_minifier_backend')}}
BACKENDS = tuple(BACKEND_TAGS)


class OptimizeContext:
    """``compiled.dynamo_ctx``: the backend, mode and options ``torch.compile`` was given (ember compiles
    nothing with them; code such as skorch's tests checks for the attribute to tell a compiled module)."""

    def __init__(self, backend, mode, options):
        self.callback, self.mode, self.options = backend, mode, options


class OptimizedModule(Module):
    """What ``torch.compile(module)`` returns: the module as the submodule ``_orig_mod``, called unchanged; the
    attributes the wrapper lacks are the original module's (``compiled.weight``)."""

    def __init__(self, mod, dynamo_ctx=None):
        super().__init__()
        self._orig_mod = mod
        self.dynamo_ctx = dynamo_ctx if dynamo_ctx is not None else OptimizeContext('inductor', None, None)

    def forward(self, *args, **kwargs):
        return self._orig_mod(*args, **kwargs)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name == '_orig_mod' or '_modules' not in self.__dict__:
                raise
            return getattr(self._modules['_orig_mod'], name)


def compile_(model, backend, mode, options, disable):
    """Check the options as PyTorch does, then return ``model`` (a module wrapped in ``OptimizedModule``), or a
    decorator doing so when ``model`` is None."""
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same time.")
    if mode is not None and mode not in MODES:
        raise RuntimeError(f'Unrecognized mode={mode}, should be one of: {", ".join(MODES)}')
    if isinstance(backend, str) and backend not in BACKENDS:
        raise InvalidBackend(backend)
    ctx = OptimizeContext(backend, mode, options)
    if model is None:
        return lambda m: _wrap(m, disable, ctx)
    return _wrap(model, disable, ctx)


def _wrap(model, disable, ctx):
    return OptimizedModule(model, ctx) if isinstance(model, Module) and not disable else model
