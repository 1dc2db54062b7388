"""Write tools/pytorch_api.json: PyTorch's (and torchvision's) public names in each namespace that
docs/SUPPORTED.md lists, read from PyTorch 2.13 / torchvision 0.28 themselves. tools/supported.py lists an
ember name only if it is in this file, so helpers a module happens to import never pass for API.

    python tools/pytorch_api.py           # rewrite tools/pytorch_api.json (needs torch; torchvision optional)
    python tools/pytorch_api.py --check   # exit 1 if the namespaces this process can import differ from the file

A name is public when it is in the module's ``__all__``, or is a submodule of it (bound or importable), or (for ``torch`` itself and
for modules without ``__all__``) is a class, function or constant defined by the library in that module, a
submodule of it or a private module (``torch._C``...), or one of PyTorch's builtin functions, not a class or
helper re-exported from elsewhere.
"""
import importlib
import json
import os
import pkgutil
import sys
import types

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'pytorch_api.json')
TORCH = ['torch', 'torch.autograd', 'torch.autograd.functional', 'torch.linalg', 'torch.nn', 'torch.nn.functional',
         'torch.nn.init', 'torch.nn.utils', 'torch.optim', 'torch.optim.lr_scheduler', 'torch.utils.data',
         'torch.nn.utils.rnn', 'torch.nn.utils.parametrize', 'torch.nn.utils.parametrizations', 'torch.optim.swa_utils',
         'torch.nn.utils.prune', 'torch.fft', 'torch.special', 'torch.signal.windows']
VISION = ['torchvision.datasets', 'torchvision.transforms', 'torchvision.utils']
# helpers PyTorch's modules define (or take from private modules) without documenting them as API
INTERNAL = {'handle_torch_function', 'has_torch_function', 'has_torch_function_unary', 'has_torch_function_variadic',
            'boolean_dispatch', 'assert_int_or_pair', 'BroadcastingList1', 'BroadcastingList2', 'BroadcastingList3'}

# special attributes every class has or that serve pickling, copying and NumPy interop internally
MACHINERY = {'__dict__', '__module__', '__doc__', '__weakref__', '__annotations__', '__slots__', '__class__',
             '__init_subclass__', '__new__', '__subclasshook__', '__dir__', '__reduce_ex__', '__setstate__',
             '__deepcopy__', '__array_priority__', '__array_wrap__'}


def _home(value):
    """The module a class or function was defined in ('' for other values; ``torch._C`` for a builtin
    function of PyTorch's extension that names no module, such as ``torch.nn.functional.conv2d``)."""
    if callable(value):
        return getattr(value, '__module__', None) or 'torch._C'
    return ''


def _own(ns, value):
    """``value`` belongs to namespace ``ns``: defined there, in a submodule of it or in a private module."""
    home = _home(value)
    if not home:   # a constant: public at the top level when it is one of torch's own types (dtype, layout...)
        return ns == 'torch' and type(value).__module__ == 'torch'
    root = ns.split('.')[0]
    if not (home == root or home.startswith(root + '.')):
        return False
    return (ns == 'torch' or home == ns or home.startswith(ns + '.') or isinstance(value, types.BuiltinFunctionType)
            or any(part.startswith('_') for part in home.split('.')))


def module_names(ns):
    """The public names of module ``ns``."""
    mod = importlib.import_module(ns)
    declared = getattr(mod, '__all__', None)
    out = set()
    for name in dir(mod):
        if name.startswith('_') or name in INTERNAL:
            continue
        value = getattr(mod, name, None)
        if isinstance(value, types.ModuleType):
            if value.__name__ == f'{ns}.{name}':
                out.add(name)
        elif declared is not None and name in declared:
            out.add(name)
        elif (declared is None or ns == 'torch') and _own(ns, value):
            out.add(name)
    # submodules a package does not bind as attributes (torch.optim deletes its ``adam``...) import all the same
    out.update(m.name for m in pkgutil.iter_modules(getattr(mod, '__path__', [])) if not m.name.startswith('_'))
    return sorted(out)


def tensor_names():
    """Public attributes of torch.Tensor, and the special methods it defines itself (not object's)."""
    import torch
    out = []
    for name in dir(torch.Tensor):
        if name.startswith('__') and name.endswith('__'):
            if getattr(torch.Tensor, name, None) is not getattr(object, name, None) and name not in MACHINERY:
                out.append(name)
        elif not name.startswith('_'):
            out.append(name)
    return sorted(out)


def _import_vision():
    """torchvision, or None. Its C extension does not load beside the CPU build of torch 2.13, whose
    ``register_fake`` then fails at import: a stand-in that registers nothing lets the Python modules load."""
    try:
        import torch.library
        real = torch.library.register_fake
        torch.library.register_fake = lambda *a, **k: (lambda f: f)
        try:
            import torchvision
        finally:
            torch.library.register_fake = real
        return torchvision
    except ImportError:
        return None


def generate():
    """{namespace: sorted public names} for every namespace this process can import."""
    out = {ns: module_names(ns) for ns in TORCH}
    out['torch.Tensor'] = tensor_names()
    if _import_vision() is not None:
        out.update({ns: module_names(ns) for ns in VISION})
    return out


def main(argv):
    import torch
    got = generate()
    if '--check' in argv:
        with open(OUT) as f:
            stored = json.load(f)
        if stored.get('torch_version') != torch.__version__.split('+')[0]:
            print(f'tools/pytorch_api.json is from PyTorch {stored.get("torch_version")}, this is {torch.__version__}')
            return 1
        drift = [ns for ns in got if stored['names'].get(ns) != got[ns]]
        if drift:
            print(f'tools/pytorch_api.json is out of date for {drift}: run python tools/pytorch_api.py')
            return 1
        return 0
    vision = sys.modules.get('torchvision')
    data = {'torch_version': torch.__version__.split('+')[0],
            'torchvision_version': vision.__version__.split('+')[0] if vision else None,
            'names': dict(sorted(got.items()))}
    if vision is None and os.path.exists(OUT):   # keep the torchvision lists generated where it was installed
        with open(OUT) as f:
            old = json.load(f)
        data['torchvision_version'] = old.get('torchvision_version')
        data['names'].update({ns: v for ns, v in old['names'].items() if ns.startswith('torchvision')})
        data['names'] = dict(sorted(data['names'].items()))
    with open(OUT, 'w') as f:
        json.dump(data, f, indent=0)
        f.write('\n')
    print(f'wrote {OUT}')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
