"""``ember.jit._trace`` (``torch.jit._trace``): where PyTorch's tracing classes and functions live, so their reprs
name it and code importing from it (``from torch.jit._trace import TracerWarning``) runs."""
from . import (ScriptModule, TopLevelTracedModule, TracedModule, TracerWarning, TracingCheckError, is_scripting,
               is_tracing, script, trace, trace_module)

__all__ = ['ScriptModule', 'TopLevelTracedModule', 'TracedModule', 'TracerWarning', 'TracingCheckError',
           'is_scripting', 'is_tracing', 'script', 'trace', 'trace_module']
