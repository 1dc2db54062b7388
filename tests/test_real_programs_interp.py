"""TransformerLens 4.3 under ``ember.aliasing.as_torch()`` (session 36): a TransformerBridge booted from a small
TransformerBridgeConfig and from a GPT-2 built from its config, ``run_with_cache``, the ActivationCache's
residual-stream tools, hooks, activation patching, ``generate``, weight processing, FactoredMatrix and the library's
own unit tests. Each defect it found is reduced here to the lines that stopped it, checked against PyTorch.
nnsight 0.8.1 likewise (NNsight on an nn.Module, LanguageModel on a GPT-2 built from its config, given or loaded
lazily on the meta device): the names it imports are checked here, without nnsight.
TransformerLens and nnsight themselves are not needed here."""
import importlib
import operator

import pytest
import torch

import ember
from helpers import run_both


class _Factored:
    """Stands for transformer_lens/FactoredMatrix.py: a non-tensor with reflected operators."""
    def __rmatmul__(self, other):
        return ('rmatmul', tuple(other.shape))

    def __radd__(self, other):
        return ('radd', tuple(other.shape))

    def __rtruediv__(self, other):
        return ('rtruediv', tuple(other.shape))

    def __rpow__(self, other):
        return ('rpow', tuple(other.shape))

    def __rand__(self, other):
        return ('rand', tuple(other.shape))


# -- transformer_lens/FactoredMatrix.py: ``tensor @ FactoredMatrix`` --------------------------------------------------
def test_operators_give_a_foreign_operand_its_reflected_method():
    """FactoredMatrix's ``__rmatmul__`` makes ``W_E @ OV`` a FactoredMatrix (tests/unit/factored_matrix/
    test_multiply_by_matrix.py); PyTorch's operators return NotImplemented when their op refuses the operand, and
    so do ``+=``/``/=``/``**=``, rebinding the name to the reflected result."""
    def reflected(T):
        t, i = T.ones(2, 3), T.ones(2, 3, dtype=T.int64)
        out = [t @ _Factored(), t ** _Factored(), i & _Factored()]
        for op in (operator.iadd, operator.itruediv, operator.imatmul, operator.ipow):
            out.append(op(t.clone(), _Factored()))
        return out
    run_both(reflected)


@pytest.mark.parametrize('name', ['floordiv', 'mod', 'pow', 'matmul', 'and_', 'or_', 'xor', 'lshift', 'rshift',
                                  'iadd', 'isub', 'imul', 'itruediv', 'imatmul', 'ipow', 'iand'])
@pytest.mark.parametrize('other', ['a', None, [1., 2.], object()])
def test_operators_refuse_a_foreign_operand_with_pythons_message(name, other):
    """With no reflected method, Python's "unsupported operand type(s) for @: 'Tensor' and 'list'", as PyTorch."""
    op = getattr(operator, name)
    run_both(lambda T: op(T.ones(2, dtype=T.int64), other), message=True)
    if not name.startswith('i'):
        run_both(lambda T: op(other, T.ones(2, dtype=T.int64)), message=True)


def test_reflected_true_division_by_a_foreign_operand():
    """``'a' / t`` is Python's error naming ``/``, not mul's argument error."""
    for other in ('a', None, [1., 2.], object()):
        run_both(lambda T: other / T.ones(2), message=True)


# -- nnsight/modeling/processing.py and mixins/meta.py: the fake-mode queries ---------------------------------------
def _aliased(name):
    """Module ``name`` as a library importing it under the alias sees it."""
    from ember import aliasing
    with aliasing.as_torch():
        return importlib.import_module(name)


def test_fake_mode_queries_answer_none_outside_a_fake_mode():
    """nnsight imports ``detect_fake_mode`` at load and asks it before loading a lazy model's weights (None: load
    them) and before reading the attention mask; ``unset_fake_temporarily`` wraps its image featurizing."""
    import torch._guards
    import torch._subclasses.fake_tensor

    def queries(T, guards, fake):
        with fake.unset_fake_temporarily() as mode:
            inside = mode
        return [guards.detect_fake_mode(), guards.detect_fake_mode([T.ones(2)]), guards.active_fake_mode(), inside]
    assert queries(torch, torch._guards, torch._subclasses.fake_tensor) == [None] * 4
    assert queries(ember, _aliased('torch._guards'), _aliased('torch._subclasses.fake_tensor')) == [None] * 4


def test_fake_tensor_mode_is_refused_naming_it():
    """nnsight's ``model.scan(...)`` runs the forward under ``FakeTensorMode``; ember has no fake tensors, so making
    one fails naming it and the meta device (which gives shapes without data)."""
    fake = _aliased('torch._subclasses.fake_tensor')
    with pytest.raises(NotImplementedError, match=r"FakeTensorMode is not supported by ember.*meta"):
        fake.FakeTensorMode(allow_non_fake_inputs=True)
