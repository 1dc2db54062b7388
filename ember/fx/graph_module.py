"""``GraphModule``: an ``nn.Module`` whose ``forward`` is Python code generated from a Graph, holding
the submodules, parameters and buffers the graph refers to."""
import linecache

from .graph import Graph, _custom_builtins

_next_id = [0]


def _exec_with_source(src, globals_):
    """Run generated source under a unique fake filename registered with linecache (for tracebacks)."""
    _next_id[0] += 1
    key = f"<eval_with_key>.{_next_id[0]}"
    linecache.cache[key] = (len(src), None, src.splitlines(True), key)
    exec(compile(src, key, "exec"), globals_)


def _forward_from_src(src, globals_):
    globals_copy = dict(globals_)
    _exec_with_source(src, globals_copy)
    return globals_copy["forward"]


def _copy_attr(from_module, to_module, target):
    """Copy ``from_module``'s attribute at dotted path ``target`` into ``to_module`` (same path)."""
    import ember
    *prefix, field = target.split(".")
    for item in prefix:
        f = getattr(from_module, item)
        t = getattr(to_module, item, None)
        if f is t:
            return
        if t is None:
            t = ember.nn.Module()
            setattr(to_module, item, t)
        from_module, to_module = f, t
    orig = getattr(from_module, field)
    if isinstance(orig, ember.Tensor) and not isinstance(orig, ember.nn.Parameter):
        to_module.register_buffer(field, orig)
    else:
        setattr(to_module, field, orig)


def _assign_attr(from_obj, to_module, target):
    """Set ``from_obj`` at dotted path ``target`` of ``to_module``, creating empty Modules on the way."""
    import ember
    *prefix, field = target.split(".")
    for item in prefix:
        t = getattr(to_module, item, None)
        if t is None:
            t = ember.nn.Module()
            setattr(to_module, item, t)
        to_module = t
    if isinstance(from_obj, ember.Tensor) and not isinstance(from_obj, ember.nn.Parameter):
        to_module.register_buffer(field, from_obj)
    else:
        setattr(to_module, field, from_obj)


def _module_base():
    import ember
    return ember.nn.Module


def _make_class():
    Module = _module_base()

    class GraphModule(Module):
        """A Module generated from a Graph: ``GraphModule(root, graph)`` copies from ``root`` (a Module or a
        dict) the submodules and attributes the graph's ``call_module``/``get_attr`` nodes refer to, and
        generates ``forward`` from the graph (``.code`` shows it; call ``recompile()`` after editing the graph)."""

        def __new__(cls, *args, **kwargs):
            # Each instance gets its own class, so that its generated forward is its class's method.
            for t in cls.__mro__:
                c = t.__qualname__.split(".")[-1]
                if c != "GraphModuleImpl":
                    cls = t
                    break

            class GraphModuleImpl(cls):
                pass
            return super().__new__(GraphModuleImpl)

        def __init__(self, root, graph, class_name="GraphModule"):
            super().__init__()
            import ember
            self.__class__.__name__ = class_name
            if isinstance(root, ember.nn.Module):
                if hasattr(root, "training"):
                    self.training = root.training
                for node in graph.nodes:
                    if node.op in ("get_attr", "call_module"):
                        _copy_attr(root, self, node.target)
            elif isinstance(root, dict):
                for node in graph.nodes:
                    if node.op in ("get_attr", "call_module"):
                        if node.target not in root:
                            raise RuntimeError(f"Node {node} referenced target {node.target} but that target "
                                               "was not provided in ``root``!")
                        _assign_attr(root[node.target], self, node.target)
            else:
                raise RuntimeError("Unsupported type " + str(root) + " passed for root!")
            self.graph = graph
            self._tracer_cls = graph._tracer_cls

        @property
        def graph(self):
            return self._graph

        @graph.setter
        def graph(self, g):
            if not isinstance(g, Graph):
                raise AssertionError(f"Expected a Graph instance, but got {type(g)}")
            self.__dict__["_graph"] = g
            g.owning_module = self
            self.recompile()

        @property
        def code(self):
            """The Python source of the generated ``forward``."""
            if not hasattr(self, "_code"):
                raise RuntimeError("Code has not been generated! Please report a bug to PyTorch")
            return self._code

        def recompile(self):
            """Regenerate ``forward`` from ``self.graph`` (after editing the graph)."""
            python_code = self._graph.python_code(root_module="self")
            self.__dict__["_code"] = python_code.src
            globals_ = dict(_custom_builtins())
            globals_.update(python_code.globals)
            cls = type(self)
            cls.forward = _forward_from_src(self._code, globals_)
            return python_code

        def __call__(self, *args, **kwargs):
            return super().__call__(*args, **kwargs)

        def add_submodule(self, target, m):
            """Install ``m`` at dotted path ``target``, creating empty Modules on the way; False if an
            attribute on the way is not a Module."""
            import ember
            *prefix, field = target.split(".")
            mod = self
            for item in prefix:
                submod = getattr(mod, item, None)
                if submod is None:
                    submod = ember.nn.Module()
                    setattr(mod, item, submod)
                if not isinstance(submod, ember.nn.Module):
                    return False
                mod = submod
            mod.add_module(field, m)
            return True

        def delete_submodule(self, target):
            """Remove the submodule at dotted path ``target``; False if there is none."""
            *path, field = target.split(".")
            mod = self
            for item in path:
                if not hasattr(mod, item):
                    return False
                mod = getattr(mod, item)
            if not hasattr(mod, field):
                return False
            delattr(mod, field)
            return True

        def delete_all_unused_submodules(self):
            """Remove the submodules no ``call_module``/``get_attr`` node uses."""
            used = set()
            for node in self.graph.nodes:
                if node.op in ("call_module", "get_attr"):
                    atoms = node.target.split(".")
                    used.update(".".join(atoms[:i + 1]) for i in range(len(atoms)))
            for name, _ in list(self.named_modules()):
                if name and name not in used:
                    self.delete_submodule(name)

        def print_readable(self, print_output=True):
            """The generated code with the class around it (as PyTorch prints it)."""
            name = self._get_name()
            body = "\n".join("    " + line if line else line for line in self._code.split("\n"))
            out = f"class {name}(torch.nn.Module):\n{body}"
            if print_output:
                print(out)
            return out

        def __str__(self):
            orig = super().__str__()
            reminder = "# To see more debug info, please use `graph_module.print_readable()`"
            return "\n".join([orig, self._code, reminder])

        def __copy__(self):
            res = GraphModule(self, self.graph)
            res.__dict__ = self.__dict__.copy()
            return res

        def __deepcopy__(self, memo):
            import copy
            res = Module.__new__(type(self))
            memo[id(self)] = res
            fake_mod = Module()
            fake_mod.__dict__ = copy.deepcopy(self.__dict__, memo)
            GraphModule.__init__(res, fake_mod, fake_mod.__dict__["_graph"])
            return res

    GraphModule.__module__ = "ember.fx.graph_module"
    return GraphModule


GraphModule = _make_class()

__all__ = ["GraphModule"]
