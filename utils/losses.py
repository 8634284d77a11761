"""Contrastive losses, written out so that labs and tests can compare them with open_clip's."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def symmetric_infonce(logits: torch.Tensor) -> torch.Tensor:
    """Mean of the image->text and text->image cross-entropies; row i's positive is column i."""
    targets = torch.arange(logits.shape[0], device=logits.device)
    return (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets)) / 2


def clip_loss(image_emb: torch.Tensor, text_emb: torch.Tensor, logit_scale: torch.Tensor | float) -> torch.Tensor:
    """CLIP's loss for L2-normalised embeddings; `logit_scale` is 1/temperature (already exponentiated)."""
    return symmetric_infonce(logit_scale * image_emb @ text_emb.T)


def siglip_loss(image_emb: torch.Tensor, text_emb: torch.Tensor, logit_scale: torch.Tensor | float,
                logit_bias: torch.Tensor | float) -> torch.Tensor:
    """SigLIP's pairwise sigmoid loss: every (image, text) pair is its own binary problem.

    Label +1 on the diagonal, -1 elsewhere; summed over all N^2 pairs and divided by N.
    """
    logits = logit_scale * image_emb @ text_emb.T + logit_bias
    labels = 2 * torch.eye(logits.shape[0], device=logits.device, dtype=logits.dtype) - 1
    return -F.logsigmoid(labels * logits).sum() / logits.shape[0]
