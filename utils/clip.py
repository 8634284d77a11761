"""Create, load and run open_clip models the same way in every profile."""
from __future__ import annotations

import logging
from pathlib import Path

import open_clip
import torch
from torch import nn

from .metrics import recall_at_k
from .profiles import Profile

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
                                "CLIP run `python -m utils.pretrain`.")
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


def profile_clip_weights(profile: Profile, world: str = "shapes") -> str:
    """The profile's off-the-shelf weights: an open_clip tag on `t4`; offline, the checkpoint of the CLIP
    pre-trained on the course's `world` ("shapes" for Labs 1-5, "scenes" for the generative labs)."""
    if profile.clip_pretrained:
        return profile.clip_pretrained
    from .pretrain import world_clip_checkpoint  # pretrain trains with this module's helpers
    return str(world_clip_checkpoint(world))


def profile_clip_model(profile: Profile, world: str = "shapes") -> str:
    """The open_clip name of the profile's off-the-shelf CLIP (offline, each world's recipe names its own)."""
    if profile.clip_pretrained:
        return profile.clip_model
    from .pretrain import world_clip_model
    return world_clip_model(world)


def profile_clip_id(profile: Profile, world: str = "shapes") -> str:
    """A name for the profile's off-the-shelf CLIP that changes whenever its weights would (for cache keys)."""
    weights = profile_clip_weights(profile, world)
    name = profile_clip_model(profile, world)
    return f"{name}/{weights if profile.clip_pretrained else Path(weights).parent.name}"


def profile_clip(profile: Profile, world: str = "shapes"):
    """The profile's off-the-shelf CLIP: OpenAI's ViT-B-32 on `t4`; offline, the CLIP pre-trained on `world`."""
    return create_clip(profile_clip_model(profile, world), profile_clip_weights(profile, world), profile.device)


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


def text_to_image_recall(model, tokenizer, dataset, profile: Profile, ks=(1, 5, 10)) -> dict[int, float]:
    """Recall@k when each image's first caption queries the gallery of all images in `dataset`."""
    img = encode_images(model, dataset.images, profile)
    txt = encode_texts(model, tokenizer, dataset.first_captions(), profile)
    return recall_at_k(txt @ img.T, torch.arange(len(img)), ks)
