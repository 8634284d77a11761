"""Retrieval metrics over a query x gallery similarity matrix, or over ranked lists of gallery ids."""
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


def recall_at_k_of_ranking(ranked: torch.Tensor, targets: torch.Tensor, ks=(1, 5, 10)
                           ) -> dict[int, float]:
    """Recall@k when row q of `ranked` (Q, K) lists ids best first and `targets[q]` is the one right id."""
    hit = ranked == targets[:, None]
    return {k: hit[:, :k].any(dim=1).float().mean().item() for k in ks}


def recall_at_k_relevant(sim: torch.Tensor, relevant: torch.Tensor, ks=(1, 5, 10)) -> dict[int, float]:
    """Fraction of queries with at least one relevant gallery item in the top k.

    `relevant` is a query x gallery boolean mask (e.g. every image the query caption is true of). Ties
    count against the query: the rank is the number of irrelevant items scoring at least as high as the
    best relevant one. With one relevant item per row this is `recall_at_k`.
    """
    if sim.shape != relevant.shape:
        raise ValueError(f"sim has shape {tuple(sim.shape)} but relevant has {tuple(relevant.shape)}")
    if not relevant.any(dim=1).all():
        raise ValueError(f"query {int((~relevant.any(dim=1)).nonzero()[0])} has no relevant gallery item")
    best = sim.masked_fill(~relevant, float("-inf")).max(dim=1, keepdim=True).values
    rank = ((sim >= best) & ~relevant).sum(dim=1)
    return {k: (rank < k).float().mean().item() for k in ks}


def same_text(queries: list[str], gallery: list[str]) -> torch.Tensor:
    """Query x gallery boolean mask: True where the two strings are equal."""
    index = {text: i for i, text in enumerate(dict.fromkeys(queries + gallery))}
    q, g = torch.tensor([index[t] for t in queries]), torch.tensor([index[t] for t in gallery])
    return q[:, None] == g[None, :]


def recall_at_1_ceiling(queries: list[str]) -> float:
    """The best recall@1 any model can reach when query i's target is gallery item i.

    Identical query strings get identical embeddings, hence one ranking, and only one of their targets
    can come first: the ceiling is the number of distinct queries over the number of queries.
    """
    return len(set(queries)) / len(queries)


def usable_ks(gallery_size: int, ks=(1, 5, 10)) -> tuple[int, ...]:
    """The `ks` below the gallery size, said aloud when some are dropped: recall@k is 1 for any k >= gallery.

    A gallery of one image is an error: every query would be a hit.
    """
    if gallery_size < 2:
        raise ValueError(f"a gallery of {gallery_size} image(s) cannot rank anything; hold out at least 2 images.")
    kept = tuple(k for k in ks if k < gallery_size)
    if len(kept) < len(ks):
        print(f"note: recall@k is 1 by construction once k reaches the gallery's {gallery_size} images; "
              f"reporting k = {', '.join(map(str, kept))} only.")
    return kept
