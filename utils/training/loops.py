"""Training loops shared by the labs: progress bar, fp16 on GPU, loss history.

`train_contrastive` trains CLIP-style models on (image, tokens) pairs; `train_steps` trains any model that
returns a loss (Hugging Face style: `model(**batch).loss`), such as a language model or a VLM.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from ..data.convert import MIN_TRAIN_IMAGES
from ..memory import PerImageMemory
from ..profiles import Profile

LossFn = Callable[..., torch.Tensor]  # (image_emb, text_emb, logit_scale[, logit_bias]) -> loss


@dataclass
class TrainingLog:
    """What happened at each optimizer step: the loss and the temperature 1 / logit_scale."""

    loss: list[float] = field(default_factory=list)
    temperature: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.loss)


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """open_clip's rule: no weight decay on gains, biases, embeddings' scales or `logit_scale`/`logit_bias`.

    Decaying the temperature would pull it towards 1 at every step; decaying norms and biases only hurts.
    """
    def exempt(name: str, p: torch.Tensor) -> bool:
        return p.ndim < 2 or "bn" in name or "ln" in name or "bias" in name or "logit_scale" in name

    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    return [{"params": [p for n, p in named if exempt(n, p)], "weight_decay": 0.0},
            {"params": [p for n, p in named if not exempt(n, p)], "weight_decay": weight_decay}]


def fit_batch_size(batch_size: int, n_train: int) -> int:
    """`batch_size`, or the number of training images when there are fewer (said aloud); too few is an error."""
    if n_train < MIN_TRAIN_IMAGES:
        raise ValueError(f"contrastive training needs at least {MIN_TRAIN_IMAGES} training images, got {n_train}. "
                         "Add image-caption pairs, or mark more images as split 'train'.")
    if batch_size > n_train:
        print(f"note: batch size {batch_size} is more than the {n_train} training images; using {n_train}.")
        return n_train
    return batch_size


def warmup_fraction(total_steps: int, fraction: float = 0.1) -> float:
    """`fraction` of the steps for warm-up, unless that is exactly one step (OneCycleLR divides by zero)."""
    return fraction if fraction * total_steps != 1 else 2 / total_steps


def adamw_one_cycle(groups: list[dict], lr: float,
                    total_steps: int) -> tuple[torch.optim.AdamW, torch.optim.lr_scheduler.OneCycleLR]:
    """AdamW over parameter `groups`, and a schedule that warms up to `lr` and decays (cosine) over `total_steps`."""
    opt = torch.optim.AdamW(groups, lr=lr)
    return opt, torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total_steps,
                                                    pct_start=warmup_fraction(total_steps))


def contrastive_step(model, images: torch.Tensor, tokens: torch.Tensor, loss_fn: LossFn,
                     optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler, profile: Profile,
                     encode_image: Callable | None = None) -> float:
    """One optimizer step on a batch: unit embeddings of both sides (under the profile's autocast), the loss at the
    model's temperature (scale clamped at 100, as CLIP does; plus the bias of a model that has one), gradients
    cleared then computed through the scaler, one step. Returns the loss."""
    if encode_image is None:  # (not `or`: a PerImageMemory that remembers nothing yet has length 0)
        encode_image = lambda x: model.encode_image(x, normalize=True)  # noqa: E731
    with profile.autocast():
        img = encode_image(images)
        txt = model.encode_text(tokens, normalize=True)
        bias = () if getattr(model, "logit_bias", None) is None else (model.logit_bias,)
        loss = loss_fn(img.float(), txt.float(), model.logit_scale.exp().clamp(max=100), *bias)
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    return loss.item()


def train_contrastive(model, dataset: Dataset, loss_fn: LossFn, profile: Profile, epochs: int, lr: float,
                      batch_size: int, seed: int = 0, weight_decay: float = 0.1,
                      fixed_logit_scale: float | None = None, lock_image_tower: bool = False,
                      step: Callable = contrastive_step) -> TrainingLog:
    """Train `model` on (image, tokens) items with `loss_fn(image_emb, text_emb, logit_scale)`.

    A model with a learned `logit_bias` (SigLIP) gets `loss_fn(image_emb, text_emb, logit_scale, logit_bias)`.
    AdamW (weight decay on weight matrices only) with warm-up and cosine decay; fp16 autocast and a
    GradScaler where the profile asks for them. `fixed_logit_scale` freezes the temperature at
    1 / fixed_logit_scale. `lock_image_tower` trains the text side only, the image encoder frozen in eval
    mode (LiT, Zhai et al. 2022), and each image is encoded once, in the first epoch. A batch larger than the
    data set shrinks to fit it. `step` takes each optimizer step (`contrastive_step`'s signature; Lab 3 passes
    the student's).
    """
    torch.manual_seed(seed)
    batch_size = fit_batch_size(batch_size, len(dataset))
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, drop_last=True,
                        generator=torch.Generator().manual_seed(seed))
    if fixed_logit_scale is not None:
        model.logit_scale.data.fill_(torch.log(torch.tensor(fixed_logit_scale)).item())
        model.logit_scale.requires_grad_(False)
    if lock_image_tower:
        model.visual.requires_grad_(False)
    opt, sched = adamw_one_cycle(param_groups(model, weight_decay), lr, epochs * len(loader))
    scaler = profile.grad_scaler()
    model.train()
    memory = {}
    if lock_image_tower:
        model.visual.eval()  # BatchNorm statistics and dropout stay as pre-trained
        memory["encode_image"] = PerImageMemory(lambda images: model.encode_image(images, normalize=True))
    log = TrainingLog()
    # Throttled: in a notebook every refresh is a message to the front end, and a flood of them (thousands of
    # steps) overflows the kernel's output queue, so later output (and nbval's end-of-cell signal) is lost.
    bar = tqdm(total=epochs * len(loader), desc="training", unit="step", mininterval=0.5)
    for _ in range(epochs):
        for images, tokens in loader:
            loss = step(model, images.to(profile.device), tokens.to(profile.device), loss_fn, opt, scaler, profile,
                        **memory)
            sched.step()
            log.loss.append(loss)
            log.temperature.append(1 / model.logit_scale.exp().clamp(max=100).item())
            bar.update()
            bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
    bar.close()
    model.eval()
    return log


def cycle(batches: Iterable[dict]) -> Iterator[dict]:
    """The batches, again and again (a DataLoader reshuffles at each pass); an error if a pass yields none."""
    while True:
        empty = True
        for batch in batches:
            empty = False
            yield batch
        if empty:
            raise ValueError("`batches` yielded no batch: pass a non-empty list or DataLoader (an iterator that is "
                             "used up cannot be gone round again; pass fewer `steps` or a list).")


def train_steps(model: torch.nn.Module, batches: Iterable[dict], profile: Profile, lr: float, steps: int | None = None,
                params: Iterable[torch.nn.Parameter] | None = None, weight_decay: float = 0.0,
                max_grad_norm: float = 1.0, desc: str = "training") -> list[float]:
    """Minimise `model(**batch).loss` over `batches` (dicts of tensors, e.g. input_ids, attention_mask, labels).

    `steps` defaults to one pass over `batches`; more steps go round them again. Only `params` are updated
    (default: every parameter that requires a gradient). AdamW (weight decay on weight matrices only) with
    warm-up and cosine decay, gradients clipped to norm `max_grad_norm`, fp16 autocast and a GradScaler where
    the profile asks for them. Returns the loss at each step.
    """
    params = [p for p in (model.parameters() if params is None else params) if p.requires_grad]
    if not params:
        raise ValueError("nothing to train: no parameter requires a gradient. Pass `params`, or unfreeze some "
                         "with `requires_grad_(True)`.")
    if steps is None:
        if not hasattr(batches, "__len__"):
            raise ValueError("`batches` has no length, so one pass is not defined: pass `steps`.")
        steps = len(batches)
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}; pass non-empty `batches` or a positive `steps`.")
    opt, sched = adamw_one_cycle([{"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay},
                                  {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}], lr, steps)
    scaler = profile.grad_scaler()
    model.train()
    losses = []
    bar = tqdm(total=steps, desc=desc, unit="step", mininterval=1)
    for _, batch in zip(range(steps), cycle(batches)):
        if not isinstance(batch, Mapping):
            raise ValueError(f"each batch must be a dict of model inputs (e.g. input_ids, labels), got a "
                             f"{type(batch).__name__}.")
        with profile.autocast():
            loss = model(**{k: v.to(profile.device) if torch.is_tensor(v) else v for k, v in batch.items()}).loss
        if loss is None:
            raise ValueError("the model returned no loss: each batch needs the targets, e.g. `labels`.")
        model.zero_grad(set_to_none=True)  # the whole model's: parameters left out of `params` keep none
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        torch.nn.utils.clip_grad_norm_(params, max_grad_norm)
        scaler.step(opt)
        scaler.update()
        sched.step()
        losses.append(loss.item())
        bar.update()
        bar.set_postfix(loss=f"{losses[-1]:.3f}", refresh=False)
    bar.close()
    model.eval()
    return losses
