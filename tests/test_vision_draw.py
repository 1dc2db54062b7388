"""``vision.utils.draw_bounding_boxes`` / ``draw_segmentation_masks`` / ``draw_keypoints`` against torchvision 0.28's:
the same pixels for boxes (plain, rotated, filled, labelled, on uint8/float/grayscale images), masks blended in each
dtype with each form of colour, keypoints with connections and visibility, and the same exceptions for bad input."""
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.vision as ev
from helpers import import_torchvision

tv = import_torchvision()
RNG = np.random.default_rng(0)
IMG = RNG.integers(0, 256, (3, 40, 50), dtype=np.uint8)
BOXES = np.array([[2, 3, 20, 30], [10, 5, 45, 38], [0, 0, 49, 39]], np.float32)
MASKS = RNG.random((3, 40, 50)) > 0.6
KEYPOINTS = np.array([[[5, 5], [20, 10], [30, 30], [45, 35]], [[10, 30], [12, 12], [40, 8], [2, 38]]], np.float32)
VISIBLE = np.array([[1, 1, 0, 1], [1, 0, 1, 1]], bool)


def _image(lib, dtype, channels=3):
    x = lib.tensor(IMG[:channels]).to(getattr(lib, dtype))
    return x if dtype == 'uint8' else x / 255


def _same(t, e):
    assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape)
    np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize('dtype', ['uint8', 'float32', 'float64'])
@pytest.mark.parametrize('kw', [{}, dict(labels=['a', 'bb', 'cat'], width=2), dict(fill=True, colors='red'),
                                dict(labels=['x', 'y', 'z'], fill_labels=True, colors=['blue', (0, 255, 0), '#FF00FF']),
                                dict(labels=['x', None, 'z'], label_colors='yellow', colors=(9, 8, 7))])
def test_bounding_boxes_as_torchvision(dtype, kw):
    _same(tv.utils.draw_bounding_boxes(_image(torch, dtype), torch.tensor(BOXES), **kw),
          ev.utils.draw_bounding_boxes(_image(ember, dtype), ember.tensor(BOXES), **kw))


def test_rotated_and_grayscale_boxes_as_torchvision():
    rotated = np.array([[5, 5, 30, 8, 28, 30, 3, 27]], np.float32)
    _same(tv.utils.draw_bounding_boxes(_image(torch, 'uint8'), torch.tensor(rotated), fill=True, width=2),
          ev.utils.draw_bounding_boxes(_image(ember, 'uint8'), ember.tensor(rotated), fill=True, width=2))
    _same(tv.utils.draw_bounding_boxes(_image(torch, 'uint8', 1), torch.tensor(BOXES)),
          ev.utils.draw_bounding_boxes(_image(ember, 'uint8', 1), ember.tensor(BOXES)))


@pytest.mark.parametrize('dtype', ['uint8', 'float32', 'float64'])
@pytest.mark.parametrize('colors', [None, 'green', [(1, 2, 3), 'red', '#010203']])
@pytest.mark.parametrize('masks', [MASKS, MASKS[1]])
def test_segmentation_masks_as_torchvision(dtype, colors, masks):
    _same(tv.utils.draw_segmentation_masks(_image(torch, dtype), torch.tensor(masks), 0.6, colors),
          ev.utils.draw_segmentation_masks(_image(ember, dtype), ember.tensor(masks), 0.6, colors))


BAD = [
    lambda L, U: U.draw_bounding_boxes(L.tensor(IMG).int(), L.tensor(BOXES)),
    lambda L, U: U.draw_bounding_boxes(L.tensor(IMG)[None], L.tensor(BOXES)),
    lambda L, U: U.draw_bounding_boxes(L.tensor(IMG[:2]), L.tensor(BOXES)),
    lambda L, U: U.draw_bounding_boxes(L.tensor(IMG), L.tensor(BOXES[:, [2, 1, 0, 3]])),
    lambda L, U: U.draw_bounding_boxes(L.tensor(IMG), L.tensor(BOXES), labels=['a']),
    lambda L, U: U.draw_bounding_boxes(L.tensor(IMG), L.tensor(BOXES), colors=['red']),
    lambda L, U: U.draw_bounding_boxes(L.tensor(IMG), L.tensor(BOXES), colors=(1, 2)),
    lambda L, U: U.draw_bounding_boxes(IMG, L.tensor(BOXES)),
    lambda L, U: U.draw_segmentation_masks(L.tensor(IMG), L.tensor(MASKS).int()),
    lambda L, U: U.draw_segmentation_masks(L.tensor(IMG), L.tensor(MASKS[:, :5])),
    lambda L, U: U.draw_segmentation_masks(L.tensor(IMG[:1]), L.tensor(MASKS)),
    lambda L, U: U.draw_segmentation_masks(L.tensor(IMG), L.tensor(MASKS)[None]),
    lambda L, U: U.draw_keypoints(L.tensor(IMG[:1]), L.tensor(KEYPOINTS)),
    lambda L, U: U.draw_keypoints(L.tensor(IMG), L.tensor(KEYPOINTS[0])),
    lambda L, U: U.draw_keypoints(L.tensor(IMG), L.tensor(KEYPOINTS), visibility=L.tensor(VISIBLE[0])),
    lambda L, U: U.draw_keypoints(L.tensor(IMG), L.tensor(KEYPOINTS), visibility=L.tensor(VISIBLE[:, :3])),
]


@pytest.mark.parametrize('fn', BAD)
def test_refusals_as_torchvision(fn):
    with pytest.raises(Exception) as t:
        fn(torch, tv.utils)
    with pytest.raises(type(t.value)) as e:
        fn(ember, ev.utils)
    assert str(e.value) == str(t.value)


def test_nothing_to_draw_warns_and_returns_the_image():
    for U, L in ((tv.utils, torch), (ev.utils, ember)):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            img = L.tensor(IMG)
            assert U.draw_bounding_boxes(img, L.zeros(0, 4)) is img
            assert U.draw_segmentation_masks(img, L.zeros(0, 40, 50, dtype=L.bool)) is img
        assert [str(x.message) for x in w] == ["boxes doesn't contain any box. No box was drawn",
                                               "masks doesn't contain any mask. No mask was drawn"]



@pytest.mark.parametrize('dtype', ['uint8', 'float32', 'float64'])
@pytest.mark.parametrize('kw', [{}, dict(connectivity=[(0, 1), (1, 2), (2, 3)], colors='blue', radius=3, width=2),
                                dict(connectivity=[(0, 3), (1, 2)], colors=(250, 0, 9), visibility=VISIBLE),
                                dict(connectivity=[(0, 1)], visibility=VISIBLE[..., None])])
def test_keypoints_as_torchvision(dtype, kw):
    def call(L, U):
        kwargs = dict(kw)
        if 'visibility' in kwargs:
            kwargs['visibility'] = L.tensor(kwargs['visibility'])
        return U.draw_keypoints(_image(L, dtype), L.tensor(KEYPOINTS), **kwargs)
    _same(call(torch, tv.utils), call(ember, ev.utils))
