"""sentence-transformers 6.3 and open_clip 3.3 under ``ember.aliasing.as_torch()`` (session 36): the names and values
their encoders, losses and training steps reach, each reduced to the lines that found the defect and checked
against PyTorch. Neither library is needed here."""
import pytest
import torch

import ember
from helpers import run_both


# -- open_clip/hf_model.py: ``from torch import TensorType`` at import --------------------------------------------
def test_tensor_type_is_torchscripts_type_of_a_tensor():
    """open_clip/hf_model.py imports ``torch.TensorType`` to annotate ``forward(x, attention_mask: TensorType)``;
    the type prints as ``Tensor`` and records a tensor's dtype, sizes and strides; it is made only by its ``get``s."""
    def tensor_type(T):
        t, c = T.TensorType.get(), T.TensorType.create_from_tensor(T.ones(2, 3).t())
        return [repr(t), str(c), t.kind(), t.annotation_str, t == T.TensorType.get(), t == c,
                isinstance(t, T.Type), T._C.TensorType is T.TensorType, t.dtype(), t.dim(), t.sizes(),
                t.requires_grad(), str(c.dtype()), c.dim(), c.sizes(), c.strides(), str(c.device()), c.requires_grad(),
                T.TensorType.getInferred() == t]
    run_both(tensor_type)
    run_both(lambda T: T.TensorType(), message=True)
    run_both(lambda T: hash(T.TensorType.get()))


# -- sentence_transformers/sparse_encoder/model.py: encode(convert_to_sparse_tensor=True) ------------------------
def _sparse(T):
    """An uncoalesced 2-D COO tensor (a duplicate at (1, 2)) and a hybrid one (one sparse, one dense dim)."""
    s = T.sparse_coo_tensor(T.tensor([[1, 0, 1, 1], [2, 0, 0, 2]]), T.tensor([1., 2., 3., 4.]), (2, 3))
    h = T.sparse_coo_tensor(T.tensor([[0, 1, 1]]), T.tensor([[1., 2.], [3., 4.], [5., 6.]]), (2, 2))
    return s, h


def test_sparse_rows_keep_the_layout():
    """SparseEncoder's ``_inference`` makes each batch ``to_sparse()`` and ``all_embeddings.extend(embeddings)``:
    iterating a sparse tensor gives sparse rows (PyTorch's select), which ``torch.stack`` joins into one sparse
    tensor; ``print(type(e))`` is ``torch.Tensor``."""
    def rows(T):
        s, h = _sparse(T)
        c = s.coalesce()
        out = [repr(r) for r in list(s) + list(c)] + [r.is_coalesced() for r in list(s) + list(c)]
        out += [repr(s[-1]), repr(s[T.tensor(1)]), repr(s.select(1, 2)), repr(T.select(c, 0, 1)), s[1][2], s[1, 2],
                s[0][1], repr(h.select(1, 0)), h[1], repr(s.unbind(1)), repr(T.unbind(c, 0)), repr(c[:, 0]),
                str(type(s)), str(type(s[0]))]
        return out
    run_both(rows)
    s, h = _sparse(ember)
    assert s[:, 0:2].layout is ember.strided     # other keys index the dense values, as before


def test_stack_of_sparse_tensors_is_sparse():
    """``torch.stack(all_embeddings)`` of SparseEncoder's sparse rows: a new sparse dim numbers the stacked tensors,
    entries in order, uncoalesced; mixed dtypes promote; a dense one, or another size, is PyTorch's error."""
    def stacked(T):
        s, _ = _sparse(T)
        c = s.coalesce()
        a, b = T.stack([s, c]), T.stack([c, c], 1)
        return [repr(a), a.is_coalesced(), repr(b), repr(T.stack(list(c))), repr(T.stack([c, c], -1)),
                repr(T.stack([c, c.double()])), repr(T.stack([c[0], c[1]]).to_dense())]
    run_both(stacked)
    run_both(lambda T: T.stack([_sparse(T)[0], T.ones(2, 3)]), message=True)
    run_both(lambda T: T.stack([_sparse(T)[0], T.sparse_coo_tensor(T.tensor([[0], [0]]), T.tensor([1.]), (2, 4))]),
             message=True)
    run_both(lambda T: _sparse(T)[0][2])
    run_both(lambda T: _sparse(T)[0].select(2, 0))
    with pytest.raises(NotImplementedError, match='along a new sparse dim only'):
        ember.stack([_sparse(ember)[1]] * 2, 2)


def test_sparse_times_sparse():
    """SparseEncoder's ``similarity`` is util.dot_score: ``torch.mm(a, b.transpose(0, 1)).to_dense()`` of two sparse
    embeddings: a coalesced sparse product with an entry wherever entries meet (explicit zeros too)."""
    def product(T):
        a = T.tensor([[0., 1.5, 0.], [2., 0., 3.], [0., 0., 0.]]).to_sparse()
        b = T.tensor([[1., 0.], [0., 0.], [-2., 4.]]).to_sparse()
        s, _ = _sparse(T)
        z = T.sparse_coo_tensor(T.tensor([[0, 1], [0, 0]]), T.tensor([0., 1.]), (2, 2))
        r = T.mm(a, b)
        return [repr(r), r.is_coalesced(), repr(a @ a.t()), repr(T.sparse.mm(a, b)), repr(T.mm(s, a)),
                T.mm(s, a).to_dense(), repr(T.mm(z, z))]
    run_both(product)
    a = torch.eye(2).to_sparse()
    run_both(lambda T: T.mm(T.eye(2).to_sparse(), T.eye(2, dtype=T.float64).to_sparse()), message=True)
    run_both(lambda T: T.mm(T.eye(2).to_sparse(), T.ones(3, 2).to_sparse()), message=True)
    g = ember.eye(2).to_sparse().requires_grad_()
    with pytest.raises(NotImplementedError, match='product of two sparse tensors'):
        ember.mm(g, ember.eye(2).to_sparse())
    assert a.is_sparse
