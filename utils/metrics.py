"""Retrieval metrics over a query x gallery similarity matrix."""
from __future__ import annotations

import torch


def target_ranks(sim: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """0-based rank of each query's target in its row of `sim` (0 = retrieved first).

    `targets[i]` is the gallery index that query i should retrieve. Ties count against the query:
    the rank is the number of gallery items scoring at least as high as the target, minus one.
    """
    if sim.shape[0] != targets.shape[0]:
        raise ValueError(f"sim has {sim.shape[0]} queries but targets has {targets.shape[0]} entries")
    return (sim >= sim.gather(1, targets.view(-1, 1))).sum(dim=1) - 1


def recall_at_k(sim: torch.Tensor, targets: torch.Tensor, ks=(1, 5, 10)) -> dict[int, float]:
    """Fraction of queries (rows of `sim`) whose target column ranks in the top k (see `target_ranks`)."""
    rank = target_ranks(sim, targets)
    return {k: (rank < k).float().mean().item() for k in ks}
