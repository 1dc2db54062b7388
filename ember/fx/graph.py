"""``Graph``: the list of Nodes that fx records, with editing (insert points, erase, dead-code elimination),
checking (``lint``), printing (``print(graph)``, ``print_tabular``) and Python code generation."""
import builtins
import contextlib
import copy
import enum
import keyword
import math
import re
import types
import typing
import warnings

from .node import Node, _LEGAL_OPS, _get_qualified_name, _type_repr, map_arg

# typing's generics name their builtin origin; generated code writes typing's name back, as PyTorch's does
_TYPING_ORIGINS = {list: typing.List, dict: typing.Dict, set: typing.Set, frozenset: typing.FrozenSet,
                   tuple: typing.Tuple}

_name_regex = re.compile(r"^([a-zA-Z_][0-9a-zA-Z_]*?)(?:_(\d+))?$")
_illegal_char_regex = re.compile("[^0-9a-zA-Z_]+")
_snake_case_sub = re.compile(r"(?<=[a-z])([A-Z])")


def _custom_builtins():
    """Names every generated forward can use without an import (``torch`` is ember)."""
    import ember
    return {"inf": math.inf, "nan": math.nan, "NoneType": type(None), "torch": ember, "device": ember.device}


_illegal_names = {k: object() for k in keyword.kwlist}
_illegal_names.update(builtins.__dict__)
for _name in ("torch", "device", "fx_pytree", "pytree"):
    _illegal_names[_name] = object()
_illegal_names.update(inf=math.inf, nan=math.nan, NoneType=type(None))  # their own objects keep the plain name

magic_methods = {
    "add": "{} + {}", "sub": "{} - {}", "mul": "{} * {}", "floordiv": "{} // {}", "truediv": "{} / {}",
    "div": "{} / {}", "mod": "{} % {}", "pow": "{} ** {}", "lshift": "{} << {}", "rshift": "{} >> {}",
    "and_": "{} & {}", "or_": "{} | {}", "xor": "{} ^ {}", "getitem": "{}[{}]", "matmul": "{} @ {}",
}
reflectable_magic_methods = dict(magic_methods)
magic_methods = {
    "eq": "{} == {}", "ne": "{} != {}", "lt": "{} < {}", "gt": "{} > {}", "le": "{} <= {}", "ge": "{} >= {}",
    "pos": "+{}", "neg": "-{}", "invert": "~{}", **reflectable_magic_methods,
}


def _snake_case(s):
    return _snake_case_sub.sub(r"_\1", s).lower()


def _is_magic(x):
    return x.startswith("__") and x.endswith("__")


def _is_from_torch(obj):
    module = getattr(obj, "__module__", None)
    return isinstance(module, str) and (module == "ember" or module.startswith("ember.")) \
        and not module.startswith("ember._dynamo")


class _Namespace:
    """Unique names for objects: one name per object, never a Python keyword or a builtin it is not."""

    def __init__(self):
        self._obj_to_name = {}
        self._used_names = set()
        self._base_count = {}

    def create_name(self, candidate, obj):
        if obj is not None and obj in self._obj_to_name:
            return self._obj_to_name[obj]
        match = _name_regex.match(candidate)
        if match is None:
            candidate = _illegal_char_regex.sub("_", candidate) or "_unnamed"
            if candidate[0].isdigit():
                candidate = f"_{candidate}"
            match = _name_regex.match(candidate)
        base, num = match.group(1, 2)
        if num is None or candidate in self._used_names:
            num = self._base_count.get(base, 0)
            if _illegal_names.get(candidate, obj) is not obj:
                num += 1
                candidate = f"{base}_{num}"
        else:
            num = int(num)
        while candidate in self._used_names:
            num += 1
            candidate = f"{base}_{num}"
        self._used_names.add(candidate)
        self._base_count[base] = num
        if obj is not None:
            self._obj_to_name[obj] = candidate
        return candidate

    def associate_name_with_obj(self, name, obj):
        self._obj_to_name.setdefault(obj, name)


class PythonCode:
    """Generated source of a forward and the globals it runs with."""

    def __init__(self, src, globals_):
        self.src = src
        self.globals = globals_


def _format_target(base, target):
    r = base
    for e in target.split("."):
        r = f'{r}.{e}' if e.isidentifier() else f'getattr({r}, "{e}")'
    return r


class _InsertPoint:
    def __init__(self, graph, new_insert):
        self.graph = graph
        self.orig_insert, graph._insert = graph._insert, new_insert

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        self.graph._insert = self.orig_insert


class _node_list:
    def __init__(self, graph, direction="_next"):
        self.graph = graph
        self.direction = direction

    def __len__(self):
        return self.graph._len

    def __iter__(self):
        return _iter_nodes(self.graph._root, self.direction)

    def __reversed__(self):
        return _iter_nodes(self.graph._root, "_prev" if self.direction == "_next" else "_next")


def _iter_nodes(root, direction):
    """Walk the list from ``root``; a node erased while iterating is skipped, as in PyTorch."""
    cur = getattr(root, direction)
    while cur is not root:
        if not cur._erased:
            yield cur
        cur = getattr(cur, direction)


class CodeGen:
    """Turns a Graph's nodes into the source of a Python ``forward``."""

    def __init__(self):
        self._body_transformer = None
        self._func_name = "forward"

    def gen_fn_def(self, free_vars, maybe_return_annotation):
        if not free_vars or free_vars[0] != "self":
            free_vars.insert(0, "self")
        return f"def {self._func_name}({', '.join(free_vars)}){maybe_return_annotation}:"

    def generate_output(self, output_args, repr_fn=repr):
        return f"return {repr_fn(output_args)}"

    def process_inputs(self, *args):
        return args

    def process_outputs(self, outputs):
        return outputs

    def additional_globals(self):
        return []

    def _gen_python_code(self, nodes, root_module, namespace):
        return _Emitter(self, nodes, root_module, namespace).python_code()


class _Emitter:
    """One code-generation pass: the body lines, the globals and the free variables."""

    def __init__(self, codegen, nodes, root_module, namespace):
        self.codegen, self.nodes, self.root_module, self.namespace = codegen, nodes, root_module, namespace
        self.free_vars, self.body, self.globals_, self.wrapped_fns = [], [], {}, {}
        self.return_annotation = ""

    def add_global(self, name_hint, obj):
        if _is_from_torch(obj) and obj is not self.globals_.get("device"):
            return _get_qualified_name(obj)
        global_name = self.namespace.create_name(name_hint, obj)
        self.globals_.setdefault(global_name, obj)
        return global_name

    def type_repr(self, o):
        """An annotation as generated code writes it: generics by their origin and arguments, each a global
        (``typing.Optional[Tensor]`` -> ``typing_Union[torch.Tensor,NoneType]``), as PyTorch's codegen writes them."""
        if o == ():
            return "()"
        if isinstance(o, types.UnionType):
            return "|".join(self.type_repr(arg) for arg in typing.get_args(o))
        origin = getattr(o, "__origin__", None)
        if origin is not None:
            if isinstance(o, typing._GenericAlias):  # pre-PEP 585 generics (typing.List) keep typing's name
                origin = _TYPING_ORIGINS.get(origin, origin)
            name = self.add_global(_type_repr(origin), origin)
            args = typing.get_args(o)
            return f"{name}[{','.join(self.type_repr(a) for a in args)}]" if args else name
        return self.add_global(_type_repr(o), o)

    def repr_arg(self, arg):
        import ember
        if isinstance(arg, Node):
            return repr(arg)
        if isinstance(arg, tuple) and hasattr(arg, "_fields"):
            name = self.add_global(_get_qualified_name(type(arg)), type(arg))
            return f"{name}{repr(tuple(arg))}"
        if isinstance(arg, enum.Enum):
            return f"{self.add_global(type(arg).__name__, type(arg))}.{arg.name}"
        if isinstance(arg, ember.Tensor):
            return f"torch.Tensor(size={list(arg.size())}, dtype={str(arg.dtype).split('.')[-1]})"
        if isinstance(arg, tuple):
            if len(arg) == 1:
                return f"({self.repr_arg(arg[0])},)"
            return "(" + ", ".join(self.repr_arg(a) for a in arg) + ")"
        if isinstance(arg, list):
            return "[" + ", ".join(self.repr_arg(a) for a in arg) + "]"
        if isinstance(arg, slice):
            return f"slice({self.repr_arg(arg.start)}, {self.repr_arg(arg.stop)}, {self.repr_arg(arg.step)})"
        if isinstance(arg, ember.dtype):
            return f"torch.{str(arg).split('.')[-1]}"
        return repr(arg)

    def format_args(self, args, kwargs):
        res = [self.repr_arg(a) for a in args]
        res.extend(f"{k} = {self.repr_arg(v)}" for k, v in kwargs.items())
        return ", ".join(res)

    def python_code(self):
        for name, obj in _custom_builtins().items():
            self.add_global(name, obj)
        user_to_last_uses = {}
        seen = set()
        for node in reversed(self.nodes):
            for inp in node._input_nodes:
                if inp not in seen:
                    seen.add(inp)
                    user_to_last_uses.setdefault(node, []).append(inp)
        for node in self.nodes:
            self.emit(node)
            self.delete_unused(node, user_to_last_uses)
        if not self.body:
            self.body.append("pass\n")
        wrap_stmts = ""
        if self.wrapped_fns:
            from ._symbolic_trace import wrap
            wrap_name = self.add_global("wrap", wrap)
            wrap_stmts = "\n".join(f'{wrap_name}("{name}")' for name in self.wrapped_fns)
        body = self.body
        if self.codegen._body_transformer:
            body = self.codegen._body_transformer(body)
        for name, value in self.codegen.additional_globals():
            self.add_global(name, value)
        prologue = self.codegen.gen_fn_def(self.free_vars, self.return_annotation)
        code = "".join(body).lstrip("\n")
        code = "\n".join("    " + line for line in code.split("\n"))
        return PythonCode(f"\n{wrap_stmts}\n\n{prologue}\n{code}", self.globals_)

    def delete_unused(self, user, user_to_last_uses):
        if user.op == "placeholder":
            return
        if user.op == "output":
            self.body.append("\n")
            return
        to_delete = list(user_to_last_uses.get(user, []))
        if not user.users:
            to_delete.append(user)
        if to_delete:
            self.body.append(";  " + " = ".join([repr(n) for n in to_delete] + ["None"]) + "\n")
        else:
            self.body.append("\n")

    def emit(self, node):
        ann = "" if node.type is None else f" : {self.type_repr(node.type)}"
        op, body = node.op, self.body
        if op == "placeholder":
            default = "" if not node.args else f" = {self.repr_arg(node.args[0])}"
            self.free_vars.append(f"{node.target}{ann}{default}")
            raw_name = node.target.replace("*", "")
            if raw_name != repr(node):
                body.append(f"{repr(node)} = {raw_name}\n")
        elif op == "call_method":
            body.append(f"{repr(node)}{ann} = {_format_target(self.repr_arg(node.args[0]), node.target)}"
                        f"({self.format_args(node.args[1:], node.kwargs)})")
        elif op == "call_function":
            self.emit_call_function(node, ann)
        elif op == "call_module":
            body.append(f"{repr(node)}{ann} = {_format_target(self.root_module, node.target)}"
                        f"({self.format_args(node.args, node.kwargs)})")
        elif op == "get_attr":
            body.append(f"{repr(node)}{ann} = {_format_target(self.root_module, node.target)}")
        elif op == "output":
            if node.type is not None:
                self.return_annotation = f" -> {self.type_repr(node.type)}"
            body.append(self.codegen.generate_output(node.args[0], repr_fn=self.repr_arg))
        else:
            raise NotImplementedError(f"node: {node.op} {node.target}")

    def emit_call_function(self, node, ann):
        target = node.target
        if getattr(target, "__module__", "") == "_operator" and target.__name__ in magic_methods:
            self.body.append(f"{repr(node)}{ann} = "
                             f"{magic_methods[target.__name__].format(*(self.repr_arg(a) for a in node.args))}")
            return
        global_name = self.add_global(_get_qualified_name(target), target)
        if (global_name == "getattr" and len(node.args) == 2 and isinstance(node.args[1], str)
                and node.args[1].isidentifier()):
            self.body.append(f"{repr(node)}{ann} = {_format_target(self.repr_arg(node.args[0]), node.args[1])}")
            return
        self.body.append(f"{repr(node)}{ann} = {global_name}({self.format_args(node.args, node.kwargs)})")
        if node.meta.get("is_wrapped", False):
            self.wrapped_fns.setdefault(global_name)


class Graph:
    """The nodes fx records for one function, in execution order (see the module docstring)."""

    def __init__(self, owning_module=None, tracer_cls=None, tracer_extras=None):
        self._root = Node(self, "", "root", "", (), {})
        self._insert = self._root.prepend
        self._len = 0
        self._graph_namespace = _Namespace()
        self._owning_module = owning_module
        self._tracer_cls = tracer_cls
        self._tracer_extras = tracer_extras
        self._codegen = CodeGen()
        self._co_fields = {}

    @property
    def owning_module(self):
        return self._owning_module

    @owning_module.setter
    def owning_module(self, mod):
        self._owning_module = mod

    @property
    def nodes(self):
        return _node_list(self)

    def output_node(self):
        node = next(iter(reversed(self.nodes)))
        if node.op != "output":
            raise AssertionError(f"Expected output node, got op={node.op}")
        return node

    def find_nodes(self, *, op, target=None, sort=True):
        """The nodes with this ``op`` (and ``target`` when given), in graph order."""
        return [n for n in self.nodes if n.op == op and (target is None or n.target == target)]

    # -- building --------------------------------------------------------------------------------------
    def create_node(self, op, target, args=None, kwargs=None, name=None, type_expr=None):
        """Add a node at the current insert point (the end, unless inside ``inserting_before/after``)."""
        if op not in _LEGAL_OPS:
            raise AssertionError(f"op '{op}' is not in _legal_ops")
        args = () if not args else args
        if not isinstance(args, tuple):
            raise AssertionError(f"args must be a tuple, got {type(args)}")
        kwargs = {} if not kwargs else kwargs
        if not isinstance(kwargs, dict):
            raise AssertionError(f"kwargs must be a dict, got {type(kwargs)}")
        candidate = name if name is not None else self._target_to_str(target)
        name = self._graph_namespace.create_name(candidate, None)
        n = Node(self, name, op, target, args, kwargs, type_expr)
        self._graph_namespace.associate_name_with_obj(name, n)
        self._insert(n)
        self._len += 1
        return n

    def placeholder(self, name, type_expr=None, default_value=None):
        args = () if default_value is None else (default_value,)
        return self.create_node("placeholder", name, args=args, type_expr=type_expr)

    def get_attr(self, qualified_name, type_expr=None):
        if self.owning_module is not None and not _attr_exists(self.owning_module, qualified_name):
            warnings.warn("Attempted to insert a get_attr Node with no underlying reference in the owning "
                          "GraphModule! Call GraphModule.add_submodule to add the necessary submodule, "
                          "GraphModule.add_parameter to add the necessary Parameter, or "
                          "nn.Module.register_buffer to add the necessary buffer", stacklevel=2)
        return self.create_node("get_attr", qualified_name, type_expr=type_expr)

    def call_module(self, module_name, args=None, kwargs=None, type_expr=None):
        return self.create_node("call_module", module_name, args, kwargs, type_expr=type_expr)

    def call_method(self, method_name, args=None, kwargs=None, type_expr=None):
        return self.create_node("call_method", method_name, args, kwargs, type_expr=type_expr)

    def call_function(self, the_function, args=None, kwargs=None, type_expr=None, name=None):
        return self.create_node("call_function", the_function, args, kwargs, name=name, type_expr=type_expr)

    def output(self, result, type_expr=None):
        return self.create_node(op="output", target="output", args=(result,), type_expr=type_expr)

    def node_copy(self, node, arg_transform=lambda x: x):
        """Copy ``node`` (from any graph) into this one, mapping its Node arguments with ``arg_transform``."""
        args = map_arg(node.args, arg_transform)
        kwargs = map_arg(node.kwargs, arg_transform)
        result = self.create_node(node.op, node.target, args, kwargs, node.name, node.type)
        result.meta = dict(node.meta)
        return result

    def graph_copy(self, g, val_map, return_output_node=False):
        """Copy all nodes of ``g`` into this graph (``val_map`` maps g's nodes to ours); returns what g outputs."""
        for node in g.nodes:
            if node in val_map:
                continue
            if node.op == "output":
                rv = map_arg(node.args[0], lambda n: val_map[n])
                return rv if not return_output_node else (rv, node)
            val_map[node] = self.node_copy(node, lambda n: val_map[n])
        return None

    def __deepcopy__(self, memo=None):
        """A copy made node by node through ``graph_copy`` (``memo`` maps the old nodes to the new), as PyTorch's:
        the default recursive copy would rebuild the linked node list half-made (opt_einsum_fx deep-copies graphs)."""
        memo = memo if memo else {}
        g = Graph(tracer_cls=self._tracer_cls)
        out = g.graph_copy(self, val_map=memo, return_output_node=True)
        g._codegen = copy.deepcopy(self._codegen)
        if out is not None:
            value, old = out
            new = g.output(value, type_expr=getattr(old, "type", None))
            new.meta = copy.copy(old.meta)
        return g

    def _target_to_str(self, target):
        if callable(target):
            op = target.__name__
        else:
            op = target
            if _is_magic(op):
                op = op[2:-2]
        return _snake_case(op)

    # -- editing ---------------------------------------------------------------------------------------
    def erase_node(self, to_erase):
        """Remove a node that nothing uses any more."""
        if to_erase.users:
            raise RuntimeError(f"Tried to erase Node {to_erase} but it still had {len(to_erase.users)} "
                               f"users in the graph: {to_erase.users}!")
        if to_erase.graph is not self:
            raise RuntimeError(f"Attempting to remove {to_erase} from wrong graph!")
        if to_erase._erased:
            warnings.warn(f"erase_node({to_erase}) on an already erased node")
            return
        to_erase._remove_from_list()
        to_erase._erased = True
        self._len -= 1
        to_erase._update_args_kwargs(map_arg(to_erase._args, lambda n: None),
                                     map_arg(to_erase._kwargs, lambda n: None))

    def inserting_before(self, n=None):
        """Context manager: nodes created inside go just before ``n`` (the start of the graph if None)."""
        if n is None:
            return self.inserting_after(self._root)
        if n.graph is not self:
            raise AssertionError("Node to insert before is not in graph.")
        return _InsertPoint(self, n.prepend)

    def inserting_after(self, n=None):
        """Context manager: nodes created inside go just after ``n`` (the end of the graph if None)."""
        if n is None:
            return self.inserting_before(self._root)
        if n.graph is not self:
            raise AssertionError("Node to insert after is not in graph.")
        return _InsertPoint(self, n.append)

    def eliminate_dead_code(self, is_impure_node=None):
        """Erase the nodes whose values nothing uses and that have no side effect; True if any went."""
        self.lint()
        changed = False
        for node in reversed(self.nodes):
            impure = is_impure_node(node) if is_impure_node is not None else node.is_impure()
            if not impure and not node.users:
                self.erase_node(node)
                changed = True
        return changed

    # -- checking and printing -------------------------------------------------------------------------
    def lint(self):
        """Check that every argument is a node of this graph defined before its use, names are unique and
        targets exist in the owning module."""
        seen_names, seen_values = set(), set()
        for node in self.nodes:
            if node.op not in _LEGAL_OPS:
                raise RuntimeError(f"Node {node} had unknown opcode {node.op}!")
            if node.graph is not self:
                raise RuntimeError(f"Node '{node}' does not belong to this Graph!")
            for arg in node._input_nodes:
                context = f" of Node '{node}' "
                if arg.graph is not self:
                    raise RuntimeError(f"Argument '{arg}'{context}does not belong to this Graph, but was used as "
                                       "an argument! If you are copying nodes from another graph, make sure to "
                                       f"use ``arg_transform`` on node_copy() to remap values\n{self}")
                if arg not in seen_values:
                    raise RuntimeError(f"Argument '{arg}'{context}was used before it has been defined! Please "
                                       f"check that Nodes in the graph are topologically ordered\n{self}")
            seen_values.add(node)
            if node.name in seen_names:
                raise RuntimeError(f"Node redefined name {node.name}!")
            seen_names.add(node.name)
        if self.owning_module:
            for node in self.nodes:
                self._lint_target(node)

    def _lint_target(self, node):
        import ember
        if node.op == "call_function":
            if not callable(node.target):
                raise ValueError(f"Node {node} target {node.target} has type {type(node.target).__name__} but "
                                 "a Callable is expected")
            return
        if not isinstance(node.target, str):
            raise ValueError(f"Node {node} target {node.target} has type {type(node.target).__name__} but "
                             "a str is expected")
        if node.op in ("get_attr", "call_module"):
            atoms = node.target.split(".")
            m_itr = self.owning_module
            for i, atom in enumerate(atoms):
                new_m_itr = getattr(m_itr, atom, None)
                seen_qualname = ".".join(atoms[:i])
                if new_m_itr is None:
                    raise RuntimeError(f"Node {node} target {node.target} references nonexistent attribute "
                                       f"{atom} of {seen_qualname}")
                if node.op == "call_module" and not isinstance(new_m_itr, ember.nn.Module):
                    raise RuntimeError(f"Node {node} target {node.target} {atom} of {seen_qualname} does "
                                       "not reference an nn.Module")
                m_itr = new_m_itr

    def __str__(self):
        placeholder_names = []
        maybe_return_typename = [""]
        node_strs = [node.format_node(placeholder_names) for node in self.nodes]  # PyTorch 2.13 shows no return type
        s = f"graph({', '.join(placeholder_names)}){maybe_return_typename[0]}:"
        for node_str in node_strs:
            if node_str:
                s += "\n    " + node_str
        return s

    def print_tabular(self):
        """Print the nodes as a table (opcode, name, target, args, kwargs), in ``tabulate``'s layout."""
        rows = [[n.op, n.name, n.target, n.args, n.kwargs] for n in self.nodes]
        print(_tabulate(rows, ["opcode", "name", "target", "args", "kwargs"]))

    # -- code generation -------------------------------------------------------------------------------
    def python_code(self, root_module, **kwargs):
        """The source of this graph's ``forward`` (``root_module`` names the module inside it)."""
        namespace = _Namespace()
        saved = {}
        for node in self.nodes:
            saved[node] = node._repr_fn
            node._repr_fn = lambda n: namespace.create_name(n.name, n)
        try:
            return self._codegen._gen_python_code(self.nodes, root_module, namespace)
        finally:
            for node, fn in saved.items():
                node._repr_fn = fn

    def set_codegen(self, codegen):
        self._codegen = codegen

    def on_generate_code(self, make_transformer):
        """Install a transformer of the generated body lines; the returned context manager undoes it."""
        old = self._codegen._body_transformer
        self._codegen._body_transformer = make_transformer(old)

        @contextlib.contextmanager
        def restore():
            try:
                yield
            finally:
                self._codegen._body_transformer = old
        return restore()

    def process_inputs(self, *args):
        return self._codegen.process_inputs(*args)

    def process_outputs(self, out):
        return self._codegen.process_outputs(out)


def _attr_exists(mod, qualified_name):
    import ember
    module_path, _, name = qualified_name.rpartition(".")
    try:
        submod = mod.get_submodule(module_path)
    except AttributeError:
        return False
    if not hasattr(submod, name):
        return False
    res = getattr(submod, name)
    return isinstance(res, (ember.nn.Module, ember.nn.Parameter)) or name in submod._buffers


def _tabulate(rows, headers):
    """``tabulate(rows, headers)``'s default ("simple") layout for text columns: left-aligned, two spaces
    between columns, each at least two wider than its header, trailing spaces dropped."""
    cells = [[str(c).strip() for c in row] for row in rows]
    widths = [max([len(h) + 2] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values):
        return "  ".join(v.ljust(w) for v, w in zip(values, widths)).rstrip()
    out = [line(headers), "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in cells)
    return "\n".join(out)


__all__ = ["Graph", "CodeGen", "PythonCode"]
