"""The aten calls PyTorch's CPU ops make inside themselves, as its profiler shows them (``aten::linear`` holds
``aten::t`` and ``aten::addmm``, which holds ``aten::expand``...), so that ``prof.key_averages().table()`` lists
the names and counts a PyTorch user sees. ember's ops run as one NumPy computation, so these nested events are
placeholders: each takes a few nanoseconds at the start of its parent, and the parent keeps its measured time as
Self CPU. Read from PyTorch 2.13's profiler on the cases of tests/test_frontdoor_b.py; an op whose nesting
depends on details not modelled here records no children.
"""
import numbers

_TO = 'to(_to_copy(empty_strided, copy_))'
_MM = 'resolve_conj, resolve_conj'
_SUM = 'sum(as_strided, fill_)'
_VIEWS = ('transpose', 'permute', 'unsqueeze', 'squeeze', 'select', 'slice', 'expand', 'argmax', 'argmin',
          'linalg_vector_norm', 'diagonal', 'narrow')

# ops whose children never depend on the arguments
_FIXED = dict({name: 'as_strided' for name in _VIEWS}, **{
    'relu': 'clamp_min', 'relu_': 'clamp_min_', 'softmax': '_softmax', 'log_softmax': '_log_softmax',
    'layer_norm': 'native_layer_norm(empty, empty, empty, view, view)', 't': 'transpose(as_strided)',
    'reshape': 'view', 'flatten': 'view', 'mm': _MM, 'bmm': _MM, 'addmm': f'expand(as_strided), copy_, {_MM}',
    'max_pool2d': 'max_pool2d_with_indices', 'clone': 'empty_strided, copy_', 'zeros': 'empty, zero_',
    'ones': 'empty, fill_', 'full': 'empty, fill_', 'randn': 'empty, normal_', 'rand': 'empty, uniform_',
    'randint': 'empty, random_', 'zeros_like': 'empty_like(empty_strided), zero_', 'stack': 'cat, view',
    'arange': 'empty, arange(resize_)', 'rsub': f'sub({_TO})', 'item': '_local_scalar_dense',
    'masked_fill': 'clone(empty_like(empty), copy_), masked_fill_', 'contiguous': 'clone(empty_like(empty), copy_)',
    'max': 'empty, fill_',
    'cross_entropy_loss': 'log_softmax(to, _log_softmax), nll_loss_nd(nll_loss(nll_loss_forward))',
})


def _parse(text):
    """'a(b, c(d)), e' as [('a', [('b', []), ('c', [('d', [])])]), ('e', [])]."""
    out, stack, name = [], [], ''
    for ch in text + ',':
        if ch in '(),':
            if name.strip():
                node = ('aten::' + name.strip(), [])
                (stack[-1][1] if stack else out).append(node)
            if ch == '(':
                stack.append((stack[-1][1] if stack else out)[-1])
            elif ch == ')':
                stack.pop()
            name = ''
        else:
            name += ch
    return out


def _scalar(v):
    return isinstance(v, numbers.Number) and not isinstance(v, bool)


def _ndim(t):
    return getattr(t, 'ndim', 0)


def spec(name, args, kwargs):
    """The children of aten op ``name`` called with ``args`` (a text in _parse's form, or '')."""
    fixed = _FIXED.get(name)
    if fixed is not None:
        return fixed
    if name in ('add', 'sub', 'mul', 'div') and len(args) > 1 and _scalar(args[1]):
        return _TO
    if name == 'linear' and args:
        bias = args[2] if len(args) > 2 else kwargs.get('bias')
        core = f't(transpose(as_strided)), addmm(expand(as_strided), copy_, {_MM})' if bias is not None else \
            f't(transpose(as_strided)), matmul(mm({_MM}))'
        return f'view, {core}, view' if _ndim(args[0]) > 2 and bias is not None else core
    if name == 'matmul' and len(args) > 1 and _ndim(args[1]) == 2:
        if _ndim(args[0]) == 2:
            return f'mm({_MM})'
        if _ndim(args[0]) > 2:
            return f'reshape(view), mm({_MM}), _unsafe_view'
    if name == 'sum' and not kwargs.get('keepdim') and (len(args) < 3 or not args[2]):
        return _SUM
    if name == 'mean' and not kwargs.get('keepdim') and (len(args) < 3 or not args[2]):
        return f'{_SUM}, div_({_TO})'
    if name == 'to' and any(a is not None for a in args[1:]):
        return '_to_copy(empty_strided, copy_)'
    return ''


def tree(name, args, kwargs):
    """The nested (aten name, children) list of ``name``'s call (``aten::`` prefixed)."""
    text = spec(name[len('aten::'):], args, kwargs or {})
    return _parse(text) if text else []


def size(nodes):
    """The number of events in ``nodes`` and below."""
    return sum(1 + size(children) for _, children in nodes)


def getitem_names(key):
    """The aten events of ``t[key]`` with basic indexing (an int: select, a slice that is not ``:``: slice, one
    per dimension), or None where PyTorch records ``aten::index``."""
    items = key if isinstance(key, tuple) else (key,)
    names = []
    for k in items:
        if isinstance(k, bool) or not isinstance(k, (int, slice)) and k is not None and k is not Ellipsis:
            return None
        if isinstance(k, int):
            names.append('aten::select')
        elif isinstance(k, slice) and k != slice(None):
            names.append('aten::slice')
        elif k is None:
            names.append('aten::unsqueeze')
    return names
