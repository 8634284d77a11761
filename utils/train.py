"""A contrastive training loop shared by the labs: progress bar, fp16 on GPU, loss history."""
from __future__ import annotations

from typing import Callable

import torch
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from .profiles import Profile

LossFn = Callable[..., torch.Tensor]  # (image_emb, text_emb, logit_scale[, logit_bias]) -> loss


def train_contrastive(model, dataset: Dataset, loss_fn: LossFn, profile: Profile, epochs: int, lr: float,
                      batch_size: int, seed: int = 0, weight_decay: float = 0.1,
                      fixed_logit_scale: float | None = None) -> list[float]:
    """Train `model` on (image, tokens) items with `loss_fn(image_emb, text_emb, logit_scale)`.

    A model with a learned `logit_bias` (SigLIP) gets `loss_fn(image_emb, text_emb, logit_scale, logit_bias)`.
    AdamW with a cosine schedule; fp16 autocast and a GradScaler where the profile asks for them.
    `fixed_logit_scale` freezes the temperature (for temperature experiments). Returns per-step losses.
    """
    torch.manual_seed(seed)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, drop_last=True,
                        generator=torch.Generator().manual_seed(seed))
    if fixed_logit_scale is not None:
        model.logit_scale.data.fill_(torch.log(torch.tensor(fixed_logit_scale)).item())
        model.logit_scale.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * len(loader), pct_start=0.1)
    scaler = torch.amp.GradScaler(enabled=profile.precision == "fp16")
    model.train()
    losses = []
    # Throttled: in a notebook every refresh is a message to the front end, and a flood of them (thousands of
    # steps) overflows the kernel's output queue, so later output (and nbval's end-of-cell signal) is lost.
    bar = tqdm(total=epochs * len(loader), desc="training", unit="step", mininterval=0.5)
    for _ in range(epochs):
        for images, tokens in loader:
            with profile.autocast():
                img = model.encode_image(images.to(profile.device), normalize=True)
                txt = model.encode_text(tokens.to(profile.device), normalize=True)
                bias = () if getattr(model, "logit_bias", None) is None else (model.logit_bias,)
                loss = loss_fn(img.float(), txt.float(), model.logit_scale.exp().clamp(max=100), *bias)
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            sched.step()
            losses.append(loss.item())
            bar.update()
            bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
    bar.close()
    model.eval()
    return losses
