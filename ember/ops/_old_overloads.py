"""PyTorch's deprecated positional overloads that old code still calls, the scalar first:
``p.data.add_(-lr, grad)``, ``exp_avg.mul_(beta1).add_(1 - beta1, grad)``,
``exp_avg_sq.addcmul_(1 - beta2, grad, grad)``, ``p.data.addcdiv_(-step_size, exp_avg, denom)`` (the
optimizers of pre-1.5 repositories). PyTorch still runs them, with one deprecation warning a process (for
whichever such call comes first); here they are rewritten to the current form before the op runs."""
from .._warn import warn_user

# method name: (scalar parameter, tensor parameters)
_FORMS = {'add': ('alpha', ('other',)), 'sub': ('alpha', ('other',)),
          'addcmul': ('value', ('tensor1', 'tensor2')), 'addcdiv': ('value', ('tensor1', 'tensor2'))}
_WARNED = [False]


def is_old(name, args, kwargs):
    """Whether method ``name`` (``add_`` or ``add`` ...) got the scalar first: one positional argument more
    than the current form takes, or the tensors by keyword after a positional scalar."""
    scalar, tensors = _FORMS[name.rstrip('_')]
    return len(args) == len(tensors) + 1 or (len(args) == 1 and tensors[0] in kwargs)


def modern(name, args, kwargs):
    """``(args, kwargs)`` of the deprecated call of method ``name`` in the current form, warning as PyTorch
    does the first time in the process; PyTorch's TypeErrors for a tensor first or the scalar given twice."""
    from ..tensor import Tensor
    scalar, tensors = _FORMS[name.rstrip('_')]
    if isinstance(args[0], Tensor):
        n = len(tensors)
        raise TypeError(f'{name}() takes {n} positional argument{"s" if n > 1 else ""} but {len(args)} were given')
    if scalar in kwargs:
        raise TypeError(f'{name}() received an invalid combination of arguments - got unrecognized keyword '
                        f'arguments: {scalar}')
    if not _WARNED[0]:
        _WARNED[0] = True
        old = ', '.join([f'Number {scalar}'] + [f'Tensor {t}' for t in tensors])
        new = ', '.join([f'Tensor {t}' for t in tensors] + ['*', f'Number {scalar} = 1'])
        warn_user(f'This overload of {name} is deprecated:\n\t{name}({old})\nConsider using one of the following '
                  f'signatures instead:\n\t{name}({new})', internally='torch/csrc/utils/python_arg_parser.cpp:1841')
    kwargs = dict(kwargs)
    kwargs[scalar] = args[0]
    return tuple(args[1:]) + tuple(kwargs.pop(t) for t in tensors[len(args) - 1:] if t in kwargs), kwargs


def accepting(fn, name):
    """Method ``fn`` (``name``) also taking the deprecated scalar-first form."""
    def method(self, *args, **kwargs):
        if is_old(name, args, kwargs):
            args, kwargs = modern(name, args, kwargs)
        return fn(self, *args, **kwargs)
    method.__name__ = name
    method.__doc__ = fn.__doc__
    return method
