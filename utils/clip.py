"""Create, load and run open_clip models the same way in every profile."""
from __future__ import annotations

import logging
from pathlib import Path

import open_clip
import torch

from .metrics import recall_at_k
from .profiles import Profile

CONFIG_DIR = Path(__file__).parent / "model_configs"
open_clip.add_model_config(CONFIG_DIR)


def create_clip(name: str, pretrained: str | None = None, device: str = "cpu", **model_kwargs):
    """`(model, preprocess, tokenizer)` for an open_clip model name; `pretrained` is a tag or a file path.

    `model_kwargs` go to open_clip, e.g. `init_logit_scale=math.log(10), init_logit_bias=-10` for SigLIP.
    """
    if pretrained and Path(pretrained).suffix and not Path(pretrained).exists():
        raise FileNotFoundError(f"checkpoint {pretrained} not found: check the path, or for the offline world "
                                "CLIP run `python -m utils.pretrain`.")
    if pretrained is None:  # open_clip warns on every random initialisation, which labs do on purpose
        logging.disable(logging.WARNING)
    try:
        model, _, preprocess = open_clip.create_model_and_transforms(name, pretrained=pretrained, device=device,
                                                                          **model_kwargs)
    finally:
        logging.disable(logging.NOTSET)
    return model.eval(), preprocess, open_clip.get_tokenizer(name)


def profile_clip_weights(profile: Profile, world: str = "shapes") -> str:
    """The profile's off-the-shelf weights: an open_clip tag on `t4`; offline, the checkpoint of the CLIP
    pre-trained on the course's `world` ("shapes" for Labs 1-5, "scenes" for the generative labs)."""
    if profile.clip_pretrained:
        return profile.clip_pretrained
    from .pretrain import world_clip_checkpoint  # pretrain trains with this module's helpers
    return str(world_clip_checkpoint(world))


def profile_clip_id(profile: Profile, world: str = "shapes") -> str:
    """A name for the profile's off-the-shelf CLIP that changes whenever its weights would (for cache keys)."""
    weights = profile_clip_weights(profile, world)
    return f"{profile.clip_model}/{weights if profile.clip_pretrained else Path(weights).parent.name}"


def profile_clip(profile: Profile, world: str = "shapes"):
    """The profile's off-the-shelf CLIP: OpenAI's ViT-B-32 on `t4`; offline, the CLIP pre-trained on `world`."""
    return create_clip(profile.clip_model, profile_clip_weights(profile, world), profile.device)


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
