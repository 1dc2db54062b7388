"""Metric and self-supervised learning libraries under ``ember.aliasing.as_torch()`` (session 38):
pytorch-metric-learning 2.9.0 (losses, miners, distances, reducers, trainers, testers, AccuracyCalculator with
``CustomKNN``) and lightly 1.6.0 (heads, losses, memory banks, transforms, collate, SimCLR/BYOL/MoCo/DINO/Barlow
Twins training loops), run side by side with PyTorch from the same seed. Each place they printed something else
is reduced here to the lines that found it and checked against PyTorch; neither library is needed."""
import warnings

import numpy as np
import pytest
import torch

import ember
from helpers import import_torchvision


def _context_shown(exc):
    """Whether Python's traceback prints ``exc``'s context ("During handling of the above exception...")."""
    return exc.__context__ is not None and not exc.__suppress_context__


@pytest.mark.parametrize('shapes', [((4, 8), (8,)), ((4, 8), (3, 3)), ((4, 8), ())])
def test_cat_error_shows_no_numpy_context(shapes):
    """pytorch_metric_learning/losses/self_supervised_loss.py: ``torch.cat([embeddings, ref_emb], dim=0)`` with
    a 2-d and a 1-d tensor; PyTorch's traceback shows its RuntimeError alone, ember's showed NumPy's ValueError
    first ("During handling of the above exception, another exception occurred")."""
    errs = []
    for lib in (torch, ember):
        with pytest.raises(RuntimeError) as ei:
            lib.cat([lib.ones(shapes[0]), lib.ones(shapes[1])], dim=0)
        errs.append(ei.value)
    assert str(errs[1]) == str(errs[0])
    assert _context_shown(errs[1]) == _context_shown(errs[0]) == False  # noqa: E712


def _weight_norm_warnings(lib):
    """The FutureWarnings two ``weight_norm`` calls from two lines give under the default filter."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('default')
        lib.nn.utils.weight_norm(lib.nn.Linear(3, 4, bias=False))
        lib.nn.utils.weight_norm(lib.nn.Linear(4, 5, bias=False), dim=None)
    return [w for w in caught if w.category is FutureWarning]


def test_weight_norm_deprecation_shown_once_from_the_library():
    """lightly/models/modules/heads.py: DINOProjectionHead and DINOv2ProjectionHead each call
    ``nn.utils.weight_norm``; PyTorch's ``@deprecated`` warns from its own weight_norm.py, so the default filter
    shows it once per process, where ember named each caller's line and showed it twice."""
    want, got = _weight_norm_warnings(torch), _weight_norm_warnings(ember)
    assert len(got) == len(want) == 1
    assert str(got[0].message) == str(want[0].message)
    assert got[0].filename.endswith('weight_norm.py') and want[0].filename.endswith('weight_norm.py')


@pytest.mark.parametrize('name', ['to_tensor', 'get_image_size'])
def test_v2_functional_deprecated_kernels_warn(name):
    """lightly/transforms/gaussian_blur.py: ``F.to_tensor(sample_pil)`` with ``F`` torchvision's
    ``transforms.v2.functional`` (and random_crop_and_flip_with_grid.py's ``F.get_image_size``): torchvision
    warns that they are deprecated (once, from its own file); ember's v2 gave v1's kernels silently."""
    from PIL import Image
    tv = import_torchvision()
    import torchvision.transforms.v2.functional as TF

    import ember.vision.transforms.v2.functional as EF
    img = Image.fromarray(np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3))
    out = []
    for F in (TF, EF):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('default')
            first = getattr(F, name)(img)
            getattr(F, name)(img)
        out.append((first, [(w.category, str(w.message), w.filename.endswith('.py') and 'test_' not in w.filename)
                            for w in caught]))
    assert tv.__name__ == 'torchvision'
    assert out[1][1] == out[0][1] and len(out[0][1]) == 1
    if name == 'to_tensor':
        np.testing.assert_array_equal(out[1][0].numpy(), out[0][0].numpy())
    else:
        assert out[1][0] == out[0][0] == [7, 5]
