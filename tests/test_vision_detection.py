"""torchvision.models.detection on ember against torchvision 0.28: the building blocks one by one (anchors, box
coders, matchers, sampler, RPN, RoI heads with their losses and postprocessing, the transform), then whole
Faster / Mask R-CNN models with the same weights (training losses, every parameter's gradient, detections), and
the PennFudan finetuning tutorial run unchanged through ``import torch, torchvision`` aliasing.

torchvision's C extension does not load on this CPU build of torch: its ``nms`` is replaced by a greedy
reference and ``roi_align`` by torchvision's own pure-Python ``_roi_align`` (as tests/test_real_vision_ops.py
does). Whole models run in float64 so that the discrete steps (top-k, NMS, matching) see the same numbers on
both sides; gradients of the small pieces are also checked against float64 finite differences."""
import numpy as np
import pytest
import torch

import ember
from ember import aliasing
from helpers import assert_same, check, import_torchvision

tv = import_torchvision()
ev = ember.vision
import torchvision.models.detection  # noqa: E402,F401
import torchvision.models.detection.roi_heads  # noqa: E402,F401
DET = {torch: tv.models.detection, ember: ev.models.detection}


def _reference_nms(boxes, scores, threshold):
    """Greedy NMS in torch: boxes by descending score (stable), each kept unless a kept box overlaps it with IoU
    above the threshold (a NaN IoU, of two empty boxes, suppresses nothing, as in torchvision's kernel)."""
    order = torch.sort(scores, descending=True, stable=True)[1]
    iou = tv.ops.box_iou(boxes, boxes).detach().numpy()
    keep = []
    for i in order.tolist():
        if not any(iou[i, j] > threshold for j in keep):
            keep.append(i)
    return torch.tensor(keep, dtype=torch.int64)


def _eager_roi_align(input, rois, spatial_scale, output_size, sampling_ratio=-1, aligned=False):
    """torchvision's pure-Python roi_align without its torch.compile wrapper."""
    from torchvision.ops.roi_align import _roi_align
    fn = getattr(_roi_align, '__wrapped__', _roi_align)
    output_size = torch.nn.modules.utils._pair(output_size)
    return fn(input, rois, spatial_scale, output_size[0], output_size[1], sampling_ratio, aligned)


@pytest.fixture
def tv_ops(monkeypatch):
    """torchvision with its C ops replaced by torch-written ones."""
    import torchvision.ops.boxes as tv_boxes
    import torchvision.ops.poolers as tv_poolers
    monkeypatch.setattr(tv_boxes, 'nms', _reference_nms)
    monkeypatch.setattr(tv.ops, 'nms', _reference_nms)
    monkeypatch.setattr(tv_poolers, 'roi_align', lambda input, rois, output_size, spatial_scale, sampling_ratio:
                        _eager_roi_align(input, rois, spatial_scale, output_size, sampling_ratio))
    monkeypatch.setattr(tv.models.detection.roi_heads, 'roi_align',
                        lambda input, rois, output_size, spatial_scale=1.0, sampling_ratio=-1, aligned=False:
                        _eager_roi_align(input, rois, spatial_scale, output_size, sampling_ratio, aligned))


def _boxes(n, seed, size=60.0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, size * 0.6, (n, 2))
    wh = rng.uniform(4, size * 0.4, (n, 2))
    return np.concatenate([xy, xy + wh], 1).astype(dtype)


def _same_weights(tmodel, emodel):
    """``emodel`` loaded with ``tmodel``'s state dict, after checking the keys and shapes are the same."""
    tsd = tmodel.state_dict()
    esd = emodel.state_dict()
    assert list(esd) == list(tsd)
    assert all(tuple(esd[k].shape) == tuple(v.shape) for k, v in tsd.items())
    emodel.load_state_dict({k: ember.tensor(v.numpy()) for k, v in tsd.items()})


# --- anchors --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('sizes,ratios', [(((32,), (64,), (128,)), ((0.5, 1.0, 2.0),) * 3),
                                          (((16, 24, 40),), ((0.5, 1.0),)), ((20, 50), (1.0, 3.0))])
def test_anchor_generator(sizes, ratios):
    """Anchors of every level for a padded batch, as torchvision lays them out; grid strides from the padded
    size over each feature map's size."""
    shapes = [(8, 10), (4, 5), (2, 3)][:len(sizes) if isinstance(sizes[0], tuple) else 2]
    out = {}
    for T in (torch, ember):
        gen = DET[T].anchor_utils.AnchorGenerator(sizes, ratios)
        images = DET[T].image_list.ImageList(T.zeros(2, 3, 32, 40), [(30, 40), (32, 35)])
        out[T] = (gen(images, [T.zeros(2, 4, *s) for s in shapes]), gen.num_anchors_per_location(),
                  gen.cell_anchors)
    assert_same(out[ember], out[torch], atol=0, rtol=0)


@pytest.mark.parametrize('steps,clip', [(None, True), ([8, 16], False)])
def test_default_box_generator(steps, clip):
    """SSD's default boxes (scales between min and max ratio, a pair of boxes per aspect ratio), and its repr."""
    out = {}
    for T in (torch, ember):
        gen = DET[T].anchor_utils.DefaultBoxGenerator([[2], [2, 3]], steps=steps, clip=clip)
        images = DET[T].image_list.ImageList(T.zeros(1, 3, 32, 48), [(32, 48)])
        out[T] = (gen(images, [T.zeros(1, 4, 4, 6), T.zeros(1, 4, 2, 3)]), gen.num_anchors_per_location(), repr(gen))
    assert_same(out[ember], out[torch], atol=1e-6)


# --- box coders, matchers, sampler ------------------------------------------------------------------------------------

@pytest.mark.parametrize('weights', [(1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0)])
def test_box_coder_encode_decode(weights):
    """encode (per-image lists) and decode (K boxes per reference, large log-ratios clipped) as torchvision's;
    gradients against torch and float64 finite differences."""
    refs, props = _boxes(7, 0), _boxes(7, 1)
    codes = np.random.default_rng(2).normal(0, 0.5, (7, 8)).astype(np.float32)
    codes[0, 2] = 9.0                                        # beyond bbox_xform_clip = log(1000 / 16)

    def coded(T, r, p, c):
        coder = DET[T]._utils.BoxCoder(weights)
        return coder.encode([r[:3], r[3:]], [p[:3], p[3:]]), coder.decode(c, [p[:3], p[3:]])
    check(coded, inputs=[refs, props, codes])


def test_box_linear_coder():
    refs, props = _boxes(5, 3), _boxes(5, 4)
    for normalize in (True, False):
        check(lambda T, r, p: (DET[T]._utils.BoxLinearCoder(normalize).encode(r, p),
                               DET[T]._utils.BoxLinearCoder(normalize).decode(p, r)), inputs=[refs, props])


@pytest.mark.parametrize('low_quality', [False, True])
def test_matcher(low_quality):
    """Matches, the two negative codes and the low-quality restoration (with ties) as torchvision's."""
    rng = np.random.default_rng(5)
    iou = rng.choice([0.0, 0.1, 0.35, 0.4, 0.55, 0.7, 0.9], size=(4, 30)).astype(np.float32)
    iou[2] = np.minimum(iou[2], 0.35)                   # a ground truth whose best matches are low-quality ties
    out = {T: DET[T]._utils.Matcher(0.7, 0.3, low_quality)(T.tensor(iou)) for T in (torch, ember)}
    assert_same(out[ember], out[torch])
    ssd = {T: DET[T]._utils.SSDMatcher(0.5)(T.tensor(iou)) for T in (torch, ember)}
    assert_same(ssd[ember], ssd[torch])


def test_matcher_errors():
    for T in (torch, ember):
        m = DET[T]._utils.Matcher(0.7, 0.3)
        with pytest.raises(ValueError, match='No ground-truth boxes'):
            m(T.zeros(0, 5))
        with pytest.raises(ValueError, match='No proposal boxes'):
            m(T.zeros(3, 0))


def test_balanced_sampler_draws_as_torch():
    """The same seed draws the same positives and negatives (ember's generator is torch's)."""
    rng = np.random.default_rng(6)
    matched = [T_ for T_ in (rng.integers(-1, 4, 300), rng.integers(-1, 2, 50))]
    out = {}
    for T in (torch, ember):
        T.manual_seed(3)
        out[T] = DET[T]._utils.BalancedPositiveNegativeSampler(64, 0.25)([T.tensor(m) for m in matched])
    assert_same(out[ember], out[torch])


# --- RPN ------------------------------------------------------------------------------------------------------------

def _rpn(T, training):
    m = DET[T]
    gen = m.anchor_utils.AnchorGenerator(((16,), (32,)), ((0.5, 1.0, 2.0),) * 2)
    rpn = m.rpn.RegionProposalNetwork(gen, m.rpn.RPNHead(4, 3, conv_depth=2), 0.6, 0.3, 32, 0.5,
                                      dict(training=40, testing=30), dict(training=25, testing=12), 0.7)
    return rpn.train(training)


@pytest.mark.parametrize('training', [True, False])
def test_region_proposal_network(tv_ops, training):
    """Proposals (top-k per level, clipping, NMS per level) and in training the objectness and box losses, with
    the gradients of the head's parameters (float64: the discrete steps see the same numbers)."""
    rng = np.random.default_rng(7)
    feats = [rng.normal(size=(2, 4, 8, 10)), rng.normal(size=(2, 4, 4, 5))]
    gt = [_boxes(2, 8, 30, np.float64), _boxes(3, 9, 30, np.float64)]
    out, grads = {}, {}
    models = {torch: _rpn(torch, training).double(), ember: _rpn(ember, training).double()}
    _same_weights(models[torch], models[ember])
    for T, rpn in models.items():
        T.manual_seed(0)
        images = DET[T].image_list.ImageList(T.zeros(2, 3, 32, 40, dtype=T.float64), [(30, 40), (32, 35)])
        targets = [{'boxes': T.tensor(b)} for b in gt] if training else None
        boxes, losses = rpn(images, {str(i): T.tensor(f) for i, f in enumerate(feats)}, targets)
        out[T] = (boxes, dict(sorted(losses.items())))
        if training:
            sum(losses.values()).backward()
            grads[T] = [p.grad for p in rpn.parameters()]
    assert_same(out[ember][0], out[torch][0], atol=1e-10)
    assert_same(list(out[ember][1].values()), list(out[torch][1].values()), atol=1e-10)
    assert list(out[ember][1]) == list(out[torch][1])
    if training:
        assert_same(grads[ember], grads[torch], atol=1e-10)


def test_concat_box_prediction_layers():
    rng = np.random.default_rng(10)
    arrays = [rng.normal(size=(2, 3, 4, 5)), rng.normal(size=(2, 12, 4, 5)), rng.normal(size=(2, 3, 2, 2)),
              rng.normal(size=(2, 12, 2, 2))]
    check(lambda T, a, b, c, d: DET[T].rpn.concat_box_prediction_layers([a, c], [b, d]), inputs=arrays)


# --- RoI heads ------------------------------------------------------------------------------------------------------

def test_fastrcnn_loss_gradients():
    """Cross-entropy plus the positives' smooth L1 for their class, over all sampled proposals."""
    rng = np.random.default_rng(11)
    logits, deltas = rng.normal(size=(9, 4)), rng.normal(0, 0.2, (9, 16))
    labels, targets = [np.array([0, 2, 3, 1, 0]), np.array([1, 0, 0, 3])], rng.normal(0, 0.2, (9, 4))
    check(lambda T, lg, d, t: DET[T].roi_heads.fastrcnn_loss(lg, d, [T.tensor(lab) for lab in labels],
                                                             [t[:5], t[5:]]),
          inputs=[logits, deltas, targets])


def test_maskrcnn_loss_and_inference(tv_ops):
    """Targets cropped from the matched masks by RoIAlign, BCE against the logits of the ground-truth class;
    inference picks each detection's class channel."""
    rng = np.random.default_rng(12)
    masks = [(rng.uniform(size=(2, 30, 40)) > 0.5).astype(np.uint8), (rng.uniform(size=(1, 30, 40)) > 0.4)
             .astype(np.uint8)]
    props = [_boxes(3, 13, 30, np.float64), _boxes(2, 14, 30, np.float64)]
    idxs, gt_labels = [np.array([0, 1, 1]), np.array([0, 0])], [np.array([2, 1]), np.array([3])]

    def loss(T, logits):
        return DET[T].roi_heads.maskrcnn_loss(logits, [T.tensor(p) for p in props], [T.tensor(m) for m in masks],
                                              [T.tensor(g) for g in gt_labels], [T.tensor(i) for i in idxs])
    check(loss, inputs=[rng.normal(size=(5, 4, 6, 6))])
    labels = [np.array([1, 3, 0]), np.array([2, 2])]
    check(lambda T, x: DET[T].roi_heads.maskrcnn_inference(x, [T.tensor(lab) for lab in labels]),
          inputs=[rng.normal(size=(5, 4, 6, 6))])


def test_paste_masks_in_image():
    """Masks padded, resized to their (grown, integer) boxes and pasted, boxes partly outside the image too."""
    rng = np.random.default_rng(15)
    masks = rng.uniform(size=(4, 1, 7, 7)).astype(np.float32)
    boxes = np.array([[2.3, 3.1, 20.7, 15.2], [-5.0, 10.0, 12.0, 40.0], [30.0, 1.0, 50.0, 8.0],
                      [10.0, 10.0, 10.4, 10.2]], np.float32)
    check(lambda T, m, b: DET[T].roi_heads.paste_masks_in_image(m, b, (24, 36)), inputs=[masks, boxes], grad=False)
    empty = ev.models.detection.roi_heads.paste_masks_in_image(ember.zeros(0, 1, 7, 7), ember.zeros(0, 4), (5, 6))
    assert tuple(empty.shape) == (0, 1, 5, 6)


def test_keypoint_heatmaps_loss_and_inference():
    """Keypoints to heatmap cells (boundary and invisible ones), the cross-entropy loss, and keypoints back from
    bicubic-upsampled heatmaps."""
    rng = np.random.default_rng(16)
    rois = np.array([[2.0, 3.0, 20.0, 18.0], [5.0, 1.0, 9.5, 30.0]], np.float32)
    kps = np.concatenate([rng.uniform(0, 25, (2, 5, 2)), rng.integers(0, 2, (2, 5, 1))], 2).astype(np.float32)
    kps[0, 0, :2] = [20.0, 18.0]                                  # on the far boundary
    out = {T: DET[T].roi_heads.keypoints_to_heatmap(T.tensor(kps), T.tensor(rois), 8) for T in (torch, ember)}
    assert_same(out[ember], out[torch])
    check(lambda T, x: DET[T].roi_heads.keypointrcnn_loss(x, [T.tensor(rois)], [T.tensor(kps)],
                                                          [T.tensor(np.array([0, 1]))]),
          inputs=[rng.normal(size=(2, 5, 8, 8))])
    check(lambda T, x: DET[T].roi_heads.keypointrcnn_inference(x, [T.tensor(rois[:1]), T.tensor(rois[1:])]),
          inputs=[rng.normal(size=(2, 5, 8, 8)).astype(np.float32)], grad=False)


def _roi_heads(T, training):
    m = DET[T]
    pool = tv.ops.MultiScaleRoIAlign if T is torch else ev.ops.MultiScaleRoIAlign
    heads = m.roi_heads.RoIHeads(pool(['0', '1'], 4, 2), m.faster_rcnn.TwoMLPHead(4 * 16, 12),
                                 m.faster_rcnn.FastRCNNPredictor(12, 3), 0.5, 0.5, 16, 0.25, None, 0.05, 0.5, 10)
    return heads.train(training)


@pytest.mark.parametrize('training', [True, False])
def test_roi_heads(tv_ops, training):
    """Training: ground truth added to the proposals, matching, sampling, the two losses and every parameter's
    gradient. Eval: decoded, clipped, thresholded, NMS'd detections per image."""
    rng = np.random.default_rng(17)
    feats = {'0': rng.normal(size=(2, 4, 8, 10)), '1': rng.normal(size=(2, 4, 4, 5))}
    props = [_boxes(12, 18, 30, np.float64), _boxes(9, 19, 30, np.float64)]
    gt = [(_boxes(2, 20, 30, np.float64), np.array([1, 2])), (_boxes(1, 21, 30, np.float64), np.array([2]))]
    out, grads = {}, {}
    models = {torch: _roi_heads(torch, training).double(), ember: _roi_heads(ember, training).double()}
    _same_weights(models[torch], models[ember])
    for T, heads in models.items():
        T.manual_seed(0)
        targets = [{'boxes': T.tensor(b), 'labels': T.tensor(lab)} for b, lab in gt] if training else None
        result, losses = heads({k: T.tensor(v) for k, v in feats.items()}, [T.tensor(p) for p in props],
                               [(30, 40), (32, 35)], targets)
        out[T] = ([[r[k] for k in ('boxes', 'labels', 'scores')] for r in result], sorted(losses.items()))
        if training:
            sum(losses.values()).backward()
            grads[T] = [p.grad for p in heads.parameters()]
    assert_same(out[ember], out[torch], atol=1e-10)
    if training:
        assert_same(grads[ember], grads[torch], atol=1e-10)
    else:
        assert sum(len(r[0]) for r in out[ember][0]) > 0


# --- transform ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('training', [True, False])
def test_generalized_rcnn_transform(training):
    """Normalize, resize (the short side drawn from min_size in training, by torch's generator), pad to a
    multiple of 32; boxes, masks and keypoints follow; postprocess maps boxes and masks back."""
    rng = np.random.default_rng(22)
    imgs = [rng.uniform(size=(3, 30, 45)).astype(np.float32), rng.uniform(size=(3, 50, 28)).astype(np.float32)]
    tgt = [{'boxes': _boxes(2, 23, 28), 'masks': (rng.uniform(size=(2, 30, 45)) > 0.5).astype(np.uint8),
            'keypoints': rng.uniform(0, 28, (2, 3, 3)).astype(np.float32)},
           {'boxes': _boxes(1, 24, 28), 'masks': (rng.uniform(size=(1, 50, 28)) > 0.5).astype(np.uint8),
            'keypoints': rng.uniform(0, 28, (1, 3, 3)).astype(np.float32)}]
    det_masks = rng.uniform(size=(3, 1, 6, 6)).astype(np.float32)
    out = {}
    for T in (torch, ember):
        T.manual_seed(1)
        tr = DET[T].transform.GeneralizedRCNNTransform((40, 48, 64), 70, [0.4, 0.5, 0.6], [0.2, 0.3, 0.25])
        tr.train(training)
        images, targets = tr([T.tensor(i) for i in imgs], [{k: T.tensor(v) for k, v in t.items()} for t in tgt])
        tr.eval()
        dets = [{'boxes': T.tensor(_boxes(3, 25, 40)), 'masks': T.tensor(det_masks)}]
        post = tr.postprocess(dets, images.image_sizes[:1], [(30, 45)])
        out[T] = (images.tensors, images.image_sizes, [sorted(t.items()) for t in targets],
                  [sorted(p.items()) for p in post], repr(tr))
    assert_same(out[ember], out[torch], atol=1e-5)


# --- whole models ---------------------------------------------------------------------------------------------------

_SMALL = dict(weights=None, weights_backbone=None, num_classes=3, min_size=64, max_size=96,
              rpn_pre_nms_top_n_train=100, rpn_post_nms_top_n_train=30, rpn_pre_nms_top_n_test=60,
              rpn_post_nms_top_n_test=12, rpn_batch_size_per_image=32, box_batch_size_per_image=12,
              box_detections_per_img=5)


def _scene(seed, dtype, extras=()):
    """Two images of different sizes with their targets: boxes, labels, and if asked box-shaped masks and
    keypoints (some invisible)."""
    rng = np.random.default_rng(seed)
    imgs = [rng.uniform(size=(3, 60, 80)).astype(dtype), rng.uniform(size=(3, 70, 50)).astype(dtype)]
    boxes = [np.array([[5, 6, 40, 50], [30, 10, 70, 45]], dtype), np.array([[10, 12, 45, 60]], dtype)]
    targets = []
    for img, b, lab in zip(imgs, boxes, ([1, 2], [2])):
        t = {'boxes': b, 'labels': np.array(lab)}
        if 'masks' in extras:
            t['masks'] = np.zeros((len(b),) + img.shape[1:], np.uint8)
            for k, (x1, y1, x2, y2) in enumerate(b.astype(int)):
                t['masks'][k, y1:y2, x1 + 2:x2] = 1
        if 'keypoints' in extras:
            xy = b[:, None, :2] + rng.uniform(0, 1, (len(b), 4, 2)) * (b[:, None, 2:] - b[:, None, :2])
            t['keypoints'] = np.concatenate([xy, rng.integers(0, 2, (len(b), 4, 1))], 2).astype(np.float32)
        targets.append(t)
    return imgs, targets


def _batch_statistics(model):
    """``model`` with its BatchNorm layers normalizing by batch statistics: an untrained SSDlite's running
    statistics shrink its activations until every score ties at 1/num_classes."""
    for m in model.modules():
        if 'BatchNorm' in type(m).__name__:
            m.train()
    return model


def _run_model(builder, extras=(), **kw):
    """The builder's model on both sides (float64, same weights): training losses and every parameter's
    gradient, then eval detections."""
    tm = getattr(tv.models.detection, builder)(**kw).double()
    em = getattr(ev.models.detection, builder)(**kw).double()
    _same_weights(tm, em)
    imgs, targets = _scene(26, np.float64, extras)
    out = {}
    for T, model in ((torch, tm), (ember, em)):
        T.manual_seed(0)
        model.train()
        losses = model([T.tensor(i) for i in imgs], [{k: T.tensor(v) for k, v in t.items()} for t in targets])
        sum(losses.values()).backward()
        model.eval()
        with T.no_grad():
            dets = model([T.tensor(i) for i in imgs])
        out[T] = (sorted(losses.items()), [(n, p.grad) for n, p in model.named_parameters()],
                  [sorted(d.items()) for d in dets])
    return out


def test_fasterrcnn_resnet50_fpn_losses_gradients_detections(tv_ops):
    out = _run_model('fasterrcnn_resnet50_fpn', **_SMALL)
    assert [k for k, _ in out[ember][0]] == ['loss_box_reg', 'loss_classifier', 'loss_objectness',
                                             'loss_rpn_box_reg']
    assert_same(out[ember], out[torch], atol=1e-9, rtol=1e-6)
    assert len(out[ember][2][0][0][1]) > 0


def test_maskrcnn_resnet50_fpn_losses_gradients_detections(tv_ops):
    out = _run_model('maskrcnn_resnet50_fpn', ('masks',), **_SMALL)
    assert 'loss_mask' in dict(out[ember][0])
    assert_same(out[ember], out[torch], atol=1e-9, rtol=1e-6)


def test_fasterrcnn_mobilenet_v3_large_fpn_detections(tv_ops):
    kw = dict(weights=None, weights_backbone=None, num_classes=4, min_size=64, max_size=96,
              rpn_pre_nms_top_n_test=60, rpn_post_nms_top_n_test=12, rpn_score_thresh=0.0, box_detections_per_img=5)
    tm = tv.models.detection.fasterrcnn_mobilenet_v3_large_fpn(**kw).double().eval()
    em = ev.models.detection.fasterrcnn_mobilenet_v3_large_fpn(**kw).double().eval()
    _same_weights(tm, em)
    imgs, _ = _scene(27, np.float64)
    with torch.no_grad():
        want = tm([torch.tensor(i) for i in imgs])
    with ember.no_grad():
        got = em([ember.tensor(i) for i in imgs])
    assert_same([sorted(d.items()) for d in got], [sorted(d.items()) for d in want], atol=1e-9, rtol=1e-6)


def test_keypointrcnn_resnet50_fpn_losses_gradients_detections(tv_ops):
    """The keypoint branch: heatmap targets and loss in training, bicubic-upsampled keypoints in eval."""
    out = _run_model('keypointrcnn_resnet50_fpn', ('keypoints',), num_keypoints=4, **_SMALL)
    assert 'loss_keypoint' in dict(out[ember][0]) and 'keypoints_scores' in dict(out[ember][2][0])
    assert_same(out[ember], out[torch], atol=1e-9, rtol=1e-6)


_DENSE = dict(weights=None, weights_backbone=None, num_classes=3, min_size=64, max_size=96,
              detections_per_img=8, topk_candidates=40)


@pytest.mark.parametrize('builder,kw', [('retinanet_resnet50_fpn', {'score_thresh': 0.0}),
                                        ('retinanet_resnet50_fpn_v2', {'score_thresh': 0.0}),
                                        ('fcos_resnet50_fpn', {'score_thresh': 0.05})])
def test_dense_detectors_losses_gradients_detections(tv_ops, builder, kw):
    """RetinaNet (focal loss, L1 or GIoU box loss) and FCOS (centre sampling, focal, GIoU and centerness losses):
    losses, every parameter's gradient and the detections."""
    out = _run_model(builder, **_DENSE, **kw)
    assert_same(out[ember], out[torch], atol=1e-9, rtol=1e-6)
    assert len(out[ember][2][0][0][1]) > 0


def _tiny_ssd(T):
    """An SSD on a two-map convolutional backbone, at 64x64 (SSD300's VGG16 is too slow to run in a test)."""
    nn = T.nn
    m = DET[T]

    class Backbone(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Sequential(nn.Conv2d(3, 8, 3, stride=4, padding=1), nn.ReLU())
            self.b = nn.Sequential(nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU())

        def forward(self, x):
            a = self.a(x)
            return {'0': a, '1': self.b(a)}
    gen = m.anchor_utils.DefaultBoxGenerator([[2], [2, 3]], steps=[4, 8])
    return m.ssd.SSD(Backbone(), gen, (64, 64), 4, topk_candidates=30, detections_per_img=10)


def test_ssd_losses_gradients_detections(tv_ops):
    """SSD: the SSD matcher, smooth L1 on the foreground, cross-entropy with 3:1 hard negative mining; fixed
    input size; per-class top-k and NMS in eval."""
    tm, em = _tiny_ssd(torch).double(), _tiny_ssd(ember).double()
    _same_weights(tm, em)
    imgs, targets = _scene(29, np.float64)
    out = {}
    for T, model in ((torch, tm), (ember, em)):
        model.train()
        losses = model([T.tensor(i) for i in imgs], [{k: T.tensor(v) for k, v in t.items()} for t in targets])
        sum(losses.values()).backward()
        model.eval()
        with T.no_grad():
            dets = model([T.tensor(i) for i in imgs])
        out[T] = (sorted(losses.items()), [p.grad for p in model.parameters()], [sorted(d.items()) for d in dets])
    assert_same(out[ember], out[torch], atol=1e-10)


def test_ssdlite320_mobilenet_v3_large_detections(tv_ops):
    """SSDlite's feature extractor (MobileNetV3 split inside its C4 block, extra blocks) and depthwise heads at
    320x320, in eval with batch-statistics normalization (SSD's losses are checked on the small SSD above)."""
    kw = dict(weights=None, weights_backbone=None, num_classes=3, detections_per_img=10)
    tm = _batch_statistics(tv.models.detection.ssdlite320_mobilenet_v3_large(**kw).double().eval())
    em = _batch_statistics(ev.models.detection.ssdlite320_mobilenet_v3_large(**kw).double().eval())
    _same_weights(tm, em)
    imgs, _ = _scene(30, np.float64)
    with torch.no_grad():
        want = tm([torch.tensor(i) for i in imgs])
    with ember.no_grad():
        got = em([ember.tensor(i) for i in imgs])
    assert_same([sorted(d.items()) for d in got], [sorted(d.items()) for d in want], atol=1e-9, rtol=1e-6)
    assert len(want[0]['boxes']) == 10 and float(want[0]['scores'][0] - want[0]['scores'][-1]) > 1e-3


@pytest.mark.parametrize('builder', ['fasterrcnn_resnet50_fpn_v2', 'fasterrcnn_mobilenet_v3_large_320_fpn',
                                     'maskrcnn_resnet50_fpn_v2', 'ssd300_vgg16'])
def test_other_builders_state_dicts(builder):
    """Keys, shapes and which parameters train are torchvision's."""
    tm = getattr(tv.models.detection, builder)(weights=None, weights_backbone=None)
    em = getattr(ev.models.detection, builder)(weights=None, weights_backbone=None)
    _same_weights(tm, em)
    assert [(n, p.requires_grad) for n, p in em.named_parameters()] == \
        [(n, p.requires_grad) for n, p in tm.named_parameters()]


def test_resnet_fpn_backbone_freezing_and_weights_enums():
    """``resnet_fpn_backbone`` freezes all but ``trainable_layers`` stages; the weights enums carry torchvision's
    urls and COCO categories."""
    kw = dict(backbone_name='resnet18', weights=None, trainable_layers=2, returned_layers=[2, 3, 4])
    tb = tv.models.detection.backbone_utils.resnet_fpn_backbone(**kw)
    eb = ev.models.detection.backbone_utils.resnet_fpn_backbone(**kw)
    _same_weights(tb, eb)
    assert [(n, p.requires_grad) for n, p in eb.named_parameters()] == \
        [(n, p.requires_grad) for n, p in tb.named_parameters()]
    for name in ev.models.detection.__all__:
        if name.endswith('_Weights'):
            theirs, ours = getattr(tv.models.detection, name), getattr(ev.models.detection, name)
            assert list(ours.__members__) == list(theirs.__members__)
            for w in theirs:
                assert ours[w.name].url == w.url and ours[w.name].meta == w.meta
    ours = ev.models.list_models(module=ev.models.detection)
    assert ours == tv.models.list_models(module=tv.models.detection)
    assert ev.models.get_model('fasterrcnn_mobilenet_v3_large_320_fpn', weights=None, weights_backbone=None,
                               num_classes=5).roi_heads.box_predictor.cls_score.out_features == 5


def test_legacy_pretrained_arguments_warn_as_torchvision():
    """``pretrained=False, pretrained_backbone=False`` still build (no download), with torchvision's deprecation
    warnings."""
    import warnings
    caught = {}
    for T in (torch, ember):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            model = DET[T].fasterrcnn_mobilenet_v3_large_320_fpn(pretrained=False, pretrained_backbone=False,
                                                                 num_classes=3)
        caught[T] = [str(x.message) for x in w]
        assert model.roi_heads.box_predictor.cls_score.out_features == 3
    assert caught[ember] == caught[torch] and len(caught[torch]) == 4


# --- the TorchVision Object Detection Finetuning Tutorial ---------------------------------------------------------

_TUTORIAL = r'''
import os
import torch
import torchvision
from torchvision.io import read_image
from torchvision.ops.boxes import masks_to_boxes
from torchvision import tv_tensors
from torchvision.transforms.v2 import functional as F
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor
from torchvision.models.detection.mask_rcnn import MaskRCNNPredictor
from torchvision.transforms import v2 as T


class PennFudanDataset(torch.utils.data.Dataset):
    def __init__(self, root, transforms):
        self.root = root
        self.transforms = transforms
        self.imgs = list(sorted(os.listdir(os.path.join(root, "PNGImages"))))
        self.masks = list(sorted(os.listdir(os.path.join(root, "PedMasks"))))

    def __getitem__(self, idx):
        img_path = os.path.join(self.root, "PNGImages", self.imgs[idx])
        mask_path = os.path.join(self.root, "PedMasks", self.masks[idx])
        img = read_image(img_path)
        mask = read_image(mask_path)
        obj_ids = torch.unique(mask)
        obj_ids = obj_ids[1:]
        num_objs = len(obj_ids)
        masks = (mask == obj_ids[:, None, None]).to(dtype=torch.uint8)
        boxes = masks_to_boxes(masks)
        labels = torch.ones((num_objs,), dtype=torch.int64)
        image_id = idx
        area = (boxes[:, 3] - boxes[:, 1]) * (boxes[:, 2] - boxes[:, 0])
        iscrowd = torch.zeros((num_objs,), dtype=torch.int64)
        img = tv_tensors.Image(img)
        target = {}
        target["boxes"] = tv_tensors.BoundingBoxes(boxes, format="XYXY", canvas_size=F.get_size(img))
        target["masks"] = tv_tensors.Mask(masks)
        target["labels"] = labels
        target["image_id"] = image_id
        target["area"] = area
        target["iscrowd"] = iscrowd
        if self.transforms is not None:
            img, target = self.transforms(img, target)
        return img, target

    def __len__(self):
        return len(self.imgs)


def get_model_instance_segmentation(num_classes):
    model = torchvision.models.detection.maskrcnn_resnet50_fpn(weights=None, weights_backbone=None, **SMALL)
    in_features = model.roi_heads.box_predictor.cls_score.in_features
    model.roi_heads.box_predictor = FastRCNNPredictor(in_features, num_classes)
    in_features_mask = model.roi_heads.mask_predictor.conv5_mask.in_channels
    hidden_layer = 256
    model.roi_heads.mask_predictor = MaskRCNNPredictor(in_features_mask, hidden_layer, num_classes)
    return model


def get_transform(train):
    transforms = []
    if train:
        transforms.append(T.RandomHorizontalFlip(0.5))
    transforms.append(T.ToDtype(torch.float, scale=True))
    transforms.append(T.ToPureTensor())
    return T.Compose(transforms)


def collate_fn(batch):
    return tuple(zip(*batch))


torch.manual_seed(0)
dataset = PennFudanDataset(ROOT, get_transform(train=True))
data_loader = torch.utils.data.DataLoader(dataset, batch_size=2, shuffle=True, collate_fn=collate_fn)

# "Testing forward() method": a Faster R-CNN's losses on a batch, then its predictions on random images
model = torchvision.models.detection.fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None,
                                                             box_score_thresh=0.0, **SMALL)
model.double()
images, targets = next(iter(data_loader))
images = list(image.double() for image in images)
targets = [{k: v for k, v in t.items()} for t in targets]
for t in targets:
    t["boxes"] = t["boxes"].double()
output = model(images, targets)
model.eval()
x = [torch.rand(3, 60, 80, dtype=torch.float64), torch.rand(3, 70, 50, dtype=torch.float64)]
predictions = model(x)
first = (sorted((k, v.item()) for k, v in output.items()), predictions[0]["boxes"].tolist(),
         predictions[0]["scores"].tolist(), predictions[0]["labels"].tolist())

# the instance segmentation model: one SGD step, then inference
model = get_model_instance_segmentation(2)
model.double()
params = [p for p in model.parameters() if p.requires_grad]
optimizer = torch.optim.SGD(params, lr=0.005, momentum=0.9, weight_decay=0.0005)
lr_scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.1)
model.train()
images, targets = next(iter(data_loader))
images = list(image.double() for image in images)
targets = [{k: v for k, v in t.items()} for t in targets]
for t in targets:
    t["boxes"] = t["boxes"].double()
loss_dict = model(images, targets)
losses = sum(loss for loss in loss_dict.values())
optimizer.zero_grad()
losses.backward()
optimizer.step()
lr_scheduler.step()
model.eval()
with torch.no_grad():
    predictions = model(images)
pred = predictions[0]
result = (first, sorted((k, v.item()) for k, v in loss_dict.items()), [t["boxes"].tolist() for t in targets],
          sorted(pred.keys()), pred["boxes"].tolist(), pred["scores"].tolist(), pred["labels"].tolist(),
          tuple(pred["masks"].shape), pred["masks"].sum().item())
'''



def _write_pennfudan(root):
    """Three synthetic PennFudan-style pairs: RGB PNG images and masks whose pixel values are instance ids."""
    from PIL import Image
    rng = np.random.default_rng(28)
    for sub in ('PNGImages', 'PedMasks'):
        (root / sub).mkdir()
    for i, size in enumerate([(60, 80), (70, 50), (64, 64)]):
        Image.fromarray(rng.integers(0, 256, size + (3,), dtype=np.uint8)).save(root / 'PNGImages' / f'F{i}.png')
        mask = np.zeros(size, np.uint8)
        mask[5:40, 6:30] = 1
        mask[20:size[0] - 3, 32:size[1] - 4] = 2
        Image.fromarray(mask).save(root / 'PedMasks' / f'F{i}_mask.png')


def _pil_read_image(path):
    """torchvision's read_image for the oracle run (its image extension does not load here): the decoded
    file as a uint8 ``[C, H, W]`` tensor."""
    from PIL import Image
    arr = np.array(Image.open(path))
    return torch.from_numpy(arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1).copy())


def test_object_detection_finetuning_tutorial(tv_ops, tmp_path, monkeypatch):
    """The tutorial's dataset, transforms, model surgery (new box and mask predictors), one SGD step and
    inference, run with torch + torchvision and with ember through the aliasing (float64, same seed). Changed
    from the tutorial: no download (``weights=None``), small images and sample counts (the oracle's Python
    RoIAlign is slow), no score threshold for the untrained Faster R-CNN (its 91 classes share the softmax),
float64, one batch instead of the reference scripts' ``train_one_epoch``."""
    pytest.importorskip('PIL')
    monkeypatch.setattr(tv.io, 'read_image', _pil_read_image)
    _write_pennfudan(tmp_path)
    small = {k: v for k, v in _SMALL.items() if k not in ('weights', 'weights_backbone', 'num_classes')}
    source = _TUTORIAL.replace('ROOT', repr(str(tmp_path))).replace('SMALL', repr(small))
    want = {}
    exec(compile(source, '<tutorial>', 'exec'), want)
    got = {}
    with aliasing.as_torch():
        exec(compile(source, '<tutorial>', 'exec'), got)
        assert got['torch'] is ember
    assert len(want['result'][0][1]) > 0                   # some detections to compare
    _close(got['result'], want['result'])


def _close(got, want, rtol=1e-6, atol=1e-8):
    if isinstance(want, (list, tuple)):
        assert type(got) is type(want) and len(got) == len(want), (got, want)
        for g, w in zip(got, want):
            _close(g, w, rtol, atol)
    elif isinstance(want, float):
        assert abs(got - want) <= atol + rtol * abs(want), (got, want)
    else:
        assert got == want
