"""Ultralytics YOLO 8.3 under ``ember.aliasing.as_torch()`` (session 37): the names and values that building
YOLOv8n/YOLO11n from their yaml, the thop GFLOPs summary, the detection loss, ``model.train`` and its
checkpoints reach, each reduced to the lines that found the defect and checked against PyTorch. Ultralytics is
not needed here."""
import io
import types
import zipfile

import numpy as np

import ember
import torch
from helpers import run_both


# -- ultralytics/utils/tal.py make_anchors: ``torch.arange(end=w, ...)`` ----------------------------------------
def test_arange_takes_its_bound_as_a_keyword():
    """make_anchors calls ``torch.arange(end=w, device=device, dtype=dtype)``, the one-bound overload by keyword;
    thop's profile (the GFLOPs of the model summary) runs it, and ultralytics printed no GFLOPs."""
    run_both(lambda T: T.arange(end=5))
    run_both(lambda T: T.arange(end=4, dtype=T.float32) + 0.5)
    run_both(lambda T: T.arange(start=1, end=5))
    run_both(lambda T: T.arange(start=1, end=6, step=2))
    run_both(lambda T: T.arange(step=2), message=True)


# -- ultralytics/utils/torch_utils.py strip_optimizer: ``torch.save({..., "model": half DetectionModel}, f)`` ----
def _checkpoint():
    """A dict around a half-precision model, as strip_optimizer saves it, with a view sharing a weight's memory
    and the dtype/Size/device values a model's attributes hold."""
    with ember.aliasing.as_torch():
        import torch as T
        ember.manual_seed(0)
        m = T.nn.Sequential(T.nn.Conv2d(3, 4, 3), T.nn.BatchNorm2d(4), T.nn.SiLU()).half()
        for p in m.parameters():
            p.requires_grad = False
        m.shape = T.Size([1, 3, 8, 8])
        w = m[0].weight
        extra = types.SimpleNamespace(row=w[1], dtype=T.float16, device=T.device('cpu'), steps=T.arange(3))
        buf = io.BytesIO()
        T.save({'model': m, 'epoch': -1, 'extra': extra}, buf)
    return m, buf.getvalue()


def test_whole_checkpoint_is_pytorch_tensors_in_pytorch_storages():
    """strip_optimizer's last.pt, written by ember, loaded by PyTorch held ember Parameters inside PyTorch's
    modules (``float()`` then failed), and at 9.1 MB against PyTorch's 6.2 MB: the whole-object pickle wrote each
    tensor as an inline NumPy pickle. Its tensors are now PyTorch's storages, shared where ember's memory is."""
    m, data = _checkpoint()
    ck = torch.load(io.BytesIO(data), weights_only=False)
    tm, extra = ck['model'], ck['extra']
    w = tm[0].weight
    assert type(w) is torch.nn.Parameter and w.dtype == torch.float16 and not w.requires_grad
    assert type(tm[1].running_mean) is torch.Tensor and type(extra.steps) is torch.Tensor
    assert (extra.dtype, extra.device, type(tm.shape)) == (torch.float16, torch.device('cpu'), torch.Size)
    assert extra.row.untyped_storage().data_ptr() == w.untyped_storage().data_ptr()
    assert extra.row.storage_offset() == 27 and torch.equal(extra.row, w[1])
    assert ck['epoch'] == -1 and tm.shape == torch.Size([1, 3, 8, 8])
    for (k, a), b in zip(m.state_dict().items(), tm.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    x = np.random.default_rng(0).standard_normal((1, 3, 8, 8)).astype(np.float32)
    tm.float().eval()
    m.float().eval()
    np.testing.assert_allclose(m(ember.tensor(x)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)


def _entry_sizes(data):
    infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    return {'data.pkl': next(i.file_size for i in infos if i.filename.endswith('/data.pkl')),
            'storages': sum(i.file_size for i in infos if '/data/' in i.filename)}


def test_whole_checkpoint_is_as_small_as_pytorchs_and_loads_in_ember():
    """The same checkpoint written by PyTorch holds as many storage bytes and a pickle of about the same size (the
    archives differ by PyTorch's 64-byte alignment padding), and ember loads its own file back with the view still
    sharing the weight's memory."""
    m, data = _checkpoint()
    ck = torch.load(io.BytesIO(data), weights_only=False)
    buf = io.BytesIO()
    torch.save(ck, buf)
    sizes = [_entry_sizes(d) for d in (data, buf.getvalue())]
    assert sizes[0]['storages'] == sizes[1]['storages'] and abs(sizes[0]['data.pkl'] - sizes[1]['data.pkl']) < 64, sizes
    back = ember.load(io.BytesIO(data), weights_only=False)
    w = back['model'][0].weight
    assert type(w) is ember.nn.Parameter and w.dtype == ember.float16
    w.add_(1)
    assert ember.equal(back['extra'].row, w[1])
