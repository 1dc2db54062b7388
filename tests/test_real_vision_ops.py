"""torchvision.ops detection pieces (box utilities, IoU forms and losses, NMS, RoI pooling) on ember against
torchvision 0.28, and detection code from real programs (DETR's box_ops and matcher costs, YOLO-style
post-processing, Faster/Mask R-CNN RoI heads) run unchanged through ``import torch, torchvision`` aliasing.

torchvision's C extension does not load on this CPU build of torch, so ``nms`` and ``roi_pool`` have no oracle
there: they are checked against short greedy / max-pool references written here from torchvision's documented
rules, built on torchvision's own ``box_iou``. ``roi_align`` is checked against torchvision's pure-Python
``_roi_align`` (run eagerly), which follows the CPU kernel for samples inside [-1, size]."""
import numpy as np
import pytest
import torch

import ember
from ember import aliasing
from helpers import check, import_torchvision

tv = import_torchvision()
ev = ember.vision
import torchvision.transforms.v2  # noqa: E402
import torchvision.tv_tensors  # noqa: E402,F401
import ember.vision.transforms.v2  # noqa: E402,F401
OPS = {torch: tv.ops, ember: ev.ops}


def _boxes(n, seed, dtype=np.float32, scale=10.0):
    """``n`` valid xyxy boxes (x1 < x2, y1 < y2) with no ties between coordinates."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, scale, (n, 2))
    wh = rng.uniform(0.5, scale / 2, (n, 2))
    return np.concatenate([xy, xy + wh], 1).astype(dtype)


# --- pairwise IoU forms --------------------------------------------------------------------------------------------

@pytest.mark.parametrize('name', ['box_iou', 'generalized_box_iou', 'distance_box_iou', 'complete_box_iou'])
def test_pairwise_iou_values_and_grads(name):
    """Gradients against torch's; against float64 finite differences too, except for CIoU, whose weight alpha
    is computed under no_grad (a constant to autograd, not to finite differences)."""
    check(lambda T, a, b: getattr(OPS[T], name)(a, b), inputs=[_boxes(4, 0), _boxes(5, 1)],
          gradcheck=name != 'complete_box_iou')


@pytest.mark.parametrize('fmt', ['xyxy', 'xywh', 'cxcywh'])
def test_box_iou_and_area_formats(fmt):
    check(lambda T, a, b: (OPS[T].box_iou(a, b, fmt=fmt), OPS[T].box_area(a, fmt=fmt)),
          inputs=[_boxes(3, 2), _boxes(4, 3)])


def test_batched_iou_and_integer_boxes():
    """Leading batch dims broadcast; int16 boxes are upcast to int32 before the products."""
    check(lambda T, a, b: OPS[T].generalized_box_iou(a, b), inputs=[_boxes(6, 4).reshape(2, 3, 4),
                                                                   _boxes(8, 5).reshape(2, 4, 4)])
    a, b = (np.round(_boxes(3, s)).astype(np.int16) for s in (6, 7))
    check(lambda T, a, b: (OPS[T].box_area(a), OPS[T].box_iou(a, b)), inputs=[a, b], grad=False)


def test_rotated_formats_are_refused_plainly():
    with pytest.raises(NotImplementedError, match='not supported by ember'):
        ev.ops.box_iou(ember.zeros(2, 5), ember.zeros(2, 5), fmt='cxcywhr')
    with pytest.raises(ValueError) as e:
        ev.ops.box_iou(ember.zeros(2, 4), ember.zeros(2, 4), fmt='xy')
    with pytest.raises(ValueError) as t:
        tv.ops.box_iou(torch.zeros(2, 4), torch.zeros(2, 4), fmt='xy')
    assert str(e.value) == str(t.value)


# --- conversions and filters ---------------------------------------------------------------------------------------

@pytest.mark.parametrize('pair', [('xyxy', 'xywh'), ('xyxy', 'cxcywh'), ('xywh', 'xyxy'), ('cxcywh', 'xyxy'),
                                  ('xywh', 'cxcywh'), ('cxcywh', 'xywh'), ('xyxy', 'xyxy')], ids=str)
def test_box_convert(pair):
    check(lambda T, b: OPS[T].box_convert(b, *pair), inputs=[_boxes(5, 8).reshape(5, 4)])


def test_clip_remove_small_and_masks_to_boxes():
    b = (_boxes(7, 9, scale=20.0) - 4).astype(np.float32)
    check(lambda T, b: OPS[T].clip_boxes_to_image(b, (12, 15)), inputs=[b])
    check(lambda T, b: OPS[T].clip_boxes_to_image(b, (12, 15)), inputs=[b.reshape(7, 1, 4)])
    check(lambda T, b: OPS[T].remove_small_boxes(b, 3.0), inputs=[b], grad=False)
    masks = np.zeros((4, 9, 11), np.uint8)
    masks[0, 2:5, 3:8] = 1
    masks[1, 7, 10] = 1
    masks[3, 0:9:4, 1:3] = 1
    check(lambda T, m: OPS[T].masks_to_boxes(m), inputs=[masks], grad=False)
    check(lambda T, m: OPS[T].masks_to_boxes(m), inputs=[np.zeros((0, 4, 4), np.uint8)], grad=False)


# --- losses --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('name', ['generalized_box_iou_loss', 'distance_box_iou_loss', 'complete_box_iou_loss'])
@pytest.mark.parametrize('reduction', ['none', 'mean', 'sum'])
def test_box_losses(name, reduction):
    """Matched pairs, some disjoint (zero intersection), with gradients for both sets of boxes."""
    check(lambda T, a, b: getattr(OPS[T], name)(a, b, reduction=reduction), inputs=[_boxes(6, 10), _boxes(6, 11)],
          gradcheck=name != 'complete_box_iou_loss')


def test_box_loss_of_no_boxes_keeps_the_graph():
    for name in ('generalized_box_iou_loss', 'complete_box_iou_loss'):
        check(lambda T, a, b: getattr(OPS[T], name)(a, b, reduction='mean'),
              inputs=[np.zeros((0, 4), np.float32)] * 2, gradcheck=False)


@pytest.mark.parametrize('alpha, gamma, reduction', [(0.25, 2, 'none'), (-1, 2, 'mean'), (0.5, 1.5, 'sum'),
                                                     (0.25, 0, 'mean')])
def test_sigmoid_focal_loss(alpha, gamma, reduction):
    targets = (np.random.default_rng(12).uniform(size=(3, 5)) > 0.6).astype(np.float32)
    check(lambda T, x, t: OPS[T].sigmoid_focal_loss(x, t, alpha, gamma, reduction),
          inputs=[np.random.default_rng(13).normal(size=(3, 5)).astype(np.float32), targets])


def test_sigmoid_focal_loss_errors():
    for T in (torch, ember):
        with pytest.raises(ValueError, match='Invalid alpha value'):
            OPS[T].sigmoid_focal_loss(T.zeros(2), T.zeros(2), alpha=2)
        with pytest.raises(ValueError, match="Invalid Value for arg 'reduction'"):
            OPS[T].sigmoid_focal_loss(T.zeros(2), T.zeros(2), reduction='max')


# --- NMS -----------------------------------------------------------------------------------------------------------

def _reference_nms(boxes, scores, threshold):
    """Greedy NMS in torch: visit boxes by descending score (stable), keep one unless a kept box overlaps it
    with IoU above the threshold."""
    order = torch.sort(scores, descending=True, stable=True)[1]
    iou = tv.ops.box_iou(boxes, boxes)
    keep = []
    for i in order.tolist():
        if all(iou[i, j] <= threshold for j in keep):
            keep.append(i)
    return torch.tensor(keep, dtype=torch.int64)


def _clustered(n, seed):
    """Boxes in a few overlapping clusters (so suppression happens) and distinct scores."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(10, 40, (4, 2))[rng.integers(0, 4, n)] + rng.normal(0, 2, (n, 2))
    wh = rng.uniform(4, 10, (n, 2))
    b = np.concatenate([centres - wh / 2, centres + wh / 2], 1).astype(np.float32)
    return b, rng.permutation(n).astype(np.float32) / n


@pytest.mark.parametrize('threshold', [0.0, 0.3, 0.5, 0.7, 1.0])
def test_nms_against_greedy_reference(threshold):
    b, s = _clustered(40, 14)
    want = _reference_nms(torch.tensor(b), torch.tensor(s), threshold)
    got = ev.ops.nms(ember.tensor(b), ember.tensor(s), threshold)
    assert got.dtype == ember.int64
    assert got.tolist() == want.tolist()


def test_nms_equal_scores_and_empty():
    b = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 10]], np.float32)
    s = np.array([0.9, 0.9, 0.5, 0.9], np.float32)
    assert ev.ops.nms(ember.tensor(b), ember.tensor(s), 0.5).tolist() == \
        _reference_nms(torch.tensor(b), torch.tensor(s), 0.5).tolist()
    e = ev.ops.nms(ember.zeros(0, 4), ember.zeros(0), 0.5)
    assert e.shape == (0,) and e.dtype == ember.int64


@pytest.mark.parametrize('n', [30, 1200])       # 1200 boxes pass 4000 coordinates: suppression category by category
def test_batched_nms(n):
    b, s = _clustered(n, 15)
    ids = np.random.default_rng(16).integers(0, 3, n)
    want = []
    for c in range(3):
        members = np.flatnonzero(ids == c)
        want += members[_reference_nms(torch.tensor(b[members]), torch.tensor(s[members]), 0.4).numpy()].tolist()
    want.sort(key=lambda i: -s[i])
    got = ev.ops.batched_nms(ember.tensor(b), ember.tensor(s), ember.tensor(ids), 0.4)
    assert got.tolist() == want


# --- RoI pooling ---------------------------------------------------------------------------------------------------

def _eager_roi_align(x, rois, scale, size, sampling_ratio, aligned):
    """torchvision's pure-Python roi_align without its torch.compile wrapper (which takes half a minute)."""
    from torchvision.ops.roi_align import _roi_align
    fn = getattr(_roi_align, '__wrapped__', _roi_align)
    return fn(x, rois, scale, size[0], size[1], sampling_ratio, aligned)


_ROIS = np.array([[0, 1.0, 1.0, 6.0, 7.0], [1, 0.5, 2.0, 9.0, 8.0], [0, 2.2, 0.3, 11.0, 9.5],
                  [1, 3.0, 3.0, 3.5, 3.2], [0, 0.0, 0.0, 11.0, 9.0]], np.float32)


@pytest.mark.parametrize('sampling_ratio', [-1, 1, 2])
@pytest.mark.parametrize('aligned', [False, True])
@pytest.mark.parametrize('scale', [1.0, 0.5])
def test_roi_align_against_torchvision(sampling_ratio, aligned, scale):
    x = np.random.default_rng(17).normal(size=(2, 3, 10, 12)).astype(np.float32)
    xt = torch.tensor(x, requires_grad=True)
    want = _eager_roi_align(xt, torch.tensor(_ROIS), scale, (3, 4), sampling_ratio, aligned)
    xe = ember.tensor(x, requires_grad=True)
    got = ev.ops.roi_align(xe, ember.tensor(_ROIS), (3, 4), scale, sampling_ratio, aligned)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-5, atol=1e-6)
    g = np.random.default_rng(18).normal(size=tuple(want.shape)).astype(np.float32)
    want.backward(torch.tensor(g))
    got.backward(ember.tensor(g))
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('aligned', [False, True])
def test_roi_align_many_rois_against_torchvision(aligned):
    """Forty rois of mixed sizes (adaptive grids of 1 to 3 samples per bin side, a few zero-size boxes when not
    aligned) on two images, inside the map (torchvision's Python roi_align does not zero samples beyond it, its
    kernel does: see test_roi_align_many_rois_outside_the_map; and it gives NaN for an aligned zero-size box, the
    kernel 0: see test_roi_align_aligned_empty_box): values and the input's gradient match torchvision's."""
    rng = np.random.default_rng(21)
    x = rng.normal(size=(2, 5, 20, 24)).astype(np.float32)
    corner = rng.uniform(0, 1, (40, 2)) * [70, 55]
    size = rng.uniform(0, 1, (40, 2)) * [26, 25] * (rng.uniform(size=(40, 1)) > (-1 if aligned else 0.1))
    rois = np.concatenate([rng.integers(0, 2, (40, 1)), corner, corner + size], 1).astype(np.float32)
    xt = torch.tensor(x, requires_grad=True)
    want = _eager_roi_align(xt, torch.tensor(rois), 0.25, (3, 2), -1, aligned)
    xe = ember.tensor(x, requires_grad=True)
    got = ev.ops.roi_align(xe, ember.tensor(rois), (3, 2), 0.25, -1, aligned)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-5, atol=1e-6)
    g = rng.normal(size=tuple(want.shape)).astype(np.float32)
    want.backward(torch.tensor(g))
    got.backward(ember.tensor(g))
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_roi_align_gradcheck_float64_and_list_boxes():
    x = ember.tensor(np.random.default_rng(19).normal(size=(2, 2, 7, 8)), requires_grad=True)
    boxes = [ember.tensor(_ROIS[_ROIS[:, 0] == i, 1:].astype(np.float64) * 0.6) for i in range(2)]
    assert ember.autograd.gradcheck(lambda x: ev.ops.roi_align(x, boxes, 2, 1.0, 2, True), (x,))
    rois = ember.tensor(_ROIS.astype(np.float64) * np.array([1, .6, .6, .6, .6]))
    order = np.argsort(_ROIS[:, 0], kind='stable')
    a = ev.ops.roi_align(x, boxes, 2, 1.0, 2, True)
    b = ev.ops.roi_align(x, rois, 2, 1.0, 2, True)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy()[order])


def _kernel_roi_align(x, roi, size, sampling_ratio):
    """One roi of the CPU kernel's roi_align (aligned=False, scale 1), sample by sample: a sample beyond
    [-1, size] on either axis contributes zero."""
    _, C, H, W = x.shape
    b, x1, y1, x2, y2 = roi
    rw, rh = max(x2 - x1, 1.0), max(y2 - y1, 1.0)
    out = np.zeros((C, size, size))
    for ph in range(size):
        for pw in range(size):
            for iy in range(sampling_ratio):
                for ix in range(sampling_ratio):
                    y = y1 + ph * rh / size + (iy + .5) * rh / size / sampling_ratio
                    xx = x1 + pw * rw / size + (ix + .5) * rw / size / sampling_ratio
                    if y < -1 or y > H or xx < -1 or xx > W:
                        continue
                    y, xx = max(y, 0.0), max(xx, 0.0)
                    yl, xl = min(int(y), H - 1), min(int(xx), W - 1)
                    yh, xh = min(yl + 1, H - 1), min(xl + 1, W - 1)
                    ly, lx = (y - yl if yl < H - 1 else 0.0), (xx - xl if xl < W - 1 else 0.0)
                    img = x[int(b)]
                    out[:, ph, pw] += ((1 - ly) * (1 - lx) * img[:, yl, xl] + (1 - ly) * lx * img[:, yl, xh]
                                       + ly * (1 - lx) * img[:, yh, xl] + ly * lx * img[:, yh, xh])
    return out / sampling_ratio ** 2


def test_roi_align_samples_outside_the_map():
    x = np.random.default_rng(20).normal(size=(1, 2, 6, 5))
    rois = np.array([[0, -4.0, -3.0, 2.0, 3.0], [0, 3.0, 4.0, 9.0, 10.0]])
    got = ev.ops.roi_align(ember.tensor(x), ember.tensor(rois), 3, 1.0, 2).numpy()
    for k in range(2):
        np.testing.assert_allclose(got[k], _kernel_roi_align(x, rois[k], 3, 2), rtol=1e-12, atol=1e-12)


def test_roi_align_aligned_empty_box():
    """An aligned zero-size box samples nothing (grid 0): the kernel's loops run zero times, so its bins are 0 and
    it sends no gradient, beside a box that does."""
    x = ember.tensor(np.random.default_rng(23).normal(size=(1, 2, 6, 6)), requires_grad=True)
    rois = ember.tensor(np.array([[0, 2.0, 2.0, 2.0, 2.0], [0, 1.0, 1.0, 3.0, 4.0]]))
    y = ev.ops.roi_align(x, rois, 2, 1.0, -1, True)
    assert not y[0].detach().numpy().any() and y[1].detach().numpy().all()
    y[0].sum().backward()
    assert not x.grad.numpy().any()


def test_roi_align_many_rois_outside_the_map():
    """Twenty rois reaching past every edge of the map against the CPU kernel's rule, sample by sample."""
    rng = np.random.default_rng(22)
    x = rng.normal(size=(2, 3, 9, 11))
    corner = rng.uniform(-6, 12, (20, 2))
    rois = np.concatenate([rng.integers(0, 2, (20, 1)), corner, corner + rng.uniform(0, 9, (20, 2))], 1)
    got = ev.ops.roi_align(ember.tensor(x), ember.tensor(rois), 3, 1.0, 2).numpy()
    for k in range(20):
        np.testing.assert_allclose(got[k], _kernel_roi_align(x, rois[k], 3, 2), rtol=1e-12, atol=1e-12)


def _reference_roi_pool(x, rois, size, scale):
    """roi_pool from its documented rule, in torch: the box rounded to pixels, split into size x size bins of
    (box size + 1) / size pixels (floor / ceil edges, clipped), the maximum of each bin, 0 for an empty bin."""
    _, C, H, W = x.shape
    out = []
    for b, *c in rois.tolist():
        x1, y1, x2, y2 = (int(np.round(np.float32(v) * np.float32(scale))) for v in c)
        bh, bw = max(y2 - y1 + 1, 1) / size, max(x2 - x1 + 1, 1) / size
        cells = torch.zeros(C, size, size, dtype=x.dtype)
        for ph in range(size):
            for pw in range(size):
                hs, he = (min(max(int(np.floor(ph * bh)) + y1, 0), H), min(max(int(np.ceil((ph + 1) * bh)) + y1, 0), H))
                ws, we = (min(max(int(np.floor(pw * bw)) + x1, 0), W), min(max(int(np.ceil((pw + 1) * bw)) + x1, 0), W))
                if he > hs and we > ws:
                    cells[:, ph, pw] = x[int(b), :, hs:he, ws:we].amax((-1, -2))
        out.append(cells)
    return torch.stack(out)


@pytest.mark.parametrize('scale', [1.0, 0.5])
def test_roi_pool_against_reference(scale):
    x = np.random.default_rng(21).normal(size=(2, 3, 10, 12)).astype(np.float32)
    rois = np.concatenate([_ROIS, [[1, 14.0, 13.0, 20.0, 20.0]]]).astype(np.float32)
    xt = torch.tensor(x, requires_grad=True)
    want = _reference_roi_pool(xt, rois, 3, scale)
    xe = ember.tensor(x, requires_grad=True)
    got = ev.ops.roi_pool(xe, ember.tensor(rois), 3, scale)
    np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
    g = np.random.default_rng(22).normal(size=tuple(want.shape)).astype(np.float32)
    want.backward(torch.tensor(g))
    got.backward(ember.tensor(g))
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-6)
    x64 = ember.tensor(x.astype(np.float64), requires_grad=True)
    assert ember.autograd.gradcheck(lambda x: ev.ops.roi_pool(x, ember.tensor(rois.astype(np.float64)), 3, scale),
                                    (x64,))


def test_roi_modules_repr_and_forward():
    x = np.random.default_rng(23).normal(size=(2, 3, 10, 12)).astype(np.float32)
    for T in (torch, ember):
        m = OPS[T].RoIAlign((2, 3), 0.5, 2, aligned=True)
        p = OPS[T].RoIPool(2, 0.5)
        assert repr(m) == repr(tv.ops.RoIAlign((2, 3), 0.5, 2, aligned=True))
        assert repr(p) == repr(tv.ops.RoIPool(2, 0.5))
    got = ev.ops.RoIAlign((2, 3), 0.5, 2, aligned=True)(ember.tensor(x), ember.tensor(_ROIS))
    want = _eager_roi_align(torch.tensor(x), torch.tensor(_ROIS), 0.5, (2, 3), 2, True)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


# --- FPN, MultiScaleRoIAlign, FrozenBatchNorm2d, DropBlock, Conv3dNormActivation ---------------------------------

def _same_state(em, tm):
    es, ts = em.state_dict(), tm.state_dict()
    assert list(es) == list(ts)
    for k in ts:
        np.testing.assert_array_equal(es[k].numpy(), ts[k].numpy(), err_msg=k)


def _features(shapes, seed):
    rng = np.random.default_rng(seed)
    return {name: rng.normal(size=s).astype(np.float32) for name, s in shapes.items()}


@pytest.mark.parametrize('extra', [None, 'pool', 'p6p7', 'p6p7_c5'])
def test_feature_pyramid_network(extra):
    """Seeded construction gives torchvision's weights; the outputs (names, shapes, values) and gradients match."""
    feats = _features({'feat0': (2, 8, 16, 16), 'feat1': (2, 16, 8, 8), 'feat2': (2, 32, 4, 4)}, 24)

    def build(T):
        T.manual_seed(0)
        ops = OPS[T]
        from importlib import import_module
        fpn_mod = import_module(ops.__name__ + '.feature_pyramid_network')
        blocks = {None: None, 'pool': lambda: fpn_mod.LastLevelMaxPool(), 'p6p7': lambda: fpn_mod.LastLevelP6P7(6, 6),
                  'p6p7_c5': lambda: fpn_mod.LastLevelP6P7(32, 6)}
        return ops.FeaturePyramidNetwork([8, 16, 32], 6, extra_blocks=blocks[extra] and blocks[extra]())

    tm, em = build(torch), build(ember)
    assert repr(em) == repr(tm)
    _same_state(em, tm)
    tin = {k: torch.tensor(v, requires_grad=True) for k, v in feats.items()}
    ein = {k: ember.tensor(v, requires_grad=True) for k, v in feats.items()}
    tout, eout = tm(tin), em(ein)
    assert list(eout) == list(tout)
    for k in tout:
        np.testing.assert_allclose(eout[k].detach().numpy(), tout[k].detach().numpy(), rtol=1e-4, atol=1e-5)
    sum(v.sum() for v in tout.values()).backward()
    sum(v.sum() for v in eout.values()).backward()
    for k in feats:
        np.testing.assert_allclose(ein[k].grad.numpy(), tin[k].grad.numpy(), rtol=1e-4, atol=1e-4)


def test_fpn_loads_the_old_state_dict_layout():
    """A version-1 state dict (bare convolutions: inner_blocks.0.weight) loads into the version-2 modules."""
    ember.manual_seed(0)
    src = ev.ops.FeaturePyramidNetwork([4, 8], 5)
    old = {k.replace('.0.', '.'): v for k, v in src.state_dict().items()}
    ember.manual_seed(1)
    dst = ev.ops.FeaturePyramidNetwork([4, 8], 5)
    dst.load_state_dict(old)
    _same_state(dst, src)


def test_multi_scale_roi_align(monkeypatch):
    """Boxes of several sizes go to different levels (FPN's rule) and are pooled at each level's scale."""
    import torchvision.ops.poolers as tv_poolers
    monkeypatch.setattr(tv_poolers, 'roi_align', lambda input, rois, output_size, spatial_scale, sampling_ratio:
                        _eager_roi_align(input, rois, spatial_scale, output_size, sampling_ratio, False))
    feats = _features({'feat1': (2, 3, 64, 64), 'feat2': (2, 3, 32, 32), 'feat3': (2, 3, 16, 16),
                       'other': (2, 3, 8, 8)}, 25)
    boxes = [np.array([[0, 0, 40, 30], [10, 20, 250, 240], [5, 5, 100, 120]], np.float32),
             np.array([[100, 100, 140, 150], [0, 0, 255, 255]], np.float32)]
    outs = []
    for T in (torch, ember):
        m = OPS[T].MultiScaleRoIAlign(['feat1', 'feat3', 'feat2'], (3, 2), 2)
        x = {k: T.tensor(v) for k, v in feats.items()}
        outs.append(m(x, [T.tensor(b) for b in boxes], [(256, 256), (250, 240)]))
        outs.append((repr(m), m.scales))
    np.testing.assert_allclose(outs[2].numpy(), outs[0].numpy(), rtol=1e-5, atol=1e-6)
    assert outs[3] == outs[1]


def test_frozen_batch_norm_2d():
    rng = np.random.default_rng(26)
    bn = torch.nn.BatchNorm2d(4)
    with torch.no_grad():
        for t in (bn.weight, bn.bias, bn.running_mean):
            t.copy_(torch.tensor(rng.normal(size=4).astype(np.float32)))
        bn.running_var.copy_(torch.tensor(rng.uniform(0.5, 2, 4).astype(np.float32)))
    sd = {k: ember.tensor(v.numpy()) for k, v in bn.state_dict().items()}
    tm, em = tv.ops.FrozenBatchNorm2d(4), ev.ops.FrozenBatchNorm2d(4)
    tm.load_state_dict(bn.state_dict())
    em.load_state_dict(sd)            # num_batches_tracked is dropped, as torchvision drops it
    assert repr(em) == repr(tm) and list(em.state_dict()) == list(tm.state_dict())
    assert not list(em.parameters())
    check(lambda T, x: (em if T is ember else tm)(x), (2, 4, 3, 3))


@pytest.mark.parametrize('dims, block_size, inplace', [(2, 3, False), (2, 5, True), (3, 3, False), (2, 4, False)])
def test_drop_block(dims, block_size, inplace):
    """Seeded draws drop torchvision's blocks; evaluation mode and p=0 pass the input through."""
    x = np.random.default_rng(27).normal(size=(2, 3) + (7,) * dims).astype(np.float32)
    res = []
    for T in (torch, ember):
        ops = OPS[T]
        m = (ops.DropBlock2d if dims == 2 else ops.DropBlock3d)(0.3, block_size, inplace=inplace)
        T.manual_seed(3)
        try:
            res.append((repr(m), m(T.tensor(x)).numpy()))
        except ValueError as e:
            res.append(str(e))
        m.eval()
        assert m(T.tensor(x)).numpy().tolist() == x.tolist()
    if isinstance(res[0], str):
        assert res[1] == res[0]
    else:
        assert res[1][0] == res[0][0]
        np.testing.assert_allclose(res[1][1], res[0][1], rtol=1e-6, atol=1e-6)


def test_conv3d_norm_activation():
    for T in (torch, ember):
        T.manual_seed(0)
    tm, em = (OPS[T].Conv3dNormActivation(2, 4, kernel_size=(1, 3, 3), dilation=2) for T in (torch, ember))
    assert repr(em) == repr(tm)
    _same_state(em, tm)


# --- real programs, run unchanged through ``import torch, torchvision`` ---------------------------------------------

_DETR = '''
import torch
import torch.nn.functional as F
from torch import nn
import torchvision.ops.boxes as box_ops
from torchvision.ops import generalized_box_iou, box_convert


def box_cxcywh_to_xyxy(x):
    x_c, y_c, w, h = x.unbind(-1)
    return torch.stack([(x_c - 0.5 * w), (y_c - 0.5 * h), (x_c + 0.5 * w), (y_c + 0.5 * h)], dim=-1)


class TinyDETRHead(nn.Module):
    def __init__(self, num_queries=5, num_classes=3, dim=16):
        super().__init__()
        self.query_embed = nn.Embedding(num_queries, dim)
        self.class_embed = nn.Linear(dim, num_classes + 1)
        self.bbox_embed = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, 4))

    def forward(self, feats):
        h = self.query_embed.weight[None] + feats.mean(1, keepdim=True)
        return {"pred_logits": self.class_embed(h), "pred_boxes": self.bbox_embed(h).sigmoid()}


@torch.no_grad()
def match_costs(outputs, targets):
    bs, num_queries = outputs["pred_logits"].shape[:2]
    out_prob = outputs["pred_logits"].flatten(0, 1).softmax(-1)
    out_bbox = outputs["pred_boxes"].flatten(0, 1)
    tgt_ids = torch.cat([v["labels"] for v in targets])
    tgt_bbox = torch.cat([v["boxes"] for v in targets])
    cost_class = -out_prob[:, tgt_ids]
    cost_bbox = torch.cdist(out_bbox, tgt_bbox, p=1)
    cost_giou = -generalized_box_iou(box_cxcywh_to_xyxy(out_bbox), box_cxcywh_to_xyxy(tgt_bbox))
    C = 5 * cost_bbox + 1 * cost_class + 2 * cost_giou
    C = C.view(bs, num_queries, -1).cpu()
    sizes = [len(v["boxes"]) for v in targets]
    return [c[i].argmin(0) for i, c in enumerate(C.split(sizes, -1))]


torch.manual_seed(0)
model = TinyDETRHead()
opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-4)
feats = torch.randn(2, 7, 16)
targets = [{"labels": torch.tensor([1, 2]), "boxes": torch.tensor([[0.3, 0.4, 0.2, 0.3], [0.6, 0.5, 0.3, 0.2]])},
           {"labels": torch.tensor([0]), "boxes": torch.tensor([[0.5, 0.5, 0.4, 0.6]])}]
log = []
for step in range(4):
    outputs = model(feats)
    picks = match_costs(outputs, targets)
    src = torch.cat([outputs["pred_boxes"][i][p] for i, p in enumerate(picks)])
    tgt = torch.cat([t["boxes"] for t in targets])
    loss_bbox = F.l1_loss(src, tgt, reduction="none").sum() / len(tgt)
    loss_giou = (1 - torch.diag(box_ops.generalized_box_iou(box_convert(src, "cxcywh", "xyxy"),
                                                            box_cxcywh_to_xyxy(tgt)))).sum() / len(tgt)
    labels = torch.full((2, 5), 3)
    for i, p in enumerate(picks):
        labels[i, p] = targets[i]["labels"]
    loss_ce = F.cross_entropy(outputs["pred_logits"].transpose(1, 2), labels)
    loss = loss_ce + 5 * loss_bbox + 2 * loss_giou
    opt.zero_grad()
    loss.backward()
    opt.step()
    log.append((loss.item(), [p.tolist() for p in picks]))
result = log
'''

_DETECTION_POSTPROCESS = '''
import torch
import torchvision
from torchvision.ops import batched_nms, nms, box_iou, clip_boxes_to_image, remove_small_boxes
from torchvision.ops import sigmoid_focal_loss, generalized_box_iou_loss, complete_box_iou_loss


def postprocess(boxes, logits, image_size, score_thresh=0.3, nms_thresh=0.5, detections=10):
    scores, labels = logits.sigmoid().max(-1)
    boxes = clip_boxes_to_image(boxes, image_size)
    keep = remove_small_boxes(boxes, 1.0)
    boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
    keep = torch.where(scores > score_thresh)[0]
    boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
    keep = batched_nms(boxes, scores, labels, nms_thresh)[:detections]
    return boxes[keep], scores[keep], labels[keep]


torch.manual_seed(0)
head = torch.nn.Linear(8, 4 + 3)
opt = torch.optim.SGD(head.parameters(), lr=0.05, momentum=0.9)
feats = torch.randn(64, 8)
anchors = torch.rand(64, 2) * 40
gt = torch.cat([anchors + 2, anchors + 12], 1)
cls_t = torch.zeros(64, 3)
cls_t[torch.arange(64), torch.arange(64) % 3] = 1.0
losses = []
for step in range(5):
    out = head(feats)
    pred = torch.cat([anchors + out[:, :2], anchors + 10 + out[:, 2:4].exp()], 1)
    loss = sigmoid_focal_loss(out[:, 4:], cls_t, reduction="mean") + generalized_box_iou_loss(pred, gt, "mean") \
        + 0.1 * complete_box_iou_loss(pred, gt, "sum")
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(round(loss.item(), 4))
with torch.no_grad():
    out = head(feats)
    pred = torch.cat([anchors + out[:, :2], anchors + 10 + out[:, 2:4].exp()], 1)
    b, s, l = postprocess(pred, out[:, 4:], (45, 50))
    plain = nms(pred, out[:, 4:].max(-1)[0], 0.3)
result = (losses, b.tolist(), s.tolist(), l.tolist(), plain.tolist(), box_iou(b[:3], gt[:4]).tolist())
'''

_RCNN_HEAD = '''
from collections import OrderedDict
import torch
import torch.nn.functional as F
import torchvision
from torchvision.ops import MultiScaleRoIAlign, FeaturePyramidNetwork, roi_align
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool
from torchvision.ops.misc import FrozenBatchNorm2d


class Backbone(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(3, 8, 3, 2, 1)
        self.bn1 = FrozenBatchNorm2d(8)
        self.c2 = torch.nn.Conv2d(8, 16, 3, 2, 1)
        self.fpn = FeaturePyramidNetwork([8, 16], 8, extra_blocks=LastLevelMaxPool())

    def forward(self, x):
        f1 = F.relu(self.bn1(self.c1(x)))
        f2 = F.relu(self.c2(f1))
        return self.fpn(OrderedDict([("0", f1), ("1", f2)]))


torch.manual_seed(0)
backbone = Backbone()
pooler = MultiScaleRoIAlign(["0", "1"], 4, 2)
box_head = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(8 * 16, 5))
params = list(backbone.parameters()) + list(box_head.parameters())
opt = torch.optim.SGD(params, lr=0.01)
images = torch.randn(2, 3, 32, 32)
proposals = [torch.tensor([[1.0, 2.0, 20.0, 25.0], [4.0, 4.0, 9.0, 11.0]]), torch.tensor([[0.0, 0.0, 31.0, 31.0]])]
labels = torch.tensor([1, 3, 0])
losses = []
for step in range(3):
    feats = backbone(images)
    pooled = pooler(feats, proposals, [(32, 32), (32, 32)])
    loss = F.cross_entropy(box_head(pooled), labels)
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
masks = roi_align(feats["0"], proposals, (7, 7), 0.5, 2, aligned=True)
result = (losses, list(feats), [tuple(v.shape) for v in feats.values()], tuple(masks.shape), masks.sum().item())
'''


def _run_program(source, monkeypatch):
    """``source`` run with PyTorch and torchvision, then with ember through the aliasing; its ``result`` each
    time. torchvision's roi_align runs eagerly (its torch.compile fallback takes half a minute) and its nms is
    the greedy reference (the C kernel does not load here)."""
    import torchvision.ops.boxes as tv_boxes
    import torchvision.ops.poolers as tv_poolers
    monkeypatch.setattr(tv_boxes, 'nms', _reference_nms)
    monkeypatch.setattr(tv.ops, 'nms', _reference_nms)
    monkeypatch.setattr(tv_poolers, 'roi_align', lambda input, rois, output_size, spatial_scale, sampling_ratio:
                        _eager_roi_align(input, rois, spatial_scale, output_size, sampling_ratio, False))
    monkeypatch.setattr(tv.ops, 'roi_align', lambda input, boxes, output_size, spatial_scale=1.0, sampling_ratio=-1,
                        aligned=False: _eager_roi_align(input, tv.ops._utils.convert_boxes_to_roi_format(boxes),
                                                        spatial_scale, torch.nn.modules.utils._pair(output_size),
                                                        sampling_ratio, aligned))
    want = {}
    exec(compile(source, '<program>', 'exec'), want)
    got = {}
    with aliasing.as_torch():
        exec(compile(source, '<program>', 'exec'), got)
        assert got['torch'] is ember
    return got['result'], want['result']


def _close(got, want, rtol=1e-4, atol=1e-5):
    """Nested lists / tuples of numbers equal within tolerance, ints and strings exactly."""
    if isinstance(want, (list, tuple)):
        assert type(got) is type(want) and len(got) == len(want), (got, want)
        for g, w in zip(got, want):
            _close(g, w, rtol, atol)
    elif isinstance(want, float):
        assert abs(got - want) <= atol + rtol * abs(want), (got, want)
    else:
        assert got == want


def test_detr_matcher_and_box_losses(monkeypatch):
    """DETR's box_ops and Hungarian-matcher costs (cdist, generalized_box_iou of cxcywh boxes) in an AdamW loop."""
    got, want = _run_program(_DETR, monkeypatch)
    _close(got, want)


def test_dense_detector_losses_and_postprocess(monkeypatch):
    """A RetinaNet-style head trained with focal + GIoU + CIoU losses, then clip / remove_small / batched_nms."""
    got, want = _run_program(_DETECTION_POSTPROCESS, monkeypatch)
    _close(got, want)


def test_rcnn_fpn_roi_heads(monkeypatch):
    """A Faster R-CNN-style FrozenBatchNorm2d backbone with an FPN, MultiScaleRoIAlign box head and Mask
    R-CNN's aligned roi_align, trained a few SGD steps."""
    got, want = _run_program(_RCNN_HEAD, monkeypatch)
    _close(got, want)


# --- segmentation models ---------------------------------------------------------------------------------------------

def _seg_models(T):
    return tv.models.segmentation if T is torch else ev.models.segmentation


@pytest.mark.parametrize('name, aux', [('fcn_resnet50', True), ('deeplabv3_resnet50', False),
                                       ('deeplabv3_mobilenet_v3_large', True), ('lraspp_mobilenet_v3_large', None)])
def test_segmentation_models(name, aux):
    """Seeded construction gives torchvision's modules and weights; evaluation outputs match."""
    x = np.random.default_rng(28).normal(size=(1, 3, 40, 48)).astype(np.float32)
    kwargs = {'weights': None, 'weights_backbone': None, 'num_classes': 4}
    if aux is not None:
        kwargs['aux_loss'] = aux
    res = []
    for T in (torch, ember):
        T.manual_seed(0)
        m = getattr(_seg_models(T), name)(**kwargs).eval()
        with T.no_grad():
            out = m(T.tensor(x))
        res.append((m, out))
    (tm, tout), (em, eout) = res
    assert repr(em) == repr(tm)
    _same_state(em, tm)
    assert list(eout) == list(tout)
    for k in tout:
        np.testing.assert_allclose(eout[k].numpy(), tout[k].numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('name', ['fcn_resnet101', 'deeplabv3_resnet101'])
def test_segmentation_resnet101_layout(name):
    tm, em = (getattr(_seg_models(T), name)(weights=None, weights_backbone=None, aux_loss=True) for T in (torch, ember))
    assert repr(em) == repr(tm)
    assert [(k, tuple(v.shape)) for k, v in em.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in tm.state_dict().items()]


def test_segmentation_weights_and_legacy_arguments():
    import warnings
    for enum in ('FCN_ResNet50_Weights', 'FCN_ResNet101_Weights', 'DeepLabV3_ResNet50_Weights',
                 'DeepLabV3_ResNet101_Weights', 'DeepLabV3_MobileNet_V3_Large_Weights',
                 'LRASPP_MobileNet_V3_Large_Weights'):
        t, e = getattr(tv.models.segmentation, enum).DEFAULT, getattr(ev.models.segmentation, enum).DEFAULT
        assert (repr(e), e.url, e.meta) == (repr(t), t.url, t.meta)
        assert repr(e.transforms()) == repr(t.transforms())
    assert ev.models.list_models(module=ev.models.segmentation) == \
        tv.models.list_models(module=tv.models.segmentation)
    res = []
    for T in (torch, ember):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            m = _seg_models(T).deeplabv3_mobilenet_v3_large(pretrained=False, pretrained_backbone=False,
                                                             num_classes=3)
        res.append(([str(x.message) for x in w], m.classifier[-1].out_channels))
        with pytest.raises(NotImplementedError, match='does not use auxiliary loss'):
            _seg_models(T).lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, aux_loss=True)
        with pytest.raises(ValueError, match="expected value 21 but got 3"):
            _seg_models(T).fcn_resnet50(weights='DEFAULT', num_classes=3)
    assert res[1] == res[0]


def test_semantic_segmentation_preset():
    """On a float image (a uint8 tensor goes through v1's resize, whose rounding ember does not match yet)."""
    img = np.random.default_rng(29).uniform(size=(3, 30, 40)).astype(np.float32)
    t = tv.models.segmentation.FCN_ResNet50_Weights.DEFAULT.transforms(resize_size=24)(torch.tensor(img))
    e = ev.models.segmentation.FCN_ResNet50_Weights.DEFAULT.transforms(resize_size=24)(ember.tensor(img))
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-5, atol=1e-5)


def test_intermediate_layer_getter():
    x = np.random.default_rng(30).normal(size=(1, 3, 32, 32)).astype(np.float32)
    outs = []
    for T, models in ((torch, tv.models), (ember, ev.models)):
        T.manual_seed(0)
        from importlib import import_module
        getter = import_module(models.__name__ + '._utils').IntermediateLayerGetter
        m = getter(models.resnet18(), {'layer1': 'feat1', 'layer3': 'feat2'}).eval()
        with T.no_grad():
            outs.append([(k, v.numpy()) for k, v in m(T.tensor(x)).items()] + [list(m.keys())])
    assert outs[1][-1] == outs[0][-1] and [k for k, _ in outs[1][:-1]] == [k for k, _ in outs[0][:-1]]
    for (_, e), (_, t) in zip(outs[1][:-1], outs[0][:-1]):
        np.testing.assert_allclose(e, t, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match='return_layers are not present in model'):
        ev.models._utils.IntermediateLayerGetter(ev.models.resnet18(), {'fc2': 'x'})


_SEG_FINETUNE = '''
import torch
import torch.nn as nn
import torchvision
from torchvision.models.segmentation import deeplabv3_resnet50
from torchvision.models.segmentation.deeplabv3 import DeepLabHead
from torchvision.models.segmentation.fcn import FCNHead

torch.manual_seed(0)
model = deeplabv3_resnet50(weights=None, weights_backbone=None, aux_loss=True)
model.classifier = DeepLabHead(2048, 3)
model.aux_classifier = FCNHead(1024, 3)
for p in model.backbone.parameters():
    p.requires_grad = False
opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01, momentum=0.9)
criterion = nn.CrossEntropyLoss()
images = torch.randn(2, 3, 32, 32)
masks = torch.randint(0, 3, (2, 32, 32))
model.train()
losses = []
for step in range(2):
    out = model(images)
    loss = criterion(out["out"], masks) + 0.5 * criterion(out["aux"], masks)
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
model.eval()
with torch.no_grad():
    pred = model(images)["out"].argmax(1)
result = (losses, tuple(pred.shape), pred.float().mean().item())
'''


def test_deeplab_head_finetuning(monkeypatch):
    """The usual fine-tuning recipe: replace DeepLabV3's heads, freeze the backbone, train on 'out' + 'aux'."""
    got, want = _run_program(_SEG_FINETUNE, monkeypatch)
    _close(got, want, rtol=1e-3, atol=1e-4)


def test_conv_weight_grad_on_a_frozen_input_at_the_taps_path():
    """A >= 256-channel conv to a <= 4x4 output (the per-tap path) whose input needs no gradient but whose weight
    does (a new head on a frozen backbone): the weight's gradient, not a crash."""
    rng = np.random.default_rng(33)
    x, w = rng.normal(size=(2, 256, 4, 4)).astype(np.float32), rng.normal(size=(256, 256, 3, 3)).astype(np.float32)
    grads = []
    for T in (torch, ember):
        wt = T.tensor(w, requires_grad=True)
        T.nn.functional.conv2d(T.tensor(x), wt, padding=12, dilation=12).square().sum().backward()
        grads.append(wt.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-4, atol=1e-3)


# --- tv_tensors and transforms.v2 with boxes and masks ---------------------------------------------------------------

def _tvt(T):
    return tv.tv_tensors if T is torch else ev.tv_tensors


def _v2(T):
    return tv.transforms.v2 if T is torch else ev.transforms.v2


def _describe(x):
    """Type name, repr and values of a sample leaf (or structure), for comparing the two libraries."""
    if isinstance(x, dict):
        return {k: _describe(v) for k, v in x.items()}
    if isinstance(x, (tuple, list)):
        return type(x)([_describe(v) for v in x])
    if hasattr(x, 'numpy'):
        return (type(x).__name__, repr(x).replace('torch.', ''), str(x.dtype).replace('torch.', ''),
                tuple(x.shape), getattr(x, 'canvas_size', None), str(getattr(x, 'format', None)))
    return x


def test_tv_tensor_types_and_reprs():
    res = []
    for T in (torch, ember):
        tvt = _tvt(T)
        b = tvt.BoundingBoxes([[1, 2, 3, 4], [2, 3, 5, 7.5]], format='XYXY', canvas_size=(10, 12))
        img = tvt.Image(T.zeros(2, 3, dtype=T.uint8))
        m = tvt.Mask(T.zeros(2, 3, 3, dtype=T.uint8))
        one = tvt.BoundingBoxes(T.tensor([1, 2, 3, 4]), format=tvt.BoundingBoxFormat.XYWH, canvas_size=(5, 5))
        res.append([repr(b), repr(img), repr(m), repr(one), type(b[0]).__name__, type(b + 1).__name__,
                    type(b.clone()).__name__, b.clone().canvas_size, type(b.to(T.float64)).__name__,
                    type(tvt.wrap(b.sum(0, keepdim=True), like=b)).__name__,
                    tvt.wrap(b * 2, like=b, canvas_size=(20, 24)).canvas_size, type(img * 1).__name__,
                    isinstance(b, T.Tensor), tvt.is_rotated_bounding_format('XYWHR')])
        with pytest.raises(ValueError, match='Expected a 1D or 2D tensor, got 3D'):
            tvt.BoundingBoxes(T.zeros(1, 1, 4), format='XYXY', canvas_size=(2, 2))
    assert res[1] == res[0]


def test_tv_tensor_torch_function_results():
    """torchvision's TVTensor.__torch_function__: in-place ops, torch functions, indexing and splits give plain
    tensors; clone/to/detach/requires_grad_ keep the type (BoundingBoxes their metadata), also through autograd."""
    res = []
    for T in (torch, ember):
        tvt = _tvt(T)
        b = tvt.BoundingBoxes([[1.0, 2, 3, 4], [2, 3, 5, 7.5]], format='XYWH', canvas_size=(10, 12))
        img = tvt.Image(T.ones(1, 2, 2), requires_grad=True)
        y = img.detach().requires_grad_()
        z = (y.clone() * 2).sum()
        z.backward()
        res.append([_describe(b.clone().add_(1)), _describe(T.add(b, 1)), _describe(b.split(1)),
                    _describe(b.detach()), _describe(img.to(T.float64)), _describe(y), y.requires_grad,
                    _describe(T.cat([b, b])), _describe(img.clone()), img.clone().grad_fn.name(), _describe(y.grad),
                    _describe(tvt.Mask(T.zeros(1, 2, dtype=T.uint8)).clone().float())])
    assert res[1] == res[0]


@pytest.mark.parametrize('dtype', [np.float32, np.int64])
def test_convert_and_clamp_bounding_boxes(dtype):
    data = np.array([[-3, 2, 14, 9], [1, 1, 5, 6], [4, -2, 9, 20]], dtype)
    fmts = ['XYXY', 'XYWH', 'CXCYWH']
    res = []
    for T in (torch, ember):
        tvt, F2 = _tvt(T), _v2(T).functional
        out = []
        for a in fmts:
            b = tvt.BoundingBoxes(T.tensor(data), format=a, canvas_size=(8, 12))
            for c in fmts:
                out.append(_describe(F2.convert_bounding_box_format(b, new_format=c)))
            out.append(_describe(F2.clamp_bounding_boxes(b)))
            out.append(_describe(F2.convert_bounding_box_format(T.tensor(data), old_format=a, new_format='XYXY')))
        res.append(out)
    assert res[1] == res[0]


def _detection_sample(T, seed=31):
    rng = np.random.default_rng(seed)
    tvt = _tvt(T)
    img = rng.integers(0, 256, (3, 24, 32), dtype=np.uint8)
    masks = (rng.random((3, 24, 32)) > 0.6).astype(np.uint8)
    boxes = np.array([[2, 3, 12, 20], [20, 1, 31, 9], [5, 18, 6.5, 23]], np.float32)
    return (tvt.Image(T.tensor(img)),
            {'boxes': tvt.BoundingBoxes(T.tensor(boxes), format='XYXY', canvas_size=(24, 32)),
             'masks': tvt.Mask(T.tensor(masks)), 'labels': T.tensor([1, 2, 3]), 'image_id': 7})


_PIPELINES = {
    'flip_resize': lambda v2, T: v2.Compose([v2.RandomHorizontalFlip(p=1.0), v2.RandomVerticalFlip(p=1.0),
                                             v2.Resize((30, 20)), v2.ToDtype(T.float32, scale=True),
                                             v2.ClampBoundingBoxes(), v2.SanitizeBoundingBoxes()]),
    'crops': lambda v2, T: v2.Compose([v2.RandomResizedCrop((16, 16), scale=(0.3, 1.0)), v2.CenterCrop(14),
                                       v2.RandomCrop(10), v2.SanitizeBoundingBoxes(min_size=2)]),
    'formats': lambda v2, T: v2.Compose([v2.ConvertBoundingBoxFormat('CXCYWH'), v2.RandomHorizontalFlip(p=1.0),
                                         v2.Resize(12), v2.ConvertBoundingBoxFormat('XYWH'), v2.ColorJitter(0.3),
                                         v2.ToPureTensor()]),
}


@pytest.mark.parametrize('name', sorted(_PIPELINES))
@pytest.mark.parametrize('seed', [0, 1, 2])
def test_detection_transforms_pipeline(name, seed):
    """A detection sample (Image, BoundingBoxes, Mask, labels) through seeded v2 pipelines: the same draws, the
    same types, boxes, canvas sizes, masks and image values as torchvision."""
    res = []
    for T in (torch, ember):
        T.manual_seed(seed)
        res.append(_describe(_PIPELINES[name](_v2(T), T)(_detection_sample(T))))
    assert res[1] == res[0]


def test_geometric_transforms_ember_does_not_apply_to_boxes():
    sample = _detection_sample(ember)
    for t in (ev.transforms.v2.RandomRotation(10), ev.transforms.v2.Pad(2), ev.transforms.v2.RandomCrop(26, 2)):
        with pytest.raises(NotImplementedError, match='not supported by ember'):
            t(sample)


def test_auto_augment_on_tv_tensors():
    """AutoAugment keeps an Image an Image (same draws and pixels as torchvision) and refuses boxes and masks."""
    res = []
    for T in (torch, ember):
        sample = _detection_sample(T)
        T.manual_seed(4)
        res.append(_describe(_v2(T).AutoAugment()(sample[0])))
        with pytest.raises(TypeError, match='Inputs of type BoundingBoxes are not supported by RandAugment()'):
            _v2(T).RandAugment()(sample)
    assert res[1] == res[0]


def test_to_image_and_plain_tensor_rules():
    """ToImage gives tv_tensors.Image; a plain tensor next to an Image is passed through (torchvision's rule)."""
    arr = np.random.default_rng(32).integers(0, 256, (6, 5, 3), dtype=np.uint8)
    res = []
    for T in (torch, ember):
        v2 = _v2(T)
        img = v2.ToImage()(arr)
        extra = T.ones(2, 6, 5)
        out = v2.RandomHorizontalFlip(p=1.0)(img, extra)
        res.append([_describe(img), _describe(out)])
    assert res[1] == res[0]
