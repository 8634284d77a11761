"""Lab 12's grounding helpers against values worked out by hand."""
import math

import pandas as pd
import pytest
import torch

from utils.recipes import grounding as G


def test_patch_centres_are_half_a_patch_in_and_x_runs_along_a_row():
    x, y = G.patch_centres(4)
    assert x[0, 0] == y[0, 0] == 0.125
    assert x[0, 3] == 0.875 and y[0, 3] == 0.125  # row 0, last column: right, top
    assert x[3, 0] == 0.125 and y[3, 0] == 0.875  # last row, column 0: left, bottom


def test_boxes_mask_counts_centres_edges_included():
    mask = G.boxes_mask([(0.0, 0.0, 0.1, 0.1), (0.5, 0.125, 1.0, 0.125)], 4)
    # the first box holds no centre (the first one is at 0.125); the second is a line through row 0's centres
    assert mask.nonzero().tolist() == [[0, 2], [0, 3]]


def test_similarity_map_is_the_cosine_of_projected_patches_folded_row_major():
    tokens = torch.tensor([[[2.0, 0.0], [0.0, 3.0], [1.0, 1.0], [-1.0, 0.0]]])  # (1, 4, 2): a 2 x 2 grid
    proj = torch.tensor([[1.0, 0.0], [0.0, 2.0]])  # doubles y
    text = torch.tensor([[3.0, 0.0]])  # along x, not unit length
    # projected: (2, 0), (0, 6), (1, 2), (-1, 0); cosines with x: 1, 0, 1/sqrt(5), -1
    expected = torch.tensor([[[1.0, 0.0], [1 / math.sqrt(5), -1.0]]])
    assert torch.allclose(G.patch_similarity_map(tokens, proj, text), expected)
    with pytest.raises(ValueError, match="square grid"):
        G.patch_similarity_map(torch.zeros(1, 5, 2), proj, text)  # a class token left in


def test_pointing_hit_by_hand():
    maps = torch.zeros(3, 4, 4)
    maps[0, 0, 3] = 1  # row 0, column 3: centre (0.875, 0.125)
    maps[1, 0, 3] = 1
    maps[2, 0, 0] = 1  # centre (0.125, 0.125)
    boxes = [[(0.8, 0.0, 1.0, 0.2)], [(0.0, 0.8, 0.2, 1.0)], [(0.0, 0.0, 0.1, 0.1), (0.1, 0.1, 0.125, 0.2)]]
    assert G.pointing_hits(maps, boxes).tolist() == [True, False, True]


def test_iou_by_hand():
    a, b = torch.tensor([0.0, 0.0, 0.5, 0.5]), torch.tensor([0.25, 0.25, 0.75, 0.75])
    assert G.box_iou(a, b).item() == pytest.approx(0.0625 / (0.25 + 0.25 - 0.0625))
    assert G.box_iou(a, a).item() == pytest.approx(1.0)
    assert G.box_iou(a, torch.tensor([0.6, 0.6, 0.9, 0.9])).item() == 0.0
    assert G.box_iou(torch.zeros(4), torch.zeros(4)).item() == 0.0  # empty union: 0, not nan


def test_box_from_map_rescales_and_takes_whole_cells():
    m = torch.full((4, 4), -0.5)
    m[1, 2], m[2, 2] = -0.1, -0.2  # negative cosines; rescaled: 1.0 and 0.75
    assert G.box_from_map(m, 0.7).tolist() == [0.5, 0.25, 0.75, 0.75]
    assert G.box_from_map(m, 0.9).tolist() == [0.5, 0.25, 0.75, 0.5]
    assert G.box_from_map(torch.ones(4, 4)).tolist() == [0.0, 0.0, 1.0, 1.0]


def test_alignment_loss_by_hand():
    patches = torch.tensor([[[2.0, 0.0], [0.0, 1.0]]])  # (1, 2, 2): cosines with the text along x: 1 and 0
    text = torch.tensor([[1.0, 0.0]])
    targets = torch.tensor([[[1.0, 0.0]]])
    scale, bias = torch.tensor(2.0), torch.tensor(-1.0)  # logits 1 and -1
    softplus = lambda z: math.log1p(math.exp(z))  # noqa: E731
    # positive: -log sigmoid(1) = softplus(-1); negative: -log(1 - sigmoid(-1)) = softplus(-1)
    assert G.patch_alignment_loss(patches, text, targets, scale, bias).item() == pytest.approx(softplus(-1))
    three = torch.tensor([[[2.0, 0.0], [0.0, 1.0], [0.0, 3.0]]])  # (1, 3, 2): along x, y, y
    texts = torch.tensor([[1.0, 0.0], [0.0, 1.0]])  # x and y: logits (1, -1, -1) and (-1, 1, 1)
    target = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]])  # one positive, five negatives
    # a negative with logit z costs -log(1 - sigmoid(z)) = softplus(z); balanced: the mean of the two means
    negatives = [softplus(z) for z in (-1.0, -1.0, -1.0, 1.0, 1.0)]
    expected = (softplus(-1.0) + sum(negatives) / 5) / 2
    assert G.patch_alignment_loss(three, texts, target, scale, bias).item() == pytest.approx(expected)
    no_positive = G.patch_alignment_loss(three, texts, torch.zeros_like(target), scale, bias)
    assert no_positive.item() == pytest.approx((3 * softplus(-1.0) + 3 * softplus(1.0)) / 6)


def test_coco_boxes_are_fractions_of_the_padded_square():
    # a 640 x 480 image pads to 640 x 640: every coordinate is divided by 640
    assert G.coco_boxes([[64, 48, 320, 240]], 640, 480) == [(0.1, 0.075, 0.5, 0.375)]
    assert G.coco_boxes([[64, 48, 256, 192]], 640, 480, "xywh") == [(0.1, 0.075, 0.5, 0.375)]
    with pytest.raises(ValueError, match="xywh"):
        G.coco_boxes([[300, 48, 20, 40]], 640, 480)  # xywh read as xyxy: x1 < x0
    assert G.coco_boxes([[10, 10, 10, 30]], 640, 480) == []  # empty


def test_pad_to_square_keeps_the_image_at_the_top_left():
    from PIL import Image
    im = G.pad_to_square(Image.new("RGB", (40, 20), (255, 0, 0)), 8)
    assert im.size == (8, 8) and im.getpixel((1, 1)) == (255, 0, 0) and im.getpixel((1, 7)) == (128, 128, 128)


def test_targets_and_scores_on_a_tiny_set():
    queries = pd.DataFrame({"image": [0, 1], "phrase": ["a red circle", "a blue square"],
                            "boxes": [[(0.0, 0.0, 0.5, 0.5)], [(0.5, 0.5, 1.0, 1.0), (0.0, 0.0, 0.2, 0.2)]]})
    t = G.targets(queries, 2, ["a blue square", "a red circle"], 2)
    assert t.shape == (2, 2, 4)
    assert t[0, 1].tolist() == [1, 0, 0, 0] and t[0, 0].sum() == 0 and t[1, 0].tolist() == [0, 0, 0, 1]
    maps = torch.tensor([[[1.0, 0.0], [0.0, 0.0]], [[1.0, 0.0], [0.0, 0.0]]])
    scores = G.grounding_scores(maps, queries, 0.5)
    # query 0 hits (centre 0.25, 0.25); query 1 misses (the second box ends at 0.2); chance (1/4 + 1/4) / 2
    assert scores["pointing"] == 0.5 and scores["chance"] == 0.25
    assert scores["mean IoU"] == pytest.approx(1.0)  # the single-box query: box (0, 0, 0.5, 0.5) exactly
    assert G.covered_area([(0.0, 0.0, 0.5, 0.5), (0.25, 0.25, 0.75, 0.75)]) == pytest.approx(0.4375, abs=0.01)

