"""Grounding metrics: how well a located box or a pointed-at spot matches the target boxes.

Boxes are (x0, y0, x1, y1) in fractions of the image, x to the right and y downwards; a similarity map is a (g, g)
grid of patch scores, patch (row, col) covering x in [col/g, (col+1)/g]. The pointing game (Zhang et al. 2016)
asks whether the best patch's centre lies in a target box; IoU compares a predicted box with the target.
"""
from __future__ import annotations

import torch

Box = tuple[float, float, float, float]


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """IoU of boxes (..., 4) and (..., 4), (x0, y0, x1, y1), broadcast; 0 where the union is empty."""
    a, b = torch.as_tensor(a, dtype=torch.float32), torch.as_tensor(b, dtype=torch.float32)
    w = (torch.minimum(a[..., 2], b[..., 2]) - torch.maximum(a[..., 0], b[..., 0])).clamp(min=0)
    h = (torch.minimum(a[..., 3], b[..., 3]) - torch.maximum(a[..., 1], b[..., 1])).clamp(min=0)
    inter = w * h
    area = lambda t: (t[..., 2] - t[..., 0]).clamp(min=0) * (t[..., 3] - t[..., 1]).clamp(min=0)  # noqa: E731
    union = area(a) + area(b) - inter
    return torch.where(union > 0, inter / union.clamp(min=1e-12), torch.zeros_like(union))


def pointing_hits(maps: torch.Tensor, boxes: list[list[Box]]) -> torch.Tensor:
    """(B,) bool: whether the centre of each map's highest patch (the first, on a tie) lies in one of its boxes."""
    grid = maps.shape[-1]
    best = maps.flatten(1).argmax(dim=1)
    x, y = (best % grid + 0.5) / grid, (best // grid + 0.5) / grid
    return torch.tensor([any(x0 <= float(px) <= x1 and y0 <= float(py) <= y1 for x0, y0, x1, y1 in bs)
                         for px, py, bs in zip(x, y, boxes)], dtype=torch.bool)
