"""Create, load and run open_clip models the same way in every profile."""
from __future__ import annotations

import logging
from pathlib import Path

import open_clip
import torch
from torch import nn

from ..profiles import Profile

CONFIG_DIR = Path(__file__).parent / "model_configs"
open_clip.add_model_config(CONFIG_DIR)
# Course CLIPs whose ViT cuts the image into patches with a few small convolutions instead of one big strided
# one (Xiao et al. 2021, "Early convolutions help transformers see better"). Trained from scratch on a few
# thousand scenes, the plain ViT never learns to tell a 10-pixel star from a cross; with this stem it does.
CONV_STEM_MODELS = {"WorldCLIP-Tiny-ConvStem"}


def conv_stem(width: int, patch_size: int) -> nn.Sequential:
    """3x3 convolutions of stride 2 (BatchNorm, ReLU between them) that halve the image until one pixel is one
    patch, doubling the channels up to `width`: a drop-in replacement for a ViT's `conv1` (same output shape)."""
    steps = patch_size.bit_length() - 1
    if steps < 1 or patch_size != 2 ** steps:
        raise ValueError(f"a convolutional stem needs a power-of-two patch size, got {patch_size}.")
    channels = [3] + [width // 2 ** (steps - i) for i in range(1, steps)] + [width]
    layers: list[nn.Module] = []
    for i, (c_in, c_out) in enumerate(zip(channels, channels[1:])):
        layers.append(nn.Conv2d(c_in, c_out, 3, stride=2, padding=1))
        if i < steps - 1:
            layers += [nn.BatchNorm2d(c_out), nn.ReLU()]
    return nn.Sequential(*layers)


def create_clip(name: str, pretrained: str | None = None, device: str = "cpu", **model_kwargs):
    """`(model, preprocess, tokenizer)` for an open_clip model name; `pretrained` is a tag or a file path.

    `model_kwargs` go to open_clip, e.g. `init_logit_scale=math.log(10), init_logit_bias=-10` for SigLIP.
    """
    if pretrained and Path(pretrained).suffix and not Path(pretrained).exists():
        raise FileNotFoundError(f"checkpoint {pretrained} not found: check the path, or for the offline world "
                                "CLIP run `python -m utils.offline.world_clip`.")
    stem = name in CONV_STEM_MODELS  # open_clip cannot build the stem, so it loads no weights into it either
    if pretrained is None or stem:  # open_clip warns on every random initialisation, which labs do on purpose
        logging.disable(logging.WARNING)
    try:
        model, _, preprocess = open_clip.create_model_and_transforms(
            name, pretrained=None if stem else pretrained, device=device, **model_kwargs)
    finally:
        logging.disable(logging.NOTSET)
    if stem:
        model.visual.conv1 = conv_stem(model.visual.transformer.width, model.visual.patch_size[0]).to(device)
        if pretrained:
            open_clip.load_checkpoint(model, pretrained, device=device)
    return model.eval(), preprocess, open_clip.get_tokenizer(name)


@torch.no_grad()
def encode_images(model, images: torch.Tensor, profile: Profile, batch_size: int = 256) -> torch.Tensor:
    """L2-normalised image embeddings, in batches, on the profile's device."""
    model.eval()
    out = []
    for batch in images.split(batch_size):
        with profile.autocast():
            out.append(model.encode_image(batch.to(profile.device), normalize=True).float().cpu())
    return torch.cat(out)


@torch.no_grad()
def encode_texts(model, tokenizer, texts: list[str], profile: Profile, batch_size: int = 256) -> torch.Tensor:
    """L2-normalised text embeddings, in batches, on the profile's device."""
    model.eval()
    out = []
    for i in range(0, len(texts), batch_size):
        tokens = tokenizer(texts[i:i + batch_size]).to(profile.device)
        with profile.autocast():
            out.append(model.encode_text(tokens, normalize=True).float().cpu())
    return torch.cat(out)
