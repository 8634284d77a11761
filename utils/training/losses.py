"""Contrastive losses, written out so that labs and tests can compare them with open_clip's."""
from __future__ import annotations

import math

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


def logit_scale_grad(image_emb: torch.Tensor, text_emb: torch.Tensor,
                     logit_scale: torch.Tensor | float) -> torch.Tensor:
    """dL/ds of `clip_loss` with respect to the logit scale s = 1/temperature, by autograd.

    The closed form (softmax-weighted mean similarity minus the positive's, both directions averaged) is
    Lab 1's exercise; this is its reference.
    """
    s = torch.as_tensor(logit_scale, dtype=image_emb.dtype).detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(clip_loss(image_emb, text_emb, s), s)
    return grad


def clip_loss_in_batches(image_emb: torch.Tensor, text_emb: torch.Tensor, logit_scale: torch.Tensor | float,
                         batch_size: int) -> torch.Tensor:
    """Mean `clip_loss` over consecutive full batches of `batch_size` pairs (the last partial one dropped,
    as training does), so the loss sees as many negatives as it did in training."""
    n = len(image_emb) // batch_size * batch_size
    if n == 0:
        raise ValueError(f"{len(image_emb)} pairs make no full batch of {batch_size}")
    img = image_emb[:n].reshape(-1, batch_size, image_emb.shape[-1])  # (batches, batch_size, d)
    txt = text_emb[:n].reshape(-1, batch_size, text_emb.shape[-1])
    logits = logit_scale * img @ txt.transpose(1, 2)  # one (batch_size, batch_size) matrix per batch
    targets = torch.arange(batch_size, device=logits.device).repeat(len(logits))
    return (F.cross_entropy(logits.flatten(0, 1), targets)
            + F.cross_entropy(logits.transpose(1, 2).flatten(0, 1), targets)) / 2


def fit_temperature(image_emb: torch.Tensor, text_emb: torch.Tensor, temperature: float, batch_size: int,
                    steps: int = 150, lr: float = 0.1) -> list[float]:
    """Learn the temperature alone for fixed embeddings: Adam on log(1/temperature), as CLIP learns it.

    Minimises `clip_loss_in_batches`. The learning rate decays to zero on a cosine, so the last steps settle
    instead of hopping by `lr` around the minimum, and a short second-moment memory (beta2 = 0.9) lets the
    step recover quickly after the large gradients of a very sharp start. Returns the temperature before
    the first step and after each one.
    """
    log_scale = torch.tensor(math.log(1 / temperature), requires_grad=True)
    opt = torch.optim.Adam([log_scale], lr=lr, betas=(0.9, 0.9))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    image_emb, text_emb = image_emb.detach(), text_emb.detach()
    trajectory = [temperature]
    for _ in range(steps):
        loss = clip_loss_in_batches(image_emb, text_emb, log_scale.exp(), batch_size)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        trajectory.append(math.exp(-log_scale.item()))
    return trajectory


def chunked_siglip_loss(image_chunks: list[torch.Tensor], text_chunks: list[torch.Tensor],
                        logit_scale: torch.Tensor | float, logit_bias: torch.Tensor | float) -> torch.Tensor:
    """`siglip_loss` computed block by block, as SigLIP does across devices.

    Device k holds the pairs `image_chunks[k]`, `text_chunks[k]` (chunks may differ in size). Every device
    scores its images against each device's block of captions in turn (the blocks travel round a ring);
    only a device's own block holds positives, on its diagonal. No block is larger than the largest
    chunk times itself, and the sum over blocks, divided by the whole batch size, equals `siglip_loss`.
    """
    total = 0.0
    for k, images in enumerate(image_chunks):
        for j, texts in enumerate(text_chunks):
            logits = logit_scale * images @ texts.T + logit_bias
            labels = -torch.ones_like(logits)
            if j == k:
                labels += 2 * torch.eye(len(images), device=logits.device, dtype=logits.dtype)
            total = total - F.logsigmoid(labels * logits).sum()
    return total / sum(len(c) for c in image_chunks)


def siglip_best_bias(image_emb: torch.Tensor, text_emb: torch.Tensor, logit_scale: torch.Tensor | float,
                     iterations: int = 100) -> float:
    """The bias b that minimises `siglip_loss` for fixed embeddings and scale t (a batch of N >= 2 pairs).

    The loss is convex in b: its derivative, sum_ij -z_ij sigmoid(-z_ij (t x_i.y_j + b)) / N, rises from -1
    (b far below every logit) to N - 1 (far above), so bisection on its sign finds the one zero. With every
    cosine zero the zero is at b = -log(N - 1).
    """
    n = len(image_emb)
    if n < 2:
        raise ValueError(f"a batch of {n} pair(s) has no negatives: the loss falls for ever as b grows.")
    s = (torch.as_tensor(logit_scale, dtype=torch.float64) * image_emb.double() @ text_emb.double().T).detach()
    z = 2 * torch.eye(n, dtype=torch.float64) - 1
    lo, hi = -s.abs().max().item() - 50, s.abs().max().item() + 50
    for _ in range(iterations):
        mid = (lo + hi) / 2
        slope = (-z * torch.sigmoid(-z * (s + mid))).sum()
        lo, hi = (lo, mid) if slope > 0 else (mid, hi)
    return (lo + hi) / 2
