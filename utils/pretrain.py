"""Build the offline profile's "off-the-shelf" CLIPs: small models pre-trained on the course's worlds.

Two worlds, two CLIPs of the same architecture: `shapes` (world v2, one to three objects; Labs 1-5) and
`scenes` (world v3, up to five objects with sizes, styles and relations; the generative labs). Run
`python -m utils.pretrain` to (re)build both; labs call `world_clip_checkpoint(world)`, which builds the
CLIP on first use and caches it under a key made of everything it was trained from (a minute or two on
two cores).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch

from .cache import artefact_path
from .clip import create_clip
from .data import ImageCaptionSet, generate_world, world_pairs
from .data.scene_world import SCENE_WORLD_VERSION, generate_scenes, scene_pairs
from .data.world import WORLD_VERSION
from .losses import clip_loss
from .profiles import PROFILES
from .train import train_contrastive

WORLD_SEED = 1234  # distinct from the labs' seeds, so lab test images are unseen
# `init_seed` seeds the random initialisation too, so every machine builds the same CLIP (an unseeded start
# gave each fresh cache its own model, and labs whose thresholds suited one of them).
RECIPES = {
    "shapes": {"n_scenes": 3000, "epochs": 8, "seed": WORLD_SEED, "init_seed": WORLD_SEED, "loss": "clip_loss",
               "weight_decay": "open_clip rule", "world_version": WORLD_VERSION},
    "scenes": {"n_scenes": 3000, "epochs": 8, "seed": WORLD_SEED, "init_seed": WORLD_SEED, "loss": "clip_loss",
               "weight_decay": "open_clip rule", "world_version": SCENE_WORLD_VERSION},
}


def _training_pairs(world: str, n_scenes: int, image_size: int) -> pd.DataFrame:
    if world == "shapes":
        return world_pairs(generate_world(n_scenes, seed=WORLD_SEED), image_size, test_fraction=0, val_fraction=0)
    return scene_pairs(generate_scenes(n_scenes, seed=WORLD_SEED), image_size, test_fraction=0, val_fraction=0)


def world_clip_checkpoint(world: str = "shapes", rebuild: bool = False) -> Path:
    """Path of the CLIP pre-trained on `world` ("shapes" or "scenes"), training it first if it is missing."""
    if world not in RECIPES:
        raise ValueError(f"unknown world {world!r}; choose one of {list(RECIPES)}.")
    profile, recipe = PROFILES["offline"], RECIPES[world]
    key = recipe if world == "shapes" else {**recipe, "world": world}
    path = artefact_path("world_clip", "model.pt", model=profile.clip_model, lr=profile.lr,
                         batch_size=profile.batch_size, **key)
    if path.exists() and not rebuild:
        return path
    torch.manual_seed(recipe["init_seed"])
    model, preprocess, tokenizer = create_clip(profile.clip_model)
    data = ImageCaptionSet(_training_pairs(world, recipe["n_scenes"], profile.image_size), preprocess, tokenizer)
    print(f"pre-training the {world} world's CLIP on {len(data)} pairs (cached at {path})")
    train_contrastive(model, data, clip_loss, profile, epochs=recipe["epochs"], lr=profile.lr,
                      batch_size=profile.batch_size)
    torch.save(model.state_dict(), path)
    return path


if __name__ == "__main__":
    for world in RECIPES:
        print(world_clip_checkpoint(world, rebuild=True))
