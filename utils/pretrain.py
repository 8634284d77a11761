"""Build the offline profile's "off-the-shelf" CLIP: a small model pre-trained on the generic world.

Run `python -m utils.pretrain` to (re)build it; labs call `world_clip_checkpoint()`, which builds it on
first use and caches it (about a minute on two CPU cores).
"""
from __future__ import annotations

from pathlib import Path

import torch

from .clip import create_clip
from .data import ImageCaptionSet, generate_world, world_pairs
from .data.world import WORLD_VERSION
from .losses import clip_loss
from .paths import CACHE
from .profiles import PROFILES
from .train import train_contrastive

WORLD_SEED = 1234  # distinct from the labs' seeds, so lab test images are unseen
N_SCENES, EPOCHS = 3000, 8


def world_clip_checkpoint(rebuild: bool = False) -> Path:
    """Path of the world CLIP checkpoint, training it first if it is missing."""
    path = CACHE / f"world_clip_tiny-v{WORLD_VERSION}.pt"
    if path.exists() and not rebuild:
        return path
    profile = PROFILES["offline"]
    model, preprocess, tokenizer = create_clip(profile.clip_model)
    train = world_pairs(generate_world(N_SCENES, seed=WORLD_SEED), test_fraction=0, val_fraction=0)
    data = ImageCaptionSet(train, preprocess, tokenizer)
    print(f"pre-training the world CLIP on {len(data)} scenes (cached at {path})")
    train_contrastive(model, data, clip_loss, profile, epochs=EPOCHS, lr=profile.lr, batch_size=profile.batch_size)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), path)
    return path


if __name__ == "__main__":
    print(world_clip_checkpoint(rebuild=True))
