"""Measures of how an embedding space is organised (Lab 4): clusters, the modality gap, zero-shot accuracy.

Embeddings are rows of unit length; similarity is the dot product (the cosine). Labels are class indices
`0..C-1`, and in zero-shot measures text row `c` names class `c`.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def knn_accuracy(emb: torch.Tensor, labels: torch.Tensor, k: int = 10) -> float:
    """Leave-one-out k-nearest-neighbour accuracy under cosine similarity.

    Each point is classified by the majority label among its `k` most similar *other* points (itself is
    never a neighbour, though an identical copy of it is); a tied vote goes to the smallest class index,
    as in scikit-learn's `KNeighborsClassifier`.
    """
    if not 1 <= k < len(emb):
        raise ValueError(f"k={k} needs 1 <= k < number of points ({len(emb)})")
    sim = emb @ emb.T
    sim.fill_diagonal_(float("-inf"))
    neighbours = labels[sim.topk(k, dim=1).indices]  # (n, k)
    votes = F.one_hot(neighbours, int(labels.max()) + 1).sum(dim=1)  # (n, C)
    return (votes.argmax(dim=1) == labels).float().mean().item()  # argmax takes the first of tied maxima


def modality_gap(image_emb: torch.Tensor, text_emb: torch.Tensor) -> float:
    """Euclidean distance between the mean image embedding and the mean text embedding (Liang et al., 2022)."""
    return (image_emb.mean(dim=0) - text_emb.mean(dim=0)).norm().item()


def zero_shot_accuracy(image_emb: torch.Tensor, text_emb: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of images whose most similar class text (row of `text_emb`) is their own class."""
    return ((image_emb @ text_emb.T).argmax(dim=1) == labels).float().mean().item()


def close_gap(image_emb: torch.Tensor, text_emb: torch.Tensor) -> torch.Tensor:
    """Image embeddings moved by the centroid difference (text mean minus image mean), then renormalised.

    After the shift the image centroid sits on the text centroid (before renormalisation), which removes
    most of the modality gap.
    """
    return F.normalize(image_emb + (text_emb.mean(dim=0) - image_emb.mean(dim=0)), dim=-1)


def gap_class_term(image_emb: torch.Tensor, text_emb: torch.Tensor) -> torch.Tensor:
    """`(t_bar - v_bar) . t_c` for each class c: what closing the gap adds to every image's score for class c.

    For an image v, `close_gap` scores class c as `(v . t_c + (t_bar - v_bar) . t_c) / |v + t_bar - v_bar|`.
    The denominator is the same for every class, so it never changes which class wins; only this
    class-dependent term can.
    """
    return text_emb @ (text_emb.mean(dim=0) - image_emb.mean(dim=0))
