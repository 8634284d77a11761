"""Build the offline profile's "off-the-shelf" CLIP: a small model pre-trained on the generic world.

Run `python -m utils.pretrain` to (re)build it; labs call `world_clip_checkpoint()`, which builds it on
first use and caches it under a key made of everything it was trained from (about a minute on two cores).
"""
from __future__ import annotations

from pathlib import Path

import torch

from .cache import artefact_path
from .clip import create_clip
from .data import ImageCaptionSet, generate_world, world_pairs
from .data.world import WORLD_VERSION
from .losses import clip_loss
from .profiles import PROFILES
from .train import train_contrastive

WORLD_SEED = 1234  # distinct from the labs' seeds, so lab test images are unseen
RECIPE = {"n_scenes": 3000, "epochs": 8, "seed": WORLD_SEED, "loss": "clip_loss", "weight_decay": "open_clip rule"}


def world_clip_checkpoint(rebuild: bool = False) -> Path:
    """Path of the world CLIP checkpoint, training it first if it is missing."""
    profile = PROFILES["offline"]
    path = artefact_path("world_clip", "model.pt", world_version=WORLD_VERSION, model=profile.clip_model,
                         lr=profile.lr, batch_size=profile.batch_size, **RECIPE)
    if path.exists() and not rebuild:
        return path
    model, preprocess, tokenizer = create_clip(profile.clip_model)
    train = world_pairs(generate_world(RECIPE["n_scenes"], seed=WORLD_SEED), test_fraction=0, val_fraction=0)
    data = ImageCaptionSet(train, preprocess, tokenizer)
    print(f"pre-training the world CLIP on {len(data)} scenes (cached at {path})")
    train_contrastive(model, data, clip_loss, profile, epochs=RECIPE["epochs"], lr=profile.lr,
                      batch_size=profile.batch_size)
    torch.save(model.state_dict(), path)
    return path


if __name__ == "__main__":
    print(world_clip_checkpoint(rebuild=True))
