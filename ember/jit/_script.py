"""``ember.jit._script`` (``torch.jit._script``): where PyTorch's scripting classes and functions live, so their
reprs name it and code importing from it (``from torch.jit._script import RecursiveScriptModule``) runs."""
from . import (Attribute, CompilationUnit, RecursiveScriptModule, ScriptFunction, ScriptModule, ScriptWarning,
               interface, script, script_method)

__all__ = ['Attribute', 'CompilationUnit', 'RecursiveScriptModule', 'ScriptFunction', 'ScriptModule',
           'ScriptWarning', 'interface', 'script', 'script_method']
