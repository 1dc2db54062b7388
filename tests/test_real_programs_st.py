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
