"""Fine-tune an off-the-shelf CLIP on a domain's own pairs (Lab 3), and cache the result for later labs.

`t4` fine-tunes OpenAI's ViT-B-32 on a real domain set from the Hub with the seed's recipe (5 epochs,
batch 128, lr 1e-5). `offline` fine-tunes the world CLIP on a domain-shifted world: shapes and colour
names it never saw.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from open_clip.loss import ClipLoss

from .clip import profile_clip
from .data import load_pairs, load_splits, pairs_from_hub, save_pairs, world_pairs_file
from .data.world import WORLD_VERSION
from .paths import CACHE
from .profiles import Profile
from .train import train_contrastive


@dataclass(frozen=True)
class FinetuneRecipe:
    epochs: int
    batch_size: int
    lr: float  # small, so both towers stay unfrozen without forgetting what they knew


RECIPES = {"t4": FinetuneRecipe(epochs=5, batch_size=128, lr=1e-5),
           "offline": FinetuneRecipe(epochs=20, batch_size=64, lr=2e-4)}
HUB_DOMAIN = {"repo_id": "wanghaofan/pokemon-wiki-captions", "image_column": "image", "caption_column": "text_en"}
# about 2,000 pairs; 150 held-out images form the retrieval gallery
OFFLINE_DOMAIN = {"n_scenes": 500, "seed": 22, "world": "shifted", "test_fraction": 0.3}


def domain_pairs_file(profile: Profile) -> Path:
    """The profile's domain `pairs.parquet`: a Hub set converted once (`t4`) or the shifted world (`offline`)."""
    if profile.name == "offline":
        return world_pairs_file(image_size=profile.image_size, **OFFLINE_DOMAIN)
    path = CACHE / "domains" / HUB_DOMAIN["repo_id"].replace("/", "--") / "pairs.parquet"
    if not path.exists():
        save_pairs(pairs_from_hub(**HUB_DOMAIN), path)
    return path


def finetune_clip(model, train_set, profile: Profile) -> list[float]:
    """Both towers unfrozen, open_clip's contrastive loss, the profile's recipe. Returns per-step losses."""
    recipe = RECIPES[profile.name]
    model.requires_grad_(True)
    return train_contrastive(model, train_set, ClipLoss(), profile, epochs=recipe.epochs, lr=recipe.lr,
                             batch_size=recipe.batch_size)


def domain_clip_path(profile: Profile) -> Path:
    """Where Lab 3 saves the fine-tuned model and later labs look for it."""
    return CACHE / f"domain_clip-{profile.name}-v{WORLD_VERSION}.pt"


def domain_clip_checkpoint(profile: Profile) -> Path:
    """The domain-fine-tuned checkpoint, re-created with Lab 3's recipe if Lab 3 has not been run."""
    path = domain_clip_path(profile)
    if not path.exists():
        model, preprocess, tokenizer = profile_clip(profile)
        splits = load_splits(load_pairs(domain_pairs_file(profile)), preprocess, tokenizer)
        print(f"fine-tuning {profile.clip_model} on the domain set as Lab 3 does (cached at {path})")
        finetune_clip(model, splits["train"], profile)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(model.state_dict(), path)
    return path
